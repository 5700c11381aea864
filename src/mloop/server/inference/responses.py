"""Answers of the inference server, and errors in the shape of the protocol that was spoken."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from mloop.errors import (
    AuthenticationError,
    InvalidInputError,
    InvalidStateError,
    MloopError,
    NotFoundError,
    PermissionDeniedError,
    StorageError,
)
from mloop.server.inference.requests import MethodNotAllowedError
from mloop.serving.batcher import ServingOverloadedError

JSON = b"application/json"

# First match wins, so subclasses come before their parents.
_STATUS: tuple[tuple[type[MloopError], int, str], ...] = (
    (ServingOverloadedError, 503, "OVERLOADED"),
    (MethodNotAllowedError, 405, "METHOD_NOT_ALLOWED"),
    (InvalidInputError, 400, "INVALID_INPUT"),
    (NotFoundError, 404, "NOT_FOUND"),
    (AuthenticationError, 401, "UNAUTHENTICATED"),
    (PermissionDeniedError, 403, "PERMISSION_DENIED"),
    (StorageError, 503, "STORAGE_UNAVAILABLE"),
    (InvalidStateError, 503, "UNAVAILABLE"),
    (MloopError, 500, "INTERNAL"),
)
# MLflow's scoring server names its error codes so.
_MLFLOW_CODES = {
    400: "BAD_REQUEST",
    404: "ENDPOINT_NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    503: "TEMPORARILY_UNAVAILABLE",
}


@dataclass(slots=True)
class Reply:
    """One answer, with the labels its metrics are counted under.

    Attributes:
        status: the HTTP status.
        body: the body bytes.
        content_type: its media type.
        endpoint: the endpoint label for metrics.
        model: the model that answered ("" when none did).
        version: its version.
        extra: more headers.
    """

    status: int
    body: bytes
    content_type: str | bytes = JSON
    endpoint: str = "other"
    model: str = ""
    version: str = ""
    extra: list[tuple[bytes, bytes]] = field(default_factory=list)

    @property
    def headers(self) -> list[tuple[bytes, bytes]]:
        """The response headers."""
        kind = self.content_type
        return [
            (b"content-type", kind.encode() if isinstance(kind, str) else kind),
            (b"content-length", str(len(self.body)).encode()),
            *self.extra,
        ]


def json_reply(
    value: Any,
    *,
    status: int = 200,
    endpoint: str = "other",
    model: str = "",
    version: str = "",
    headers: list[tuple[bytes, bytes]] | None = None,
) -> Reply:
    """A JSON answer (NumPy arrays in `value` are written as lists)."""
    body = orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY)
    return Reply(status, body, JSON, endpoint, model, version, headers or [])


def status_of(error: MloopError) -> tuple[int, str]:
    """The HTTP status and error code of an error."""
    return next((status, code) for kind, status, code in _STATUS if isinstance(error, kind))


def error_reply(error: MloopError, path: str) -> Reply:
    """The error in the shape of the protocol `path` belongs to."""
    status, code = status_of(error)
    if path == "/invocations":
        body: dict[str, Any] = {
            "error_code": _MLFLOW_CODES.get(status, code),
            "message": error.message,
        }
    elif path.startswith("/v2"):
        body = {"error": error.message}
    else:
        details: dict[str, Any] = {"error_type": type(error).__name__}
        for name, value in vars(error).items():
            if (
                name != "message"
                and not name.startswith("_")
                and isinstance(value, str | int | float | bool)
            ):
                details[name] = value
        body = {"error": {"code": code, "message": error.message, "details": details}}
    extra: list[tuple[bytes, bytes]] = []
    if isinstance(error, ServingOverloadedError):
        extra.append((b"retry-after", str(error.retry_after_s).encode()))
    if isinstance(error, MethodNotAllowedError):
        extra.append((b"allow", error.allowed.encode()))
    if status == 401:
        extra.append((b"www-authenticate", b'Bearer realm="mloop"'))
    return Reply(status, orjson.dumps(body), JSON, "error", extra=extra)

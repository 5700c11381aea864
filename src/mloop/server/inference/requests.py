"""Small pieces of the inference server's request handling: paths, headers, JSON-ready output."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mloop.errors import InvalidInputError, MloopError, NotFoundError
from mloop.serving import oip, payloads

if TYPE_CHECKING:
    from mloop.serving.holder import ServedVersion

Scope = dict[str, Any]


class NoRouteError(NotFoundError):
    """No route answers this method and path."""

    def __init__(self, method: str, path: str) -> None:
        super().__init__(
            f"no route {method} {path}; see /v2 for the Open Inference Protocol, POST /predict, "
            "POST /invocations, GET /health and /metrics"
        )


class MethodNotAllowedError(MloopError):
    """The path exists but does not answer this method (HTTP 405, with `Allow`).

    Attributes:
        allowed: the methods the path answers, as an `Allow` header lists them.
    """

    def __init__(self, method: str, path: str, allowed: str) -> None:
        super().__init__(f"{path} does not answer {method}; use {allowed}")
        self.allowed = allowed


_GET_PATHS = frozenset(
    ("/health", "/ping", "/ready", "/metrics", "/v2", "/v2/health/live", "/v2/health/ready")
)
POST_ONLY = "POST"
GET_ONLY = "GET, HEAD"


def allowed_methods(path: str) -> str | None:
    """The methods a path answers (`POST_ONLY` or `GET_ONLY`), or None for no such path."""
    if path in ("/predict", "/invocations"):
        return POST_ONLY
    if path in _GET_PATHS:
        return GET_ONLY
    if path.startswith("/v2/models/"):
        rest = model_path(path)[2]
        if rest == "infer":
            return POST_ONLY
        if rest in ("", "ready"):
            return GET_ONLY
    return None


def too_large(limit: int) -> InvalidInputError:
    """The error for a body past the size limit."""
    return InvalidInputError(
        f"the body is larger than {limit} bytes; send fewer rows per request", field="body"
    )


def model_path(path: str) -> tuple[str, str, str]:
    """(name, version, rest) of `/v2/models/{name}[/versions/{v}][/rest]`."""
    parts = path.split("/")[3:]
    name = parts[0] if parts else ""
    version = ""
    rest_parts = parts[1:]
    if len(rest_parts) >= 2 and rest_parts[0] == "versions":
        version = rest_parts[1]
        rest_parts = rest_parts[2:]
    return name, version, "/".join(rest_parts)


def header_length(scope: Scope) -> int | None:
    """The JSON part's length of a request in Triton's binary extension, if it is one."""
    value = header(scope, oip.HEADER_LENGTH)
    if not value:
        return None
    if not value.isdigit():
        raise InvalidInputError(
            f"Inference-Header-Content-Length is {value!r}, not a byte count", field="body"
        )
    return int(value)


def header(scope: Scope, wanted: bytes) -> str:
    for name, value in scope["headers"]:
        if name == wanted:
            return bytes(value).decode("latin-1")
    return ""


def jsonable(output: Any) -> Any:
    """Predictions for orjson: numeric arrays as they are (orjson writes them), others as lists."""
    import numpy as np

    if (
        isinstance(output, np.ndarray)
        and output.dtype.kind in "biuf"
        and output.flags.c_contiguous
        and (output.dtype.kind != "f" or bool(np.isfinite(output).all()))
    ):
        return output
    return payloads.to_json_values(output)


def output_names(served: ServedVersion) -> tuple[str, ...]:
    """The names of a served version's output columns (from its signature)."""
    signature = served.signature
    return tuple(c.name for c in signature.outputs) if signature is not None else ()


def rows_equal(live: Any, copy: Any) -> Any:
    """Per row, whether two outputs agree (floating point within a relative 1e-6)."""
    import numpy as np

    if live.dtype.kind in "fc" or copy.dtype.kind in "fc":
        close = np.isclose(live, copy, rtol=1e-6, atol=1e-9)
    else:
        close = live == copy
    return close.all(axis=tuple(range(1, close.ndim))) if close.ndim > 1 else close

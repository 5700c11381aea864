"""From an error answer of `mloop server` back to the mloop error the store raised.

The reverse of `mloop.server.errors.STATUS_CODES`: the body's `code` picks the middle tier,
`details.error_type` the exact class when this mloop knows it, and the other details become its
attributes, so callers catch the same classes whether the store is local or remote.
"""

from __future__ import annotations

from typing import Any

import mloop.errors as errors_module
from mloop.errors import (
    AlreadyExistsError,
    AuthenticationError,
    ConfigurationError,
    DatabaseLockedError,
    InvalidFilterError,
    InvalidInputError,
    InvalidStateError,
    MloopError,
    NotFoundError,
    PermissionDeniedError,
    StorageError,
)

CODE_CLASSES: dict[str, type[MloopError]] = {
    "INVALID_FILTER": InvalidFilterError,
    "INVALID_INPUT": InvalidInputError,
    "BAD_REQUEST": InvalidInputError,
    "REQUEST_TOO_LARGE": InvalidInputError,
    "METHOD_NOT_ALLOWED": InvalidInputError,
    "UNSUPPORTED_MEDIA_TYPE": InvalidInputError,
    "NOT_FOUND": NotFoundError,
    "ALREADY_EXISTS": AlreadyExistsError,
    "INVALID_STATE": InvalidStateError,
    "UNAVAILABLE": DatabaseLockedError,
    "TOO_MANY_REQUESTS": StorageError,
    "STORAGE_UNAVAILABLE": StorageError,
    "UNAUTHENTICATED": AuthenticationError,
    "PERMISSION_DENIED": PermissionDeniedError,
    "CONFIGURATION": ConfigurationError,
    "INTERNAL": MloopError,
}

_STATUS_CLASSES: dict[int, type[MloopError]] = {
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: InvalidStateError,
}


def _status_class(status: int) -> type[MloopError]:
    """The class of an answer without a known code: by status, 5xx meaning the server failed."""
    if status in _STATUS_CLASSES:
        return _STATUS_CLASSES[status]
    return StorageError if status >= 500 else InvalidInputError


def error_from_response(status: int, body: Any, *, url: str) -> MloopError:
    """The mloop error an error answer stands for.

    Args:
        status: the HTTP status.
        body: the decoded JSON body (anything: proxies answer with HTML too).
        url: the server, for the message of answers that are not mloop's.

    Returns:
        An instance of the class the server raised when this mloop knows it, else of the class
        of the answer's code, else one chosen by the status (5xx: StorageError).
    """
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict) or not isinstance(error.get("message"), str):
        message = f"the server at {url} answered HTTP {status} without an mloop error body"
        return _status_class(status)(message)
    code = error.get("code")
    found = error.get("details")
    details: dict[str, Any] = found if isinstance(found, dict) else {}
    known = CODE_CLASSES.get(code) if isinstance(code, str) else None
    base = known or _status_class(status)
    cls = _leaf(details.get("error_type"), base)
    return _rebuild(cls, error["message"], details)


def _leaf(name: object, base: type[MloopError]) -> type[MloopError]:
    # Only classes of mloop's own error tree under the code's tier: a body cannot make the
    # client build anything else.
    found = getattr(errors_module, name, None) if isinstance(name, str) else None
    if isinstance(found, type) and issubclass(found, base):
        return found
    return base


def _rebuild(cls: type[MloopError], message: str, details: dict[str, Any]) -> MloopError:
    """An instance of `cls` with the server's message and attributes, without its __init__.

    Leaves build their message from their arguments; the server already did, so the message
    is taken as it is and the attributes are set from the details.
    """
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    error.message = message
    if isinstance(error, InvalidInputError):
        error.field = None
    details = {k: v for k, v in details.items() if k != "error_type"}
    for name, value in details.items():
        # Never shadow what the class defines (methods, properties), only plain attributes.
        if name.isidentifier() and not name.startswith("_") and not hasattr(cls, name):
            setattr(error, name, value)
    return error

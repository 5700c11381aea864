"""The roots of the error tree (the tree itself is drawn in `mloop.errors`)."""

from __future__ import annotations

from typing import ClassVar


class MloopError(Exception):
    """Root of every error mloop raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFoundError(MloopError):
    """A named object (experiment, run, model ...) does not exist."""


class AlreadyExistsError(MloopError):
    """Creating an object whose name or id is taken."""


class InvalidInputError(MloopError, ValueError):
    """Input that breaks a documented rule; nothing was changed.

    Attributes:
        field: the name of the argument, key or column that was wrong, when there is one.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class FileFormatError(InvalidInputError):
    """A file (or the mapping read from it) breaks its format; `field` is the dotted location.

    The message starts with where the mistake is (`PATH, line N: FIELD: ...`). Subclasses name
    the kind of file, used as the field when the whole file is wrong.

    Attributes:
        path: the file, when the content came from one.
        line: the 1-based line of the offending field, when known.
    """

    subject: ClassVar[str] = "file"

    def __init__(
        self, message: str, *, field: str, path: str | None = None, line: int | None = None
    ) -> None:
        where = path or ""
        if line is not None:
            where = f"{where}, line {line}" if where else f"line {line}"
        prefix = f"{where}: " if where else ""
        super().__init__(f"{prefix}{field or self.subject}: {message}", field=field)
        self.path = path
        self.line = line


class InvalidStateError(MloopError):
    """The operation does not fit the object's current state (e.g. logging to a deleted run)."""


class StorageError(MloopError):
    """The metadata store or blob store failed or is not usable as it is."""


class ConfigurationError(MloopError):
    """Settings, URIs or the installed extras do not allow the operation."""


class MissingExtraError(ConfigurationError):
    """A feature needs an optional dependency group that is not installed."""

    def __init__(self, extra: str, module: str) -> None:
        super().__init__(
            f"this feature needs the optional module {module!r}; install it with "
            f"`pip install 'mloop[{extra}]'`"
        )
        self.extra = extra
        self.module = module

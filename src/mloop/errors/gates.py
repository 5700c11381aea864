"""Errors of the model validation gates: policy files and refused promotions."""

from __future__ import annotations

from mloop.errors.base import InvalidInputError, InvalidStateError


class PolicyFileError(InvalidInputError):
    """A validation policy file breaks the policy format; `field` is the dotted location.

    Attributes:
        path: the file, when the policy came from one.
        line: the 1-based line of the offending field, when known.
    """

    def __init__(
        self, message: str, *, field: str, path: str | None = None, line: int | None = None
    ) -> None:
        where = path or ""
        if line is not None:
            where = f"{where}, line {line}" if where else f"line {line}"
        prefix = f"{where}: " if where else ""
        super().__init__(f"{prefix}{field or 'policy'}: {message}", field=field)
        self.path = path
        self.line = line


class GatesFailedError(InvalidStateError):
    """A promotion was refused because validation gates failed.

    Attributes:
        name: the registered model.
        version: the version that was to be promoted.
        alias: the alias it was to take.
        failures: one line per failing gate, with its numbers.
    """

    def __init__(self, name: str, version: int, alias: str, failures: list[str]) -> None:
        listed = "; ".join(failures)
        super().__init__(
            f"{name}/{version} may not take alias {alias!r}: {len(failures)} gate(s) failed: "
            f"{listed}. Fix the model or the data, or (an admin) promote with "
            "--override --reason '...'"
        )
        self.name = name
        self.version = version
        self.alias = alias
        self.failures = failures

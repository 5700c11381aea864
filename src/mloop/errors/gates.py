"""Errors of the model validation gates: policy files and refused promotions."""

from __future__ import annotations

from mloop.errors.base import FileFormatError, InvalidStateError


class PolicyFileError(FileFormatError):
    """A validation policy file breaks the policy format; `field` is the dotted location.

    Attributes:
        path: the file, when the policy came from one.
        line: the 1-based line of the offending field, when known.
    """

    subject = "policy"


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

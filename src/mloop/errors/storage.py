"""Errors of the metadata database, the blob store and run artifacts."""

from __future__ import annotations

from mloop.errors.base import NotFoundError, StorageError


class DatabaseLockedError(StorageError):
    """The database stayed locked by other writers for longer than the retry budget."""


class SchemaOutdatedError(StorageError):
    """The store was written by an older mloop and needs a migration."""

    def __init__(self, found: str | None, expected: str, *, uri: str) -> None:
        super().__init__(
            f"the store at {uri} has schema revision {found or 'none'} but this mloop needs "
            f"{expected}; upgrade it with `mloop db upgrade` (back it up first if it matters)"
        )
        self.found = found
        self.expected = expected


class BlobNotFoundError(NotFoundError):
    """No blob with the given digest in a blob store."""

    def __init__(self, digest: str, *, where: str = "the blob store") -> None:
        super().__init__(
            f"blob {digest} is not in {where}; it was never stored there or "
            "was removed by `mloop gc` (push it from the store that has it)"
        )
        self.digest = digest


class CorruptBlobError(StorageError):
    """A blob's bytes do not match its digest (damaged on disk or in transit)."""

    def __init__(self, digest: str, *, actual: str, where: str = "the blob store") -> None:
        super().__init__(
            f"blob {digest} in {where} is corrupt: its content hashes to {actual}; delete it "
            "and store the file again (or pull it from a remote store that has it)"
        )
        self.digest = digest
        self.actual = actual


class ArtifactNotFoundError(NotFoundError):
    """A run (or logged model) has no artifact at the given path."""

    def __init__(self, run_id: str, path: str) -> None:
        super().__init__(
            f"run {run_id} has no artifact {path!r}; `MloopClient.list_artifacts(run_id)` lists "
            "the artifacts it has"
        )
        self.run_id = run_id
        self.path = path

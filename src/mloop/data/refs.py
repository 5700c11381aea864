"""Dataset references: `datasets:/NAME/3`, `/latest`, `@alias`, a content digest, or `NAME/3`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from mloop.entities.datasets import DatasetVersion, is_digest
from mloop.errors import DatasetVersionNotFoundError, InvalidDatasetReferenceError
from mloop.storage import Store

SCHEME = "datasets:/"
_REF = re.compile(
    r"^(?P<name>[A-Za-z0-9_][A-Za-z0-9_.\-]*)"
    r"(?:/(?P<version>[0-9]{1,9}|latest)|@(?P<alias>[A-Za-z_][A-Za-z0-9_\-]*))?$"
)


@dataclass(frozen=True, slots=True)
class DatasetRef:
    """A parsed reference: a name with a version number, an alias or latest; or a digest.

    Attributes:
        name: the dataset (None for a bare digest).
        version: a version number, or None.
        alias: an alias, or None.
        digest: a content digest, or None.
    """

    name: str | None = None
    version: int | None = None
    alias: str | None = None
    digest: str | None = None

    def __str__(self) -> str:
        if self.digest is not None:
            return self.digest
        if self.alias is not None:
            return f"{SCHEME}{self.name}@{self.alias}"
        return f"{SCHEME}{self.name}/{self.version if self.version is not None else 'latest'}"


def parse_ref(text: str, *, bare_name: bool = True) -> DatasetRef:
    """Parse a dataset reference.

    Args:
        text: `datasets:/NAME/3`, `datasets:/NAME/latest`, `datasets:/NAME@alias`, a 64-hex
            digest (optionally after `datasets:/`), or the same without the `datasets:/` prefix.
        bare_name: accept a name alone as its latest version.

    Raises:
        InvalidDatasetReferenceError: the text is none of these.
    """
    if not isinstance(text, str):
        raise InvalidDatasetReferenceError(repr(text))
    body = text.removeprefix(SCHEME)
    if is_digest(body):
        return DatasetRef(digest=body)
    match = _REF.match(body)
    if match is None or (not bare_name and not (match["version"] or match["alias"])):
        raise InvalidDatasetReferenceError(text)
    version = match["version"]
    return DatasetRef(
        name=match["name"],
        version=int(version) if version and version != "latest" else None,
        alias=match["alias"],
    )


def resolve(store: Store, reference: str | DatasetRef) -> DatasetVersion:
    """The version a reference names.

    A digest names the oldest version holding that content.

    Raises:
        InvalidDatasetReferenceError: the text is not a reference.
        DatasetNotFoundError: no such dataset.
        DatasetVersionNotFoundError: no such version, alias, or content.
    """
    ref = parse_ref(reference) if isinstance(reference, str) else reference
    if ref.digest is not None:
        found = store.datasets.find_by_digest(ref.digest)
        if not found:
            raise DatasetVersionNotFoundError("", ref.digest)
        return found[0]
    name = ref.name or ""
    if ref.alias is not None:
        return store.datasets.get_by_alias(name, ref.alias)
    if ref.version is not None:
        return store.datasets.get_version(name, ref.version)
    return store.datasets.get_latest(name)

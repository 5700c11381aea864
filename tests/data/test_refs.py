"""Dataset references resolve to versions, with clear errors for what does not exist."""

from __future__ import annotations

import pytest

from mloop.data.refs import DatasetRef, parse_ref, resolve
from mloop.entities.datasets import DatasetKind, ManifestEntry, NewVersion
from mloop.errors import (
    DatasetNotFoundError,
    DatasetVersionNotFoundError,
    InvalidDatasetReferenceError,
)
from mloop.storage.sql.store import SqlStore

D1, D2 = "1" * 64, "2" * 64


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("datasets:/sales/3", DatasetRef("sales", 3)),
        ("sales/3", DatasetRef("sales", 3)),
        ("datasets:/sales/latest", DatasetRef("sales")),
        ("sales", DatasetRef("sales")),
        ("datasets:/sales@prod", DatasetRef("sales", alias="prod")),
        ("sales@prod", DatasetRef("sales", alias="prod")),
        (D1, DatasetRef(digest=D1)),
        (f"datasets:/{D1}", DatasetRef(digest=D1)),
    ],
)
def test_references_parse(text: str, expected: DatasetRef) -> None:
    assert parse_ref(text) == expected


@pytest.mark.parametrize("text", ["", "a/b/c", "sales/-1", "sales@", "x@1a@b", "/x", "s/3.5"])
def test_malformed_references_are_refused(text: str) -> None:
    with pytest.raises(InvalidDatasetReferenceError, match="not a dataset reference"):
        parse_ref(text)


def test_a_bare_name_can_be_refused() -> None:
    with pytest.raises(InvalidDatasetReferenceError):
        parse_ref("sales", bare_name=False)


def test_references_print_canonically() -> None:
    assert str(parse_ref("sales/3")) == "datasets:/sales/3"
    assert str(parse_ref("sales")) == "datasets:/sales/latest"
    assert str(parse_ref("sales@prod")) == "datasets:/sales@prod"
    assert str(parse_ref(D1)) == D1


def _commit(store: SqlStore, name: str, digest: str) -> None:
    entry = ManifestEntry("f", digest, 1)
    store.datasets.commit_version(name, NewVersion(digest, DatasetKind.FILE, (entry,)))


def test_resolve_each_form(store: SqlStore) -> None:
    _commit(store, "sales", D1)
    _commit(store, "sales", D2)
    store.datasets.set_alias("sales", "prod", 1)
    assert resolve(store, "datasets:/sales/1").digest == D1
    assert resolve(store, "sales/latest").version == 2
    assert resolve(store, "sales").version == 2
    assert resolve(store, "sales@prod").version == 1
    assert resolve(store, D2).version == 2
    with pytest.raises(DatasetNotFoundError):
        resolve(store, "nope/1")
    with pytest.raises(DatasetVersionNotFoundError, match="'3'"):
        resolve(store, "sales/3")
    with pytest.raises(DatasetVersionNotFoundError, match="@beta"):
        resolve(store, "sales@beta")
    with pytest.raises(DatasetVersionNotFoundError, match="no dataset version has the content"):
        resolve(store, "3" * 64)

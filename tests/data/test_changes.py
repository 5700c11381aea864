"""`status`: what changed in a working folder since the latest version, hashing only the changed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mloop.data.changes import scan, status
from mloop.data.snapshots import add
from mloop.data.stat_cache import RACY_MARGIN_NS, FileStat, StatCache
from mloop.entities.datasets import DatasetKind
from mloop.errors import InvalidInputError
from mloop.storage.sql.store import SqlStore

_T0 = 1_600_000_000_000_000_000


def _write(path: Path, text: str, *, at_ns: int = _T0) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.utime(path, ns=(at_ns, at_ns))


def test_status_reports_added_removed_and_modified(store: SqlStore, tmp_path: Path) -> None:
    root = tmp_path / "w"
    for i in range(5):
        _write(root / f"f{i}.txt", f"v{i}")
    cache = StatCache(tmp_path / "c.db")
    add(store, root, "w", cache=cache)
    clean = status(store, root, "w", cache=cache)
    assert clean.is_clean
    assert (clean.unchanged, clean.hashed) == (5, 0)
    _write(root / "f0.txt", "changed", at_ns=_T0 + 10**9)
    (root / "f1.txt").unlink()
    _write(root / "new/f9.txt", "new")
    changes = status(store, root, "w", cache=cache)
    assert (changes.added, changes.removed, changes.modified) == (
        ("new/f9.txt",),
        ("f1.txt",),
        ("f0.txt",),
    )
    assert changes.unchanged == 3
    assert changes.hashed == 2
    assert changes.version is not None
    assert changes.version.version == 1
    # what status hashed is remembered: the next status reads nothing
    assert status(store, root, "w", cache=cache).hashed == 0


def test_a_rewrite_with_same_size_and_new_mtime_is_modified(
    store: SqlStore, tmp_path: Path
) -> None:
    root = tmp_path / "w"
    _write(root / "a", "aaaa")
    cache = StatCache(None)
    add(store, root, "w", cache=cache)
    _write(root / "a", "bbbb", at_ns=_T0 + 5)
    assert status(store, root, "w", cache=cache).modified == ("a",)


def test_status_of_an_unknown_dataset_shows_everything_added(
    store: SqlStore, tmp_path: Path
) -> None:
    _write(tmp_path / "w" / "a", "x")
    changes = status(store, tmp_path / "w", "new", cache=StatCache(None))
    assert changes.version is None
    assert changes.added == ("a",)


def test_racy_entries_are_not_cached(tmp_path: Path) -> None:
    cache = StatCache(tmp_path / "c.db")
    now = 2_000_000_000_000_000_000
    recorded = cache.record(
        [
            ("/x/old", FileStat(1, 1, now - 2 * RACY_MARGIN_NS), "d1"),
            ("/x/fresh", FileStat(2, 1, now - 1), "d2"),
        ],
        hashed_at_ns=now,
    )
    assert recorded == 1
    assert set(cache.under("/x")) == {"/x/old"}
    assert cache.under("/x/old") == {"/x/old": (FileStat(1, 1, now - 2 * RACY_MARGIN_NS), "d1")}
    assert cache.under("/x0") == {}
    cache.close()


def test_scan_skips_tool_folders_and_refuses_missing_paths(tmp_path: Path) -> None:
    _write(tmp_path / "d" / "a", "x")
    _write(tmp_path / "d" / ".mloop" / "db", "x")
    _write(tmp_path / "d" / ".dvc" / "cache", "x")
    kind, files = scan(tmp_path / "d")
    assert kind is DatasetKind.FOLDER
    assert [f.path for f in files] == ["a"]
    with pytest.raises(InvalidInputError, match="neither a file nor a folder"):
        scan(tmp_path / "missing")


def test_a_removed_file_is_found_when_every_other_file_is_known(
    store: SqlStore, tmp_path: Path
) -> None:
    root = tmp_path / "w"
    _write(root / "a", "a")
    _write(root / "b", "b")
    cache = StatCache(None)
    add(store, root, "w", cache=cache)
    (root / "b").unlink()
    changes = status(store, root, "w", cache=cache)
    assert (changes.removed, changes.hashed, changes.unchanged) == (("b",), 0, 1)

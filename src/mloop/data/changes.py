"""Scanning a file or folder and telling which files changed, cheaply: stat first, hash second.

`data status` and `data add` stat every file (inode, size, mtime), take the digest of files the
stat cache already knows unchanged, and hash only the rest.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from mloop.artifacts import digest_file
from mloop.data.manifests import manifest_digest
from mloop.data.progress import NoProgress, Progress
from mloop.data.stat_cache import FileStat, StatCache
from mloop.entities.datasets import DatasetKind, DatasetVersion, ManifestEntry
from mloop.errors import DatasetNotFoundError, InvalidInputError
from mloop.storage import Store

# Never part of a dataset: mloop's own home and other tools' metadata.
SKIPPED_DIRS = frozenset({".mloop", ".git", ".dvc"})
_HASH_WORKERS = min(32, 4 * (os.cpu_count() or 1))


class ScannedFile(NamedTuple):
    """A file found by `scan` (a tuple: scans build one per file).

    Attributes:
        path: relative POSIX path inside the dataset (the file name for a single file).
        absolute: the absolute path on disk.
        stat: inode, size, mtime.
    """

    path: str
    absolute: str
    stat: FileStat


def scan(path: str | os.PathLike[str]) -> tuple[DatasetKind, list[ScannedFile]]:
    """Every regular file of a file or folder, sorted by relative path.

    Raises:
        InvalidInputError: the path does not exist, is not a file or folder, or holds no file.
    """
    root = Path(path).absolute()
    if root.is_file():
        return DatasetKind.FILE, [ScannedFile(root.name, str(root), FileStat.of(root.stat()))]
    if not root.is_dir():
        raise InvalidInputError(
            f"{path} is neither a file nor a folder; give the path of the data to version",
            field="path",
        )
    found: list[ScannedFile] = []
    _walk(str(root), "", found)
    if not found:
        raise InvalidInputError(
            f"folder {path} holds no files to version (.mloop, .git and .dvc are skipped)",
            field="path",
        )
    found.sort(key=lambda f: f.path)
    return DatasetKind.FOLDER, found


def _walk(folder: str, prefix: str, found: list[ScannedFile]) -> None:
    with os.scandir(folder) as entries:
        for entry in entries:
            # Symlinked folders are not followed (no loops); symlinked files are read.
            if entry.is_dir(follow_symlinks=False):
                if entry.name not in SKIPPED_DIRS:
                    _walk(entry.path, f"{prefix}{entry.name}/", found)
            elif entry.is_file():
                found.append(
                    ScannedFile(prefix + entry.name, entry.path, FileStat.of(entry.stat()))
                )


def split_known(
    files: Sequence[ScannedFile], cache: StatCache, root: str | os.PathLike[str]
) -> tuple[dict[str, str], list[ScannedFile]]:
    """Files whose digest the stat cache knows (relative path -> digest), and the others."""
    entries = cache.under(str(Path(root).absolute()))
    known: dict[str, str] = {}
    unknown: list[ScannedFile] = []
    for f in files:
        hit = entries.get(f.absolute)
        if hit is not None and hit[0] == f.stat:
            known[f.path] = hit[1]
        else:
            unknown.append(f)
    return known, unknown


def hash_files(files: Sequence[ScannedFile], *, progress: Progress | None = None) -> dict[str, str]:
    """Digests of files read from disk, in parallel (relative path -> digest)."""
    report = progress or NoProgress()
    report.start("hashing", len(files))

    def one(f: ScannedFile) -> str:
        digest, _ = digest_file(f.absolute)
        report.advance(1)
        return digest

    if len(files) < 2:
        return {f.path: one(f) for f in files}
    with ThreadPoolExecutor(_HASH_WORKERS) as pool:
        return dict(zip((f.path for f in files), pool.map(one, files), strict=True))


@dataclass(frozen=True, slots=True)
class Changes:
    """What differs between a working file or folder and a dataset's latest version.

    Attributes:
        name: the dataset.
        version: its latest version (None when the dataset does not exist yet).
        added: paths on disk, not in the version.
        removed: paths in the version, not on disk.
        modified: paths in both with different content.
        unchanged: how many paths are equal.
        hashed: how many files had to be read (the rest were known by their stat).
    """

    name: str
    version: DatasetVersion | None
    added: tuple[str, ...]
    removed: tuple[str, ...]
    modified: tuple[str, ...]
    unchanged: int
    hashed: int

    @property
    def is_clean(self) -> bool:
        """True when nothing changed."""
        return not (self.added or self.removed or self.modified)


def status(
    store: Store,
    path: str | os.PathLike[str],
    name: str,
    *,
    cache: StatCache,
    progress: Progress | None = None,
) -> Changes:
    """Compare a file or folder with the latest version of a dataset.

    Files the stat cache knows unchanged are not read; the digests of files that had to be
    hashed are recorded, so the next status is fast too.

    Raises:
        InvalidInputError: the path is not a file or folder with files.
        DatasetVersionNotFoundError: the dataset exists but has no version.
    """
    started_ns = time.time_ns()
    kind, files = scan(path)
    try:
        latest: DatasetVersion | None = store.datasets.get_latest(name)
    except DatasetNotFoundError:
        latest = None
    known, unknown = split_known(files, cache, path)
    if latest is not None and not unknown and _same_content(kind, files, known, latest):
        # Every file is known by its stat and the manifest digest matches: nothing to load.
        return Changes(name, latest, (), (), (), len(files), 0)
    hashed = hash_files(unknown, progress=progress)
    cache.record(((f.absolute, f.stat, hashed[f.path]) for f in unknown), hashed_at_ns=started_ns)
    recorded = (
        {}
        if latest is None
        else {e.path: e.digest for e in store.datasets.list_files(name, latest.version)}
    )
    current = {**known, **hashed}
    modified = sorted(p for p, d in current.items() if p in recorded and recorded[p] != d)
    return Changes(
        name=name,
        version=latest,
        added=tuple(sorted(current.keys() - recorded.keys())),
        removed=tuple(sorted(recorded.keys() - current.keys())),
        modified=tuple(modified),
        unchanged=sum(1 for p, d in current.items() if recorded.get(p) == d),
        hashed=len(unknown),
    )


def _same_content(
    kind: DatasetKind, files: Sequence[ScannedFile], known: dict[str, str], latest: DatasetVersion
) -> bool:
    entries = [ManifestEntry(f.path, known[f.path], f.stat.size) for f in files]
    return manifest_digest(kind, entries) == latest.digest

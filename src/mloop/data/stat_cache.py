"""The stat cache: (inode, size, mtime) -> digest of files already hashed, per machine.

A file whose inode, size and modification time are those recorded when it was hashed is taken
to hold the same bytes, so `data add` and `data status` hash only what changed (as git's index
and DVC's state database do).

Why a local SQLite file (in the mloop home, `stat-cache.db`) rather than a table of the metadata
store: inodes and mtimes mean something only on the machine and file system that produced them,
and a team's PostgreSQL store is shared by many machines; stdlib `sqlite3` in WAL mode lets
concurrent `data add` processes share the file without SQLAlchemy.

Racy entries: a file written in the same clock tick as it was hashed could change again without
its mtime moving. Entries are only recorded when the file's mtime is older than the moment of
hashing by `RACY_MARGIN_NS`; such files are simply hashed again next time. File systems with
coarser timestamps (FAT's 2 s, some network file systems) are not covered by the margin.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

RACY_MARGIN_NS = 100_000_000
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS entries (path TEXT PRIMARY KEY, inode INTEGER NOT NULL, "
    "size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, digest TEXT NOT NULL) WITHOUT ROWID"
)


class FileStat(NamedTuple):
    """What identifies a file's content cheaply: its inode, size and mtime in nanoseconds.

    A tuple, so that scanning 100,000 files builds them fast and rows compare to them directly.
    """

    inode: int
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, result: os.stat_result) -> FileStat:
        """From an `os.stat` result."""
        return cls(result.st_ino, result.st_size, result.st_mtime_ns)


class StatCache:
    """A persistent map of absolute path -> (stat, digest).

    Args:
        path: the SQLite file, or None for a cache that lives in memory only (every process
            hashes everything once).
    """

    def __init__(self, path: str | os.PathLike[str] | None) -> None:
        self.path = None if path is None else Path(path)
        self._memory: dict[str, tuple[FileStat, str]] = {}
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None

    def _connect(self, path: Path) -> sqlite3.Connection:
        if self._conn is None:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(path, timeout=30, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(_SCHEMA)
            conn.commit()
            self._conn = conn
        return self._conn

    def under(self, root: str) -> dict[str, tuple[FileStat, str]]:
        """The entries of a file, or of every file under a folder, by absolute path."""
        if self.path is None:
            prefix = root.rstrip("/") + "/"
            return {p: v for p, v in self._memory.items() if p == root or p.startswith(prefix)}
        with self._lock:
            conn = self._connect(self.path)
            base = root.rstrip("/")
            # A range scan on the primary key: '0' sorts right after '/'.
            rows = conn.execute(
                "SELECT path, inode, size, mtime_ns, digest FROM entries "
                "WHERE path = ? OR (path >= ? AND path < ?)",
                (base, base + "/", base + "0"),
            ).fetchall()
        return {p: (FileStat(i, s, m), d) for p, i, s, m, d in rows}

    def record(self, entries: Iterable[tuple[str, FileStat, str]], *, hashed_at_ns: int) -> int:
        """Remember digests of files hashed at `hashed_at_ns`, except racy ones.

        Returns:
            How many entries were recorded.
        """
        limit = hashed_at_ns - RACY_MARGIN_NS
        rows = [
            (path, st.inode, st.size, st.mtime_ns, digest)
            for path, st, digest in entries
            if st.mtime_ns < limit
        ]
        if not rows:
            return 0
        if self.path is None:
            self._memory.update({r[0]: (FileStat(r[1], r[2], r[3]), r[4]) for r in rows})
            return len(rows)
        with self._lock:
            conn = self._connect(self.path)
            with conn:
                conn.executemany("INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?, ?)", rows)
        return len(rows)

    def close(self) -> None:
        """Close the database file."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

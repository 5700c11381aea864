"""Packs: many small blobs in one object, found through an index object beside it.

A store with thousands of 4 KB blobs as separate objects pays a request (remote) or a file
creation (local) per blob; a pack pays one per ~64 MiB. `packs/<id>.pack` is the blobs' bytes
back to back; `packs/<id>.idx` is `MAGIC` followed by one fixed-size record per blob (32-byte
raw digest, 8-byte offset, 8-byte size, big-endian), sorted by digest. The pack is written
first and the index last, so a pack without an index (a writer died) is invisible and `mloop
gc` removes it once it is older than the grace period. `<id>` is the BLAKE3 digest of the
index records, so writing the same pack twice produces the same names.
"""

from __future__ import annotations

import struct
import threading
from dataclasses import dataclass, field

from blake3 import blake3

from mloop.errors import StorageError

MAGIC = b"MLOOPPACK1\n"
_RECORD = struct.Struct(">32sQQ")

# Blobs up to this size are packed when many are stored at once.
PACK_MAX_BLOB = 256 << 10
# A pack is closed once it holds this many bytes.
PACK_TARGET_SIZE = 64 << 20


@dataclass(frozen=True, slots=True)
class PackEntry:
    """Where one packed blob lives."""

    pack_id: str
    offset: int
    size: int


def encode_index(entries: list[tuple[str, int, int]]) -> tuple[str, bytes]:
    """The pack id and index bytes for `(digest, offset, size)` records."""
    body = b"".join(
        _RECORD.pack(bytes.fromhex(digest), offset, size)
        for digest, offset, size in sorted(entries)
    )
    return blake3(body).hexdigest(), MAGIC + body


def decode_index(pack_id: str, data: bytes) -> dict[str, PackEntry]:
    """The entries of an index object.

    Raises:
        StorageError: the object is not a pack index.
    """
    body = memoryview(data)[len(MAGIC) :]
    if not data.startswith(MAGIC) or len(body) % _RECORD.size:
        raise StorageError(
            f"pack index {pack_id}.idx is damaged (bad header or length); remove it and its "
            "pack, then store the affected files again"
        )
    return {
        raw.hex(): PackEntry(pack_id, offset, size)
        for raw, offset, size in _RECORD.iter_unpack(body)
    }


@dataclass
class PackBuffer:
    """Small blobs collected in memory until they make a pack."""

    chunks: list[bytes] = field(default_factory=list)
    entries: list[tuple[str, int, int]] = field(default_factory=list)
    size: int = 0
    digests: set[str] = field(default_factory=set)

    def add(self, digest: str, data: bytes) -> None:
        """Append a blob unless this buffer holds it already."""
        if digest in self.digests:
            return
        self.digests.add(digest)
        self.entries.append((digest, self.size, len(data)))
        self.chunks.append(data)
        self.size += len(data)

    def is_full(self) -> bool:
        """True once the buffer holds a pack's worth of bytes."""
        return self.size >= PACK_TARGET_SIZE

    def take(self) -> tuple[str, bytes, bytes, list[tuple[str, int, int]]] | None:
        """Empty the buffer: pack id, pack bytes, index bytes and entries (None when empty)."""
        if not self.entries:
            return None
        pack_id, index = encode_index(self.entries)
        data = b"".join(self.chunks)
        entries = self.entries
        self.chunks, self.entries, self.size, self.digests = [], [], 0, set()
        return pack_id, data, index, entries


class PackIndex:
    """The merged index of every pack in a store, loaded lazily and refreshed on demand.

    Thread-safe: put_files workers look blobs up while the main thread adds packs.
    """

    def __init__(self) -> None:
        self._packs: dict[str, dict[str, PackEntry]] = {}
        self._entries: dict[str, PackEntry] = {}
        self._lock = threading.Lock()

    def get(self, digest: str) -> PackEntry | None:
        """Where a packed blob lives, or None."""
        return self._entries.get(digest)

    def __contains__(self, digest: object) -> bool:
        return digest in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def items(self) -> list[tuple[str, PackEntry]]:
        """Every (digest, entry), as a snapshot."""
        with self._lock:
            return list(self._entries.items())

    def loaded(self) -> set[str]:
        """The pack ids whose index is merged."""
        with self._lock:
            return set(self._packs)

    def add(self, pack_id: str, entries: dict[str, PackEntry]) -> None:
        """Merge a pack's entries (the first pack holding a digest keeps it)."""
        with self._lock:
            self._packs[pack_id] = entries
            for digest, entry in entries.items():
                self._entries.setdefault(digest, entry)

    def forget(self, pack_ids: set[str]) -> None:
        """Drop removed packs; digests they shared with other packs stay, found there."""
        with self._lock:
            for pack_id in pack_ids:
                self._packs.pop(pack_id, None)
            merged: dict[str, PackEntry] = {}
            for entries in self._packs.values():
                for digest, entry in entries.items():
                    merged.setdefault(digest, entry)
            self._entries = merged

    def by_pack(self) -> dict[str, dict[str, PackEntry]]:
        """The entries of each loaded pack."""
        with self._lock:
            return {pack_id: dict(entries) for pack_id, entries in self._packs.items()}

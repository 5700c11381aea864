"""Digests: BLAKE3 of bytes, files and streams agree; copying hashes in the same pass."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from blake3 import blake3

from mloop.artifacts.digests import (
    EMPTY_DIGEST,
    check_digest,
    copy_hashing,
    digest_bytes,
    digest_chunks,
    digest_file,
    is_digest,
)
from mloop.errors import InvalidInputError


@pytest.mark.parametrize("size", [0, 1, 1000, (1 << 20) + 7, (9 << 20) + 3])
def test_bytes_files_chunks_and_copies_agree(tmp_path: Path, size: int) -> None:
    data = os.urandom(size)
    expected = blake3(data).hexdigest()
    path = tmp_path / "data.bin"
    path.write_bytes(data)
    assert digest_bytes(data) == expected
    assert digest_file(path) == (expected, size)
    assert digest_chunks(data[i : i + 4096] for i in range(0, size, 4096)) == (expected, size)
    copied = io.BytesIO()
    assert copy_hashing(io.BytesIO(data), copied.write, size_hint=size) == (expected, size)
    assert copied.getvalue() == data


def test_the_empty_digest_is_blake3_of_nothing() -> None:
    assert blake3(b"").hexdigest() == EMPTY_DIGEST
    assert is_digest(EMPTY_DIGEST)


@pytest.mark.parametrize(
    "text", ["", "abc", "A" * 64, "g" * 64, "a" * 63, "a" * 65, " " + "a" * 63, "../" + "a" * 61]
)
def test_anything_but_64_lowercase_hex_characters_is_refused(text: str) -> None:
    assert not is_digest(text)
    with pytest.raises(InvalidInputError, match="not a blob digest") as caught:
        check_digest(text)
    assert caught.value.field == "digest"


def test_a_digest_is_returned_as_is() -> None:
    digest = digest_bytes(b"x")
    assert check_digest(digest) is digest

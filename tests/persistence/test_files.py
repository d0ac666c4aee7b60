"""The local file store: writes appear whole or not at all, and a read holds no file open between chunks."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from core.errors import TooLarge
from persistence.files import CHUNK, LocalFiles


def open_files() -> int:
    return len(os.listdir("/proc/self/fd"))


async def put(store: LocalFiles, data: bytes) -> str:
    w = await store.begin(limit=len(data) + 1, head=16)
    await w.write(data)
    return (await w.commit()).sha256


async def test_a_read_abandoned_between_chunks_leaves_no_file_open(tmp_path: Path) -> None:
    # A download whose client went away is cancelled or never resumed; before, the open file then
    # waited for the garbage collector (an unraisable ResourceWarning in CI).
    store = LocalFiles(tmp_path)
    data = os.urandom(CHUNK * 2 + 10)
    sha = await put(store, data)
    before = open_files()
    chunks = store.read(sha)
    first = await anext(chunks)
    assert first == data[:CHUNK]
    assert open_files() == before
    rest = [c async for c in chunks]
    assert first + b"".join(rest) == data and open_files() == before


async def test_the_same_bytes_are_kept_once_and_an_aborted_write_leaves_nothing(tmp_path: Path) -> None:
    store = LocalFiles(tmp_path)
    assert await put(store, b"hello") == await put(store, b"hello") == hashlib.sha256(b"hello").hexdigest()
    w = await store.begin(limit=4, head=2)
    with pytest.raises(TooLarge):
        await w.write(b"too long")
    kept = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert [p.name for p in kept] == [hashlib.sha256(b"hello").hexdigest()]


async def test_a_sweep_removes_only_writes_left_long_enough(tmp_path: Path) -> None:
    store = LocalFiles(tmp_path)
    old = await store.begin(limit=10, head=2)
    (left,) = (tmp_path / "tmp").glob("*.part")
    os.utime(left, (left.stat().st_atime - 7200, left.stat().st_mtime - 7200))
    fresh = await store.begin(limit=10, head=2)
    await fresh.write(b"going")
    assert await store.sweep(older_than_s=3600) == 1
    assert not left.exists() and len(list((tmp_path / "tmp").glob("*.part"))) == 1
    assert (await fresh.commit()).size == 5
    await old.abort()  # the process that "died" would never get here; its file is gone already

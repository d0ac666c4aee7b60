"""The file store: bytes kept by their SHA-256, behind a small interface (a local directory now).

A write goes to a temporary object first and becomes visible under its hash only when committed,
whole and synced; an aborted or failed write leaves nothing behind. The same bytes written twice are
kept once. The interface is the shape of an S3-compatible store too: `begin` / `write` / `commit`
is a multipart upload to a temporary key followed by a copy to the hash's key, `abort` is
AbortMultipartUpload, `read` a ranged GET, `delete` a DELETE.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

from core.errors import TooLarge

CHUNK = 256 * 1024  # what a read hands out at a time, and what a write gathers before it goes to disk
_HASH = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True, slots=True)
class Stored:
    sha256: str
    size: int
    head: bytes  # the first bytes (core.materials.SNIFF_BYTES), to tell the type from


class Writing(Protocol):
    """A write in progress: `head`, `size` and `sha256` describe what was written so far."""

    @property
    def head(self) -> bytes: ...
    @property
    def size(self) -> int: ...
    @property
    def sha256(self) -> str: ...
    async def write(self, data: bytes) -> None: ...
    async def commit(self) -> Stored: ...
    async def abort(self) -> None: ...


class FileStore(Protocol):
    async def begin(self, *, limit: int, head: int) -> Writing: ...
    async def exists(self, sha256: str) -> bool: ...
    def read(self, sha256: str) -> AsyncIterator[bytes]: ...
    async def delete(self, sha256: str) -> None: ...


class LocalFiles:
    """Files under `root`: `ab/cd/abcdef…` by hash, and `tmp/` for writes in progress."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._tmp = root / "tmp"

    def _path(self, sha256: str) -> Path:
        if not _HASH.match(sha256):
            raise ValueError(f"not a SHA-256: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    async def begin(self, *, limit: int, head: int) -> _LocalWriting:
        """A new write of at most `limit` bytes (TooLarge past it, and the partial file is gone)."""
        await asyncio.to_thread(self._tmp.mkdir, parents=True, exist_ok=True)
        path = self._tmp / f"{secrets.token_hex(16)}.part"
        f = await asyncio.to_thread(path.open, "xb")
        return _LocalWriting(self, path, f, limit, head)

    async def exists(self, sha256: str) -> bool:
        return await asyncio.to_thread(self._path(sha256).is_file)

    async def read(self, sha256: str) -> AsyncIterator[bytes]:
        # Each chunk opens, reads and closes the file in one call in a thread, so nothing stays open while
        # the generator waits: a download whose client went away is cancelled by Starlette's task group
        # (every later await too, a `finally` included) or simply never resumed, and either way no file
        # is left for the garbage collector to close.
        path = self._path(sha256)
        offset = 0
        while chunk := await asyncio.to_thread(_read_at, path, offset):
            offset += len(chunk)
            yield chunk

    async def delete(self, sha256: str) -> None:
        await asyncio.to_thread(self._path(sha256).unlink, True)

    async def sweep(self, older_than_s: float) -> int:
        """Remove writes in progress older than this (left by a process that died mid-write); answers how many."""
        return await asyncio.to_thread(self._sweep, older_than_s)

    def _sweep(self, older_than_s: float) -> int:
        if not self._tmp.is_dir():
            return 0
        cutoff = time.time() - older_than_s
        gone = 0
        for part in self._tmp.glob("*.part"):
            with contextlib.suppress(FileNotFoundError):  # another process may finish or sweep it meanwhile
                if part.stat().st_mtime < cutoff:
                    part.unlink()
                    gone += 1
        return gone

    def _keep(self, tmp: Path, sha256: str) -> None:
        final = self._path(sha256)
        final.parent.mkdir(parents=True, exist_ok=True)
        if final.exists():
            tmp.unlink()  # the same bytes are kept already
            return
        os.replace(tmp, final)
        dir_fd = os.open(final.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)  # the rename itself survives a crash
        finally:
            os.close(dir_fd)


def _read_at(path: Path, offset: int) -> bytes:
    with path.open("rb") as f:
        f.seek(offset)
        return f.read(CHUNK)


class _LocalWriting:
    def __init__(self, store: LocalFiles, path: Path, f: IO[bytes], limit: int, head: int) -> None:
        self._store = store
        self._path = path
        self._f = f
        self._limit = limit
        self._head_size = head
        self._head = bytearray()
        self._hash = hashlib.sha256()
        self._size = 0
        self._buffer = bytearray()

    @property
    def head(self) -> bytes:
        return bytes(self._head)

    @property
    def size(self) -> int:
        return self._size

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()

    async def write(self, data: bytes) -> None:
        self._size += len(data)
        if self._size > self._limit:
            await self.abort()
            raise TooLarge(f"file: larger than the {self._limit // (1024 * 1024)} MB allowed")
        if len(self._head) < self._head_size:
            self._head += data[: self._head_size - len(self._head)]
        self._hash.update(data)
        self._buffer += data
        if len(self._buffer) >= CHUNK:
            await self._flush()

    async def _flush(self) -> None:
        block, self._buffer = bytes(self._buffer), bytearray()
        await asyncio.to_thread(self._f.write, block)

    async def commit(self) -> Stored:
        await self._flush()

        def finish() -> None:
            self._f.flush()
            os.fsync(self._f.fileno())
            self._f.close()

        await asyncio.to_thread(finish)
        sha = self._hash.hexdigest()
        await asyncio.to_thread(self._store._keep, self._path, sha)
        return Stored(sha, self._size, bytes(self._head))

    async def abort(self) -> None:
        def drop() -> None:
            self._f.close()
            self._path.unlink(missing_ok=True)

        await asyncio.to_thread(drop)

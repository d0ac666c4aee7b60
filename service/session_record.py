"""The session record: built at close and whenever what it holds changes, kept in versions, downloaded audited.

A build reads everything at one moment (persistence.repos.session_record.sources), writes the zip to the
file store (a temporary object, whole before it is kept under its SHA-256) and only then adds the version's
row: a half-built record is never listed nor served. A build that finds the same files as the latest
version adds nothing. Two processes building at once: one version wins the unique (session, version), the
other's job fails, runs again and finds nothing changed.
"""

from __future__ import annotations

import asyncio
import tempfile
import zipfile
from collections.abc import AsyncIterator
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession as DbSession

from core import record
from core.errors import Conflict, NotFound
from core.jobs import Job
from core.model import Actor, SessionState
from core.record import RecordVersion, Sources
from persistence.files import CHUNK, FileStore, Stored
from persistence.identity import new_id
from persistence.repos import audit
from persistence.repos import session_record as repo
from service.jobs import Skip
from service.unit import Unit

BUILD = repo.BUILD
MAX_RECORD_BYTES = 1 << 40  # the store's bound on one write; a record is its files and the materials' bytes


class SessionRecords:
    def __init__(self, unit: Unit, files: FileStore) -> None:
        self._u = unit
        self._files = files

    async def at_close(self, db: DbSession, closed: SessionState, now: datetime) -> None:
        """Lifecycle.on_close: the first version is built straight after the close commits."""
        await repo.build_soon(db, session_id=closed.id, now=now)

    async def build(self, job: Job) -> None:
        """The session-record job: a new version if anything changed since the latest."""
        if job.session_id is None:
            raise Skip("no session")
        version = await self.build_now(job.session_id)
        if version is None:
            raise Skip("nothing changed since the latest version")

    async def build_now(self, session_id: str) -> RecordVersion | None:
        """Build a version of a closed session's record; None when it would hold what the latest holds."""
        src = await self._u.read(repo.sources, session_id=session_id)
        if src is None:
            raise Skip("the session is gone")
        if src.session.status != "closed":
            raise Skip("the record is made at close")
        src.missing = frozenset(
            [m.sha256 for m in src.materials if m.sha256 is not None and not await self._files.exists(m.sha256)]
        )
        # Off the loop: for a class of 2,000 this is most of a second of JSON, CSV and SHA-256, which
        # would otherwise hold up every answer the server gives meanwhile (bench/record.py).
        texts = await asyncio.to_thread(record.files, src)
        materials = record.in_zip(src)
        entries = await asyncio.to_thread(lambda: [record.entry(name, data) for name, data in texts.items()])
        entries += [{"name": path, "sha256": m.sha256, "size": m.size} for m, path in materials]
        digest = record.digest(entries)
        latest = await self._u.read(repo.latest, session_id=session_id)
        if latest is not None and latest.digest == digest:
            return None
        number = latest.version + 1 if latest is not None else 1
        built_at = self._u.now()
        manifest = record.manifest(session_id, number, built_at, entries, digest)
        stored = await self._store_zip(src, texts, manifest, built_at)
        version = RecordVersion(
            id=new_id(),
            session_id=session_id,
            version=number,
            sha256=stored.sha256,
            size=stored.size,
            digest=digest,
            files=entries,
            built_at=built_at,
        )
        await self._u.submit(lambda db: repo.add_version(db, version=version))
        return version

    async def _store_zip(self, src: Sources, texts: dict[str, bytes], manifest: bytes, built_at: datetime) -> Stored:
        """Write the zip to a temporary file, then into the store; nothing is kept if either fails."""
        stamp = built_at.timetuple()[:6]
        with tempfile.TemporaryFile() as tmp:
            with zipfile.ZipFile(tmp, "w", allowZip64=True) as zf:
                for name, data in [*texts.items(), (record.MANIFEST, manifest)]:
                    info = zipfile.ZipInfo(name, date_time=stamp)
                    info.compress_type = zipfile.ZIP_DEFLATED
                    await asyncio.to_thread(zf.writestr, info, data)
                for m, path in record.in_zip(src):
                    assert m.sha256 is not None  # in_zip lists files only
                    info = zipfile.ZipInfo(path, date_time=stamp)  # stored: most materials are compressed already
                    with zf.open(info, "w", force_zip64=(m.size or 0) >= 1 << 31) as out:
                        async for chunk in self._files.read(m.sha256):
                            await asyncio.to_thread(out.write, chunk)
            await asyncio.to_thread(tmp.seek, 0)
            writing = await self._files.begin(limit=MAX_RECORD_BYTES, head=0)
            try:
                while chunk := await asyncio.to_thread(tmp.read, CHUNK):
                    await writing.write(chunk)
                return await writing.commit()
            except BaseException:
                await writing.abort()
                raise

    async def versions(self, s: SessionState) -> list[RecordVersion]:
        return await self._u.read(repo.versions, session_id=s.id)

    async def download(
        self, actor: Actor, s: SessionState, number: int | None
    ) -> tuple[RecordVersion, AsyncIterator[bytes]]:
        """A version (the latest unless `number`) and its bytes; the download is audited before a byte goes."""
        kept = await self.versions(s)
        if number is not None:
            found = next((v for v in kept if v.version == number), None)
            if found is None:
                raise NotFound(f"the record has no version {number}")
        elif kept:
            found = kept[-1]
        elif s.status == "closed":
            raise Conflict("the record is being made; try again in a moment")
        else:
            raise Conflict("the session record is made when the session closes")
        version = found
        now = self._u.now()
        await self._u.submit(
            lambda db: audit.record(
                db,
                actor=actor,
                action="download",
                target=f"record:{s.id}",
                session_id=s.id,
                at=now,
                detail={"version": version.version, "sha256": version.sha256, "size": version.size},
            )
        )
        return version, self._files.read(version.sha256)

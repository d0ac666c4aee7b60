"""A person's data (GDPR articles 15, 17, 20): the export, and the erasure with its dry run (docs/records.md).

The erasure, in order:
1. each kept version of the session records the person appears in is rewritten without them (core.people)
   and the new zip is written whole to the file store before anything points to it;
2. one transaction pseudonymises them everywhere, removes their free text, moves each record version to its
   new zip, queues the removal of the old zips (a files-gc job: done even if this process dies now) and
   writes the audit entry; the sessions' locks are held meanwhile, so no chat message of theirs lands
   half-way, and the live rosters forget them in the same hold;
3. their sockets close, and the old zips are removed at once when nothing else keeps them.
A kill before 2 commits leaves the database as it was (and unreferenced new zips, harmless); after it,
the erasure is whole and the old zips go with the queued job.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import tempfile
import zipfile
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import replace
from typing import IO, Any

from sqlalchemy.ext.asyncio import AsyncSession as DbSession

from core import people as rules
from core import record
from core.errors import Conflict
from core.model import Actor, room_token
from core.settings import Settings
from persistence.files import CHUNK, FileStore
from persistence.models import SessionRecordVersion
from persistence.repos import audit
from persistence.repos import people as repo
from persistence.repos import preparation as materials
from service.preparation import queue_collect
from service.session_record import MAX_RECORD_BYTES
from service.unit import Unit

log = logging.getLogger("companion.people")


class People:
    def __init__(self, unit: Unit, settings: Settings, files: FileStore) -> None:
        self._u = unit
        self._key = settings.secret_key
        self._defaults = settings.feedback_defaults
        self._files = files
        self.wake: Any = lambda: None  # the job runner's, once it exists: the files-gc job is looked at

    # ------------------------------------------------------------ export

    async def export(self, actor: Actor, raw_email: str) -> dict[str, Any]:
        """Everything kept about the person, as JSON; audited (`export`, the person by pseudonymous id)."""
        key = rules.email_key(raw_email)
        now = self._u.now()
        async with self._u.sessions() as db:
            person = await repo.find(db, key=key, secret_key=self._key)
            data = await repo.export(db, person=person, now=now)
        counts = repo.counts_of(data)
        pseudonym = rules.pseudonym(self._key, key)
        await self._u.submit(
            lambda db: audit.record(
                db,
                actor=actor,
                action="export",
                target=f"person:{pseudonym.id}",
                at=now,
                detail={"participants": person.ids, "counts": counts},
            )
        )
        return {**data, "counts": counts}

    # ------------------------------------------------------------ erase

    async def erase(self, actor: Actor, raw_email: str, *, reason: str, dry_run: bool) -> dict[str, Any]:
        """Erase the person (or, with `dry_run`, say what would go); `{erased: counts}`, audited (`erase`)."""
        key = rules.email_key(raw_email)
        pseudonym = rules.pseudonym(self._key, key)
        person = await self._u.read(repo.find, key=key, secret_key=self._key)
        if person.staff is not None or person.instructs:
            raise Conflict(
                "this address is a staff member's (or an instructor's): staff are disabled through /api/staff, "
                "and their work records are kept"
            )
        versions = await self._u.read(repo.record_versions, session_ids=person.session_ids)
        reds = await self._u.read(repo.redactions, person=person, pseudonym=pseudonym)
        if dry_run:
            async with self._u.sessions() as db:
                found = await repo.find(db, key=key, secret_key=self._key)
                preview = await repo.erase(
                    db,
                    person=found,
                    pseudonym=pseudonym,
                    defaults=self._defaults,
                    rewrites=[],
                    reds=reds,
                    now=self._u.now(),
                    dry_run=True,
                )
            preview["record_versions"] = len(versions)
            return {"erased": preview, "dry_run": True, "summary": rules.summary(preview)}

        rewrites = [await self._rewrite(v, reds[v.session_id]) for v in versions if v.session_id in reds]
        now = self._u.now()

        async def op(db: DbSession) -> dict[str, int]:
            found = await repo.find(db, key=key, secret_key=self._key)
            counts = await repo.erase(
                db,
                person=found,
                pseudonym=pseudonym,
                defaults=self._defaults,
                rewrites=rewrites,
                reds=reds,
                now=now,
            )
            for rw in rewrites:
                if rw.sha256 != rw.old_sha256:
                    await queue_collect(db, sha256=rw.old_sha256, now=now)
            await audit.record(
                db,
                actor=actor,
                action="erase",
                target=f"person:{pseudonym.id}",
                at=now,
                detail={"reason": reason, "participants": found.ids, "counts": counts},
            )
            return counts

        try:
            async with self._locks(person.session_ids):
                await self._u.barrier()  # what their sessions queued before (a chat message) is written first
                counts: dict[str, int] = await self._u.submit(op)
                await self._forget_live(person, pseudonym)
        except BaseException:
            for rw in rewrites:  # the new zips nothing points to
                if rw.sha256 != rw.old_sha256 and not await self._in_use(rw.sha256):
                    await self._files.delete(rw.sha256)
            raise
        for pid in person.ids:
            await self._u.publisher.disconnect(room_token(pid))
        for sid in person.session_ids:
            self._u.publisher.presence_changed(sid)
        for rw in rewrites:
            if rw.sha256 != rw.old_sha256 and not await self._in_use(rw.old_sha256):
                await self._files.delete(rw.old_sha256)
        counts["record_versions"] += await self._late_versions(versions, reds)
        self.wake()
        return {"erased": counts, "summary": rules.summary(counts)}

    async def _late_versions(self, seen: list[SessionRecordVersion], reds: dict[str, rules.Redaction]) -> int:
        """Versions a build added while the erasure ran (read before it): rewritten too."""
        known = {v.id for v in seen}
        late = [
            v
            for v in await self._u.read(repo.record_versions, session_ids=list(reds))
            if v.id not in known and v.session_id in reds
        ]
        for v in late:
            rw = await self._rewrite(v, reds[v.session_id])
            if rw.sha256 == rw.old_sha256:
                continue

            async def move(db: DbSession, rw: repo.RecordRewrite = rw) -> None:
                await repo.move_version(db, rewrite=rw)

            await self._u.submit(move)
            if not await self._in_use(rw.old_sha256):
                await self._files.delete(rw.old_sha256)
        return len(late)

    async def _in_use(self, sha256: str) -> bool:
        return bool(
            await self._u.read(repo.blob_uses, sha256=sha256) or await self._u.read(materials.uses_of, sha256=sha256)
        )

    async def _forget_live(self, person: repo.Person, pseudonym: rules.Pseudonym) -> None:
        """Under the sessions' locks: a live session's roster forgets them, its help queue names their pseudonym."""
        store = self._u.store
        for p in person.participants:
            if await store.session(p.session_id) is None:
                continue  # not loaded: it loads from the database, without them
            await store.remove_member(p.session_id, p.id)
            tickets = await store.tickets(p.session_id)
            if any(t.participant_id == p.id for t in tickets):
                await store.set_tickets(
                    p.session_id,
                    [
                        replace(t, name=pseudonym.name, text=rules.REMOVED) if t.participant_id == p.id else t
                        for t in tickets
                    ],
                )

    @asynccontextmanager
    async def _locks(self, ids: list[str]) -> AsyncIterator[None]:
        """Each session's lock, in one order for every taker (as service.invitations takes them): no deadlock."""
        async with AsyncExitStack() as stack:
            for sid in sorted(ids):
                await stack.enter_async_context(self._u.store.lock(sid))
            yield

    # ------------------------------------------------------------ the record's zips

    async def _rewrite(self, v: SessionRecordVersion, red: rules.Redaction) -> repo.RecordRewrite:
        """The version's zip without the person, written whole to the store (the same zip when nothing changed)."""
        same = repo.RecordRewrite(v.id, v.sha256, v.sha256, v.size, v.digest, list(v.files))
        if not await self._files.exists(v.sha256):
            log.warning("record %s version %s: its zip is not in the store", v.session_id, v.version)
            return same
        with tempfile.TemporaryFile() as old, tempfile.TemporaryFile() as new:
            async for chunk in self._files.read(v.sha256):
                await asyncio.to_thread(old.write, chunk)
            done = await asyncio.to_thread(_rewrite_zip, old, new, red)
            if done is None:
                return same
            entries, digest = done
            await asyncio.to_thread(new.seek, 0)
            writing = await self._files.begin(limit=MAX_RECORD_BYTES, head=0)
            try:
                while chunk := await asyncio.to_thread(new.read, CHUNK):
                    await writing.write(chunk)
                stored = await writing.commit()
            except BaseException:
                with contextlib.suppress(OSError):
                    await writing.abort()
                raise
        return repo.RecordRewrite(v.id, v.sha256, stored.sha256, stored.size, digest, entries)


def _rewrite_zip(old: IO[bytes], new: IO[bytes], red: rules.Redaction) -> tuple[list[dict[str, Any]], str] | None:
    """Copy a record zip without the person: its own files redacted, the materials as they are, a new manifest.
    None when no file changed."""
    old.seek(0)
    with zipfile.ZipFile(old) as src:
        changed: dict[str, bytes] = {}
        for info in src.infolist():
            if rules.is_own_file(info.filename):
                data = src.read(info)
                redacted = rules.redact_file(info.filename, data, red)
                if redacted != data:
                    changed[info.filename] = redacted
        if not changed:
            return None
        manifest = json.loads(src.read(record.MANIFEST))
        manifest_bytes, entries, digest = rules.redacted_manifest(manifest, changed)
        with zipfile.ZipFile(new, "w", allowZip64=True) as dst:
            for info in src.infolist():
                if info.filename == record.MANIFEST:
                    dst.writestr(info, manifest_bytes)
                elif info.filename in changed:
                    dst.writestr(info, changed[info.filename])
                elif rules.is_own_file(info.filename):
                    dst.writestr(info, src.read(info))
                else:  # a material's bytes, streamed (it may be large)
                    with src.open(info) as f, dst.open(info, "w", force_zip64=info.file_size >= 1 << 31) as out:
                        while block := f.read(CHUNK):
                            out.write(block)
    return entries, digest

"""Preparation (contract part 2, SOP 3): materials shared ahead, platform run-throughs, readiness.

A material's bytes go to the file store (persistence/files.py) while they stream in; the row that
shares them is written only once they are whole and their type agrees with their name, and the bytes
become visible under their hash after that row committed. Deleting a material deletes its row at
once and queues a `files-gc` job that removes the bytes later if nothing refers to them by then (an
upload of the same bytes racing the delete keeps them).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession as DbSession

from core import materials as rules
from core import preparation as prep
from core.errors import Conflict, NotFound
from core.jobs import Job, job_key
from core.materials import Material
from core.model import Actor, Emit, SessionState, iso, room_participants, room_staff
from core.settings import Settings
from persistence.files import FileStore, Writing
from persistence.identity import material_token, new_id, parse_material_token
from persistence.repos import audit, jobs, roster, sessions, staff
from persistence.repos import preparation as repo
from service.invitations import Invitations, Transport
from service.jobs import Skip
from service.unit import Unit

log = logging.getLogger("companion.preparation")

FILES_GC = "files-gc"
READINESS = "readiness"  # the one mail when a session due within a day is not ready
# How long unreferenced bytes stay after their last material went (longer than any upload's last step).
GC_AFTER = timedelta(minutes=10)
INSTRUCTOR = "instructor"


async def queue_collect(db: DbSession, *, sha256: str, now: datetime) -> None:
    """Queue the removal of these bytes from the file store, GC_AFTER from now and only if nothing refers to
    them then (a withdrawn material, a purged or re-zipped record): in the caller's transaction, so it is
    done even if this process dies right after the commit."""
    await jobs.schedule(
        db,
        kind=FILES_GC,
        key=job_key(FILES_GC, "*", sha256, now.isoformat()),
        session_id=None,
        due_at=now + GC_AFTER,
        payload={"sha256": sha256},
        now=now,
    )


class Preparation:
    def __init__(
        self, unit: Unit, settings: Settings, files: FileStore, invitations: Invitations, transport: Transport
    ) -> None:
        self._u = unit
        self._transport = transport
        self._from = settings.mail_from
        self._domain = urlsplit(settings.public_url).hostname or "localhost"
        self._files = files
        self._invitations = invitations
        self._key = settings.secret_key
        self._public = settings.public_url
        self.max_upload = settings.max_upload_bytes

    # ------------------------------------------------------------ materials

    async def begin_upload(self) -> Writing:
        return await self._files.begin(limit=self.max_upload, head=rules.SNIFF_BYTES)

    async def add_file(
        self, actor: Actor, s: SessionState, writing: Writing, filename: str, title: str | None
    ) -> Material:
        """Keep an uploaded file whose bytes are all in `writing` (aborted unless they are accepted)."""
        try:
            name = rules.safe_filename(filename)
            kind = rules.content_type(name, writing.head)
            label = rules.check_title(title, default=name)
            await self._count_allows(s)
        except BaseException:
            await writing.abort()
            raise
        m = Material(
            id=new_id(),
            session_id=s.id,
            title=label,
            created_at=self._u.now(),
            created_by=actor.name,
            filename=name,
            size=writing.size,
            sha256=writing.sha256,
            content_type=kind,
        )
        try:
            await self._u.submit(lambda db: self._add(db, actor, m))
        except BaseException:
            await writing.abort()
            raise
        await writing.commit()  # visible under its hash only now: a racing files-gc saw the row
        await self._changed(s.id)
        return m

    async def add_link(self, actor: Actor, s: SessionState, title: object, url: object) -> Material:
        link = rules.check_link(url)
        label = rules.check_title(title)
        await self._count_allows(s)
        m = Material(
            id=new_id(), session_id=s.id, title=label, created_at=self._u.now(), created_by=actor.name, url=link
        )
        await self._u.submit(lambda db: self._add(db, actor, m))
        await self._changed(s.id)
        return m

    async def _count_allows(self, s: SessionState) -> None:
        if s.status in ("closed", "cancelled"):
            raise Conflict(f"the session is {s.status}")
        have = await self._u.read(repo.material_counts, session_ids=[s.id])
        if have.get(s.id, 0) >= rules.MAX_MATERIALS:
            raise Conflict(f"a session shares at most {rules.MAX_MATERIALS} materials")

    async def _add(self, db: DbSession, actor: Actor, m: Material) -> None:
        await repo.add_material(db, material=m)
        await audit.record(
            db,
            actor=actor,
            action="material",
            target=f"material:{m.id}",
            session_id=m.session_id,
            at=m.created_at,
            detail={"title": m.title, "filename": m.filename, "url": m.url, "sha256": m.sha256, "size": m.size},
        )

    async def delete(self, actor: Actor, s: SessionState, material_id: str) -> None:
        now = self._u.now()

        async def op(db: DbSession) -> Material | None:
            gone = await repo.delete_material(db, session_id=s.id, material_id=material_id)
            if gone is None:
                return None
            if gone.sha256 is not None:
                await queue_collect(db, sha256=gone.sha256, now=now)
            await audit.record(
                db,
                actor=actor,
                action="material_delete",
                target=f"material:{material_id}",
                session_id=s.id,
                at=now,
                detail={"title": gone.title},
            )
            return gone

        if await self._u.submit(op) is None:
            raise NotFound("no such material")
        await self._changed(s.id)

    async def collect(self, job: Job) -> None:
        """The files-gc job: remove bytes no material refers to any more."""
        sha = str(job.payload.get("sha256", ""))
        if await self._u.read(repo.uses_of, sha256=sha):
            raise Skip("still shared by another material")
        await self._files.delete(sha)

    async def _changed(self, session_id: str) -> None:
        """Tell the session's tabs and staff that its materials changed (each reads its own links again)."""
        payload = {"session_id": session_id}
        await self._u.publisher.committed(
            [
                Emit("materials", payload, room_participants(session_id)),
                Emit("materials", payload, room_staff(session_id)),
            ]
        )

    async def listing(self, actor: Actor, s: SessionState) -> list[dict[str, Any]]:
        """The session's materials as `actor` sees them: a participant's file links are personal and signed."""
        found = await self._u.read(repo.materials_of, session_id=s.id)
        recipient = actor.participant_id if actor.role == "participant" else None
        return [self.public(m, recipient) for m in found]

    def public(self, m: Material, recipient: str | None) -> dict[str, Any]:
        """The contract's material object. `recipient`: whose personal link (None: staff's API link)."""
        out: dict[str, Any] = {
            "id": m.id,
            "title": m.title,
            "created_at": iso(m.created_at),
            "created_by": m.created_by,
        }
        if m.is_file:
            if recipient is None:
                url = f"{self._public}/api/sessions/{m.session_id}/materials/{m.id}/file"
            else:
                url = self.download_url(m.id, recipient)
            out.update(
                kind="file", filename=m.filename, url=url, size=m.size, sha256=m.sha256, content_type=m.content_type
            )
        else:
            out.update(kind="link", url=m.url)
        return out

    def download_url(self, material_id: str, recipient: str) -> str:
        return f"{self._public}/files/{material_token(self._key, material_id, recipient)}"

    async def links_for(self, session_id: str, recipient: str) -> list[tuple[str, str]]:
        """(title, personal URL) of each material, for a mail to `recipient` (a participant's id, or "instructor")."""
        found = await self._u.read(repo.materials_of, session_id=session_id)
        return [(m.title, self.download_url(m.id, recipient) if m.is_file else str(m.url)) for m in found]

    async def file(self, s: SessionState, material_id: str) -> tuple[Material, AsyncIterator[bytes]]:
        """A file material of the session, and its bytes (staff and the session's participants, by the guard)."""
        m = await self._u.read(repo.get_material, session_id=s.id, material_id=material_id)
        if m is None or not m.is_file or m.sha256 is None:
            raise NotFound("no such file")
        return m, self._files.read(m.sha256)

    async def file_by_link(self, token: str) -> tuple[Material, AsyncIterator[bytes]]:
        """A personal download link: the material must still exist, and its recipient still be invited to it."""
        parsed = parse_material_token(token, self._key)
        if parsed is None:
            raise NotFound("no such file")
        material_id, recipient = parsed
        async with self._u.sessions() as db:
            row = await repo.material_by_id(db, material_id=material_id)
            if row is None or not row.is_file or row.sha256 is None:
                raise NotFound("no such file")
            if recipient != INSTRUCTOR:
                member = await roster.get_member(db, participant_id=recipient)
                if member is None or member[0] != row.session_id:
                    raise NotFound("no such file")  # taken off the roster: their links stop working
        return row, self._files.read(row.sha256)

    # ------------------------------------------------------------ the platform run-through

    async def platform_check(self, actor: Actor, s: SessionState, checks: object, notes: object) -> prep.PlatformCheck:
        results, text = prep.check_run(checks, notes)
        now = self._u.now()
        pc = prep.PlatformCheck(new_id(), s.id, results, text, actor.name, actor.role, now)

        async def op(db: DbSession) -> None:
            await repo.add_platform_check(db, check=pc)
            await audit.record(
                db,
                actor=actor,
                action="platform_check",
                target=f"session:{s.id}",
                session_id=s.id,
                at=now,
                detail={"checks": results, "failed": pc.failed},
            )

        await self._u.submit(op)
        await self._u.publisher.committed([Emit("readiness", {"session_id": s.id}, room_staff(s.id))])
        return pc

    async def platform_checks(self, s: SessionState) -> list[prep.PlatformCheck]:
        return await self._u.read(repo.platform_checks, session_id=s.id)

    # ------------------------------------------------------------ readiness

    async def schedule_flag(self, db: DbSession, s: SessionState, now: datetime) -> int:
        """Queue the readiness look FLAG_WITHIN before the start (at once when that is past); 1 when added.

        Called where the reminders are scheduled (booking, a new start, a process starting), so its key
        carries the start: a moved session is looked at again for its new start, the old job skips.
        """
        if s.status != "scheduled" or s.starts_at <= now:
            return 0
        return int(
            await jobs.schedule(
                db,
                kind=READINESS,
                key=job_key(READINESS, s.id, "*", iso(s.starts_at) or ""),
                session_id=s.id,
                due_at=max(now, prep.flag_due(s.starts_at)),
                payload={"starts_at": iso(s.starts_at)},
                now=now,
            )
        )

    async def flag(self, job: Job) -> None:
        """The readiness job: a session due within a day and not ready is mailed about, once, to its instructor
        and the administrators."""
        s = await self._u.read(sessions.get_session, session_id=job.session_id or "")
        if s is None or s.status != "scheduled":
            raise Skip("the session is gone or not scheduled")
        if iso(s.starts_at) != job.payload.get("starts_at"):
            raise Skip("the session was moved")
        now = self._u.now()
        if now >= s.starts_at:
            raise Skip("the session has started")
        checks = (await self.checks_of([s]))[s.id]
        if all(c.ok for c in checks):
            raise Skip("ready")
        async with self._u.sessions() as db:
            admins = [m.email for m, _ in await staff.list_staff(db) if m.role == "admin" and m.disabled_at is None]
        to = list(dict.fromkeys([s.instructor_email, *admins]))
        await self._transport.send(
            prep.flag_mail(
                topic=s.topic,
                starts_at=s.starts_at,
                checks=checks,
                dashboard_url=f"{self._public}/dashboard/{s.id}",
                to=to,
                sender=self._from,
                message_id=f"<{hashlib.sha256(job.key.encode()).hexdigest()[:32]}@{self._domain}>",
                now=now,
            )
        )

    async def readiness(self, s: SessionState) -> dict[str, Any]:
        checks = await self.checks_of([s])
        found = checks[s.id]
        ready = all(c.ok for c in found)
        now = self._u.now()
        return {
            "ready": ready,
            "flagged": prep.flagged(s.status, s.starts_at, now, ready),
            "checks": [c.public() for c in found],
        }

    async def checks_of(self, states: Sequence[SessionState]) -> dict[str, list[prep.Check]]:
        ids = [s.id for s in states]
        async with self._u.sessions() as db:
            counted = await repo.material_counts(db, session_ids=ids)
            latest = await repo.latest_checks(db, session_ids=ids)
            sizes = {s.id: await sessions.roster_size(db, session_id=s.id) for s in states}
        out = {}
        for s in states:
            facts = prep.Facts(
                status=s.status,
                starts_at=s.starts_at,
                roster=sizes[s.id],
                invited_at=s.invitations_sent_at,
                short_notice_reason=s.short_notice_reason,
                invite_by=s.starts_at - self._invitations.lead,
                reminders=await self._invitations.reminders(s.id),
                materials=counted.get(s.id, 0),
                platform_check=latest.get(s.id),
            )
            out[s.id] = prep.readiness(facts)
        return out

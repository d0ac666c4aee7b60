"""Notes and minutes (contract part 2, After the class): saved as the instructor types, versioned, circulated.

Every save is one write through the writer, answered once committed (a reload, or a crash, after the
answer finds it). A save compares and sets the version (persistence.repos.minutes), so two tabs or two
processes saving at once cannot both win unseen. After the close, any change calls the session
record's `stale` in its own transaction, so the record is rebuilt with it.

Circulating records the version as mailed (once: the circulation's key is the session and version)
and queues one `minutes-mail` job per recipient in the same transaction, keyed by session, recipient
and version: a second circulate, a retry or a second process sends nothing more. The mail is built
from the copy kept with the circulation, so an edit after circulating does not change what goes out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession as DbSession

from core import minutes as rules
from core.errors import Conflict
from core.invitations import message_id
from core.jobs import Job, job_key
from core.minutes import Content, Minutes, Notes
from core.model import Actor, SessionState
from core.settings import Settings
from persistence.repos import audit, jobs, roster, session_record, sessions
from persistence.repos import minutes as repo
from service.invitations import Transport
from service.jobs import Skip
from service.unit import Unit

log = logging.getLogger("companion.minutes")

MINUTES_MAIL = "minutes-mail"  # the job kind: one version of the minutes to one recipient
INSTRUCTOR = "instructor"  # the instructor's recipient key (a participant's is their id)


class MinutesArea:
    def __init__(self, unit: Unit, settings: Settings, transport: Transport) -> None:
        self._u = unit
        self._transport = transport
        self._from = settings.mail_from
        self._domain = urlsplit(settings.public_url).hostname or "localhost"
        # Set by the service once its job runner exists: queued mails are looked for at once.
        self.wake: Callable[[], None] = lambda: None

    # ------------------------------------------------------------ notes

    async def notes(self, s: SessionState) -> dict[str, Any]:
        found: Notes = await self._u.read(repo.get_notes, session_id=s.id)
        return found.public()

    async def save_notes(self, actor: Actor, s: SessionState, text: str, version: int | None) -> dict[str, Any]:
        """Save the notes as the next version; the same text again is no new version; a stale `version`
        is refused with the current text, so the tab can show both."""
        now = self._u.now()

        async def op(db: DbSession) -> Notes:
            current = await repo.get_notes(db, session_id=s.id)
            decision = rules.decide(current.version, current.text == text, version)
            if decision == "unchanged":
                return current
            if decision == "conflict":
                raise _notes_conflict(current)
            saved = await repo.put_notes(db, over=current, text=text, at=now, by=actor.name)
            if saved is None:  # another save committed between our read and our write
                raise _notes_conflict(await repo.get_notes(db, session_id=s.id))
            await session_record.stale(db, session_id=s.id, now=now)
            return saved

        saved: Notes = await self._u.submit(op)
        return saved.public()

    # ------------------------------------------------------------ minutes

    async def minutes(self, s: SessionState) -> dict[str, Any]:
        async with self._u.sessions() as db:
            m = await repo.get_minutes(db, session_id=s.id)
            return rules.minutes_public(m, await repo.circulations(db, session_id=s.id))

    async def save_minutes(
        self, actor: Actor, s: SessionState, content: Content, version: int | None
    ) -> dict[str, Any]:
        """Save the minutes as the next version (the same content again is no new version)."""
        now = self._u.now()

        async def op(db: DbSession) -> dict[str, Any]:
            current = await repo.get_minutes(db, session_id=s.id)
            decision = rules.decide(current.version, current.content == content, version)
            if decision == "conflict":
                raise await self._minutes_conflict(db, current)
            if decision == "save":
                saved = await repo.put_minutes(db, over=current, content=content, at=now, by=actor.name)
                if saved is None:
                    raise await self._minutes_conflict(db, await repo.get_minutes(db, session_id=s.id))
                current = saved
                await audit.record(
                    db,
                    actor=actor,
                    action="minutes",
                    target=f"session:{s.id}",
                    session_id=s.id,
                    at=now,
                    detail={"version": saved.version},
                )
                await session_record.stale(db, session_id=s.id, now=now)
            return rules.minutes_public(current, await repo.circulations(db, session_id=s.id))

        answer: dict[str, Any] = await self._u.submit(op)
        return answer

    async def _minutes_conflict(self, db: DbSession, current: Minutes) -> Conflict:
        shown = rules.minutes_public(current, await repo.circulations(db, session_id=current.session_id))
        return Conflict(
            f"the minutes changed meanwhile: version {current.version} is current; save again naming it to replace it",
            version=current.version,
            minutes=shown,
        )

    # ------------------------------------------------------------ circulating

    async def circulate(self, actor: Actor, s: SessionState) -> dict[str, Any]:
        """Mail the current version to the roster and the instructor, once: `sent` is how many mails were
        queued now (0 when this version went already)."""
        if s.status == "cancelled":
            raise Conflict("the session is cancelled")
        now = self._u.now()

        async def op(db: DbSession) -> dict[str, Any]:
            m = await repo.get_minutes(db, session_id=s.id)
            if m.version == 0 or m.content.empty:
                raise Conflict("the minutes are empty: write a summary, a key point or an action item first")
            people = await self._recipients(db, s)
            added = await repo.add_circulation(
                db, session_id=s.id, version=m.version, content=m.content, sent=len(people), at=now, by=actor.name
            )
            if not added:
                return {"sent": 0, "version": m.version}
            for recipient, payload in people.items():
                await jobs.schedule(
                    db,
                    kind=MINUTES_MAIL,
                    key=job_key(MINUTES_MAIL, s.id, recipient, m.version),
                    session_id=s.id,
                    due_at=now,
                    payload={"version": m.version, "recipient": recipient, **payload},
                    now=now,
                )
            await audit.record(
                db,
                actor=actor,
                action="minutes_circulate",
                target=f"session:{s.id}",
                session_id=s.id,
                at=now,
                detail={"version": m.version, "sent": len(people)},
            )
            await session_record.stale(db, session_id=s.id, now=now)
            return {"sent": len(people), "version": m.version}

        answer: dict[str, Any] = await self._u.submit(op)
        if answer["sent"]:
            self.wake()
        return answer

    async def _recipients(self, db: DbSession, s: SessionState) -> dict[str, dict[str, Any]]:
        """Each recipient's key and {email, name, timezone}: the roster as it stands, then the instructor
        (one mail per address: an instructor also on the roster gets one)."""
        out: dict[str, dict[str, Any]] = {}
        seen: set[str] = set()
        for m in await roster.members(db, session_id=s.id):
            if m.email.lower() in seen:
                continue
            seen.add(m.email.lower())
            out[m.id] = {"email": m.email, "name": m.name, "timezone": m.timezone}
        if s.instructor_email.lower() not in seen:
            zones = await roster.timezones(db, emails=[s.instructor_email])
            zone = zones.get(s.instructor_email.lower())
            out[INSTRUCTOR] = {"email": s.instructor_email, "name": None, "timezone": zone}
        return out

    async def send_mail(self, job: Job) -> None:
        """The minutes-mail job: the version as circulated, to one recipient, the date in their zone."""
        p = job.payload
        async with self._u.sessions() as db:
            s = await sessions.get_session(db, session_id=job.session_id or "")
            content = await repo.circulated_content(db, session_id=job.session_id or "", version=int(p["version"]))
            recipient = str(p.get("recipient", INSTRUCTOR))
            still_there = recipient == INSTRUCTOR or await roster.get_member(db, participant_id=recipient) is not None
        if s is None or content is None:
            raise Skip("the session or its minutes are gone")
        if not still_there:
            raise Skip("taken off the roster")
        message = rules.minutes_mail(
            topic=s.topic,
            starts_at=s.starts_at,
            zone=p.get("timezone") or s.timezone,
            content=content,
            version=int(p["version"]),
            to=str(p["email"]),
            name=p.get("name"),
            sender=self._from,
            message_id=message_id(job.key, self._domain),
            now=self._u.now(),
        )
        await self._transport.send(message)


def _notes_conflict(current: Notes) -> Conflict:
    return Conflict(
        f"the notes changed meanwhile (version {current.version} is current): keep one text and save it "
        "naming that version",
        **current.public(),
    )

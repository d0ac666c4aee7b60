"""Reviews across sessions (docs/records.md "Reviews across sessions"): a series' or an instructor's report,
its CSV tables, and the low-attendance warning mailed once per series and person to the instructor.

Who may read: admin and support any report; an instructor the reports of their own series and their own.
An unknown series or instructor is 404 for everyone, before the instructor's 403.

The warning: each close of a session of a series queues one `low-attendance` job (in the close's
transaction, so it is durable with it). That job reads the series' closed sessions, and for each person on
the closed session's roster whose rate is below COMPANION_LOW_ATTENDANCE (once COMPANION_LOW_ATTENDANCE_MIN
sessions count) queues one `low-attendance-mail` keyed by series and person: the jobs table's unique key
makes it once, across closes, retries and processes. The report shows it (`warned_at`, `warning`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit

from sqlalchemy.ext.asyncio import AsyncSession as DbSession

from core import reports as rules
from core import tokens
from core.errors import Forbidden, NotFound
from core.invitations import message_id
from core.jobs import Job, job_key
from core.model import Actor, SessionState, iso
from core.settings import Settings
from persistence.repos import jobs, roster, sessions, staff
from persistence.repos import reports as repo
from service.invitations import Transport
from service.jobs import Skip
from service.unit import Unit

log = logging.getLogger("companion.reports")

CHECK = "low-attendance"  # the job kind: after a close, whom of the series to warn about
MAIL = "low-attendance-mail"  # one warning, one series, one person: once


class Reports:
    def __init__(self, unit: Unit, settings: Settings, transport: Transport) -> None:
        self._u = unit
        self._transport = transport
        self._from = settings.mail_from
        self._public = settings.public_url
        self._domain = urlsplit(settings.public_url).hostname or "localhost"
        self.threshold = settings.low_attendance
        # A warning's job is keyed by a keyed digest of the person's email, and its payload names their
        # participant id, not their address: nothing in the jobs table says who, once they are erased.
        self._person_key = tokens.derive_key("report-person", settings.secret_key)
        # Set by the service once its job runner exists: queued mails are looked for at once.
        self.wake: Callable[[], None] = lambda: None

    # ------------------------------------------------------------ who may see what

    async def _check_series(self, db: DbSession, actor: Actor, series_id: str) -> None:
        owners = await repo.series_owners(db, series_id=series_id)
        if owners is None:
            raise NotFound("no such series")
        if actor.role == "instructor" and (actor.email or "").lower() not in owners:
            raise Forbidden("an instructor may read the reports of their own series only")

    async def _check_instructor(self, db: DbSession, actor: Actor, email_key: str) -> None:
        if not await repo.instructor_known(db, email_key=email_key):
            raise NotFound("no such instructor")
        if actor.role == "instructor" and (actor.email or "").lower() != email_key:
            raise Forbidden("an instructor may read their own report only")

    # ------------------------------------------------------------ the reports

    async def series(
        self, actor: Actor, series_id: str, start: datetime | None, end: datetime | None
    ) -> dict[str, Any]:
        """A series' report over its sessions starting in [start, end) (each end open when None)."""
        now = self._u.now()
        async with self._u.sessions() as db:
            await self._check_series(db, actor, series_id)
            found = await repo.sessions_of(db, series_id=series_id, start=start, end=end)
            latest = found[-1] if found else None
            scope = {
                "kind": "series",
                "series_id": series_id,
                "topic": latest.topic if latest else None,
                "instructor_email": latest.instructor_email if latest else None,
                "from": iso(start),
                "to": iso(end),
            }
            return await self._build(db, scope, found, now)

    async def instructor(
        self, actor: Actor, email: str, start: datetime | None, end: datetime | None
    ) -> dict[str, Any]:
        """An instructor's report over all their sessions starting in [start, end)."""
        now = self._u.now()
        key = email.strip().lower()
        async with self._u.sessions() as db:
            await self._check_instructor(db, actor, key)
            found = await repo.sessions_of(db, instructor_key=key, start=start, end=end)
            teacher = await staff.get_staff(db, email=key)
            scope = {
                "kind": "instructor",
                "instructor_email": found[-1].instructor_email if found else key,
                "name": teacher.name if teacher is not None else None,
                "from": iso(start),
                "to": iso(end),
            }
            return await self._build(db, scope, found, now)

    async def _build(
        self, db: DbSession, scope: dict[str, Any], found: list[rules.Session], now: datetime
    ) -> dict[str, Any]:
        counted = [s for s in found if s.counted]
        marks = await repo.marks(db, session_ids=[s.id for s in counted])
        figures = await repo.figures(db, sessions=counted, found=marks)
        series_of = {s.id: s.series_id for s in counted}
        keys = {
            self._warning_key(str(series_of[m.session_id]), m.person): m.person
            for m in marks
            if series_of.get(m.session_id)
        }
        warned = await repo.warnings(db, keys=keys)
        return rules.report(scope, found, marks, figures, self.threshold, warned, now)

    def _warning_key(self, series_id: str, person: str) -> str:
        """The unique key of the one warning about a person (lower-cased email) in a series."""
        return job_key(MAIL, series_id, tokens.sign(self._person_key, person, size=12), 1)

    async def listing(self, actor: Actor) -> dict[str, Any]:
        """The series and instructors the caller may see reports of (an instructor: their own)."""
        mine = (actor.email or "").lower() if actor.role == "instructor" else None
        async with self._u.sessions() as db:
            series = await repo.series_listing(db, instructor_key=mine)
            teachers = await repo.instructor_listing(db, instructor_key=mine)
        if mine and not teachers:  # an instructor who teaches nothing yet still sees themselves
            teachers = [{"email": actor.email, "name": actor.name, "sessions": 0}]
        return {"series": series, "instructors": teachers}

    # ------------------------------------------------------------ the warning

    async def on_close(self, db: DbSession, s: SessionState, now: datetime) -> None:
        """In the close's transaction: a session of a series queues the look at whom to warn about."""
        if s.series_id is None:
            return
        await jobs.schedule(
            db, kind=CHECK, key=job_key(CHECK, s.id, "*", 1), session_id=s.id, due_at=now, payload={}, now=now
        )

    async def run_check(self, job: Job) -> None:
        """Whom of the closed session's roster to warn about: a mail job each (keyed: once per series and person)."""
        session_id = job.session_id or ""
        now = self._u.now()
        async with self._u.sessions() as db, db.begin():
            s = await sessions.get_session(db, session_id=session_id)
            if s is None or s.series_id is None or s.status != "closed":
                raise Skip("the session is gone, of no series, or not closed")
            series = [x for x in await repo.sessions_of(db, series_id=s.series_id) if x.counted]
            marks = await repo.marks(db, session_ids=[x.id for x in series])
            # Those still on the closing session's roster (not taken off it, not erased).
            members = {m.email.lower(): m.id for m in await roster.members(db, session_id=session_id)}
            queued = 0
            for row in rules.low(series, marks, self.threshold, members):
                queued += await jobs.schedule(
                    db,
                    kind=MAIL,
                    key=self._warning_key(s.series_id, row["participant"]),
                    session_id=session_id,
                    due_at=now,
                    payload={
                        "series_id": s.series_id,
                        "participant_id": members[row["participant"]],
                        "topic": s.topic,
                        "instructor_email": s.instructor_email,
                        "row": {k: row[k] for k in ("sessions", "attended", "excused", "rate")},
                    },
                    now=now,
                )
        if not queued:
            raise Skip("nobody new to warn about")
        self.wake()

    async def send_warning(self, job: Job) -> None:
        """The one mail to the series' instructor about one person (built from what the check found)."""
        p = job.payload
        to = str(p.get("instructor_email") or "")
        if not to:
            raise Skip("no instructor to tell")
        async with self._u.sessions() as db:
            teacher = await staff.get_staff(db, email=to)
            member = await roster.get_member(db, participant_id=str(p.get("participant_id", "")))
        if member is None:
            raise Skip("the person is no longer on the roster (taken off, or erased)")
        person = member[1]
        series_id = str(p.get("series_id", ""))
        await self._transport.send(
            rules.warning_mail(
                instructor_name=teacher.name if teacher is not None else to,
                to=to,
                topic=str(p.get("topic", "")),
                row={**(p.get("row") or {}), "name": person.name, "email": person.email},
                threshold=self.threshold,
                link=f"{self._public}/reports?series={quote(series_id)}",
                sender=self._from,
                message_id=message_id(job.key, self._domain),
                now=self._u.now(),
            )
        )


def table_param(value: str) -> str:
    """A report's table by name (the CSV routes); NotFound naming the ones there are."""
    if value not in rules.TABLES:
        raise NotFound(f"no such table: one of {', '.join(rules.TABLES)}")
    return value

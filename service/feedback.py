"""Feedback forms after the class (docs/feedback.md): the editor, the personal links, the close's mails and events.

At the close, in its own transaction (`on_close`), the forms in force are written down and three kinds of
job are queued: `feedback-open` (each participant's tabs get `feedback {link}`, their own link), one
`feedback-mail` per person (the roster and the instructor, each with their personal link), and one
`feedback-reminder` at COMPANION_FEEDBACK_REMINDER after the close, which queues one more mail for each
person who has not answered by then (the mail job looks again, and skips those who answered meanwhile).
A close and its mails are therefore durable together.

Answers come by the personal link (`/feedback/{token}`, a token signed for feedback alone) and replace
earlier ones. A response is kept under the digest of its token: an anonymous form's response keeps
nothing else of who gave it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession as DbSession

from core import feedback as rules
from core import tokens
from core.errors import Conflict, Invalid, NotFound
from core.feedback import INSTRUCTOR, Audience, Form
from core.invitations import message_id
from core.jobs import Job, job_key
from core.model import Actor, Emit, SessionState, iso, room_participant
from core.settings import Settings
from persistence.repos import feedback as repo
from persistence.repos import jobs, roster, session_record, sessions, staff
from service.invitations import Transport
from service.jobs import Skip
from service.unit import Unit

log = logging.getLogger("companion.feedback")

OPEN = "feedback-open"
MAIL = "feedback-mail"
REMINDER = "feedback-reminder"
KINDS = (OPEN, MAIL, REMINDER)


class Feedback:
    def __init__(self, unit: Unit, settings: Settings, transport: Transport) -> None:
        self._u = unit
        self._transport = transport
        self._key = settings.secret_key
        self._public = settings.public_url
        self._from = settings.mail_from
        self._domain = urlsplit(settings.public_url).hostname or "localhost"
        self._defaults = settings.feedback_defaults
        self.reminder_after = settings.feedback_reminder.length
        # Set by the service once its job runner exists: queued mails are looked for at once.
        self.wake: Callable[[], None] = lambda: None

    # ------------------------------------------------------------ links

    def link(self, session_id: str, recipient: str) -> str:
        """A person's personal feedback link (a participant's id, or "instructor")."""
        return f"{self._public}/feedback/{rules.make_token(self._key, session_id, recipient)}"

    def _respondent(self, session_id: str, recipient: str) -> str:
        """What a response keeps of who gave it: the digest of their link's token."""
        return tokens.digest(rules.make_token(self._key, session_id, recipient))

    def tab(self, actor: Actor, s: SessionState) -> dict[str, Any] | None:
        """What `session:state` carries for a participant once the session closed: their form's link."""
        if actor.role != "participant" or actor.participant_id is None or s.status != "closed":
            return None
        until = rules.open_until(s.closed_at)
        return {"link": self.link(s.id, actor.participant_id), "open_until": iso(until)}

    # ------------------------------------------------------------ the forms

    async def _in_force(self, db: DbSession, session_id: str, audience: Audience) -> tuple[Form, bool]:
        """The form asked (set, or the default) and whether it is the default."""
        stored = await repo.form_of(db, session_id=session_id, audience=audience)
        if stored is None:
            return self._defaults.of(audience), True
        return stored

    async def view_form(self, s: SessionState, audience: Audience) -> dict[str, Any]:
        async with self._u.sessions() as db:
            form, default = await self._in_force(db, s.id, audience)
            count = await repo.response_count(db, session_id=s.id, audience=audience)
        return {"for": audience, **form.public(), "default": default, "fixed": count > 0, "responses": count}

    async def set_form(self, actor: Actor, s: SessionState, audience: Audience, raw: object) -> dict[str, Any]:
        """Set the session's form for an audience; Conflict once it has answers (they answered that form)."""
        form = rules.parse_form(raw)
        now = self._u.now()

        async def op(db: DbSession) -> None:
            if await repo.response_count(db, session_id=s.id, audience=audience):
                raise Conflict("the form is fixed: people have answered it already")
            await repo.save_form(
                db, session_id=s.id, audience=audience, form=form, is_default=False, by=actor.name, now=now
            )
            await session_record.stale(db, session_id=s.id, now=now)

        async with self._u.store.lock(s.id):  # against an answer arriving at the same moment
            await self._u.submit(op)
        return await self.view_form(s, audience)

    async def results(self, s: SessionState, audience: Audience) -> dict[str, Any]:
        """The form's results per question: an anonymous form's never with names, and none below 3 responses."""
        async with self._u.sessions() as db:
            form, _ = await self._in_force(db, s.id, audience)
            found = await repo.responses(db, session_id=s.id, audience=audience, named=not form.anonymous)
        out = {"for": audience, **rules.results(form, found)}
        if not form.anonymous:
            out["respondents"] = [
                {"participant_id": r.participant_id, "name": r.name, "submitted_at": iso(r.submitted_at)} for r in found
            ]
        return out

    # ------------------------------------------------------------ by the personal link

    async def _link_target(self, db: DbSession, token: str) -> tuple[SessionState, str, str]:
        """(session, recipient, name) of a valid link whose recipient is still on the session's roster."""
        parsed = rules.parse_token(token, self._key)
        if parsed is None:
            raise NotFound("no such feedback link")
        session_id, recipient = parsed
        s = await sessions.get_session(db, session_id=session_id)
        if s is None:
            raise NotFound("no such feedback link")
        if recipient == INSTRUCTOR:
            teacher = await staff.get_staff(db, email=s.instructor_email)
            return s, recipient, teacher.name if teacher is not None else s.instructor_email
        member = await roster.get_member(db, participant_id=recipient)
        if member is None or member[0] != session_id:
            raise NotFound("no such feedback link")  # taken off the roster: their link stops working
        return s, recipient, member[1].name

    async def by_link(self, token: str) -> dict[str, Any]:
        """What the form page shows: the form, the session, the person's answers so far, whether still open."""
        now = self._u.now()
        async with self._u.sessions() as db:
            s, recipient, name = await self._link_target(db, token)
            audience = rules.audience_of(recipient)
            form, _ = await self._in_force(db, s.id, audience)
            mine = await repo.answers_of(db, session_id=s.id, audience=audience, respondent=tokens.digest(token))
        return {
            "for": audience,
            "name": name,
            "session": {
                "id": s.id,
                "topic": s.topic,
                "starts_at": iso(s.starts_at),
                "started_at": iso(s.started_at),
                "closed_at": iso(s.closed_at),
                "status": s.status,
            },
            "form": form.public(),
            "answers": mine[0] if mine is not None else None,
            "answered_at": iso(mine[1]) if mine is not None else None,
            "open": rules.is_open(s.status, s.closed_at, now),
            "open_until": iso(rules.open_until(s.closed_at)),
        }

    async def answer(self, token: str, raw: object) -> None:
        """Keep a person's answers (again: they replace the earlier ones); durable when this returns."""
        parsed = rules.parse_token(token, self._key)
        if parsed is None:
            raise NotFound("no such feedback link")
        session_id = parsed[0]
        now = self._u.now()

        async def op(db: DbSession) -> None:
            s, recipient, _ = await self._link_target(db, token)
            if not rules.is_open(s.status, s.closed_at, now):
                if s.status != "closed":
                    raise Conflict("the form opens when the session closes")
                raise Conflict(
                    "the form is closed: answers were taken until " + str(iso(rules.open_until(s.closed_at)))
                )
            audience = rules.audience_of(recipient)
            form, _ = await self._in_force(db, s.id, audience)
            answers = rules.check_answers(form, raw)
            named = recipient if recipient != INSTRUCTOR and not form.anonymous else None
            await repo.save_response(
                db,
                session_id=s.id,
                audience=audience,
                respondent=tokens.digest(token),
                participant_id=named,
                answers=answers,
                now=now,
            )
            await session_record.stale(db, session_id=s.id, now=now)  # the record holds the feedback

        async with self._u.store.lock(session_id):  # the form cannot change under the answer
            await self._u.submit(op)

    # ------------------------------------------------------------ the close and its jobs

    async def on_close(self, db: DbSession, s: SessionState, now: datetime) -> None:
        """In the close's transaction: write down the forms asked, queue the opening (tabs and mails) and the reminder.

        One job each, not one per person: the close of a class of 2,000 must not write 2,000 job rows
        before it answers; the opening job queues the mails (keyed, so a repeat queues none twice)."""
        for audience in rules.AUDIENCES:
            if await repo.form_of(db, session_id=s.id, audience=audience) is None:
                await repo.save_form(
                    db,
                    session_id=s.id,
                    audience=audience,
                    form=self._defaults.of(audience),
                    is_default=True,
                    by=None,
                    now=now,
                )
        await jobs.schedule(
            db, kind=OPEN, key=job_key(OPEN, s.id, "*", 1), session_id=s.id, due_at=now, payload={}, now=now
        )
        await jobs.schedule(
            db,
            kind=REMINDER,
            key=job_key(REMINDER, s.id, "*", 1),
            session_id=s.id,
            due_at=now + self.reminder_after,
            payload={},
            now=now,
        )

    async def run_open(self, job: Job) -> None:
        """Right after the close: the link is mailed to everyone (a job each), and each participant's tabs get
        their own (a tab opened later reads it in `session:state`)."""
        session_id = job.session_id or ""
        now = self._u.now()
        async with self._u.sessions() as db, db.begin():
            s = await sessions.get_session(db, session_id=session_id)
            if s is None or s.status != "closed":
                raise Skip("the session is gone or not closed")
            members = await roster.members(db, session_id=session_id)
            for recipient in [INSTRUCTOR, *(m.id for m in members)]:
                await jobs.schedule(
                    db,
                    kind=MAIL,
                    key=job_key(MAIL, session_id, recipient, "link"),
                    session_id=session_id,
                    due_at=now,
                    payload={"recipient": recipient, "reminder": False},
                    now=now,
                )
        self.wake()
        until = iso(rules.open_until(s.closed_at))
        await self._u.publisher.send(
            [
                Emit("feedback", {"link": self.link(session_id, m.id), "open_until": until}, room_participant(m.id))
                for m in members
            ]
        )

    async def run_reminder(self, job: Job) -> None:
        """The reminder's time: one more mail for each person who has not answered (queued, each its own job)."""
        session_id = job.session_id or ""
        now = self._u.now()
        async with self._u.sessions() as db, db.begin():
            s = await sessions.get_session(db, session_id=session_id)
            if s is None or not rules.is_open(s.status, s.closed_at, now):
                raise Skip("the session is gone or its forms are closed")
            queued = 0
            for recipient in await self._unanswered(db, session_id):
                queued += await jobs.schedule(
                    db,
                    kind=MAIL,
                    key=job_key(MAIL, session_id, recipient, "reminder"),
                    session_id=session_id,
                    due_at=now,
                    payload={"recipient": recipient, "reminder": True},
                    now=now,
                )
        if not queued:
            raise Skip("everyone has answered")
        self.wake()

    async def _unanswered(self, db: DbSession, session_id: str) -> list[str]:
        answered = {
            audience: await repo.respondents(db, session_id=session_id, audience=audience)
            for audience in rules.AUDIENCES
        }
        everyone = [INSTRUCTOR, *(m.id for m in await roster.members(db, session_id=session_id))]
        return [r for r in everyone if self._respondent(session_id, r) not in answered[rules.audience_of(r)]]

    async def send_mail(self, job: Job) -> None:
        """One person's feedback link by mail; a reminder is skipped when they have answered meanwhile."""
        session_id = job.session_id or ""
        recipient = str(job.payload.get("recipient", ""))
        reminder = bool(job.payload.get("reminder"))
        now = self._u.now()
        async with self._u.sessions() as db:
            s = await sessions.get_session(db, session_id=session_id)
            if s is None or not rules.is_open(s.status, s.closed_at, now):
                raise Skip("the session is gone or its forms are closed")
            if reminder and recipient not in await self._unanswered(db, session_id):
                raise Skip("answered meanwhile")
            if recipient == INSTRUCTOR:
                teacher = await staff.get_staff(db, email=s.instructor_email)
                name, email = (teacher.name if teacher is not None else s.instructor_email), s.instructor_email
            else:
                member = await roster.get_member(db, participant_id=recipient)
                if member is None or member[0] != session_id:
                    raise Skip("no longer on the roster")
                name, email = member[1].name, member[1].email
        until = rules.open_until(s.closed_at)
        assert until is not None
        await self._transport.send(
            rules.form_mail(
                topic=s.topic,
                name=name,
                to=email,
                link=self.link(session_id, recipient),
                audience=rules.audience_of(recipient),
                reminder=reminder,
                until=until,
                sender=self._from,
                message_id=message_id(job.key, self._domain),
                now=now,
            )
        )


def audience_param(value: object) -> Audience:
    """`?for=` of the form routes: absent for the participants' form, `instructor` for the instructor's own."""
    if value in (None, "", "participants"):
        return "participants"
    if value == "instructor":
        return "instructor"
    raise Invalid("for: participants or instructor")

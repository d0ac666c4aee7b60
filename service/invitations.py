"""Invitations, RSVPs and reminders: what is mailed, when, and to whom; sent later by the job runner.

Nothing is mailed in a request. Inviting, and every change that mails (scheduling's PATCH and
cancel, the roster's add and remove), writes its invitations and queues one `mail` job per
recipient in the same transaction as the change; the runner (service.jobs) sends them, retried with
back-off, and each process's runner is woken at once. Reminders are a `reminder` job per session and
offset, due at the start minus the offset; when it runs it queues one `reminder-mail` job per
recipient (their unique keys make that once per recipient, however many processes run).

A mail is built when it is sent, from the session as it stands then; a job whose SEQUENCE a later
change has passed is skipped (the later one goes). Its Message-ID comes from its job's key, so the
one repeat the runner allows (SMTP accepted it, the process died before the job was marked) is the
same mail twice, which clients show once (docs/invitations.md).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any, Protocol
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession as DbSession

from core import invitations as rules
from core.errors import Conflict, Invalid, NotFound
from core.ical import EventFacts, Invitee, feed, series_starts
from core.invitations import INSTRUCTOR, CalendarEvent, CalendarSeries, Invitation
from core.invitemail import Kind, invitation_mail, reminder_mail
from core.jobs import Job, job_key
from core.model import Actor, Emit, Member, SessionState, iso, room_participants, room_staff
from core.people import pseudonym
from core.settings import Offset, Settings
from persistence.identity import (
    calendar_token,
    new_id,
    parse_calendar_token,
    parse_rsvp_token,
    participant_token,
    rsvp_token,
)
from persistence.repos import audit, jobs, roster, sessions, staff
from persistence.repos import invitations as repo
from persistence.repos import people as people_repo
from service.jobs import Skip
from service.unit import Unit

log = logging.getLogger("companion.invitations")

MAIL = "mail"
REMINDER = "reminder"
REMINDER_MAIL = "reminder-mail"
# A person's feed lists their sessions from this long ago on, at most this many.
FEED_PAST = timedelta(days=30)
FEED_LIMIT = 500


class Transport(Protocol):
    async def send(self, message: EmailMessage) -> None: ...


class Invitations:
    def __init__(self, unit: Unit, settings: Settings, transport: Transport) -> None:
        self._u = unit
        self._transport = transport
        self._key = settings.secret_key
        self._public = settings.public_url
        self._domain = urlsplit(settings.public_url).hostname or "localhost"
        self._from = settings.mail_from
        self._lead: Offset = settings.invite_lead
        self._offsets: tuple[Offset, ...] = settings.reminders
        # Set by the service once its job runner exists: queued jobs are looked for at once.
        self.wake: Callable[[], None] = lambda: None
        # (title, personal URL) of a session's materials for one recipient: Preparation's, set by Service.
        self.materials: Callable[[str, str], Awaitable[list[tuple[str, str]]]] = _no_materials
        # More jobs of a session's start, scheduled with its reminders (Preparation's readiness look).
        self.also_schedule: list[Callable[[DbSession, SessionState, datetime], Awaitable[int]]] = []

    @property
    def lead(self) -> timedelta:
        """COMPANION_INVITE_LEAD: invitations later than this before the start need a reason."""
        return self._lead.length

    # ------------------------------------------------------------ inviting

    async def invite(self, actor: Actor, session_id: str, reason: str | None, *, series: bool) -> dict[str, int]:
        """Queue an invitation to everyone on the roster and the instructor not yet invited; {sent, skipped}."""
        first = await self._u.read(sessions.get_session, session_id=session_id)
        if first is None:
            raise NotFound("no such session")
        if series and first.series_id is None:
            raise Invalid("scope=series: this session is not part of a series")
        ids = [first.id]
        if series:
            later = await self._u.read(sessions.series_from, series_id=first.series_id, starts_at=first.starts_at)
            ids += [s.id for s in later if s.id != first.id]
        async with self._locks(ids):
            group = [await self._state(sid) for sid in ids]
            now = self._u.now()
            rules.check_invite(group[0], now, self._lead.length, self._lead.text, reason)
            short = rules.short_notice(now, group[0].starts_at, self._lead.length)
            note = reason.strip() if short and reason else None
            counted: dict[str, int] = {"sent": 0, "skipped": 0}

            async def op(db: DbSession) -> None:
                if series:
                    counted.update(await self._invite_series(db, group, now))
                else:
                    counted.update(await self._invite_one(db, group[0], now))
                await audit.record(
                    db,
                    actor=actor,
                    action="invite",
                    target=f"session:{group[0].id}",
                    session_id=group[0].id,
                    at=now,
                    detail={"scope": "series" if series else "session", **counted, "short_notice_reason": note},
                )
                updated = [
                    replace(
                        s,
                        invitations_sent_at=s.invitations_sent_at or now,
                        short_notice_reason=s.short_notice_reason or note,
                    )
                    for s in group
                ]
                await sessions.save_sessions(db, states=updated)
                group[:] = updated

            await self._u.submit(op)
            for s in group:
                if await self._u.store.session(s.id) is not None:
                    await self._u.store.set_session(s)
        self.wake()
        return counted

    async def _invite_one(self, db: DbSession, s: SessionState, now: datetime) -> dict[str, int]:
        event = await repo.event_of(db, session_id=s.id)
        if event is None:
            event = CalendarEvent(s.id, f"{s.id}@{self._domain}", 0)
            await repo.save_event(db, event=event, now=now)
        scope = "occurrence" if event.recurrence_id is not None else "session"
        return await self._invite_missing(db, s, event, scope, now, late=False)

    async def _invite_missing(
        self, db: DbSession, s: SessionState, event: CalendarEvent, scope: str, now: datetime, *, late: bool
    ) -> dict[str, int]:
        """Invite those of the session's recipients who are not invited yet; each gets their own mail."""
        known = {i.recipient for i in await repo.invitees(db, session_id=s.id)}
        fresh = [i for i in await self._recipients(db, s, event.sequence, now, late=late) if i.recipient not in known]
        await repo.add(db, invitations=fresh)
        for i in fresh:
            await self._queue(db, i, "invite", event.sequence, scope, now)
        return {"sent": len(fresh), "skipped": len(known)}

    async def _invite_series(self, db: DbSession, group: list[SessionState], now: datetime) -> dict[str, int]:
        """One VEVENT with an RRULE for the series from this session on; an occurrence that does not fall where
        the rule puts it (moved on its own, or cancelled) gets an override of its own after it."""
        first = group[0]
        assert first.series_id is not None
        uid = f"series-{first.series_id}-{iso(first.starts_at)}@{self._domain}"
        if await repo.series(db, uid=uid) is not None or await repo.event_of(db, session_id=first.id) is not None:
            raise Conflict("this session's invitations went out already: send them for each session instead")
        rule = rules.series_rule([s.starts_at for s in group], first.timezone)
        cal = CalendarSeries(uid, first.series_id, 0, first.timezone, first.starts_at, rule)
        await repo.save_series(db, series=cal, count=len(group), now=now)
        slots = series_starts(_series_facts(cal, first, uid))
        sent = 0
        invited = {i.email.lower() for i in await self._recipients(db, first, 0, now, late=False)}
        for s, slot in zip(group, slots, strict=False):
            event = CalendarEvent(s.id, uid, 0, slot)
            await repo.save_event(db, event=event, now=now)
            people = await self._recipients(db, s, 0, now, late=False)
            await repo.add(db, invitations=people)
            for i in people:
                if s is first:
                    await self._queue(db, i, "invite", 0, "series", now)
                    sent += 1
                elif i.email.lower() not in invited or s.status == "cancelled" or s.starts_at != slot:
                    # Not in the series' event (on this occurrence's roster only), or this occurrence differs from it.
                    what = "cancel" if s.status == "cancelled" else "invite"
                    await self._queue(db, i, what, 0, "occurrence", now)
                    sent += 1
        return {"sent": sent, "skipped": 0}

    async def _recipients(
        self, db: DbSession, s: SessionState, sequence: int, now: datetime, *, late: bool
    ) -> list[Invitation]:
        """The instructor and everyone on the roster, as invitations at this SEQUENCE."""
        teacher = await staff.get_staff(db, email=s.instructor_email)
        people = [
            Invitation(
                id=new_id(),
                session_id=s.id,
                recipient=INSTRUCTOR,
                participant_id=None,
                role="instructor",
                name=teacher.name if teacher is not None else s.instructor_email,
                email=s.instructor_email,
                timezone=teacher.timezone if teacher is not None else None,
                sequence=sequence,
                sent_at=now,
                late=late,
            )
        ]
        for m in await roster.members(db, session_id=s.id):
            people.append(self._of_member(s.id, m, sequence, now, late=late))
        return people

    def _of_member(self, session_id: str, m: Member, sequence: int, now: datetime, *, late: bool) -> Invitation:
        return Invitation(
            id=new_id(),
            session_id=session_id,
            recipient=m.id,
            participant_id=m.id,
            role="participant",
            name=m.name,
            email=m.email,
            timezone=m.timezone,
            sequence=sequence,
            sent_at=now,
            late=late,
        )

    async def _queue(self, db: DbSession, i: Invitation, what: str, sequence: int, scope: str, now: datetime) -> None:
        """One mail job: key per (session, recipient, what, scope, SEQUENCE), so queueing it again is harmless."""
        await jobs.schedule(
            db,
            kind=MAIL,
            key=job_key(MAIL, i.session_id, i.recipient, f"{what}-{scope}-{sequence}"),
            session_id=i.session_id,
            due_at=now,
            payload={"invitation": i.id, "what": what, "scope": scope, "sequence": sequence},
            now=now,
        )
        if sequence != i.sequence:
            await repo.set_sequence(db, invitation_ids=[i.id], sequence=sequence)

    # ------------------------------------------------------------ changes that mail (called inside their writes)

    async def on_created(self, db: DbSession, states: Sequence[SessionState], now: datetime) -> None:
        """New sessions: their reminders."""
        for s in states:
            await self._schedule_reminders(db, s, now)

    async def on_added(self, db: DbSession, s: SessionState, members: Sequence[Member], now: datetime) -> None:
        """People added to the roster after invitations went out are invited at once (shown as added late)."""
        if not members or s.invitations_sent_at is None:
            return
        event = await repo.event_of(db, session_id=s.id)
        if event is None:
            return
        known = {i.recipient for i in await repo.invitees(db, session_id=s.id, removed=True)}
        fresh = [self._of_member(s.id, m, event.sequence, now, late=True) for m in members if m.id not in known]
        await repo.add(db, invitations=fresh)
        scope = "occurrence" if event.recurrence_id is not None else "session"
        for i in fresh:
            await self._queue(db, i, "invite", event.sequence, scope, now)

    async def on_removed(self, db: DbSession, session_id: str, participant_id: str, now: datetime) -> None:
        """Someone taken off the roster gets a CANCEL of their own (no STATUS: the session goes on)."""
        gone = await repo.mark_removed(db, session_id=session_id, recipient=participant_id, now=now)
        event = await repo.event_of(db, session_id=session_id)
        if gone is None or event is None:
            return
        scope = "occurrence" if event.recurrence_id is not None else "session"
        await self._queue(db, gone, "uninvite", event.sequence + 1, scope, now)

    async def on_changed(
        self, db: DbSession, pairs: Sequence[tuple[SessionState, SessionState]], now: datetime, *, new_series: bool
    ) -> None:
        """A PATCH: reminders follow the start; invitees get an update of what their calendar shows."""
        for old, new in pairs:
            if old.starts_at != new.starts_at:
                await self._move_reminders(db, new, now)
        events = await repo.events_of(db, session_ids=[new.id for _, new in pairs])
        if not events:
            return
        first_old = pairs[0][0]
        split = events.get(first_old.id)
        if new_series and split is not None and split.recurrence_id is not None:
            await self._end_series(db, split, now)
            await self._reinvite_as_series(db, [new for _, new in pairs], events, now)
            return
        for old, new in pairs:
            event = events.get(new.id)
            if event is not None and rules.mailed_change(old, new):
                await self._mail_everyone(db, new, event, "update", now)

    async def on_cancelled(
        self, db: DbSession, states: Sequence[SessionState], now: datetime, *, following: bool
    ) -> None:
        """Cancelled sessions: no reminders; invitees get METHOD:CANCEL (a series cut short: its RRULE an UNTIL)."""
        for s in states:
            await jobs.cancel_for_session(db, session_id=s.id, kinds=(REMINDER, REMINDER_MAIL), now=now)
        events = await repo.events_of(db, session_ids=[s.id for s in states])
        if not events:
            return
        first = events.get(states[0].id)
        if following and first is not None and first.recurrence_id is not None:
            await self._end_series(db, first, now)
            return
        for s in states:
            event = events.get(s.id)
            if event is not None:
                await self._mail_everyone(db, s, event, "cancel", now)

    async def _mail_everyone(
        self, db: DbSession, s: SessionState, event: CalendarEvent, what: str, now: datetime
    ) -> None:
        bumped = replace(event, sequence=event.sequence + 1)
        await repo.save_event(db, event=bumped, now=now)
        scope = "occurrence" if event.recurrence_id is not None else "session"
        for i in await repo.invitees(db, session_id=s.id):
            await self._queue(db, i, what, bumped.sequence, scope, now)

    async def _end_series(self, db: DbSession, split: CalendarEvent, now: datetime) -> None:
        """The series' event ends before the occurrence at `split` (an UNTIL); is cancelled if that was its first."""
        cal = await repo.series(db, uid=split.uid)
        assert cal is not None and split.recurrence_id is not None
        members = await repo.events_with_uid(db, uid=split.uid)
        kept = [e for e in members if e.recurrence_id is not None and e.recurrence_id < split.recurrence_id]
        if kept:
            until = split.recurrence_id - timedelta(seconds=1)
            ended = replace(cal, sequence=cal.sequence + 1, rule=replace(cal.rule, count=None, until=until))
            await repo.save_series(db, series=ended, count=len(kept), now=now)
            what = "update"
        else:
            ended = replace(cal, sequence=cal.sequence + 1)
            await repo.save_series(db, series=ended, count=cal.rule.count or len(members), now=now)
            what = "cancel"
        head = members[0]
        for i in await repo.invitees(db, session_id=head.session_id):
            await self._queue(db, i, what, ended.sequence, "series", now)

    async def _reinvite_as_series(
        self, db: DbSession, group: list[SessionState], events: dict[str, CalendarEvent], now: datetime
    ) -> None:
        """The occurrences moved with ?scope=following are a new series: one new event under a new UID."""
        first = group[0]
        assert first.series_id is not None
        uid = f"series-{first.series_id}-{iso(first.starts_at)}@{self._domain}"
        rule = rules.series_rule([s.starts_at for s in group], first.timezone)
        cal = CalendarSeries(uid, first.series_id, 0, first.timezone, first.starts_at, rule)
        await repo.save_series(db, series=cal, count=len(group), now=now)
        for s, slot in zip(group, series_starts(_series_facts(cal, first, uid)), strict=False):
            if s.id in events:
                await repo.save_event(db, event=CalendarEvent(s.id, uid, 0, slot), now=now)
        for i in await repo.invitees(db, session_id=first.id):
            await self._queue(db, i, "invite", 0, "series", now)

    # ------------------------------------------------------------ reminders

    def _reminder_key(self, s: SessionState, offset: Offset) -> str:
        return job_key(REMINDER, s.id, "*", f"{offset.text}@{iso(s.starts_at)}")

    async def _schedule_reminders(self, db: DbSession, s: SessionState, now: datetime) -> int:
        """Schedule the session's reminders still ahead; answers how many were not there yet."""
        lengths = rules.reminders_to_schedule(now, s.starts_at, [o.length for o in self._offsets])
        added = 0
        for more in self.also_schedule:
            added += await more(db, s, now)
        for offset in (o for o in self._offsets if o.length in lengths):
            added += await jobs.schedule(
                db,
                kind=REMINDER,
                key=self._reminder_key(s, offset),
                session_id=s.id,
                due_at=rules.reminder_due(s.starts_at, offset.length),
                payload={"offset": offset.text, "starts_at": iso(s.starts_at)},
                now=now,
                revive=True,
            )
        return added

    async def ensure_reminders(self, *, per_write: int = 500) -> int:
        """At start: give every upcoming session the reminders of today's offsets; answers how many were added.

        Sessions booked before reminders existed, or before the offsets were changed, get theirs; a
        reminder of an offset no longer configured is skipped when it falls due (run_reminder). Each
        key is unique, so processes starting together add each reminder once.
        """
        now = self._u.now()
        upcoming = await self._u.read(sessions.scheduled_after, after=now)
        added = 0
        for at in range(0, len(upcoming), per_write):
            chunk = upcoming[at : at + per_write]

            async def op(db: DbSession, chunk: list[SessionState] = chunk) -> int:
                return sum([await self._schedule_reminders(db, s, now) for s in chunk])

            added += await self._u.submit(op)
        if added:
            log.info("scheduled %d reminders missing from upcoming sessions", added)
            self.wake()
        return added

    async def _move_reminders(self, db: DbSession, s: SessionState, now: datetime) -> None:
        """Rescheduling moves the reminders: those of the old start are cancelled, the new start's scheduled."""
        await jobs.cancel_for_session(db, session_id=s.id, kinds=(REMINDER,), now=now)
        await self._schedule_reminders(db, s, now)

    async def reminders(self, session_id: str) -> list[dict[str, Any]]:
        """Each configured reminder of the session at its current start: when, its state, how many got it."""
        s = await self._state(session_id)
        found = {j.key: j for j in await self._u.read(jobs.for_session, session_id=session_id, kind=REMINDER)}
        mails = await self._u.read(jobs.for_session, session_id=session_id, kind=REMINDER_MAIL, states=("done",))
        out = []
        for offset in self._offsets:
            job = found.get(self._reminder_key(s, offset))
            version = f"{offset.text}@{iso(s.starts_at)}"
            state = "skipped" if job is None else _REMINDER_STATE[job.state]
            out.append(
                {
                    "offset": offset.text,
                    "due_at": iso(rules.reminder_due(s.starts_at, offset.length)),
                    "state": "cancelled" if s.status == "cancelled" and state == "pending" else state,
                    "sent": sum(1 for m in mails if m.key.endswith(f":{version}")),
                }
            )
        return out

    async def run_reminder(self, job: Job) -> None:
        """A reminder fell due: queue one mail per recipient who has not declined, and tell the connected tabs."""
        s = await self._u.read(sessions.get_session, session_id=job.session_id or "")
        if s is None:
            raise Skip("the session is gone")
        if s.status != "scheduled":
            raise Skip(f"the session is {s.status}")
        if iso(s.starts_at) != job.payload.get("starts_at"):
            raise Skip("the session was moved")
        offset = next((o for o in self._offsets if o.text == job.payload.get("offset")), None)
        if offset is None:
            raise Skip(f"{job.payload.get('offset')} is no longer a reminder offset")
        now = self._u.now()
        why = rules.reminder_skip(now, s.starts_at, offset.length, [o.length for o in self._offsets])
        if why is not None:
            raise Skip(why)
        version = f"{offset.text}@{iso(s.starts_at)}"
        left = rules.duration_text(s.starts_at - now)
        async with self._u.sessions() as db, db.begin():
            declined = await repo.declined(db, session_id=s.id)
            people = await self._recipients(db, s, 0, now, late=False)
            for p in people:
                if p.recipient in declined:
                    continue
                await jobs.schedule(
                    db,
                    kind=REMINDER_MAIL,
                    key=job_key(REMINDER_MAIL, s.id, p.recipient, version),
                    session_id=s.id,
                    due_at=now,
                    payload={
                        "recipient": p.recipient,
                        "name": p.name,
                        "email": p.email,
                        "timezone": p.timezone,
                        "role": p.role,
                        "left": left,
                        "starts_at": iso(s.starts_at),
                    },
                    now=now,
                )
        await self._u.publisher.send(
            [Emit("reminder", {"session_id": s.id, "starts_at": iso(s.starts_at)}, room_participants(s.id))]
        )
        self.wake()

    async def send_reminder(self, job: Job) -> None:
        p = job.payload
        async with self._u.sessions() as db:  # one short read: the session, the person, their invitation
            s = await sessions.get_session(db, session_id=job.session_id or "")
            member = None
            if s is not None and p["recipient"] != INSTRUCTOR:
                member = await roster.get_member(db, participant_id=p["recipient"])
            invitation = None if s is None else await repo.of_recipient(db, session_id=s.id, recipient=p["recipient"])
        if s is None or s.status != "scheduled":
            raise Skip("the session is gone" if s is None else f"the session is {s.status}")
        now = self._u.now()
        if now >= s.starts_at:
            raise Skip("the session has started")
        if iso(s.starts_at) != p.get("starts_at"):
            raise Skip("the session was moved")
        if p["recipient"] != INSTRUCTOR and member is None:
            raise Skip("no longer on the roster")
        if invitation is not None and invitation.removed_at is None and invitation.rsvp == "declined":
            raise Skip("declined")
        who = Invitee(
            email=p["email"],
            name=p["name"],
            timezone=p.get("timezone"),
            rsvp_url=self._rsvp_or_page(s.id, p["recipient"], invitation),
            tab_url=self._tab_url(s.id, p["recipient"]),
            role=p["role"],
        )
        facts = _facts(s, CalendarEvent(s.id, f"{s.id}@{self._domain}", 0))
        message = reminder_mail(
            facts,
            who,
            offset_text=p["left"],
            organizer=self._from,
            now=now,
            message_id=rules.message_id(job.key, self._domain),
        )
        await self._transport.send(message)

    # ------------------------------------------------------------ sending an invitation mail

    async def send_mail(self, job: Job) -> None:
        """Build the invitation, update or cancellation the job names, as the session stands now, and send it."""
        p = job.payload
        async with self._u.sessions() as db:
            i = await repo.get(db, invitation_id=p["invitation"])
            s = await sessions.get_session(db, session_id=job.session_id or "")
            event = await repo.event_of(db, session_id=job.session_id or "")
            if i is None or s is None or event is None:
                raise Skip("the session or the invitation is gone")
            what: str = p["what"]
            scope: str = p["scope"]
            sequence: int = p["sequence"]
            if scope == "series":
                cal = await repo.series(db, uid=event.uid)
                if cal is None:
                    raise Skip("the series' event is gone")
                current = cal.sequence
                facts = _series_facts(cal, s, cal.uid, sequence=sequence)
            else:
                current = event.sequence
                facts = _facts(s, event, sequence=sequence)
        if what != "uninvite":
            if sequence < current:
                raise Skip(f"superseded: SEQUENCE {current} is queued")
            if i.removed_at is not None:
                raise Skip("taken off the roster")
        if what in ("invite", "update") and s.status == "cancelled" and scope != "series":
            raise Skip("the session is cancelled: its CANCEL goes instead")
        kind: Kind = _KIND[what]
        if what == "cancel":
            facts = replace(facts, status="CANCELLED")
        else:  # the materials as shared when the mail goes, each with the recipient's own link
            facts = replace(facts, materials=tuple(await self.materials(i.session_id, i.recipient)))
        who = Invitee(
            email=i.email,
            name=i.name,
            timezone=i.timezone,
            rsvp_url=self.rsvp_url(i.id),
            tab_url=self._tab_url(i.session_id, i.recipient),
            setup_url=self._setup_url(i.session_id, i.recipient),
            role=i.role,
        )
        message = invitation_mail(
            kind,
            facts,
            who,
            organizer=self._from,
            now=self._u.now(),
            message_id=rules.message_id(job.key, self._domain),
        )
        await self._transport.send(message)

    # ------------------------------------------------------------ reading

    async def listing(self, session_id: str) -> list[dict[str, Any]]:
        """The session's invitees with their answers and the state of their last mail."""
        async with self._u.sessions() as db:
            if await sessions.get_session(db, session_id=session_id) is None:
                raise NotFound("no such session")
            people = await repo.invitees(db, session_id=session_id)
            mails = await jobs.for_session(db, session_id=session_id, kind=MAIL)
        last: dict[str, Job] = {}
        for j in mails:
            last[j.payload.get("invitation", "")] = j  # in due order: the latest wins
        return [
            {
                "participant_id": i.participant_id,
                "role": i.role,
                "name": i.name,
                "email": i.email,
                "sequence": i.sequence,
                "sent_at": iso(i.sent_at),
                "rsvp": i.rsvp,
                "rsvp_at": iso(i.rsvp_at) if i.rsvp_at else None,
                "late": i.late,
                **_mail_state(last.get(i.id)),
            }
            for i in people
        ]

    async def summaries(self, states: Sequence[SessionState]) -> dict[str, dict[str, Any]]:
        """For each session: RSVP counts, mails given up, and whether it is ready as far as invitations go."""
        ids = [s.id for s in states]
        async with self._u.sessions() as db:
            counts = await repo.rsvp_counts(db, session_ids=ids)
            failed = await repo.failed_mail_counts(db, session_ids=ids)
        now = self._u.now()
        out = {}
        for s in states:
            c = counts.get(s.id, {})
            problems = rules.not_ready(s, now, self._lead.length)
            out[s.id] = {
                "rsvp": {
                    "accepted": c.get("accepted", 0),
                    "tentative": c.get("tentative", 0),
                    "declined": c.get("declined", 0),
                    "needs_action": c.get("needs-action", 0),
                },
                "mail_failed": failed.get(s.id, 0),
                "ready": not problems,
                "not_ready": problems,
            }
        return out

    # ------------------------------------------------------------ RSVP and the feed

    def rsvp_url(self, invitation_id: str) -> str:
        return f"{self._public}/rsvp/{rsvp_token(self._key, invitation_id)}"

    def calendar_url(self, email: str) -> str:
        return f"{self._public}/calendar/{calendar_token(self._key, email)}.ics"

    async def rsvp_view(self, token: str) -> dict[str, Any]:
        i, s = await self._invitation_of(token)
        return {
            "name": i.name,
            "topic": s.topic,
            "starts_at": iso(s.starts_at),
            "duration_minutes": s.duration_minutes,
            "timezone": i.timezone or s.timezone,
            "session_timezone": s.timezone,
            "join_url": s.join_url,
            "status": s.status,
            "rsvp": i.rsvp,
            "rsvp_at": iso(i.rsvp_at) if i.rsvp_at else None,
            "series": s.series_id is not None and await self._is_series_invitation(s.id),
            "calendar_url": self.calendar_url(i.email),
        }

    async def answer(self, token: str, value: object) -> dict[str, str]:
        """Record an invitee's answer (for a series invited as one event: for each occurrence they are invited to)."""
        i, s = await self._invitation_of(token)
        rsvp = rules.answer(value)
        if s.status in ("closed", "cancelled"):
            raise Conflict(f"the session is {s.status}")
        now = self._u.now()

        async def op(db: DbSession) -> list[Invitation]:
            event = await repo.event_of(db, session_id=s.id)
            targets = [i]
            if event is not None and event.recurrence_id is not None:
                ids = [e.session_id for e in await repo.events_with_uid(db, uid=event.uid)]
                targets = await repo.same_person_in(db, email=i.email, session_ids=ids)
            await repo.set_rsvp(db, invitation_ids=[t.id for t in targets], rsvp=rsvp, now=now)
            return targets

        targets: list[Invitation] = await self._u.submit(op)
        await self._u.publisher.committed(
            [
                Emit(
                    "rsvp",
                    {"session_id": t.session_id, "participant_id": t.participant_id, "rsvp": rsvp},
                    room_staff(t.session_id),
                )
                for t in targets
            ]
        )
        return {"rsvp": rsvp}

    async def feed(self, token: str) -> bytes:
        email = parse_calendar_token(token, self._key)
        if email is None:
            raise NotFound("no such calendar")
        now = self._u.now()
        async with self._u.sessions() as db:
            ids = await repo.sessions_of_person(db, email=email, since=now - FEED_PAST, limit=FEED_LIMIT)
            if not ids and await people_repo.is_erased(db, pseudonym_email=pseudonym(self._key, email.lower()).email):
                raise NotFound("no such calendar")  # an erased person's old feed link (docs/records.md)
            states = [s for sid in ids if (s := await sessions.get_session(db, session_id=sid)) is not None]
        events = [
            replace(
                _facts(s, CalendarEvent(s.id, f"{s.id}@{self._domain}", 0)),
                status="CANCELLED" if s.status == "cancelled" else "CONFIRMED",
            )
            for s in states
        ]
        return feed(events, name="Companion sessions", organizer=self._from, now=now)

    async def _invitation_of(self, token: str) -> tuple[Invitation, SessionState]:
        invitation_id = parse_rsvp_token(token, self._key)
        i = await self._u.read(repo.get, invitation_id=invitation_id) if invitation_id else None
        s = await self._u.read(sessions.get_session, session_id=i.session_id) if i else None
        if i is None or s is None or i.removed_at is not None:
            raise NotFound("this link is not valid")
        return i, s

    async def _is_series_invitation(self, session_id: str) -> bool:
        event = await self._u.read(repo.event_of, session_id=session_id)
        return event is not None and event.recurrence_id is not None

    def _rsvp_or_page(self, session_id: str, recipient: str, invitation: Invitation | None) -> str:
        """Their RSVP link, or (never invited, or taken off) their tab's page, or the instructor's schedule."""
        if invitation is not None and invitation.removed_at is None:
            return self.rsvp_url(invitation.id)
        return f"{self._public}/join/{session_id}" if recipient != INSTRUCTOR else f"{self._public}/schedule"

    def _tab_url(self, session_id: str, recipient: str) -> str:
        if recipient == INSTRUCTOR:
            return f"{self._public}/dashboard/{session_id}"
        return f"{self._public}/join/{session_id}#token={participant_token(self._key, session_id, recipient)}"

    def _setup_url(self, session_id: str, recipient: str) -> str | None:
        """A participant's setup check (/setup/{id}, the same token as the tab); none for the instructor."""
        if recipient == INSTRUCTOR:
            return None
        return f"{self._public}/setup/{session_id}#token={participant_token(self._key, session_id, recipient)}"

    # ------------------------------------------------------------ the parts

    async def _state(self, session_id: str) -> SessionState:
        state = await self._u.store.session(session_id) or await self._u.read(
            sessions.get_session, session_id=session_id
        )
        if state is None:
            raise NotFound("no such session")
        return state

    @asynccontextmanager
    async def _locks(self, ids: list[str]) -> AsyncIterator[None]:
        """Each session's lock, taken in one order for every taker: no deadlock."""
        async with AsyncExitStack() as stack:
            for sid in sorted(ids):
                await stack.enter_async_context(self._u.store.lock(sid))
            yield


_KIND: dict[str, Kind] = {"invite": "invite", "update": "update", "cancel": "cancel", "uninvite": "cancel"}

_REMINDER_STATE = {
    "pending": "pending",
    "running": "pending",
    "done": "sent",
    "skipped": "skipped",
    "cancelled": "cancelled",
    "failed": "failed",
}


def _mail_state(job: Job | None) -> dict[str, Any]:
    if job is None:
        return {"mail": "queued", "mail_error": None}
    if job.state == "done":
        return {"mail": "sent", "mail_error": None}
    if job.state == "failed":
        return {"mail": "failed", "mail_error": job.last_error}
    if job.state == "skipped":
        return {"mail": "sent", "mail_error": None}  # superseded by a later one, or nothing left to say
    return {"mail": "queued", "mail_error": job.last_error}


def _facts(s: SessionState, event: CalendarEvent, *, sequence: int | None = None) -> EventFacts:
    return EventFacts(
        uid=event.uid,
        sequence=event.sequence if sequence is None else sequence,
        topic=s.topic,
        starts_at=s.starts_at,
        duration_minutes=s.duration_minutes,
        timezone=s.timezone,
        join_url=s.join_url,
        agenda=rules.agenda_text(s.agenda),
        recurrence_id=event.recurrence_id,
    )


def _series_facts(cal: CalendarSeries, s: SessionState, uid: str, *, sequence: int | None = None) -> EventFacts:
    """The series' one VEVENT: its rule from the first occurrence, the topic, agenda and link of session `s`."""
    return EventFacts(
        uid=uid,
        sequence=cal.sequence if sequence is None else sequence,
        topic=s.topic,
        starts_at=cal.first_start,
        duration_minutes=s.duration_minutes,
        timezone=cal.timezone,
        join_url=s.join_url,
        agenda=rules.agenda_text(s.agenda),
        rrule=cal.rule,
    )


async def _no_materials(session_id: str, recipient: str) -> list[tuple[str, str]]:
    """Until Service wires Preparation in (tools that build Invitations alone): no materials."""
    return []

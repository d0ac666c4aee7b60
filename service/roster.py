"""The roster and attendance: adding participants, check-in (with its wrong-code allowance), marks, the sheet."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from limits import RateLimitItemPerDay, RateLimitItemPerMinute
from limits.aio.strategies import MovingWindowRateLimiter
from sqlalchemy.ext.asyncio import AsyncSession as DbSession

from core import attendance, lifecycle, payloads, sheet, timeline
from core.errors import NotFound
from core.model import Actor, Member, SessionState
from persistence.identity import new_id
from persistence.repos import attendance as attendance_repo
from persistence.repos import audit, connections, platform_attendance, roster
from service.invitations import Invitations
from service.lifecycle import attendance_rows
from service.unit import Unit

log = logging.getLogger("companion.attendance")

# Wrong check-in codes a participant may give (all their tabs and sockets, every process: counted in
# the live store), in any 5 minutes and in any day. Each guess hits with odds of at most 2 in 10,000
# (the code shown and the one before it both count), so at most 10 guesses a day give one guesser
# odds of at most 0.2% over a whole class, 0.4% over the longest (a day, plus 30 minutes of early
# check-in); unlimited, 3,000 guesses found it in 40 s. Someone who mistypes gets 5 tries, 5 more
# after a pause, and then the instructor's mark. Past either, even the right code is refused.
CHECKIN_WRONG_CODES = (RateLimitItemPerMinute(5, 5), RateLimitItemPerDay(10, 1))
# One warning per participant in 5 minutes, however often they are refused.
CHECKIN_WARNING = RateLimitItemPerMinute(1, 5)


class Roster:
    def __init__(self, unit: Unit, limiter: MovingWindowRateLimiter, invitations: Invitations) -> None:
        self._u = unit
        self._invitations = invitations  # someone added after invitations went out is invited at once
        self._limiter = limiter

    async def add(self, session_id: str, people: Sequence[tuple[str, str, str | None]]) -> list[Member]:
        now = self._u.now()
        store = self._u.store
        async with self._u.session(session_id) as s:
            lifecycle.require_open(s)
            ids = (new_id() for _ in people)

            async def op(db: DbSession) -> list[Member]:
                new = await roster.add_participants(db, session_id=session_id, people=people, new_ids=ids, now=now)
                await self._invitations.on_added(db, s, new, now)
                return new

            added: list[Member] = await self._u.write_now(session_id, op)
            for m in added:
                known = await store.member(session_id, m.id)
                await store.set_member(session_id, replace(known, name=m.name) if known else m)
        for m in added:
            self._u.publisher.presence_changed(session_id, m.id)
        return added

    async def checkin(self, actor: Actor, session_id: str, p: payloads.Checkin) -> Member:
        assert actor.participant_id is not None
        now = self._u.now()
        store = self._u.store
        async with self._u.session(session_id) as s:
            member = await store.member(session_id, actor.participant_id)
            if member is None:
                raise NotFound("you are not on this session's roster")
            # Only a code that would be looked at is counted (and only then is the store asked).
            guarded = s.checkin_secret is not None and member.checked_in_at is None and p.code is not None
            locked_until = await self._locked_until(session_id, member.id) if guarded else None
            try:
                checked = attendance.checkin(s, member, p.code, now, locked_until=locked_until)
            except attendance.WrongCode:
                await self._wrong_code(s, member)
                raise
            pending = None
            if checked is not member:
                await store.set_member(session_id, checked)
                pending = await self._u.write(session_id, roster.save_member(member=checked, now=now))
        await (pending if pending is not None else self._u.barrier())
        if pending is not None:
            self._u.publisher.presence_changed(session_id, checked.id)
        return checked

    async def _locked_until(self, session_id: str, participant_id: str) -> datetime | None:
        """When this participant may give a code again, if they have used up their wrong codes."""
        keys = ("checkin", session_id, participant_id)
        until: datetime | None = None
        for item in CHECKIN_WRONG_CODES:
            if not await self._limiter.test(item, *keys):
                stats = await self._limiter.get_window_stats(item, *keys)
                at = datetime.fromtimestamp(stats.reset_time, UTC)
                until = at if until is None else max(until, at)
        return until

    async def _wrong_code(self, session: SessionState, member: Member) -> None:
        """Count a wrong code; the one that uses up an allowance is logged (once in 5 minutes)."""
        keys = ("checkin", session.id, member.id)
        for item in CHECKIN_WRONG_CODES:
            await self._limiter.hit(item, *keys)
        if await self._locked_until(session.id, member.id) is None:
            return
        if await self._limiter.hit(CHECKIN_WARNING, "checkin-warned", session.id, member.id):
            log.warning(
                "check-in: participant %s (%s) of session %s gave too many wrong codes; "
                "their codes are refused for now",
                member.id,
                member.name,
                session.id,
            )

    async def mark(self, actor: Actor, session_id: str, p: payloads.Mark) -> None:
        """Staff set a participant's attendance by hand; audited (`mark`) in the same transaction."""
        now = self._u.now()
        store = self._u.store
        async with self._u.session(session_id) as s:
            member = await store.member(session_id, p.participant_id)
            if member is None:
                raise NotFound("no such participant in this session")
            marked = attendance.mark(s, member, p.status)
            await store.set_member(session_id, marked)
            save = roster.save_member(member=marked, now=now)

            async def op(db: DbSession) -> None:
                await db.execute(save.statement(db.get_bind().dialect.name), save.params)
                await audit.record(
                    db,
                    actor=actor,
                    action="mark",
                    target=f"participant:{marked.id}",
                    session_id=session_id,
                    at=now,
                    detail={"mark": marked.mark, "before": member.mark},
                )

            pending = await self._u.write(session_id, op)
        await pending
        self._u.publisher.presence_changed(session_id, marked.id)

    async def timeline(self, session_id: str) -> dict[str, Any]:
        """Presence over time: each participant's connected intervals and the connected count after each change."""
        await self._u.ensure_loaded(session_id)
        await self._u.barrier()  # connections opened or closed just now are on record
        members = await self._u.read(roster.members, session_id=session_id)
        conns = await self._u.read(connections.connections, session_id=session_id)
        return timeline.timeline(members, conns, self._u.now())

    async def members(self, session_id: str) -> list[Member]:
        """The roster as the database holds it, in roster order."""
        return await self._u.read(roster.members, session_id=session_id)

    async def sheet(self, session_id: str) -> list[dict[str, Any]]:
        """The saved sheet of a closed session, or the sheet as it stands."""
        state = await self._u.ensure_loaded(session_id)
        if state.status == "closed":
            await self._u.barrier()  # a close being written finishes first
            saved = await self._u.read(attendance_repo.saved_attendance, session_id=session_id)
            if saved:
                order = {m.id: i for i, m in enumerate(await self._u.read(roster.members, session_id=session_id))}
                # A platform's report often comes in after the close: its minutes are read as they are now.
                platform = await self._u.read(platform_attendance.platform_minutes, session=state, now=self._u.now())
                return sheet.with_platform(sorted(saved, key=lambda r: order.get(r["participant_id"], 0)), platform)
        now = self._u.now()
        return await self._u.read(lambda db: attendance_rows(db, state, now))

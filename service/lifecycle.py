"""Sessions: schedule, start, delay, close, and the video platform's status."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession as DbSession

from core import helpdesk, lifecycle, payloads, pings, sheet
from core.errors import Invalid
from core.model import SessionState
from persistence.repos import attendance, connections, help, platform_attendance, roster, sessions
from persistence.repos import pings as pings_repo
from service.unit import Unit

# Delays add up: a week in all is far past any real late start, and keeps the expected start (and
# the delay_minutes INTEGER column) in range however many times someone delays.
MAX_TOTAL_DELAY_MINUTES = 7 * 24 * 60


# What else happens when a session closes, in the close's own transaction (so it is durable with it):
# the areas after the class register theirs (the feedback forms, the session record), typically a job.
OnClose = Callable[[DbSession, SessionState, datetime], Awaitable[None]]


class Lifecycle:
    def __init__(self, unit: Unit) -> None:
        self._u = unit
        self.on_close: list[OnClose] = []
        self.after_close: list[Callable[[], None]] = []  # once the close is committed (wake the job runner)

    async def create(self, state: SessionState) -> SessionState:
        now = self._u.now()
        await self._u.submit(lambda db: sessions.create_session(db, state=state, now=now))
        return state

    async def start(self, session_id: str) -> SessionState:
        async with self._u.session(session_id) as s:
            started, events = lifecycle.start(s, self._u.now())
            pending = None
            if started is not s:
                await self._u.store.set_session(started)
                pending = await self._u.write(session_id, lambda db: sessions.save_session(db, state=started), events)
        await (pending if pending is not None else self._u.barrier())
        return started

    async def delay(self, session_id: str, p: payloads.Delay) -> SessionState:
        async with self._u.session(session_id) as s:
            delayed, events = lifecycle.delay(s, p.minutes, p.reason or None)
            if delayed.delay_minutes > MAX_TOTAL_DELAY_MINUTES:
                raise Invalid(f"minutes: a session may be delayed by at most {MAX_TOTAL_DELAY_MINUTES} minutes in all")
            await self._u.store.set_session(delayed)
            pending = await self._u.write(session_id, lambda db: sessions.save_session(db, state=delayed), events)
        await pending
        return delayed

    async def close(self, session_id: str) -> SessionState:
        """Close: end open pings and tickets, save the attendance sheet; closing again changes nothing."""
        now = self._u.now()
        store = self._u.store
        async with self._u.session(session_id) as s:
            closed, session_events = lifecycle.close(s, now)
            pending = None
            if closed is not s:
                events = []
                ended_pings = []
                for ping in await store.open_pings(session_id):
                    ended, ping_events = pings.close(session_id, ping, now)
                    await store.set_ping(session_id, ended)
                    ended_pings.append(ended)
                    events += ping_events
                tickets, ended_tickets, ticket_events = helpdesk.end_all(closed, await store.tickets(session_id))
                if ended_tickets:
                    await store.set_tickets(session_id, tickets)
                events += ticket_events + session_events
                await store.set_session(closed)

                async def op(db: DbSession) -> None:
                    await sessions.save_session(db, state=closed)
                    for ping in ended_pings:
                        await pings_repo.close_ping(db, ping=ping)
                    for t in ended_tickets:
                        await help.save_ticket(db, ticket=t, now=now)
                    await attendance.save_attendance(
                        db, session_id=session_id, rows=await attendance_rows(db, closed, now)
                    )
                    for hook in self.on_close:
                        await hook(db, closed, now)

                pending = await self._u.write(session_id, op, events)
        if pending is None:
            await self._u.barrier()
            return closed
        await pending
        for wake in self.after_close:
            wake()
        return closed

    async def platform(self, session_id: str, p: payloads.Platform) -> None:
        async with self._u.session(session_id) as s:
            changed, events = lifecycle.set_platform(s, p.status, p.message)
            await self._u.store.set_session(changed)
            pending = await self._u.write(session_id, lambda db: sessions.save_session(db, state=changed), events)
        await pending


async def attendance_rows(db: DbSession, session: SessionState, now: datetime) -> list[dict[str, Any]]:
    """The attendance sheet as it stands at `now`, from what the database holds."""
    members = await roster.members(db, session_id=session.id)
    conns = await connections.connections(db, session_id=session.id)
    total, answered = await pings_repo.answer_counts(db, session_id=session.id)
    platform = await platform_attendance.platform_minutes(db, session=session, now=now)
    return sheet.rows(session, members, conns, total, answered, now, platform)

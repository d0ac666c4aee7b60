"""The only code that changes a live session: check, do (write), notify (after commit).

Every action takes the session's lock, asks the pure core for the new state and the events,
puts the new state in the live store and queues the write with its events, all under the lock,
so that writes commit, and events go out, in the order the state changed. It then lets the lock
go and awaits the commit before answering: nothing is acknowledged that a crash could take back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, TypeVar

from limits import RateLimitItemPerDay, RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.aio.strategies import MovingWindowRateLimiter
from sqlalchemy.ext.asyncio import AsyncSession as DbSession
from sqlalchemy.ext.asyncio import async_sessionmaker

from core import attendance, helpdesk, lifecycle, payloads, pings, sheet
from core.clock import Clock
from core.errors import Conflict, Invalid, NotFound, RateLimited
from core.model import (
    Actor,
    ChatMessage,
    Emit,
    Member,
    Ping,
    SessionState,
    Ticket,
    room_all,
    room_participant,
    room_participants,
    room_staff,
)
from persistence import repo
from persistence.identity import new_id
from persistence.live.base import LiveStore
from persistence.writer import Batched, Writer

T = TypeVar("T")
log = logging.getLogger("companion.attendance")

# A participant may send 5 chat messages in 5 seconds (contract).
CHAT_RATE = RateLimitItemPerSecond(5, 5)
# Wrong check-in codes a participant may give (all their tabs and sockets, every process: counted in
# the live store), in any 5 minutes and in any day. Each guess hits with odds of at most 2 in 10,000
# (the code shown and the one before it both count), so at most 10 guesses a day give one guesser
# odds of at most 0.2% over a whole class, 0.4% over the longest (a day, plus 30 minutes of early
# check-in); unlimited, 3,000 guesses found it in 40 s. Someone who mistypes gets 5 tries, 5 more
# after a pause, and then the instructor's mark. Past either, even the right code is refused.
CHECKIN_WRONG_CODES = (RateLimitItemPerMinute(5, 5), RateLimitItemPerDay(10, 1))
# One warning per participant in 5 minutes, however often they are refused.
CHECKIN_WARNING = RateLimitItemPerMinute(1, 5)
CHAT_HISTORY_PAGE = 500
# Delays add up: a week in all is far past any real late start, and keeps the expected start (and
# the delay_minutes INTEGER column) in range however many times someone delays.
MAX_TOTAL_DELAY_MINUTES = 7 * 24 * 60


class Actions:
    """Check, do, notify for every change; reads for the views that need the live store."""

    def __init__(
        self,
        *,
        store: LiveStore,
        writer: Writer,
        sessionmaker: async_sessionmaker[DbSession],
        limiter: MovingWindowRateLimiter,
        clock: Clock,
        presence_changed: Callable[[str, str], None],
        results_changed: Callable[[str, str], None],
        publish_now: Callable[[Sequence[Emit]], Awaitable[None]] | None = None,
    ) -> None:
        self.store = store
        self.writer = writer
        self._db = sessionmaker
        self._limiter = limiter
        # Every action reads the time here, once, and hands it to the core: tests step a fake clock.
        self.clock = clock
        self._presence_changed = presence_changed  # (session, participant): batched to staff
        self._results_changed = results_changed  # (session, ping): throttled to staff
        # With several processes, events of one session must leave in the order its state changed
        # although different processes commit them: a change with events then commits and publishes
        # before the session's lock is let go. One process needs no such care: its writer commits in
        # lock order and its emitter sends in commit order, so writes can group.
        self._publish_now = publish_now

    # ------------------------------------------------------------ helpers

    async def read(self, fn: Callable[..., Awaitable[T]], **kwargs: Any) -> T:
        """Run a repository read in its own short transaction."""
        async with self._db() as db:
            return await fn(db, **kwargs)

    @asynccontextmanager
    async def session(self, session_id: str) -> AsyncIterator[SessionState]:
        """Hold the session's lock with its live state loaded (from the database on first use)."""
        async with self.store.lock(session_id):
            state = await self.store.session(session_id)
            if state is None:
                snapshot = await self.read(repo.load_snapshot, session_id=session_id)
                if snapshot is None:
                    raise NotFound("no such session")
                await self.store.load(snapshot)
                state = snapshot.session
            yield state

    async def ensure_loaded(self, session_id: str) -> SessionState:
        """The session's live state, loading it (under its lock) only when it is not loaded yet."""
        state = await self.store.session(session_id)
        if state is not None:
            return state
        async with self.session(session_id) as state:
            return state

    async def _write(
        self, session_id: str, op: Callable[[DbSession], Awaitable[Any]] | Batched, events: list[Emit]
    ) -> asyncio.Future[Any]:
        """Queue a write under the session's lock; the answer's future settles once it is committed."""
        if self._publish_now is None or not events:
            return await self.writer.enqueue(op, events=events, session_id=session_id)
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        done.set_result(await self.writer.submit(op, session_id=session_id))
        await self._publish_now(events)
        return done

    # ------------------------------------------------------------ lifecycle

    async def create_session(self, state: SessionState) -> SessionState:
        now = self.clock.now()
        await self.writer.submit(lambda db: repo.create_session(db, state=state, now=now))
        return state

    async def start(self, session_id: str) -> SessionState:
        async with self.session(session_id) as s:
            started, events = lifecycle.start(s, self.clock.now())
            if started is s:
                pending = None
            else:
                await self.store.set_session(started)
                pending = await self._write(session_id, lambda db: repo.save_session(db, state=started), events)
        await (pending if pending is not None else self.writer.barrier())
        return started

    async def delay(self, session_id: str, p: payloads.Delay) -> SessionState:
        async with self.session(session_id) as s:
            delayed, events = lifecycle.delay(s, p.minutes, p.reason or None)
            if delayed.delay_minutes > MAX_TOTAL_DELAY_MINUTES:
                raise Invalid(f"minutes: a session may be delayed by at most {MAX_TOTAL_DELAY_MINUTES} minutes in all")
            await self.store.set_session(delayed)
            pending = await self._write(session_id, lambda db: repo.save_session(db, state=delayed), events)
        await pending
        return delayed

    async def close(self, session_id: str) -> SessionState:
        """Close: end open pings and tickets, save the attendance sheet; closing again changes nothing."""
        now = self.clock.now()
        async with self.session(session_id) as s:
            if s.status == "closed":
                pending = None
                closed = s
            else:
                closed = replace(s, status="closed", closed_at=now)
                events: list[Emit] = []
                ended_pings = [pings.close(p, now) for p in await self.store.open_pings(session_id)]
                for ping in ended_pings:
                    events += _ping_closed_events(session_id, ping)
                    await self.store.set_ping(session_id, ping)
                tickets = await self.store.tickets(session_id)
                ended = [helpdesk.end_unresolved(t) for t in tickets if t.is_open]
                if ended:
                    by_id = {t.id: t for t in ended}
                    tickets = [by_id.get(t.id, t) for t in tickets]
                    await self.store.set_tickets(session_id, tickets)
                    events += [Emit("help:ticket", t.mine(), room_participant(t.participant_id)) for t in ended]
                    events.append(Emit("help:queue", helpdesk.queue_view(tickets), room_staff(session_id)))
                events.append(lifecycle.session_event(closed))
                await self.store.set_session(closed)

                async def op(db: DbSession) -> None:
                    await repo.save_session(db, state=closed)
                    for ping in ended_pings:
                        await repo.close_ping(db, ping=ping)
                    for t in ended:
                        await repo.save_ticket(db, ticket=t, now=now)
                    await repo.save_attendance(db, session_id=session_id, rows=await _sheet(db, closed, now))

                pending = await self._write(session_id, op, events)
        await (pending if pending is not None else self.writer.barrier())
        return closed

    async def platform(self, session_id: str, p: payloads.Platform) -> None:
        async with self.session(session_id) as s:
            lifecycle.require_open(s)
            changed = replace(s, platform_status=p.status, platform_message=p.message)
            await self.store.set_session(changed)
            # The session carries its platform status too: both go out, so no view of it is left stale.
            events = [
                Emit("platform", {"status": p.status, "message": p.message}, room_all(session_id)),
                lifecycle.session_event(changed),
            ]
            pending = await self._write(session_id, lambda db: repo.save_session(db, state=changed), events)
        await pending

    # ------------------------------------------------------------ roster and attendance

    async def add_participants(self, session_id: str, people: list[tuple[str, str]]) -> list[Member]:
        now = self.clock.now()
        async with self.session(session_id) as s:
            lifecycle.require_open(s)
            ids = (new_id() for _ in people)
            added: list[Member] = await self.writer.submit(
                lambda db: repo.add_participants(db, session_id=session_id, people=people, new_ids=ids, now=now),
                session_id=session_id,
            )
            for m in added:
                known = await self.store.member(session_id, m.id)
                await self.store.set_member(session_id, replace(known, name=m.name) if known else m)
        for m in added:
            self._presence_changed(session_id, m.id)
        return added

    async def checkin(self, actor: Actor, session_id: str, p: payloads.Checkin) -> Member:
        assert actor.participant_id is not None
        now = self.clock.now()
        async with self.session(session_id) as s:
            member = await self.store.member(session_id, actor.participant_id)
            if member is None:
                raise NotFound("you are not on this session's roster")
            # Only a code that would be looked at is counted (and only then is the store asked).
            guarded = s.checkin_secret is not None and member.checked_in_at is None and p.code is not None
            locked_until = await self._checkin_locked_until(session_id, member.id) if guarded else None
            try:
                checked = attendance.checkin(s, member, p.code, now, locked_until=locked_until)
            except attendance.WrongCode:
                await self._wrong_code(s, member)
                raise
            if checked is member:
                pending = None
            else:
                await self.store.set_member(session_id, checked)
                pending = await self._write(session_id, repo.save_member(member=checked, now=now), [])
        await (pending if pending is not None else self.writer.barrier())
        if pending is not None:
            self._presence_changed(session_id, checked.id)
        return checked

    async def _checkin_locked_until(self, session_id: str, participant_id: str) -> datetime | None:
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
        if await self._checkin_locked_until(session.id, member.id) is None:
            return
        if await self._limiter.hit(CHECKIN_WARNING, "checkin-warned", session.id, member.id):
            log.warning(
                "check-in: participant %s (%s) of session %s gave too many wrong codes; "
                "their codes are refused for now",
                member.id,
                member.name,
                session.id,
            )

    async def mark(self, session_id: str, p: payloads.Mark) -> None:
        now = self.clock.now()
        async with self.session(session_id) as s:
            member = await self.store.member(session_id, p.participant_id)
            if member is None:
                raise NotFound("no such participant in this session")
            marked = attendance.mark(s, member, p.status)
            await self.store.set_member(session_id, marked)
            pending = await self._write(session_id, repo.save_member(member=marked, now=now), [])
        await pending
        self._presence_changed(session_id, marked.id)

    async def attendance_sheet(self, session_id: str) -> list[dict[str, Any]]:
        """The saved sheet of a closed session, or the sheet as it stands."""
        state = await self.ensure_loaded(session_id)
        if state.status == "closed":
            await self.writer.barrier()  # a close being written finishes first
            saved = await self.read(repo.saved_attendance, session_id=session_id)
            if saved:
                order = {m.id: i for i, m in enumerate(await self.read(repo.members, session_id=session_id))}
                return sorted(saved, key=lambda r: order.get(r["participant_id"], 0))
        async with self._db() as db:
            return await _sheet(db, state, self.clock.now())

    # ------------------------------------------------------------ presence

    async def connected(self, session_id: str, participant_id: str, connection_id: str, process_id: str) -> None:
        """A participant's socket opened: record it; the first tab makes them connected."""
        now = self.clock.now()
        await self.ensure_loaded(session_id)
        async with self.store.lock(session_id):
            first = await self.store.attach(session_id, participant_id, connection_id)
            seen_by = await self.store.add_seen(session_id, participant_id) if first else []
            pending = await self._write(
                session_id,
                repo.open_connection(
                    connection_id=connection_id,
                    session_id=session_id,
                    participant_id=participant_id,
                    process_id=process_id,
                    now=now,
                ),
                [],
            )
        await pending
        if first:
            self._presence_changed(session_id, participant_id)
        for ping_id in seen_by:
            self._results_changed(session_id, ping_id)

    async def disconnected(
        self, session_id: str, participant_id: str, connection_id: str, *, record: bool = True
    ) -> None:
        """A participant's socket closed: the last tab makes them disconnected."""
        now = self.clock.now()
        async with self.store.lock(session_id):
            last = await self.store.detach(session_id, participant_id, connection_id)
            pending = (
                await self._write(session_id, repo.close_connection(connection_id=connection_id, now=now), [])
                if record
                else None
            )
        if pending is not None:
            await pending
        if last:
            self._presence_changed(session_id, participant_id)

    # ------------------------------------------------------------ pings

    async def launch_ping(self, session_id: str, p: payloads.PingLaunch) -> Ping:
        now = self.clock.now()
        async with self.session(session_id) as s:
            ping = pings.launch(
                s,
                ping_id=new_id(),
                kind=p.kind,
                question=p.question,
                options=p.options,
                seconds=p.seconds,
                connected=await self.store.connected(session_id),
                now=now,
            )
            await self.store.set_ping(session_id, ping)
            events = [
                Emit("ping", pings.view(ping), room_participants(session_id)),
                Emit("ping:results", pings.results(ping), room_staff(session_id)),
            ]
            pending = await self._write(
                session_id, lambda db: repo.add_ping(db, session_id=session_id, ping=ping), events
            )
        await pending
        return ping

    async def answer_ping(self, actor: Actor, session_id: str, p: payloads.PingAnswer) -> None:
        assert actor.participant_id is not None
        pid = actor.participant_id
        now = self.clock.now()
        async with self.session(session_id):
            ping = await self.store.ping(session_id, p.ping_id, with_answers=False)
            if ping is None:
                if await self.read(repo.get_ping, session_id=session_id, ping_id=p.ping_id):
                    raise Conflict("the ping is closed")
                raise NotFound("no such ping")
            answer = pings.check_answer(ping, p.answer, now)
            await self.store.add_answer(session_id, ping.id, pid, answer)
            pending = await self._write(
                session_id,
                repo.save_answer(ping_id=ping.id, participant_id=pid, answer=answer, now=now),
                [],
            )
        await pending
        self._results_changed(session_id, p.ping_id)

    async def close_ping(self, session_id: str, ping_id: str) -> dict[str, Any]:
        """Close a ping; closing twice answers the same results."""
        now = self.clock.now()
        async with self.session(session_id):
            ping = await self.store.ping(session_id, ping_id)
            if ping is not None:
                closed = pings.close(ping, now)
                await self.store.set_ping(session_id, closed)
                pending = await self._write(
                    session_id,
                    lambda db: repo.close_ping(db, ping=closed),
                    _ping_closed_events(session_id, closed),
                )
        if ping is None:
            await self.writer.barrier()
            closed_before = await self.read(repo.get_ping, session_id=session_id, ping_id=ping_id)
            if closed_before is None:
                raise NotFound("no such ping")
            return pings.results(closed_before)
        await pending
        return pings.results(closed)

    async def ping_results(self, session_id: str, ping_id: str) -> dict[str, Any] | None:
        ping = await self.store.ping(session_id, ping_id)
        return pings.results(ping) if ping else None

    # ------------------------------------------------------------ help queue

    async def open_ticket(self, actor: Actor, session_id: str, p: payloads.HelpOpen) -> Ticket:
        assert actor.participant_id is not None
        now = self.clock.now()
        async with self.session(session_id) as s:
            lifecycle.require_open(s)
            tickets = await self.store.tickets(session_id)
            ticket = helpdesk.open_ticket(
                tickets,
                ticket_id=new_id(),
                participant_id=actor.participant_id,
                name=actor.name,
                category=p.category,
                text=p.text,
                now=now,
            )
            tickets, events = helpdesk.renumber([*tickets, ticket])
            ticket = next(t for t in tickets if t.id == ticket.id)
            await self.store.set_tickets(session_id, tickets)
            events.append(Emit("help:queue", helpdesk.queue_view(tickets), room_staff(session_id)))
            pending = await self._write(
                session_id, lambda db: repo.add_ticket(db, session_id=session_id, ticket=ticket), events
            )
        await pending
        return ticket

    async def claim_ticket(self, actor: Actor, session_id: str, ticket_id: str) -> None:
        await self._change_ticket(session_id, ticket_id, lambda t: helpdesk.claim(t, actor.name))

    async def resolve_ticket(self, actor: Actor, session_id: str, p: payloads.HelpResolve) -> None:
        await self._change_ticket(session_id, p.ticket_id, lambda t: helpdesk.resolve(t, actor.name, p.note or None))

    async def _change_ticket(self, session_id: str, ticket_id: str, change: Callable[[Ticket], Ticket]) -> None:
        now = self.clock.now()
        async with self.session(session_id) as s:
            tickets = await self.store.tickets(session_id)
            current = next((t for t in tickets if t.id == ticket_id), None)
            if current is None:
                raise NotFound("no such ticket")
            lifecycle.require_open(s)
            changed = change(current)
            tickets, events = helpdesk.renumber([changed if t.id == ticket_id else t for t in tickets])
            await self.store.set_tickets(session_id, tickets)
            events.insert(0, Emit("help:ticket", changed.mine(), room_participant(changed.participant_id)))
            events.append(Emit("help:queue", helpdesk.queue_view(tickets), room_staff(session_id)))
            pending = await self._write(session_id, lambda db: repo.save_ticket(db, ticket=changed, now=now), events)
        await pending

    # ------------------------------------------------------------ chat

    async def send_chat(self, actor: Actor, session_id: str, p: payloads.ChatSend) -> tuple[str, int]:
        """Post a message; the same client_id again answers the same id and seq and sends nothing."""
        key = actor.author_key
        async with self.session(session_id) as s:
            # A resend is answered even after close: it changes nothing, and the sender's outbox
            # learns that its message did arrive.
            seen = await self.store.chat_lookup(session_id, key, p.client_id)
            if seen is None:
                lifecycle.require_open(s)
                if actor.role == "participant" and not await self._limiter.hit(CHAT_RATE, "chat", key):
                    raise RateLimited("at most 5 messages in 5 seconds; wait a moment")
                message_id = new_id()
                seq = await self.store.chat_reserve(session_id, key, p.client_id, message_id)
                message = ChatMessage(
                    id=message_id,
                    seq=seq,
                    client_id=p.client_id,
                    author_key=key,
                    author=actor.name,
                    role=actor.role,
                    text=p.text,
                    sent_at=self.clock.now(),
                )
                event = Emit("chat", message.view(), room_all(session_id))
                pending = await self._write(session_id, repo.add_chat(session_id=session_id, message=message), [event])
        if seen is not None:
            await self.writer.barrier()  # the first send of this client_id may still be committing
            return seen
        await pending
        return message_id, seq

    async def chat_history(self, session_id: str, after_seq: int, limit: int | None) -> list[ChatMessage]:
        return await self.read(repo.chat_page, session_id=session_id, after_seq=after_seq, limit=limit)

    # ------------------------------------------------------------ ticker work

    async def close_due_pings(self, session_id: str, now: datetime) -> None:
        for ping in await self.store.open_pings(session_id):
            if ping.closes_at <= now:
                await self.close_ping(session_id, ping.id)


def _ping_closed_events(session_id: str, ping: Ping) -> list[Emit]:
    return [
        Emit("ping:results", pings.results(ping), room_staff(session_id)),
        Emit("ping:closed", {"ping_id": ping.id}, room_participants(session_id)),
    ]


async def _sheet(db: DbSession, session: SessionState, now: datetime) -> list[dict[str, Any]]:
    members = await repo.members(db, session_id=session.id)
    conns = await repo.connections(db, session_id=session.id)
    total, answered = await repo.answer_counts(db, session_id=session.id)
    return sheet.rows(session, members, conns, total, answered, now)

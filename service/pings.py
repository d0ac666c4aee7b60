"""Engagement pings: launch, answer, close (by staff, at their time, or with the session)."""

from __future__ import annotations

from typing import Any

from core import payloads, pings
from core.errors import Conflict, NotFound
from core.model import Actor, Ping
from persistence.identity import new_id
from persistence.repos import pings as pings_repo
from service.unit import Unit


class Pings:
    def __init__(self, unit: Unit) -> None:
        self._u = unit

    async def launch(self, session_id: str, p: payloads.PingLaunch) -> Ping:
        now = self._u.now()
        store = self._u.store
        async with self._u.session(session_id) as s:
            ping, events = pings.launch(
                s,
                ping_id=new_id(),
                kind=p.kind,
                question=p.question,
                options=p.options,
                seconds=p.seconds,
                connected=await store.connected(session_id),
                now=now,
            )
            await store.set_ping(session_id, ping)
            pending = await self._u.write(
                session_id, lambda db: pings_repo.add_ping(db, session_id=session_id, ping=ping), events
            )
        await pending
        return ping

    async def answer(self, actor: Actor, session_id: str, p: payloads.PingAnswer) -> None:
        assert actor.participant_id is not None
        pid = actor.participant_id
        now = self._u.now()
        store = self._u.store
        async with self._u.session(session_id):
            ping = await store.ping(session_id, p.ping_id, with_answers=False)
            if ping is None:
                if await self._u.read(pings_repo.get_ping, session_id=session_id, ping_id=p.ping_id):
                    raise Conflict("the ping is closed")
                raise NotFound("no such ping")
            answer = pings.check_answer(ping, p.answer, now)
            await store.add_answer(session_id, ping.id, pid, answer)
            pending = await self._u.write(
                session_id, pings_repo.save_answer(ping_id=ping.id, participant_id=pid, answer=answer, now=now)
            )
        await pending
        self._u.publisher.results_changed(session_id, p.ping_id)

    async def close(self, session_id: str, ping_id: str) -> dict[str, Any]:
        """Close a ping; closing twice answers the same results."""
        now = self._u.now()
        store = self._u.store
        async with self._u.session(session_id):
            ping = await store.ping(session_id, ping_id)
            if ping is not None:
                closed, events = pings.close(session_id, ping, now)
                await store.set_ping(session_id, closed)
                pending = await self._u.write(session_id, lambda db: pings_repo.close_ping(db, ping=closed), events)
        if ping is None:
            await self._u.barrier()
            closed_before = await self._u.read(pings_repo.get_ping, session_id=session_id, ping_id=ping_id)
            if closed_before is None:
                raise NotFound("no such ping")
            return pings.results(closed_before)
        await pending
        return pings.results(closed)

    async def share(self, session_id: str, ping_id: str) -> None:
        """Show a closed ping's results to every participant (ping:shared)."""
        async with self._u.session(session_id):
            ping = await self._u.store.ping(session_id, ping_id)
            if ping is None:
                await self._u.barrier()  # a close being written finishes first
                ping = await self._u.read(pings_repo.get_ping, session_id=session_id, ping_id=ping_id)
            if ping is None:
                raise NotFound("no such ping")
            pending = await self._u.write(session_id, None, pings.share(session_id, ping))
        await pending

    async def close_due(self, session_id: str) -> None:
        """Close the pings whose time is up."""
        now = self._u.now()
        for ping in await self._u.store.open_pings(session_id):
            if ping.closes_at <= now:
                await self.close(session_id, ping.id)

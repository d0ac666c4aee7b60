"""The one way events leave the service: after their write commits, in commit order.

Every event an action decides on rides with its write (`Unit.write`); once the write has
committed, the writer hands it here. Three stages, one exit (the `Sink`, which the Socket.IO side
provides):

1. **In order.** Committed events queue for the emitter (bounded: when full, the writer waits;
   an event is never dropped, since a dropped event is a message lost to every client) and are
   sent in commit order. In a cluster, a change's events are sent before its session's lock is
   let go (`send`), so that every process sends one session's events in one order.
2. **Batched.** Presence changes and ping results are marked dirty after their commit and sent
   every 100 ms as one message per staff room: a lecture hall checking in at once costs a few
   messages for each staff screen, not one per participant. Staff see them within 250 ms
   (contract). The check-in code's rotation is a presence change with no participant in it.
3. **Disconnects.** Closing the sockets of a revoked token or a disabled person goes the same
   way (`disconnect`), after the write that revoked them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any, Protocol

from core import pings
from core.clock import Clock
from core.model import Emit, room_staff
from persistence.live.base import LiveStore
from service import views

log = logging.getLogger("companion.publish")

# Staff see presence changes and ping results within 250 ms (contract); batching every 100 ms
# leaves room for the send itself while merging a burst of check-ins into a few messages.
BATCH_SECONDS = 0.1
# Committed events waiting for the emitter. When full, the writer waits (back-pressure).
EMIT_QUEUE_BOUND = 10_000


class Sink(Protocol):
    """Where events go out: the Socket.IO side, in this process and (through Redis) in the others."""

    async def send(self, event: str, payload: dict[str, Any], room: str) -> None: ...

    async def disconnect(self, room: str) -> None: ...


class Publisher:
    """The after-commit publish path: the emitter queue, the batches, and the sink they leave through."""

    def __init__(self, store: LiveStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock
        self._sink: Sink | None = None
        self._emits: asyncio.Queue[Sequence[Emit]] = asyncio.Queue(EMIT_QUEUE_BOUND)
        self._presence_dirty: dict[str, set[str]] = {}
        self._results_dirty: dict[str, set[str]] = {}

    def attach(self, sink: Sink) -> None:
        """The Socket.IO side, once it is built (it is built with the service it serves)."""
        self._sink = sink

    # ------------------------------------------------------------ stage 1: in commit order

    async def committed(self, events: Sequence[Emit]) -> None:
        """The writer's hand-over: these events' write has committed."""
        await self._emits.put(events)

    async def send(self, events: Sequence[Emit]) -> None:
        """Send now (in a cluster, under the session's lock; else only from the emitter)."""
        assert self._sink is not None, "the publisher has no sink attached"
        for e in events:
            try:
                await self._sink.send(e.event, e.payload, e.room)
            except Exception:
                log.exception("could not send %s to %s", e.event, e.room)

    async def emit_forever(self) -> None:
        while True:
            await self.send(await self._emits.get())

    async def drain(self) -> None:
        """Send whatever committed events still wait (stopping)."""
        while not self._emits.empty():
            await self.send(self._emits.get_nowait())

    # ------------------------------------------------------------ stage 2: batched to staff

    def presence_changed(self, session_id: str, participant_id: str | None = None) -> None:
        """A participant's presence changed (committed); None: only the counts or the check-in code did."""
        dirty = self._presence_dirty.setdefault(session_id, set())
        if participant_id is not None:
            dirty.add(participant_id)

    def results_changed(self, session_id: str, ping_id: str) -> None:
        self._results_dirty.setdefault(session_id, set()).add(ping_id)

    async def batch_forever(self) -> None:
        while True:
            await asyncio.sleep(BATCH_SECONDS)
            await self.flush_batches()

    async def flush_batches(self) -> None:
        presence, self._presence_dirty = self._presence_dirty, {}
        results, self._results_dirty = self._results_dirty, {}
        for sid, pids in presence.items():
            try:
                event = await views.presence_event(self._store, sid, pids, self._clock.now())
                if event is not None:
                    await self.send([Emit("presence", event, room_staff(sid))])
            except Exception:
                log.exception("presence batch for %s failed", sid)
        for sid, ping_ids in results.items():
            for ping_id in ping_ids:
                try:
                    ping = await self._store.ping(sid, ping_id)
                    if ping is not None:
                        await self.send([Emit("ping:results", pings.results(ping), room_staff(sid))])
                except Exception:
                    log.exception("results of ping %s failed", ping_id)

    # ------------------------------------------------------------ stage 3: sockets to close

    async def disconnect(self, room: str) -> None:
        """Close every socket in a room, in every process (after the write that called for it)."""
        assert self._sink is not None, "the publisher has no sink attached"
        await self._sink.disconnect(room)

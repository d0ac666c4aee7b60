"""Who is connected: a participant's sockets open and close; this process's sockets stay on record."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from persistence.repos import connections
from service.unit import Unit

# This process, in the connections table and the live store: after a crash, its sockets end where
# it last said they were open.
PROCESS_ID = secrets.token_hex(8)
# How often this process tells the database its sockets are still open; after a crash they end
# where they were last known alive, so minutes present are off by at most this much.
KEEPALIVE_SECONDS = 15


class Presence:
    def __init__(self, unit: Unit) -> None:
        self._u = unit
        # Set while the process stops: one write has ended all of its sockets, closing them writes nothing more.
        self.stopping = False

    async def connected(self, session_id: str, participant_id: str, connection_id: str) -> None:
        """A participant's socket opened: record it; the first tab makes them connected."""
        now = self._u.now()
        store = self._u.store
        await self._u.ensure_loaded(session_id)
        async with store.lock(session_id):
            first = await store.attach(session_id, participant_id, connection_id)
            seen_by = await store.add_seen(session_id, participant_id) if first else []
            pending = await self._u.write(
                session_id,
                connections.open_connection(
                    connection_id=connection_id,
                    session_id=session_id,
                    participant_id=participant_id,
                    process_id=PROCESS_ID,
                    now=now,
                ),
            )
        await pending
        if first:
            self._u.publisher.presence_changed(session_id, participant_id)
        for ping_id in seen_by:
            self._u.publisher.results_changed(session_id, ping_id)

    async def disconnected(self, session_id: str, participant_id: str, connection_id: str) -> None:
        """A participant's socket closed: the last tab makes them disconnected."""
        now = self._u.now()
        store = self._u.store
        async with store.lock(session_id):
            last = await store.detach(session_id, participant_id, connection_id)
            pending = (
                None
                if self.stopping
                else await self._u.write(session_id, connections.close_connection(connection_id=connection_id, now=now))
            )
        if pending is not None:
            await pending
        if last:
            self._u.publisher.presence_changed(session_id, participant_id)

    async def refresh(self, tabs: dict[str, list[tuple[str, str]]]) -> None:
        """This process's participant sockets, per session, are still open (within the live store's TTL)."""
        for session_id, entries in tabs.items():
            await self._u.store.refresh(session_id, entries)

    async def expire(self, session_id: str) -> None:
        """Sockets of processes that stopped refreshing are gone (a shared live store forgets them)."""
        for participant_id in await self._u.store.expired(session_id):
            self._u.publisher.presence_changed(session_id, participant_id)

    async def end_stale(self) -> None:
        """Every connection still open on record was left by a process that died (the embedded default starts)."""
        now = self._u.now()
        await self._u.submit(lambda db: connections.end_stale_connections(db, alive_before=now))

    async def keep_alive(self, *, clustered: bool) -> None:
        """This process's sockets are open; in a cluster, those of processes that died end."""
        now = self._u.now()
        await self._u.submit(lambda db: connections.keep_alive(db, process_id=PROCESS_ID, now=now))
        if clustered:
            # Sockets of a process that died end where that process last said they were open.
            stale = now - timedelta(seconds=3 * KEEPALIVE_SECONDS)
            await self._u.submit(lambda db: connections.end_stale_connections(db, alive_before=stale))

    async def end_mine(self, now: datetime) -> None:
        """Stopping: one write ends every socket of this process."""
        self.stopping = True
        await self._u.submit(lambda db: connections.end_stale_connections(db, alive_before=now, process_id=PROCESS_ID))

"""What every area of the service shares: lock the session, decide, write, publish after commit.

An action takes the session's lock, asks the pure core for the new state and the events, puts the
new state in the live store and queues the write with its events, all under the lock, so that
writes commit, and events go out, in the order the state changed. It then lets the lock go and
awaits the commit before answering: nothing is acknowledged that a crash could take back.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession as DbSession
from sqlalchemy.ext.asyncio import async_sessionmaker

from core.clock import Clock
from core.errors import NotFound
from core.model import Emit, SessionState
from persistence.live.base import LiveStore
from persistence.repos import sessions
from persistence.writer import Batched, Writer
from service import metrics
from service.publish import Publisher

T = TypeVar("T")
Op = Callable[[DbSession], Awaitable[Any]] | Batched


class Unit:
    """The live store, the writer, the database, the clock and the publish path, used the one way."""

    def __init__(
        self,
        *,
        store: LiveStore,
        sessionmaker: async_sessionmaker[DbSession],
        clock: Clock,
        publisher: Publisher,
        ordered_publish: bool,
    ) -> None:
        self.store = store
        self.clock = clock  # every action reads the time here, once, and hands it to the core
        self.publisher = publisher
        self._db = sessionmaker
        self.writer = Writer(
            sessionmaker, publish=publisher.committed, on_failure=self._forget, on_commit=metrics.committed
        )
        # With several processes, events of one session must leave in the order its state changed
        # although different processes commit them: a change with events then commits and publishes
        # before the session's lock is let go. One process needs no such care: its writer commits in
        # lock order and the publisher sends in commit order, so writes can group.
        self._ordered = ordered_publish

    def sessions(self) -> DbSession:
        """A database session of its own, for reads of several statements and the job runner's own transactions."""
        return self._db()

    def now(self) -> datetime:
        return self.clock.now()

    async def read(self, fn: Callable[..., Awaitable[T]], **kwargs: Any) -> T:
        """Run a repository read in its own short transaction."""
        async with self._db() as db:
            return await fn(db, **kwargs)

    async def submit(self, op: Op | None) -> Any:
        """Write outside any live session (staff, tokens, the process's own records); answers once committed."""
        return await self.writer.submit(op)

    async def barrier(self) -> None:
        """Returns once every write queued before it has committed."""
        await self.writer.barrier()

    @asynccontextmanager
    async def session(self, session_id: str) -> AsyncIterator[SessionState]:
        """Hold the session's lock with its live state loaded (from the database on first use)."""
        async with self.store.lock(session_id):
            state = await self.store.session(session_id)
            if state is None:
                snapshot = await self.read(sessions.load_snapshot, session_id=session_id)
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

    async def write(self, session_id: str, op: Op | None, events: Sequence[Emit] = ()) -> asyncio.Future[Any]:
        """Queue a write under the session's lock; the future settles once it is committed.

        Its events are published once it has committed, in commit order, by the one publish path
        (op None: nothing to write, the events still go out in their place in that order).
        """
        if not self._ordered or not events:
            return await self.writer.enqueue(op, events=events, session_id=session_id)
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        done.set_result(await self.writer.submit(op, session_id=session_id))
        await self.publisher.send(events)
        return done

    async def write_now(self, session_id: str, op: Op) -> Any:
        """A write under the session's lock whose result the action needs before it goes on (no events)."""
        return await self.writer.submit(op, session_id=session_id)

    def _forget(self, session_id: str) -> None:
        """A write failed: drop the live state so it is read again from the database."""
        asyncio.get_running_loop().create_task(self.store.evict(session_id))

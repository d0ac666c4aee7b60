"""Group commit: every change goes through one writer that commits several at once under load.

A caller hands over a write and awaits it; the acknowledgement goes out only once its transaction
has committed, so whatever a client was told survives a crash. The writer takes all writes that
queued up while the previous commit ran and commits them together: under a burst (a lecture hall
checking in at once) one fsync serves hundreds of check-ins, and when idle a write commits alone.
Events ride along with their write and are handed to the emitter in commit order, after commit.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession as DbSession
from sqlalchemy.ext.asyncio import async_sessionmaker

from core.errors import AppError, Unavailable

log = logging.getLogger("companion.writer")

Op = Callable[[DbSession], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class Batched:
    """A write that is one statement with parameters: the writer runs all of a commit group's
    writes of the same statement as one executemany (a lecture hall's check-ins in one call
    instead of one round trip each)."""

    key: str
    statement: Callable[[str], Any]  # the statement for a dialect name
    params: dict[str, Any]


# Writes waiting for the writer. The bound makes producers wait (back-pressure) instead of growing
# memory without limit when the database is slower than the clients; 10,000 is several bursts of
# a 2,000-seat class, so a healthy database never reaches it.
QUEUE_BOUND = 10_000
# Writes in one transaction: large enough to amortise the commit, small enough that one slow batch
# does not hold every acknowledgement back for long.
MAX_BATCH = 500


@dataclass(slots=True)
class _Job:
    op: Op | Batched | None
    events: Sequence[Any]
    session_id: str | None
    future: asyncio.Future[Any]
    result: Any = None
    error: BaseException | None = field(default=None)


class Writer:
    """Runs writes in commit groups; `submit` returns once the write is durable."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[DbSession],
        *,
        publish: Callable[[Sequence[Any]], Awaitable[None]],
        on_failure: Callable[[str], None],
        on_commit: Callable[[float, int], None] | None = None,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._on_commit = on_commit  # told each commit's seconds and writes (the service's metrics)
        self._publish = publish  # hands committed events to the emitter, in commit order
        self._on_failure = on_failure  # told which session's live state may now differ from the database
        self._queue: asyncio.Queue[_Job] = asyncio.Queue(QUEUE_BOUND)
        self._task: asyncio.Task[None] | None = None
        self.commits = 0
        self.writes = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="companion-writer")

    async def stop(self) -> None:
        """Commit what is queued, then stop."""
        if self._task is None:
            return
        await self.barrier()
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            pass
        self._task = None

    @property
    def dead(self) -> bool:
        """The writer loop has stopped (it only stops on shutdown)."""
        return self._task is None or self._task.done()

    async def enqueue(
        self, op: Op | Batched | None, *, events: Sequence[Any] = (), session_id: str | None = None
    ) -> asyncio.Future[Any]:
        """Queue op (in order with every other write); the future settles once it has committed.

        Callers that hold a session's lock enqueue under it, so that writes commit in the order the
        live state changed, and await the future after letting the lock go (so writes group).
        """
        if self.dead:
            raise Unavailable("the server is shutting down")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        await self._queue.put(_Job(op, events, session_id, future))
        return future

    async def submit(
        self, op: Op | Batched | None, *, events: Sequence[Any] = (), session_id: str | None = None
    ) -> Any:
        """Run op in a transaction; return its result once committed (its events then go out)."""
        return await (await self.enqueue(op, events=events, session_id=session_id))

    async def barrier(self) -> None:
        """Returns once every write submitted before it has committed."""
        await self.submit(None)

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < MAX_BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._commit(batch)
            except asyncio.CancelledError:
                for job in batch:
                    if not job.future.done():
                        job.future.set_exception(Unavailable("the server is shutting down"))
                raise
            except Exception as e:  # keep serving: every job of the batch is answered below
                log.exception("writer batch failed")
                for job in batch:
                    job.error = job.error or Unavailable(f"the database did not take the change: {e}")
            await self._settle(batch)

    async def _commit(self, batch: list[_Job]) -> None:
        writes = [job for job in batch if job.op is not None]
        if not writes:
            return
        started = time.perf_counter()
        try:
            await self._transaction(writes)
        except AppError:
            # One write refused itself: replay them one by one so the others still commit.
            for job in writes:
                await self._alone(job)
        except SQLAlchemyError as e:
            log.warning("commit of %d writes failed (%s); retrying one by one", len(writes), e)
            for job in writes:
                await self._alone(job)
        else:
            self.commits += 1
            self.writes += len(writes)
            if self._on_commit is not None:
                self._on_commit(time.perf_counter() - started, len(writes))

    async def _transaction(self, jobs: list[_Job]) -> None:
        async with self._sessionmaker() as db, db.begin():
            dialect = db.get_bind().dialect.name
            # Batched writes gather by statement; any other write first runs those gathered
            # before it, so a write never runs ahead of one it may depend on.
            groups: dict[str, tuple[Batched, list[dict[str, Any]]]] = {}
            for job in jobs:
                if isinstance(job.op, Batched):
                    groups.setdefault(job.op.key, (job.op, []))[1].append(job.op.params)
                    continue
                await _run_groups(db, dialect, groups)
                assert job.op is not None
                job.result = await job.op(db)
            await _run_groups(db, dialect, groups)

    async def _alone(self, job: _Job) -> None:
        try:
            await self._transaction([job])
            self.commits += 1
            self.writes += 1
        except AppError as e:
            job.error = e
        except SQLAlchemyError as e:
            log.error("write failed: %s", e)
            job.error = Unavailable("the database did not take the change; try again")

    async def _settle(self, batch: list[_Job]) -> None:
        for job in batch:
            if job.error is not None:
                if job.session_id is not None:
                    self._on_failure(job.session_id)
                if not job.future.done():
                    job.future.set_exception(job.error)
                continue
            if job.events:
                await self._publish(job.events)
            if not job.future.done():
                job.future.set_result(job.result)


async def _run_groups(db: DbSession, dialect: str, groups: dict[str, tuple[Batched, list[dict[str, Any]]]]) -> None:
    for first, params in groups.values():
        await db.execute(first.statement(dialect), params)
    groups.clear()

"""The job runner: claims due jobs, runs each kind's handler, marks the outcome. One per process.

Claims and marks are short transactions of their own, not writes through the writer: a claim must
return its rows and take its lock its own way on each database (persistence.repos.jobs), and a mark
should commit as soon as the handler's side effect is done (a mail handed to SMTP), not behind a
burst of check-ins, because until it commits a crash makes the job run again. Exactly once across
processes comes from the database (row locks and leases), which one process's writer cannot give.

At least once, not exactly once: a handler that did its side effect and died before its job was
marked runs again after the lease. Mail handlers therefore send with a Message-ID derived from the
job's key, so the repeat is recognisable as the same mail (docs/jobs.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession as DbSession
from sqlalchemy.ext.asyncio import async_sessionmaker

from core.clock import Clock
from core.jobs import HANDLER_SHARE_OF_LEASE, LEASE, Job, exhausted
from persistence.repos import jobs
from service import metrics
from service.throttle import LogThrottle

log = logging.getLogger("companion.jobs")

Handler = Callable[[Job], Awaitable[None]]

# A claim that fails (the database is away) is tried again after this, doubling up to the cap.
RETRY_FIRST_S = 1.0
RETRY_CAP_S = 60.0
# Shutdown waits this long for the handlers of the batch in hand; those still running then are
# cancelled and run again elsewhere once their lease has run out.
STOP_WAIT_S = 10.0
# A job due this long ago and not done is late (/metrics: companion_jobs_late): the runner claims due
# jobs within a second or two, so a minute means it is stuck, down, or far behind.
LATE_AFTER = timedelta(minutes=1)
# An outage is logged at most this often.
FAILURE_LOG_S = 60.0


class Skip(Exception):
    """Raised by a handler when its job has nothing left to do (the session was cancelled, the person left)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class GiveUp(Exception):
    """Raised (or inherited) by a handler whose job no retry can mend: it fails for good at once."""


class JobRunner:
    """Claims up to `batch` due jobs of the kinds it has handlers for every `every_s`, and runs them."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[DbSession],
        clock: Clock,
        handlers: Mapping[str, Handler],
        *,
        every_s: float,
        batch: int,
        lease: timedelta = LEASE,
    ) -> None:
        self._db = sessionmaker
        self._clock = clock
        self._handlers = dict(handlers)
        self._every_s = every_s
        # The jobs of one batch run side by side, so each starts at once and ends (handler timeout)
        # within its lease; the batch is therefore also the bound on concurrent handlers.
        self._batch = batch
        self._lease = lease
        self._handler_timeout_s = lease.total_seconds() * HANDLER_SHARE_OF_LEASE
        self._stopping = asyncio.Event()
        self._stopped = asyncio.Event()
        self._nudged = asyncio.Event()
        self._running = False
        self._failures = LogThrottle(log, FAILURE_LOG_S)

    async def run(self) -> None:
        """The background loop: a batch at a time until stopped; a full batch is followed by another at once."""
        self._running = True
        delay = RETRY_FIRST_S
        try:
            while not self._stopping.is_set():
                try:
                    claimed = await self.run_once()
                except (SQLAlchemyError, OSError) as e:
                    self._failures.warning("claim", "jobs: could not claim (%s); retrying in %.0fs", e, delay)
                    await self._pause(delay)
                    delay = min(delay * 2, RETRY_CAP_S)
                    continue
                delay = RETRY_FIRST_S
                if claimed < self._batch:
                    await self._pause(self._every_s)
        finally:
            self._running = False
            self._stopped.set()

    async def stop(self, wait_s: float = STOP_WAIT_S) -> None:
        """Claim no more; wait (a while) for the batch in hand to be run and marked. The caller then cancels run()."""
        self._stopping.set()
        if self._running:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopped.wait(), wait_s)

    def wake(self) -> None:
        """Look for due jobs now rather than at the next tick: this process has just queued some."""
        self._nudged.set()

    async def backlog(self, late_after: timedelta = LATE_AFTER) -> tuple[int, int]:
        """(due now, due longer than `late_after` ago) among the jobs not yet done, for /metrics."""
        async with self._db() as db:
            return await jobs.backlog(db, now=self._clock.now(), late_after=late_after)

    async def run_once(self) -> int:
        """Claim one batch of due jobs, run them side by side, mark each; answers how many were claimed."""
        claimed = await jobs.claim(
            self._db, now=self._clock.now(), limit=self._batch, lease=self._lease, kinds=self._handlers
        )
        async with asyncio.TaskGroup() as group:
            for job in claimed:
                group.create_task(self._run_job(job), name=f"companion-job-{job.id}")
        return len(claimed)

    async def _run_job(self, job: Job) -> None:
        outcome, detail = await self._attempt(job)
        metrics.JOBS_RUN.labels(job.kind, outcome).inc()
        try:
            async with self._db() as db, db.begin():
                now = self._clock.now()
                if outcome == "done":
                    marked = await jobs.complete(db, job_id=job.id, now=now, attempt=job.attempts)
                elif outcome == "skipped":
                    marked = await jobs.skip(db, job_id=job.id, reason=detail, now=now, attempt=job.attempts)
                else:
                    after = await jobs.fail(db, job=job, now=now, error=detail, permanent=outcome == "refused")
                    marked = after is not None
                    if after is not None and after.state == "failed":
                        log.error("jobs: %s job %s (%s) given up after %d attempts: %s", *_named(job), detail)
        except (SQLAlchemyError, OSError) as e:
            # Unmarked, the job runs again once its lease has run out: the at-least-once window.
            log.error("jobs: %s job %s (%s) ran but was not marked %s (%s)", *_named(job)[:3], outcome, e)
            return
        if not marked:
            log.warning("jobs: %s job %s (%s) was claimed again elsewhere (its lease ran out)", *_named(job)[:3])

    async def _attempt(self, job: Job) -> tuple[str, str]:
        """Run the job's handler: ("done", ""), ("skipped", why), ("failed", the error) or ("refused", the error)."""
        if exhausted(job):
            return "failed", f"its worker stopped before marking it, {job.attempts - 1} times"
        handler = self._handlers[job.kind]
        try:
            async with asyncio.timeout(self._handler_timeout_s) as deadline:
                await handler(job)
        except Skip as s:
            return "skipped", s.reason
        except GiveUp as e:
            log.warning("jobs: %s job %s (%s) refused on attempt %d, not retried: %s", *_named(job), e)
            return "refused", _error(e)
        except asyncio.CancelledError:
            raise
        except TimeoutError as e:
            if deadline.expired():
                return "failed", f"the handler did not finish within {self._handler_timeout_s:.0f}s"
            return "failed", _error(e)
        except Exception as e:  # any handler's error fails this job alone; the others of the batch go on
            log.warning("jobs: %s job %s (%s) failed on attempt %d", *_named(job), exc_info=True)
            return "failed", _error(e)
        return "done", ""

    async def _pause(self, seconds: float) -> None:
        """Wait `seconds`, or until stopped or woken."""
        if self._nudged.is_set():
            self._nudged.clear()
            return
        stopping = asyncio.ensure_future(self._stopping.wait())
        nudged = asyncio.ensure_future(self._nudged.wait())
        try:
            await asyncio.wait((stopping, nudged), timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            nudged.cancel()
        self._nudged.clear()


def _named(job: Job) -> tuple[str, int, str, int]:
    return job.kind, job.id, job.key, job.attempts


def _error(e: BaseException) -> str:
    return f"{type(e).__name__}: {e}" if str(e) else type(e).__name__

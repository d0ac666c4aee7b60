"""Records over time: legal holds, and the retention purge (service/purge.py) run daily as a job or by hand.

The daily job (`retention`) is keyed by the date it is due, so however many processes start, one is
queued per day: each start queues the next if none waits, and each run queues the next day's before it
purges (a run that fails is retried; the days after it still have theirs).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from core import retention as rules
from core.errors import Unavailable
from core.jobs import Job, job_key
from core.model import Actor, SessionState
from persistence.repos import jobs
from persistence.repos import purge as purge_repo
from persistence.repos import retention as repo
from service.purge import Purge
from service.unit import Unit

log = logging.getLogger("companion.retention")

RETENTION = "retention"  # the daily purge's job kind
DAILY_AT = time(3, 0, tzinfo=UTC)  # a quiet hour for most of the world's classes


class Unfinished(Exception):
    """The daily purge ran out of its time with more to do: the job is tried again (and goes on)."""


def next_run(now: datetime) -> datetime:
    """The next daily purge after `now`."""
    today = datetime.combine(now.astimezone(UTC).date(), DAILY_AT)
    return today if today > now else today + timedelta(days=1)


class Retention:
    def __init__(self, unit: Unit, keep: rules.Retention | None = None, *, budget_s: float | None = None) -> None:
        self._u = unit
        self.purger = Purge(unit, keep if keep is not None else rules.parse(None))
        # The daily job stops purging after this (within its lease); the job's retry goes on from there.
        self._budget_s = budget_s

    async def purge(self, *, dry_run: bool = False, max_seconds: float | None = None) -> dict[str, Any]:
        """Delete what COMPANION_RETENTION says is past keeping at the unit's clock's now (service/purge.py)."""
        return await self.purger.run(dry_run=dry_run, max_seconds=max_seconds)

    async def ensure_daily(self) -> None:
        """At start: queue the next daily purge unless one waits already (a database away: the next start)."""
        try:
            if await self._u.read(purge_repo.pending_job, kind=RETENTION):
                return
            await self._u.submit(lambda db: self._schedule(db, next_run(self._u.now())))
        except (SQLAlchemyError, OSError, Unavailable) as e:
            log.warning("retention: the daily purge was not queued (%s); the next start queues it", e)

    async def run_daily(self, job: Job) -> None:
        """The `retention` job: queue tomorrow's, then purge (a purge cut short by its time fails, to go on)."""
        now = self._u.now()
        await self._u.submit(lambda db: self._schedule(db, next_run(max(now, job.due_at))))
        report = await self.purge(max_seconds=self._budget_s)
        if not report["complete"]:
            raise Unfinished(f"deleted {report['total']:,} rows, more to do")

    async def _schedule(self, db: Any, due: datetime) -> None:
        await jobs.schedule(
            db,
            kind=RETENTION,
            key=job_key(RETENTION, None, "*", due.date().isoformat()),
            session_id=None,
            due_at=due,
            payload={},
            now=self._u.now(),
        )

    async def hold(self, actor: Actor, s: SessionState, *, hold: bool, reason: str) -> dict[str, Any]:
        """Put a session on legal hold or take it off (audited `hold`); answers the session with its hold."""
        now = self._u.now()

        async def op(db: Any) -> dict[str, Any] | None:
            await repo.set_hold(db, actor=actor, session_id=s.id, hold=hold, reason=reason, now=now)
            return await repo.hold_of(db, session_id=s.id)

        return {**s.public(), "legal_hold": await self._u.submit(op)}

    async def hold_of(self, s: SessionState) -> dict[str, Any] | None:
        return await self._u.read(repo.hold_of, session_id=s.id)

"""The jobs table and its runner, on SQLite and on PostgreSQL: scheduling, claims under a lease, back-off, marks.

Time is handed in (an explicit `now`, or a FakeClock for the runner): nothing here waits for a lease
or a back-off to pass on the wall clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlalchemy.ext.asyncio import AsyncSession as DbSession

from core import jobs as rules
from core.jobs import Job
from persistence.db import create_engine, migrate, sessionmaker
from persistence.models import JobRecord
from persistence.repos import jobs
from service.jobs import JobRunner, Skip
from tests.clock import FakeClock

NOW = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)
Sessions = async_sessionmaker[DbSession]


async def _engine(url: str) -> AsyncEngine:
    engine = create_engine(url)
    if url.startswith("sqlite"):
        await migrate(engine)
    return engine


def _url(tmp_path: Any, backing: dict[str, Any]) -> str:
    return str(backing.get("database_url") or f"sqlite+aiosqlite:///{tmp_path / 'jobs.db'}")


@pytest.fixture
async def engine(tmp_path: Any, backing: dict[str, Any]) -> AsyncIterator[AsyncEngine]:
    """A migrated database of the configuration: a SQLite file, or a fresh PostgreSQL database."""
    engine = await _engine(_url(tmp_path, backing))
    yield engine
    await engine.dispose()


@pytest.fixture
def db(engine: AsyncEngine) -> Sessions:
    return sessionmaker(engine)


async def add(
    db: Sessions, *dues: datetime, kind: str = "reminder", session_id: str = "s1", payload: dict[str, Any] | None = None
) -> list[int]:
    """Schedule one job per due time (recipients p0, p1, ...); answers their ids in that order."""
    async with db() as s, s.begin():
        for n, due in enumerate(dues):
            key = rules.job_key(kind, session_id, f"p{n}@example.org", 1)
            assert await jobs.schedule(
                s, kind=kind, key=key, session_id=session_id, due_at=due, payload=payload or {"n": n}, now=NOW
            )
        rows = await s.execute(select(JobRecord.id, JobRecord.key).where(JobRecord.session_id == session_id))
        by_key = {key: id_ for id_, key in rows.all()}
    return [by_key[rules.job_key(kind, session_id, f"p{n}@example.org", 1)] for n in range(len(dues))]


async def all_jobs(db: Sessions, session_id: str = "s1") -> dict[int, Job]:
    async with db() as s:
        return {j.id: j for j in await jobs.for_session(s, session_id=session_id)}


async def claim(db: Sessions, now: datetime, limit: int = 100, **kw: Any) -> list[Job]:
    return await jobs.claim(db, now=now, limit=limit, lease=kw.pop("lease", LEASE), **kw)


def minutes(m: float) -> datetime:
    return NOW + timedelta(minutes=m)


# ---------------------------------------------------------------- scheduling


async def test_schedule_is_idempotent_by_key(db: Sessions) -> None:
    """A second schedule under the same key adds nothing and changes nothing, whatever the job's state."""
    key = rules.job_key("reminder", "s1", "ann@example.org", 1)
    args: dict[str, Any] = {"kind": "reminder", "key": key, "session_id": "s1", "payload": {"to": "ann"}, "now": NOW}
    async with db() as s, s.begin():
        assert await jobs.schedule(s, due_at=minutes(10), **args) is True
        assert await jobs.schedule(s, due_at=minutes(20), **args) is False
    (job,) = (await all_jobs(db)).values()
    assert (job.key, job.due_at, job.state, job.attempts, job.payload) == (
        key,
        minutes(10),
        "pending",
        0,
        {"to": "ann"},
    )

    (taken,) = await claim(db, minutes(10))
    async with db() as s, s.begin():
        assert await jobs.complete(s, job_id=taken.id, now=minutes(10))
        assert await jobs.schedule(s, due_at=minutes(30), **args) is False  # done stays done, not sent again
        assert await jobs.schedule(s, due_at=minutes(30), **{**args, "key": key.replace(":1", ":2")}) is True
    assert sorted(j.state for j in (await all_jobs(db)).values()) == ["done", "pending"]


# ---------------------------------------------------------------- claims


async def test_claim_takes_due_jobs_only_in_due_order_up_to_the_limit(db: Sessions) -> None:
    late, later, early, future = await add(db, minutes(-2), minutes(-1), minutes(-3), minutes(1))
    first = await claim(db, NOW, limit=2)
    assert [j.id for j in first] == [early, late]
    assert all((j.state, j.attempts, j.lease_until) == ("running", 1, NOW + LEASE) for j in first)
    assert [j.id for j in await claim(db, NOW)] == [later]
    assert await claim(db, NOW) == []
    assert (await all_jobs(db))[future].state == "pending"
    assert [j.id for j in await claim(db, minutes(1))] == [future]  # due at its time exactly


async def test_claim_takes_only_the_kinds_asked_for(db: Sessions) -> None:
    (reminder,) = await add(db, NOW)
    (feedback,) = await add(db, NOW, kind="feedback", session_id="s2")
    assert await claim(db, NOW, kinds=[]) == []
    assert [j.id for j in await claim(db, NOW, kinds=["feedback"])] == [feedback]
    assert [j.id for j in await claim(db, NOW, kinds={"reminder": None})] == [reminder]


async def test_a_claimed_job_is_not_claimed_again_until_its_lease_runs_out(db: Sessions) -> None:
    (job_id,) = await add(db, NOW)
    (first,) = await claim(db, NOW)
    assert await claim(db, NOW + LEASE - timedelta(seconds=1)) == []
    assert await claim(db, NOW + LEASE) == []  # the lease holds up to its end
    (second,) = await claim(db, NOW + LEASE + timedelta(seconds=1))
    assert (second.id, second.attempts, second.lease_until) == (job_id, 2, NOW + 2 * LEASE + timedelta(seconds=1))
    async with db() as s, s.begin():
        # The first worker comes back late: its marks are fenced off by the attempt.
        assert not await jobs.complete(s, job_id=job_id, now=NOW + LEASE, attempt=first.attempts)
        assert await jobs.fail(s, job=first, now=NOW + LEASE, error="late") is None
        assert not await jobs.skip(s, job_id=job_id, reason="late", now=NOW + LEASE, attempt=first.attempts)
        assert await jobs.complete(s, job_id=job_id, now=NOW + LEASE, attempt=second.attempts)
    assert (await all_jobs(db))[job_id].state == "done"
    assert await claim(db, minutes(60)) == []


async def test_backoff_doubles_and_is_capped_and_the_job_fails_after_max_attempts(db: Sessions) -> None:
    (job_id,) = await add(db, NOW)
    now, waits = NOW, []
    for attempt in range(1, rules.MAX_ATTEMPTS + 1):
        (job,) = await claim(db, now)
        assert job.attempts == attempt
        async with db() as s, s.begin():
            after = await jobs.fail(s, job=job, now=now, error=f"attempt {attempt} failed")
        assert after is not None
        stored = (await all_jobs(db))[job_id]
        assert (stored.state, stored.last_error, stored.lease_until) == (after.state, after.last_error, None)
        if stored.state == "failed":
            break
        waits.append(stored.due_at - now)
        assert await claim(db, stored.due_at - timedelta(seconds=1)) == []  # not before its back-off
        now = stored.due_at
    assert waits == [rules.backoff(n) for n in range(1, rules.MAX_ATTEMPTS)]
    assert waits[0] == timedelta(seconds=30) and waits[-1] == timedelta(minutes=32)
    assert stored.state == "failed" and stored.attempts == rules.MAX_ATTEMPTS
    assert await claim(db, now + timedelta(days=1)) == []  # failed is final
    async with db() as s:
        assert [j.id for j in await jobs.failed(s, session_id="s1")] == [job_id]
        assert [j.id for j in await jobs.failed(s)] == [job_id]
        assert await jobs.failed(s, session_id="other") == []


async def test_skip_is_final_and_says_why(db: Sessions) -> None:
    (job_id,) = await add(db, NOW)
    (job,) = await claim(db, NOW)
    async with db() as s, s.begin():
        assert await jobs.skip(s, job_id=job.id, reason="the session was cancelled", now=NOW, attempt=job.attempts)
    stored = (await all_jobs(db))[job_id]
    assert (stored.state, stored.last_error) == ("skipped", "the session was cancelled")
    assert await claim(db, NOW + 2 * LEASE) == []


async def test_cancel_and_reschedule_touch_pending_jobs_only(db: Sessions) -> None:
    pending, running, done, other_kind = await add(db, NOW, NOW, NOW, minutes(5))
    async with db() as s, s.begin():
        await s.execute(update(JobRecord).where(JobRecord.id == other_kind).values(kind="feedback"))
    taken = {j.id: j for j in await claim(db, NOW, limit=2)}
    assert set(taken) == {pending, running}
    async with db() as s, s.begin():
        assert await jobs.complete(s, job_id=done, now=NOW) is False  # not running: nothing to mark
        # Put `pending` back as it was, and finish `done`, to have one job in each state.
        await s.execute(update(JobRecord).where(JobRecord.id == pending).values(state="pending", lease_until=None))
        await s.execute(update(JobRecord).where(JobRecord.id == done).values(state="done"))

    async with db() as s, s.begin():
        moved = await jobs.reschedule(s, session_id="s1", kind="reminder", due_for=lambda j: minutes(30), now=NOW)
    assert moved == 1
    after = await all_jobs(db)
    assert (after[pending].due_at, after[running].due_at, after[done].due_at) == (minutes(30), NOW, NOW)
    assert after[other_kind].due_at == minutes(5)

    async with db() as s, s.begin():
        by_key = {after[pending].key: minutes(40), after[running].key: minutes(40), after[done].key: minutes(40)}
        assert await jobs.reschedule(s, session_id="s1", kind="reminder", due_for=by_key, now=NOW) == 1
        assert await jobs.reschedule(s, session_id="s1", kind="reminder", due_for={}, now=NOW) == 0
        assert await jobs.reschedule(s, session_id="s1", kind="reminder", due_for=lambda j: None, now=NOW) == 0
    assert (await all_jobs(db))[pending].due_at == minutes(40)

    async with db() as s, s.begin():
        assert await jobs.cancel_for_session(s, session_id="s1", kinds=["feedback"], now=NOW) == 1
        assert await jobs.cancel_for_session(s, session_id="other", kinds=None, now=NOW) == 0
        assert await jobs.cancel_for_session(s, session_id="s1", kinds=None, now=NOW) == 1
    states = {i: j.state for i, j in (await all_jobs(db)).items()}
    assert states == {pending: "cancelled", running: "running", done: "done", other_kind: "cancelled"}
    # Cancelled and done are final; the running one is taken again once its lease has run out.
    assert [j.id for j in await claim(db, minutes(60))] == [running]


# ---------------------------------------------------------------- the claim on each database


def test_sqlalchemy_drops_for_update_on_sqlite() -> None:
    """with_for_update compiles to nothing on SQLite, without a warning: the SQLite claim cannot rely on it."""
    query = select(JobRecord.id).where(JobRecord.state == "pending").limit(5).with_for_update(skip_locked=True)
    on_sqlite = str(query.compile(dialect=sqlite.dialect()))
    on_postgresql = str(query.compile(dialect=postgresql.dialect()))
    assert "FOR UPDATE" not in on_sqlite.upper() and "LOCKED" not in on_sqlite.upper()
    assert on_postgresql.rstrip().endswith("FOR UPDATE SKIP LOCKED")


def _record_statements(engine: AsyncEngine) -> list[str]:
    seen: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(engine.sync_engine, "before_cursor_execute", before)
    return seen


async def test_the_sqlite_claim_is_one_update_returning_under_begin_immediate(tmp_path: Any) -> None:
    engine = await _engine(f"sqlite+aiosqlite:///{tmp_path / 'claim.db'}")
    try:
        db = sessionmaker(engine)
        await add(db, NOW, NOW)
        seen = _record_statements(engine)
        assert len(await claim(db, NOW)) == 2
        assert [s.split()[0] for s in seen] == ["BEGIN", "UPDATE", "COMMIT"]
        assert seen[0] == "BEGIN IMMEDIATE"
        # One statement picks and takes the rows: nothing can come between the choice and the update.
        assert "WHERE jobs.id IN (SELECT jobs.id FROM jobs WHERE" in seen[1] and " LIMIT " in seen[1]
        assert " RETURNING " in seen[1]
        # The connection went back to the pool in the driver's own mode: an ordinary write still commits.
        async with db() as s, s.begin():
            await s.execute(update(JobRecord).values(last_error="touched"))
        assert {j.last_error for j in (await all_jobs(db)).values()} == {"touched"}
    finally:
        await engine.dispose()


async def test_two_claimers_never_take_the_same_job(tmp_path: Any, backing: dict[str, Any]) -> None:
    """Two engines (two connection pools, as two processes would have) claim 500 due jobs in small batches
    concurrently: each job is claimed once, by one of them, and all are claimed."""
    url = _url(tmp_path, backing)
    first, second = await _engine(url), await _engine(url)
    try:
        db = sessionmaker(first)
        dues = [NOW - timedelta(seconds=n % 17) for n in range(500)]
        async with db() as s, s.begin():
            for n, due in enumerate(dues):
                key = rules.job_key("reminder", "s1", f"p{n}", 1)
                await jobs.schedule(s, kind="reminder", key=key, session_id="s1", due_at=due, payload={}, now=NOW)
        statements = _record_statements(first)

        async def claimer(engine: AsyncEngine) -> list[int]:
            mine: list[int] = []
            sessions = sessionmaker(engine)
            while taken := await claim(sessions, NOW, limit=7):
                mine += [j.id for j in taken]
                async with sessions() as s, s.begin():
                    for j in taken:
                        assert await jobs.complete(s, job_id=j.id, now=NOW, attempt=j.attempts)
                await asyncio.sleep(0)
            return mine

        a, b = await asyncio.gather(claimer(first), claimer(second))
        assert len(a) == len(set(a)) and len(b) == len(set(b))
        assert not set(a) & set(b)
        stored = await all_jobs(db)
        assert set(a) | set(b) == set(stored) and len(stored) == 500
        assert {(j.state, j.attempts) for j in stored.values()} == {("done", 1)}
        assert a and b, "both claimers took part"
        marker = "BEGIN IMMEDIATE" if url.startswith("sqlite") else "FOR UPDATE SKIP LOCKED"
        assert any(marker in s for s in statements)
    finally:
        await first.dispose()
        await second.dispose()


# ---------------------------------------------------------------- the runner


class Handlers:
    """Handlers that record what they ran, and fail, skip or hang as a job's payload says."""

    def __init__(self) -> None:
        self.ran: list[tuple[int, int]] = []  # (job id, attempt)
        self.release = asyncio.Event()

    async def reminder(self, job: Job) -> None:
        self.ran.append((job.id, job.attempts))
        match job.payload.get("do"):
            case "skip":
                raise Skip("the session was cancelled")
            case "fail":
                raise ConnectionRefusedError("SMTP refused")
            case "hang":
                await self.release.wait()


def runner(db: Sessions, clock: FakeClock, handlers: Handlers, **kw: Any) -> JobRunner:
    return JobRunner(db, clock, {"reminder": handlers.reminder}, every_s=kw.pop("every_s", 0.01), batch=10, **kw)


async def test_the_runner_marks_each_outcome_and_retries_after_the_backoff(db: Sessions) -> None:
    clock, handlers = FakeClock(NOW), Handlers()
    (ok,) = await add(db, NOW, session_id="a")
    (skipped,) = await add(db, NOW, session_id="b", payload={"do": "skip"})
    (failing,) = await add(db, NOW, session_id="c", payload={"do": "fail"})
    (later,) = await add(db, minutes(1), session_id="d")
    jobs_runner = runner(db, clock, handlers)

    assert await jobs_runner.run_once() == 3
    assert sorted(handlers.ran) == sorted([(ok, 1), (skipped, 1), (failing, 1)])
    assert [(j.state, j.last_error) for j in (await all_jobs(db, "a")).values()] == [("done", None)]
    assert [(j.state, j.last_error) for j in (await all_jobs(db, "b")).values()] == [
        ("skipped", "the session was cancelled")
    ]
    (failed,) = (await all_jobs(db, "c")).values()
    assert (failed.state, failed.due_at, failed.last_error) == (
        "pending",
        NOW + timedelta(seconds=30),
        "ConnectionRefusedError: SMTP refused",
    )

    clock.advance(seconds=29)
    assert await jobs_runner.run_once() == 0
    clock.advance(seconds=1)
    assert await jobs_runner.run_once() == 1  # the failed one, after its 30 s
    assert handlers.ran[-1] == (failing, 2)
    assert (await all_jobs(db, "c"))[failing].due_at == clock.now() + timedelta(minutes=1)
    clock.advance(seconds=30)
    assert await jobs_runner.run_once() == 1
    assert handlers.ran[-1] == (later, 1)


async def test_a_handler_that_outlives_its_share_of_the_lease_is_stopped_and_fails(db: Sessions) -> None:
    clock, handlers = FakeClock(NOW), Handlers()
    (job_id,) = await add(db, NOW, payload={"do": "hang"})
    lease = timedelta(seconds=0.25)  # the handler may run 0.2 s (real time: the handler's own clock)
    assert await runner(db, clock, handlers, lease=lease).run_once() == 1
    job = (await all_jobs(db))[job_id]
    assert (job.state, job.attempts) == ("pending", 1)
    assert job.last_error is not None and "did not finish within" in job.last_error


async def test_a_job_whose_workers_kept_dying_is_given_up_without_running(db: Sessions) -> None:
    clock, handlers = FakeClock(NOW), Handlers()
    (job_id,) = await add(db, NOW)
    now = NOW
    for _ in range(rules.MAX_ATTEMPTS):  # each claim's worker dies: nothing marks the job
        assert len(await claim(db, now)) == 1
        now += LEASE + timedelta(seconds=1)
    clock.set(now)
    assert await runner(db, clock, handlers).run_once() == 1
    assert handlers.ran == []
    job = (await all_jobs(db))[job_id]
    assert (job.state, job.attempts) == ("failed", rules.MAX_ATTEMPTS + 1)
    assert job.last_error == f"its worker stopped before marking it, {rules.MAX_ATTEMPTS} times"


async def test_the_loop_runs_due_jobs_and_stops_when_asked(db: Sessions) -> None:
    clock, handlers = FakeClock(NOW), Handlers()
    jobs_runner = runner(db, clock, handlers)
    task = asyncio.create_task(jobs_runner.run())
    ids = await add(db, *[NOW] * 25)  # more than a batch: the loop claims again at once
    for _ in range(500):
        if len(handlers.ran) == 25:
            break
        await asyncio.sleep(0.01)
    await jobs_runner.stop()
    await asyncio.wait_for(task, 5)
    assert sorted(i for i, _ in handlers.ran) == sorted(ids)
    assert {j.state for j in (await all_jobs(db)).values()} == {"done"}


async def test_a_cancelled_loop_leaves_its_job_to_the_lease(db: Sessions) -> None:
    """Cancellation goes through (re-raised, not logged as a failure); the job held is taken again after its lease."""
    clock, handlers = FakeClock(NOW), Handlers()
    (job_id,) = await add(db, NOW, payload={"do": "hang"})
    task = asyncio.create_task(runner(db, clock, handlers).run())
    for _ in range(500):
        if handlers.ran:
            break
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert (await all_jobs(db))[job_id].state == "running"
    (again,) = await claim(db, NOW + rules.LEASE + timedelta(seconds=1))
    assert (again.id, again.attempts) == (job_id, 2)

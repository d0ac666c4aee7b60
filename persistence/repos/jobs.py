"""Jobs: scheduled in the caller's transaction, claimed under a lease in a transaction of their own, then marked.

A claim must hand each due job to one worker, whichever process asks. PostgreSQL locks the rows it
takes (`FOR UPDATE SKIP LOCKED`: a second claimer passes over them instead of waiting). SQLite has
no row locks, and SQLAlchemy leaves `with_for_update` out of SQLite's SQL without a word: there the
claim is one `UPDATE ... RETURNING` inside `BEGIN IMMEDIATE`, which holds the database's one write
lock from its first statement to its commit (docs/jobs.md).

Marking an outcome is fenced by the attempt: a worker whose lease ran out, and whose job another
worker has claimed since (one more attempt), marks nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Row, Update, and_, case, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlalchemy.ext.asyncio import AsyncSession as DbSession

from core.jobs import Job, JobState, next_after_failure
from persistence.models import JobRecord
from persistence.repos import _rows

_jobs = _rows.table(JobRecord)
Database = AsyncEngine | async_sessionmaker[DbSession]
DueFor = Callable[[Job], datetime | None] | Mapping[str, datetime]


async def schedule(
    db: DbSession,
    *,
    kind: str,
    key: str,
    session_id: str | None,
    due_at: datetime,
    payload: dict[str, Any],
    now: datetime,
    revive: bool = False,
) -> bool:
    """Add a pending job unless one with its key exists (in whatever state); answers whether it was added.

    With `revive`, a job of that key that was cancelled is pending again, due at `due_at` (a session moved
    back to a time it had before: its reminder is wanted again).
    """
    insert = sqlite_insert if db.get_bind().dialect.name == "sqlite" else pg_insert
    stmt = insert(_jobs).values(
        kind=kind,
        key=key,
        session_id=session_id,
        state="pending",
        due_at=due_at,
        lease_until=None,
        attempts=0,
        last_error=None,
        payload=payload,
        created_at=now,
        updated_at=now,
        done_at=None,
    )
    if revive:
        ins = stmt.on_conflict_do_update(
            index_elements=[_jobs.c.key],
            set_={"state": "pending", "due_at": due_at, "attempts": 0, "last_error": None, "updated_at": now},
            where=_jobs.c.state == "cancelled",
        )
        return (await db.execute(ins.returning(_jobs.c.id))).first() is not None
    return (
        await db.execute(stmt.on_conflict_do_nothing(index_elements=[_jobs.c.key]).returning(_jobs.c.id))
    ).first() is not None


async def reschedule(db: DbSession, *, session_id: str, kind: str, due_for: DueFor, now: datetime) -> int:
    """Move the session's pending jobs of a kind: due_for answers each one's new due time (by key, for a
    mapping; None or absent leaves it). Answers how many moved; a job already claimed is not touched."""
    moved = 0
    for job in await for_session(db, session_id=session_id, kind=kind, states=("pending",)):
        due = due_for.get(job.key) if isinstance(due_for, Mapping) else due_for(job)
        if due is None or due == job.due_at:
            continue
        result = await db.execute(
            update(_jobs).where(_jobs.c.id == job.id, _jobs.c.state == "pending").values(due_at=due, updated_at=now)
        )
        moved += _rowcount(result)
    return moved


async def cancel_for_session(db: DbSession, *, session_id: str, kinds: Iterable[str] | None, now: datetime) -> int:
    """Cancel the session's pending jobs (of these kinds, or all); answers how many.

    A job already running is left to finish: its handler reads the session and skips what no longer applies.
    """
    where = [_jobs.c.session_id == session_id, _jobs.c.state == "pending"]
    if kinds is not None:
        where.append(_jobs.c.kind.in_(list(kinds)))
    result = await db.execute(update(_jobs).where(*where).values(state="cancelled", updated_at=now))
    return _rowcount(result)


def _due(now: datetime) -> ColumnElement[bool]:
    """Due by `now` and not done: pending and due, or running with its lease run out."""
    return or_(
        and_(_jobs.c.state == "pending", _jobs.c.due_at <= now),
        and_(_jobs.c.state == "running", _jobs.c.lease_until < now),
    )


async def backlog(db: DbSession, *, now: datetime, late_after: timedelta) -> tuple[int, int]:
    """(due, late): jobs due by `now` and not done (pending, or running past their lease), and those of
    them due before `now - late_after`. Reads through ix_jobs_state_due."""
    late = case((_jobs.c.due_at < now - late_after, 1), else_=0)
    row = (await db.execute(select(func.count(), func.coalesce(func.sum(late), 0)).where(_due(now)))).one()
    return int(row[0]), int(row[1])


async def claim(
    database: Database, *, now: datetime, limit: int, lease: timedelta, kinds: Iterable[str] | None = None
) -> list[Job]:
    """Take up to `limit` due jobs (pending and due, or running with their lease run out), oldest due first,
    each for this caller alone until `now + lease`; in a transaction of its own, committed on return."""
    kinds = None if kinds is None else list(kinds)
    if kinds == [] or limit < 1:
        return []
    sessions = database if isinstance(database, async_sessionmaker) else async_sessionmaker(database)
    due = _due(now)
    if kinds is not None:
        due = and_(due, _jobs.c.kind.in_(kinds))
    oldest = select(_jobs.c.id).where(due).order_by(_jobs.c.due_at, _jobs.c.id).limit(limit)
    async with sessions() as db:
        if db.get_bind().dialect.name == "sqlite":
            rows = await _claim_sqlite(db, oldest, now=now, lease=lease)
        else:
            rows = await _claim_postgresql(db, oldest, now=now, lease=lease)
    # RETURNING gives rows in no promised order.
    return sorted((_job(r) for r in rows), key=lambda j: (j.due_at, j.id))


async def _claim_sqlite(db: DbSession, oldest: Any, *, now: datetime, lease: timedelta) -> Sequence[Row[Any]]:
    # The sqlite3 driver opens its own deferred transactions; on this connection it stands aside
    # (AUTOCOMMIT, put back when the connection returns to the pool) so the claim can say BEGIN IMMEDIATE:
    # the write lock is taken at BEGIN, waiting out the busy timeout for another writer (a deferred
    # transaction that read first would instead fail with SQLITE_BUSY when it came to write).
    conn = await db.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    await conn.exec_driver_sql("BEGIN IMMEDIATE")
    try:
        rows = (await conn.execute(_take(_jobs.c.id.in_(oldest.scalar_subquery()), now=now, lease=lease))).all()
    except Exception:
        await conn.exec_driver_sql("ROLLBACK")
        raise
    # Cancelled before here, the connection goes back to the pool, which rolls the transaction back.
    await conn.exec_driver_sql("COMMIT")
    return rows


async def _claim_postgresql(db: DbSession, oldest: Any, *, now: datetime, lease: timedelta) -> Sequence[Row[Any]]:
    # Two statements in one transaction, not `UPDATE ... WHERE id IN (SELECT ... SKIP LOCKED)`: the
    # planner may run such a subquery more than once, and with SKIP LOCKED each run can pick other rows.
    async with db.begin():
        ids = list((await db.scalars(oldest.with_for_update(skip_locked=True))).all())
        if not ids:
            return []
        return (await db.execute(_take(_jobs.c.id.in_(ids), now=now, lease=lease))).all()


def _take(which: ColumnElement[bool], *, now: datetime, lease: timedelta) -> Update:
    return (
        update(_jobs)
        .where(which)
        .values(state="running", lease_until=now + lease, attempts=_jobs.c.attempts + 1, updated_at=now)
        .returning(*_jobs.c)
    )


async def complete(db: DbSession, *, job_id: int, now: datetime, attempt: int | None = None) -> bool:
    """Mark a running job done; with `attempt`, only if no other claim took it since. Answers whether it was marked."""
    return await _mark(db, job_id, attempt, state="done", done_at=now, lease_until=None, updated_at=now)


async def fail(db: DbSession, *, job: Job, now: datetime, error: str, permanent: bool = False) -> Job | None:
    """Record a failed attempt: pending again after the back-off, or failed for good (core.jobs.next_after_failure).

    Answers the job as it now stands, or None when another claim has taken it since this one.
    """
    after = next_after_failure(job, now, error, permanent=permanent)
    marked = await _mark(
        db,
        job.id,
        job.attempts,
        state=after.state,
        due_at=after.due_at,
        lease_until=None,
        last_error=after.last_error,
        updated_at=now,
    )
    return after if marked else None


async def skip(db: DbSession, *, job_id: int, reason: str, now: datetime, attempt: int | None = None) -> bool:
    """Mark a running job skipped (nothing left to do: the session was cancelled, the person left), saying why."""
    return await _mark(
        db, job_id, attempt, state="skipped", done_at=now, lease_until=None, last_error=reason, updated_at=now
    )


async def _mark(db: DbSession, job_id: int, attempt: int | None, **values: Any) -> bool:
    stmt = update(_jobs).where(_jobs.c.id == job_id, _jobs.c.state == "running")
    if attempt is not None:
        stmt = stmt.where(_jobs.c.attempts == attempt)
    return _rowcount(await db.execute(stmt.values(**values))) == 1


async def for_session(
    db: DbSession, *, session_id: str, kind: str | None = None, states: Iterable[JobState] | None = None
) -> list[Job]:
    """The session's jobs (of a kind, in these states), in due order: for staff views."""
    query = select(_jobs).where(_jobs.c.session_id == session_id)
    if kind is not None:
        query = query.where(_jobs.c.kind == kind)
    if states is not None:
        query = query.where(_jobs.c.state.in_(list(states)))
    return [_job(r) for r in (await db.execute(query.order_by(_jobs.c.due_at, _jobs.c.id))).all()]


async def failed(db: DbSession, *, session_id: str | None = None) -> list[Job]:
    """The jobs given up as failed (of one session, or all), in due order: what staff are shown."""
    query = select(_jobs).where(_jobs.c.state == "failed")
    if session_id is not None:
        query = query.where(_jobs.c.session_id == session_id)
    return [_job(r) for r in (await db.execute(query.order_by(_jobs.c.due_at, _jobs.c.id))).all()]


def _job(row: Row[Any]) -> Job:
    return Job(
        id=row.id,
        kind=row.kind,
        key=row.key,
        session_id=row.session_id,
        due_at=row.due_at,
        state=row.state,
        attempts=row.attempts,
        lease_until=row.lease_until,
        last_error=row.last_error,
        payload=dict(row.payload or {}),
    )


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)

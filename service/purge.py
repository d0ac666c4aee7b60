"""The retention purge (docs/records.md, "Retention and the purge"): what COMPANION_RETENTION says is past
keeping goes, in bounded transactions, with one `purge` audit entry naming it all.

A run reads which sessions' kinds are due (core.purge.plan), counts their rows, and deletes them in
batches of at most MAX_SESSIONS sessions and about MAX_ROWS rows, each batch one transaction that also
writes the counts of a session before its first deletion, marks what went (`session_counts.purged`) and
notes what it deleted (`purge_progress`). A batch is whole or not at all: a run killed mid-way leaves
each batch done or undone, and the next run finds only what is left and names, in its one audit entry,
what the killed run deleted too. Mail and audit entries go last, oldest first, MAX_ROWS at a time.

On PostgreSQL each batch is a transaction of its own beside the writer's: through the one writer, every
live write queued behind a batch would wait for it (its commit group runs the batch first), and the hub's
latency would grow with the batch. SQLite has one write lock: there each batch goes through the writer
(`Unit.submit`), between the live writes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession as DbSession

from core import purge as rules
from core.model import iso
from core.retention import Retention as Keep
from persistence.repos import audit
from persistence.repos import purge as repo
from service.preparation import queue_collect
from service.unit import Unit

log = logging.getLogger("companion.purge")

T = TypeVar("T")
# A batch's bounds: a few tens of milliseconds of deleting on PostgreSQL, so a batch through SQLite's
# one writer holds the live writes behind it no longer than a burst of check-ins does.
MAX_ROWS = 5_000
MAX_SESSIONS = 200
# After each batch the run rests this share of the batch's time: the database and the server's CPU are the
# live hub's meanwhile (a purge is not urgent; a live class is).
REST = 1.0
# Sessions whose rows are counted in one read (the IN list of each count).
READ_CHUNK = 500


class Purge:
    def __init__(self, unit: Unit, keep: Keep, *, through_writer: bool | None = None) -> None:
        self._u = unit
        self._keep = keep
        # None: by the database (PostgreSQL: transactions of its own; SQLite: the writer). A bench may choose.
        self.through_writer = through_writer
        self.max_rows = MAX_ROWS
        self.max_sessions = MAX_SESSIONS
        self.rest = REST

    async def run(self, *, dry_run: bool = False, max_seconds: float | None = None) -> dict[str, Any]:
        """Purge what is past keeping now (or, `dry_run`, say what would go and write nothing).

        Answers `{at, dry_run, complete, kinds: {kind: {sessions: [ids], rows: {table: n}}}, total}`;
        `complete` is false when `max_seconds` ran out first (what is left goes in the next run).
        """
        now = self._u.now()
        started = time.monotonic()
        plans = rules.plan(
            self._keep, await self._u.read(repo.candidates, ended_before=rules.latest_end(self._keep, now)), now
        )
        rows: dict[str, dict[str, int]] = {}
        for k in range(0, len(plans), READ_CHUNK):
            rows.update(await self._u.read(repo.row_counts, plans=plans[k : k + READ_CHUNK]))
        mail_before = self._keep.cutoff("mail", now)
        audit_before = await self._u.read(repo.audit_cutoff, cutoff=self._keep.cutoff("audit", now))
        if dry_run:
            report = rules.empty_report()
            for p in plans:
                rules.merge(report, _detail(p, rows[p.session_id]))
            report["mail"]["rows"] = _nonzero(
                "mail_outbox", await self._u.read(repo.count_entries, kind="mail", before=mail_before)
            )
            report["audit"]["rows"] = _nonzero(
                "audit_log", await self._u.read(repo.count_entries, kind="audit", before=audit_before)
            )
            return _answer(now, True, True, report)

        # Out of time is looked at after each transaction: however short the time given, a run gets on.
        complete = True
        done = rules.empty_report()  # what this run deleted (its answer when it stops before the end)
        sizes = {sid: sum(n.values()) for sid, n in rows.items()}
        for batch in rules.batches(plans, sizes, max_rows=self.max_rows, max_sessions=self.max_sessions):
            took = time.monotonic()
            rules.merge(done, await self._write(partial(self._sessions, batch=batch, now=now)))
            for p in batch:
                await self._forget(p.session_id)
            await self._rest(time.monotonic() - took)
            if _out_of_time(started, max_seconds):
                complete = False
                break
        for kind, before in (("mail", mail_before), ("audit", audit_before)):
            while complete:
                took = time.monotonic()
                part = await self._write(partial(self._entries, kind=kind, before=before, now=now))
                await self._rest(time.monotonic() - took)
                rules.merge(done, part)
                if sum(part[kind]["rows"].values()) < self.max_rows:
                    break
                if _out_of_time(started, max_seconds):
                    complete = False
        if not complete:
            log.info("purge: stopped after %.0fs with more to do; the next run goes on", time.monotonic() - started)
            return _answer(now, False, False, done)
        report = await self._write(partial(self._finish, now=now))
        log.info("purge: %s", "; ".join(rules.lines(report)) if rules.total(report) else "nothing past keeping")
        return _answer(now, False, True, report)

    # ------------------------------------------------------------ one transaction each

    async def _sessions(self, db: DbSession, *, batch: Sequence[rules.SessionPurge], now: datetime) -> dict[str, Any]:
        """One batch: counts first where none are kept, then each session's kinds, marked, noted as progress."""
        # A session's counts, from its rows as they are before anything of it goes, marked with what goes now
        # (the transaction deletes it below, or nothing of it happened); one counted before is marked after.
        fresh = {p.session_id: p for p in batch if p.count_first}
        if fresh:
            gathered = await repo.gather(db, session_ids=list(fresh))
            kept = {s: (rules.counts(g), fresh[s].all_kinds(), fresh[s].roster) for s, g in gathered.items()}
            await repo.keep_counts(db, counts=kept, now=now)
        progress = rules.empty_report()
        freed: set[str] = set()
        for kind in rules.REPORTED:
            # Sessions whose kind deletes the same tables (the check-in is cleared only where the roster stays).
            groups: dict[tuple[str, ...], list[str]] = {}
            for p in batch:
                if kind in p.all_kinds():
                    groups.setdefault(p.tables(kind), []).append(p.session_id)
            for tables, sessions in groups.items():
                got: dict[str, int] = {}
                for table in tables:
                    freed |= await repo.shas_of(db, table=table, session_ids=sessions)
                    got[table] = await repo.delete_rows(db, table=table, session_ids=sessions)
                progress[kind]["sessions"] += sessions
                rules.add_rows(progress, kind, got)
        for p in batch:
            if not p.count_first:
                await repo.mark_purged(db, session_id=p.session_id, kinds=p.all_kinds(), done=p.roster, now=now)
        for sha in sorted(freed):  # the bytes go once nothing refers to them
            await queue_collect(db, sha256=sha, now=now)
        detail = _stored(progress)
        await repo.add_progress(db, detail=detail, now=now)
        return detail

    async def _entries(self, db: DbSession, *, kind: str, before: datetime, now: datetime) -> dict[str, Any]:
        gone = await repo.delete_entries(db, kind=kind, before=before, limit=self.max_rows)
        detail = {kind: {"sessions": [], "rows": _nonzero(rules.TABLES[kind][0], gone)}}
        if gone:
            await repo.add_progress(db, detail=detail, now=now)
        return detail

    async def _finish(self, db: DbSession, *, now: datetime) -> dict[str, dict[str, Any]]:
        """Fold every batch's progress (a killed run's too) into one `purge` audit entry; nothing: no entry."""
        report = rules.empty_report()
        taken = await repo.take_progress(db)
        for _, detail in taken:
            rules.merge(report, detail)
        rules.settled(report)
        if taken:
            await audit.record(
                db,
                actor=rules.SYSTEM,
                action="purge",
                target="retention",
                at=now,
                detail={"kinds": report, "total": rules.total(report), "since": iso(taken[0][0])},
            )
        return report

    async def _write(self, op: Callable[[DbSession], Awaitable[T]]) -> T:
        if self.through_writer is None:
            async with self._u.sessions() as db:
                self.through_writer = db.get_bind().dialect.name != "postgresql"
        if self.through_writer:
            result: T = await self._u.submit(op)
            return result
        async with self._u.sessions() as db, db.begin():
            return await op(db)

    async def _rest(self, took_s: float) -> None:
        if self.rest > 0:
            await asyncio.sleep(took_s * self.rest)

    async def _forget(self, session_id: str) -> None:
        """A loaded session's live state is read again from what is left (its roster may be gone)."""
        if await self._u.store.loaded(session_id):
            async with self._u.store.lock(session_id):
                await self._u.store.evict(session_id)


def _detail(p: rules.SessionPurge, rows: dict[str, int]) -> dict[str, Any]:
    return {k: {"sessions": [p.session_id], "rows": {t: rows.get(t, 0) for t in p.tables(k)}} for k in p.all_kinds()}


def _stored(report: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A batch's progress without the kinds it did not touch."""
    return {k: v for k, v in report.items() if v["sessions"] or v["rows"]}


def _nonzero(table: str, n: int) -> dict[str, int]:
    return {table: n} if n else {}


def _out_of_time(started: float, max_seconds: float | None) -> bool:
    return max_seconds is not None and time.monotonic() - started >= max_seconds


def _answer(now: datetime, dry_run: bool, complete: bool, report: dict[str, dict[str, Any]]) -> dict[str, Any]:
    kinds = rules.settled(report)
    return {"at": iso(now), "dry_run": dry_run, "complete": complete, "kinds": kinds, "total": rules.total(kinds)}

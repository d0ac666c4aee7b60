"""The retention purge's reads and deletes (core/purge.py says what goes; this says how, table by table).

Each table a kind deletes from is named in core.purge.TABLES and found here with how its rows belong to a
session: its own `session_id`, or its parent's (ping answers by their ping, consent answers by their
request, platform rows by their import). Counting and deleting use the same predicate, so a dry run's
counts are what a real run deletes.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession as DbSession
from sqlalchemy.orm import InstrumentedAttribute

from core import purge as rules
from core.model import iso
from persistence.models import (
    AttendanceRecord,
    AuditEntry,
    AuditPolicy,
    Base,
    ChatRecord,
    Connection,
    ConsentAnswer,
    ConsentRequest,
    FeedbackFormRecord,
    FeedbackResponseRecord,
    HelpTicket,
    InvitationRecord,
    JobRecord,
    LegalHold,
    LiveSession,
    MaterialRecord,
    MinutesCirculationRecord,
    MinutesRecord,
    NotesRecord,
    OutboxMail,
    Participant,
    PingAnswer,
    PingRecord,
    PlatformCheckRecord,
    PlatformImport,
    PlatformRow,
    PurgeProgress,
    RecordingRecord,
    SessionCounts,
    SessionRecordVersion,
    ZoomEventRecord,
)


@dataclass(frozen=True, slots=True)
class _Table:
    model: type[Base]
    session: InstrumentedAttribute[str]  # the session column: the table's own or its parent's
    # A child table: (its column naming the parent, the parent's id); `session` is then the parent's.
    parent: tuple[InstrumentedAttribute[Any], InstrumentedAttribute[Any]] | None = None


_TABLES: dict[str, _Table] = {
    "chat_messages": _Table(ChatRecord, ChatRecord.session_id),
    "attendance_records": _Table(AttendanceRecord, AttendanceRecord.session_id),
    "connections": _Table(Connection, Connection.session_id),
    "platform_rows": _Table(PlatformRow, PlatformImport.session_id, (PlatformRow.import_id, PlatformImport.id)),
    "platform_imports": _Table(PlatformImport, PlatformImport.session_id),
    "zoom_events": _Table(ZoomEventRecord, ZoomEventRecord.session_id),
    "feedback_responses": _Table(FeedbackResponseRecord, FeedbackResponseRecord.session_id),
    "feedback_forms": _Table(FeedbackFormRecord, FeedbackFormRecord.session_id),
    "session_records": _Table(SessionRecordVersion, SessionRecordVersion.session_id),
    "help_tickets": _Table(HelpTicket, HelpTicket.session_id),
    "ping_answers": _Table(PingAnswer, PingRecord.session_id, (PingAnswer.ping_id, PingRecord.id)),
    "pings": _Table(PingRecord, PingRecord.session_id),
    "consent_answers": _Table(ConsentAnswer, ConsentRequest.session_id, (ConsentAnswer.request_id, ConsentRequest.id)),
    "consent_requests": _Table(ConsentRequest, ConsentRequest.session_id),
    "recordings": _Table(RecordingRecord, RecordingRecord.session_id),
    "invitations": _Table(InvitationRecord, InvitationRecord.session_id),
    "minutes_circulations": _Table(MinutesCirculationRecord, MinutesCirculationRecord.session_id),
    "minutes": _Table(MinutesRecord, MinutesRecord.session_id),
    "session_notes": _Table(NotesRecord, NotesRecord.session_id),
    "platform_checks": _Table(PlatformCheckRecord, PlatformCheckRecord.session_id),
    "materials": _Table(MaterialRecord, MaterialRecord.session_id),
    "participants": _Table(Participant, Participant.session_id),
}
# The roster's attendance: what clearing the check-in sets to null, and which rows have any of it.
_CHECKIN = {"checked_in_at": None, "checkin_status": None, "mark": None, "marked_at": None}
_HAS_CHECKIN = or_(
    Participant.checked_in_at.is_not(None),
    Participant.checkin_status.is_not(None),
    Participant.mark.is_not(None),
    Participant.marked_at.is_not(None),
)
# The tables whose rows keep bytes in the file store by their SHA-256.
_WITH_BYTES = {"session_records": SessionRecordVersion.sha256, "materials": MaterialRecord.sha256}


async def candidates(db: DbSession, *, ended_before: datetime) -> list[rules.Candidate]:
    """Sessions closed (or cancelled) at or before this and not purged whole, with their holds and what went."""
    ended = func.coalesce(LiveSession.closed_at, LiveSession.cancelled_at)
    query = (
        select(LiveSession.id, LiveSession.status, LiveSession.closed_at, LiveSession.cancelled_at)
        .add_columns(
            LegalHold.session_id.label("held"), SessionCounts.purged, SessionCounts.session_id.label("counted")
        )
        .outerjoin(LegalHold, LegalHold.session_id == LiveSession.id)
        .outerjoin(SessionCounts, SessionCounts.session_id == LiveSession.id)
        .where(
            LiveSession.status.in_(("closed", "cancelled")),
            ended <= ended_before,
            SessionCounts.done_at.is_(None),
        )
        .order_by(ended, LiveSession.id)
    )
    out = []
    for row in await db.execute(query):
        end = row.closed_at if row.status == "closed" else row.cancelled_at
        out.append(
            rules.Candidate(
                id=row.id,
                ended_at=end,
                held=row.held is not None,
                purged=frozenset(row.purged or {}),
                counted=row.counted is not None,
            )
        )
    return out


def _count(table: str, session_ids: Collection[str]) -> Select[str, int]:
    if table == rules.CHECKIN:
        return (
            select(Participant.session_id, func.count())
            .where(Participant.session_id.in_(session_ids), _HAS_CHECKIN)
            .group_by(Participant.session_id)
        )
    t = _TABLES[table]
    query = select(t.session, func.count()).select_from(t.model)
    if t.parent is not None:
        query = query.join(t.parent[1].class_, t.parent[0] == t.parent[1])
    return query.where(t.session.in_(session_ids)).group_by(t.session)


async def row_counts(db: DbSession, *, plans: Sequence[rules.SessionPurge]) -> dict[str, dict[str, int]]:
    """For each planned session, the rows each table of its kinds would lose: {session_id: {table: n}}."""
    by_table: dict[str, list[str]] = {}
    for p in plans:
        for kind in p.all_kinds():
            for table in p.tables(kind):
                by_table.setdefault(table, []).append(p.session_id)
    out: dict[str, dict[str, int]] = {p.session_id: {} for p in plans}
    for table, ids in by_table.items():
        for session_id, n in await db.execute(_count(table, ids)):
            out[session_id][table] = int(n)
    return out


async def audit_cutoff(db: DbSession, *, cutoff: datetime) -> datetime:
    """The later of what may go by the setting, and what the database's trigger lets go (its own clock and
    `audit_policy`): whichever is earlier, so the purge never asks the trigger for what it must refuse."""
    keep = await db.scalar(select(AuditPolicy.keep_seconds).where(AuditPolicy.id == 1))
    if keep is None:
        return cutoff
    raw = await db.scalar(select(func.now()))
    db_now = raw if isinstance(raw, datetime) else datetime.fromisoformat(str(raw))
    db_now = db_now.replace(tzinfo=UTC) if db_now.tzinfo is None else db_now.astimezone(UTC)
    # A second's margin: SQLite's clock reads whole seconds.
    return min(cutoff, db_now - timedelta(seconds=int(keep) + 1))


def _entries(kind: str) -> tuple[type[OutboxMail] | type[AuditEntry], InstrumentedAttribute[Any]]:
    return (OutboxMail, OutboxMail.created_at) if kind == "mail" else (AuditEntry, AuditEntry.at)


async def count_entries(db: DbSession, *, kind: str, before: datetime) -> int:
    """Mail (by when it was queued) or audit entries (by their time) written at or before this."""
    model, at = _entries(kind)
    return int(await db.scalar(select(func.count()).select_from(model).where(at <= before)) or 0)


async def delete_entries(db: DbSession, *, kind: str, before: datetime, limit: int) -> int:
    """Delete at most `limit` of the oldest such entries; answers how many went."""
    model, at = _entries(kind)
    ident = model.id
    chosen = select(ident).where(at <= before).order_by(ident).limit(limit).scalar_subquery()
    result = await db.execute(delete(model).where(ident.in_(chosen)))
    return int(getattr(result, "rowcount", 0) or 0)


async def gather(db: DbSession, *, session_ids: Collection[str]) -> dict[str, rules.Gathered]:
    """What the counts of these sessions are made of, read from the rows as they are."""
    out = {s: rules.Gathered() for s in session_ids}
    status = func.coalesce(Participant.mark, Participant.checkin_status, "absent")
    for sid, st in await db.execute(
        select(Participant.session_id, status).where(Participant.session_id.in_(session_ids))
    ):
        out[sid].statuses.append(str(st))
    chat = select(ChatRecord.session_id, func.count()).where(ChatRecord.session_id.in_(session_ids))
    for sid, n in await db.execute(chat.group_by(ChatRecord.session_id)):
        out[sid].chat_messages = int(n)
    tickets = select(HelpTicket.session_id, HelpTicket.created_at, HelpTicket.claimed_at)
    for sid, created, claimed in await db.execute(tickets.where(HelpTicket.session_id.in_(session_ids))):
        out[sid].tickets.append((created, claimed))
    forms = select(FeedbackFormRecord.session_id, FeedbackFormRecord.questions).where(
        FeedbackFormRecord.session_id.in_(session_ids), FeedbackFormRecord.audience == "participants"
    )
    for sid, questions in await db.execute(forms):
        out[sid].questions = [q for q in questions or [] if isinstance(q, dict)]
    answers = select(FeedbackResponseRecord.session_id, FeedbackResponseRecord.answers).where(
        FeedbackResponseRecord.session_id.in_(session_ids), FeedbackResponseRecord.audience == "participants"
    )
    for sid, given in await db.execute(answers):
        out[sid].answers.append(dict(given or {}))
    return out


async def keep_counts(
    db: DbSession, *, counts: Mapping[str, tuple[dict[str, Any], Iterable[str], bool]], now: datetime
) -> None:
    """Write each session's counts with the kinds that go now ({session: (counts, kinds, whether that is the
    last)}), unless it has counts already (a concurrent purge wrote them first, and marks them itself)."""
    if not counts:
        return
    insert = sqlite_insert if db.get_bind().dialect.name == "sqlite" else pg_insert
    rows = [
        {
            "session_id": s,
            "computed_at": now,
            "counts": c,
            "purged": {k: iso(now) for k in kinds},
            "done_at": now if last else None,
        }
        for s, (c, kinds, last) in counts.items()
    ]
    await db.execute(insert(SessionCounts).values(rows).on_conflict_do_nothing(index_elements=["session_id"]))


async def counts_of(db: DbSession, *, session_id: str) -> dict[str, Any] | None:
    """A session's kept counts, what went and when: {computed_at, counts, purged, done_at}; None: none kept."""
    row = await db.get(SessionCounts, session_id)
    if row is None:
        return None
    return {
        "computed_at": iso(row.computed_at),
        "counts": row.counts,
        "purged": row.purged,
        "done_at": iso(row.done_at),
    }


async def shas_of(db: DbSession, *, table: str, session_ids: Collection[str]) -> set[str]:
    """The file store's SHA-256s these sessions' rows of `table` keep (materials, record versions)."""
    column = _WITH_BYTES.get(table)
    if column is None:
        return set()
    t = _TABLES[table]
    found = await db.scalars(select(column).where(t.session.in_(session_ids), column.is_not(None)))
    return {s for s in found if s}


async def delete_rows(db: DbSession, *, table: str, session_ids: Collection[str]) -> int:
    """Delete (or, for the check-in, clear) these sessions' rows of `table`; answers how many."""
    if table == rules.CHECKIN:
        stmt: Any = update(Participant).where(Participant.session_id.in_(session_ids), _HAS_CHECKIN).values(_CHECKIN)
    else:
        t = _TABLES[table]
        where: ColumnElement[bool] = t.session.in_(session_ids)
        if t.parent is not None:
            parents = select(t.parent[1]).where(where).scalar_subquery()
            where = t.parent[0].in_(parents)
        stmt = delete(t.model).where(where)
    result = await db.execute(stmt)
    return int(getattr(result, "rowcount", 0) or 0)


async def mark_purged(db: DbSession, *, session_id: str, kinds: Iterable[str], done: bool, now: datetime) -> None:
    """Record that these kinds of the session went at `now` (and, `done`, that nothing of it is left)."""
    row = await db.get(SessionCounts, session_id)
    assert row is not None, "the counts are written with the first kind purged"
    row.purged = {**(row.purged or {}), **{k: iso(now) for k in kinds}}
    if done:
        row.done_at = now
    await db.flush()


async def add_progress(db: DbSession, *, detail: dict[str, Any], now: datetime) -> None:
    """What one batch deleted, until the run's audit entry names it."""
    db.add(PurgeProgress(at=now, detail=detail))
    await db.flush()


async def take_progress(db: DbSession) -> list[tuple[datetime, dict[str, Any]]]:
    """Every batch's progress no audit entry names yet, removed as it is read (oldest first)."""
    taken = await db.execute(delete(PurgeProgress).returning(PurgeProgress.id, PurgeProgress.at, PurgeProgress.detail))
    return [(at, detail) for _, at, detail in sorted(taken.all(), key=lambda r: r[0])]


async def pending_job(db: DbSession, *, kind: str) -> bool:
    """Whether a job of this kind waits or runs (the daily retention job is queued once)."""
    found = await db.scalar(
        select(func.count()).where(and_(JobRecord.kind == kind, JobRecord.state.in_(("pending", "running"))))
    )
    return bool(found)

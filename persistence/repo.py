"""Repositories: the only code that reads and writes rows. Keyword-only, one concept per function."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession as DbSession

from core.errors import Conflict
from core.model import ChatMessage, Member, Ping, SessionState, Ticket
from persistence.live.base import Snapshot
from persistence.models import (
    ApiToken,
    AttendanceRecord,
    Base,
    ChatRecord,
    Connection,
    HelpTicket,
    LiveSession,
    Participant,
    PingAnswer,
    PingRecord,
    StaffMember,
)
from persistence.writer import Batched


async def ping_database(db: DbSession) -> None:
    """Raises when the database does not answer."""
    await db.execute(select(1))


def _table(model: type[Base]) -> Table:
    """A model's Core table, for statements run many at once (executemany)."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


# ---------------------------------------------------------------- staff and tokens


async def upsert_staff(db: DbSession, *, email: str, name: str, now: datetime) -> StaffMember:
    """The staff member with this email, created if new (the first name given is kept)."""
    member = await db.get(StaffMember, email.lower())
    if member is None:
        member = StaffMember(email=email.lower(), name=name, created_at=now, disabled_at=None)
        db.add(member)
        await db.flush()
    return member


async def get_staff(db: DbSession, *, email: str) -> StaffMember | None:
    return await db.get(StaffMember, email.lower())


async def add_token(
    db: DbSession, *, token_id: str, secret_hash: str, role: str, name: str, email: str | None, now: datetime
) -> ApiToken:
    row = ApiToken(
        id=token_id,
        secret_hash=secret_hash,
        role=role,
        name=name,
        email=email,
        created_at=now,
        revoked_at=None,
    )
    db.add(row)
    await db.flush()
    return row


async def get_token(db: DbSession, *, token_id: str) -> ApiToken | None:
    return await db.get(ApiToken, token_id)


async def revoke_token(db: DbSession, *, token_id: str, now: datetime) -> bool:
    """True when the token existed (revoking twice is fine)."""
    row = await db.get(ApiToken, token_id)
    if row is None:
        return False
    if row.revoked_at is None:
        row.revoked_at = now
    return True


# ---------------------------------------------------------------- sessions and roster


def _session_state(row: LiveSession) -> SessionState:
    return SessionState(
        id=row.id,
        topic=row.topic,
        instructor_email=row.instructor_email,
        starts_at=row.starts_at,
        duration_minutes=row.duration_minutes,
        late_after_minutes=row.late_after_minutes,
        status=row.status,  # type: ignore[arg-type]
        capacity=row.capacity,
        platform=row.platform,
        join_url=row.join_url,
        agenda=row.agenda,
        checkin_secret=row.checkin_secret,
        started_at=row.started_at,
        closed_at=row.closed_at,
        delay_minutes=row.delay_minutes,
        delay_reason=row.delay_reason,
        platform_status=row.platform_status,  # type: ignore[arg-type]
        platform_message=row.platform_message,
    )


_SESSION_FIELDS = (
    "topic",
    "instructor_email",
    "starts_at",
    "duration_minutes",
    "capacity",
    "platform",
    "join_url",
    "agenda",
    "late_after_minutes",
    "checkin_secret",
    "status",
    "started_at",
    "closed_at",
    "delay_minutes",
    "delay_reason",
    "platform_status",
    "platform_message",
)


async def create_session(db: DbSession, *, state: SessionState, now: datetime) -> None:
    values = {f: getattr(state, f) for f in _SESSION_FIELDS}
    db.add(LiveSession(id=state.id, expected_start=state.expected_start, created_at=now, **values))
    await db.flush()


async def save_session(db: DbSession, *, state: SessionState) -> None:
    values = {f: getattr(state, f) for f in _SESSION_FIELDS}
    await db.execute(
        update(LiveSession).where(LiveSession.id == state.id).values(expected_start=state.expected_start, **values)
    )


async def get_session(db: DbSession, *, session_id: str) -> SessionState | None:
    row = await db.get(LiveSession, session_id)
    return _session_state(row) if row else None


async def sessions_to_watch(db: DbSession, *, starting_before: datetime) -> list[SessionState]:
    """Sessions the ticker acts on: scheduled ones due to start or with an open ping, every live one."""
    # Pings may run before the start (a warm-up poll); they must still close when their time is up.
    open_pings = select(PingRecord.session_id).where(PingRecord.closed_at.is_(None))
    rows = await db.scalars(
        select(LiveSession).where(
            ((LiveSession.status == "scheduled") & (LiveSession.expected_start <= starting_before))
            | ((LiveSession.status == "scheduled") & LiveSession.id.in_(open_pings))
            | (LiveSession.status == "live")
        )
    )
    return [_session_state(r) for r in rows]


def _member(row: Participant) -> Member:
    return Member(
        id=row.id,
        name=row.name,
        email=row.email,
        checked_in_at=row.checked_in_at,
        checkin_status=row.checkin_status,  # type: ignore[arg-type]
        mark=row.mark,  # type: ignore[arg-type]
    )


async def add_participants(
    db: DbSession,
    *,
    session_id: str,
    people: Sequence[tuple[str, str]],
    new_ids: Iterable[str],
    now: datetime,
) -> list[Member]:
    """Add people by email (case-insensitive); one already there keeps its id and gets the new name."""
    session = await db.get(LiveSession, session_id)
    if session is None or session.status == "closed":
        raise Conflict("the session is closed")
    keys = {email.lower() for _, email in people}
    existing = {
        p.email_key: p
        for p in await db.scalars(
            select(Participant).where(Participant.session_id == session_id, Participant.email_key.in_(keys))
        )
    }
    fresh = keys - existing.keys()
    if session.capacity is not None and fresh:
        count = await db.scalar(select(func.count()).where(Participant.session_id == session_id)) or 0
        if count + len(fresh) > session.capacity:
            raise Conflict(f"the session holds {session.capacity} participants; {count} are on the roster")
    ids = iter(new_ids)
    touched: dict[str, Participant] = {}
    for name, email in people:
        key = email.lower()
        row = existing.get(key)
        if row is None:
            row = Participant(
                id=next(ids),
                session_id=session_id,
                name=name,
                email=email,
                email_key=key,
                created_at=now,
                checked_in_at=None,
                checkin_status=None,
                mark=None,
                marked_at=None,
            )
            db.add(row)
            existing[key] = row
        else:
            row.name = name
        touched[row.id] = row
    await db.flush()
    return [_member(r) for r in touched.values()]


async def get_member(db: DbSession, *, participant_id: str) -> tuple[str, Member] | None:
    """A participant and its session id."""
    row = await db.get(Participant, participant_id)
    return (row.session_id, _member(row)) if row else None


def save_member(*, member: Member, now: datetime) -> Batched:
    """A participant's check-in and mark, as they stand."""
    return Batched(
        "save_member",
        _save_member,
        {
            "b_id": member.id,
            "checked_in_at": member.checked_in_at,
            "checkin_status": member.checkin_status,
            "mark": member.mark,
            "marked_at": now if member.mark else None,
        },
    )


def _save_member(dialect: str) -> Any:
    t = _table(Participant)
    return (
        update(t)
        .where(t.c.id == bindparam("b_id"))
        .values(
            checked_in_at=bindparam("checked_in_at"),
            checkin_status=bindparam("checkin_status"),
            mark=bindparam("mark"),
            marked_at=bindparam("marked_at"),
        )
    )


# ---------------------------------------------------------------- the live snapshot


async def load_snapshot(db: DbSession, *, session_id: str) -> Snapshot | None:
    row = await db.get(LiveSession, session_id)
    if row is None:
        return None
    members = [_member(p) for p in await db.scalars(select(Participant).where(Participant.session_id == session_id))]
    pings: list[Ping] = []
    for p in await db.scalars(
        select(PingRecord).where(PingRecord.session_id == session_id, PingRecord.closed_at.is_(None))
    ):
        ping = _ping(p)
        ping.answers = await ping_answers(db, ping_id=p.id)
        ping.seen = set(p.seen or []) | set(ping.answers)
        pings.append(ping)
    tickets = [
        _ticket(t, name)
        for t, name in await db.execute(
            select(HelpTicket, Participant.name)
            .join(Participant, Participant.id == HelpTicket.participant_id)
            .where(HelpTicket.session_id == session_id)
        )
    ]
    index = {
        (a, c): (i, s)
        for a, c, i, s in await db.execute(
            select(ChatRecord.author_key, ChatRecord.client_id, ChatRecord.id, ChatRecord.seq).where(
                ChatRecord.session_id == session_id
            )
        )
    }
    last_seq = max((s for _, s in index.values()), default=0)
    return Snapshot(_session_state(row), members, pings, tickets, index, last_seq)


# ---------------------------------------------------------------- pings


def _ping(row: PingRecord) -> Ping:
    return Ping(
        id=row.id,
        kind=row.kind,  # type: ignore[arg-type]
        question=row.question,
        options=row.options,
        launched_at=row.launched_at,
        closes_at=row.closes_at,
        closed_at=row.closed_at,
        seen=set(row.seen or []),
    )


async def add_ping(db: DbSession, *, session_id: str, ping: Ping) -> None:
    db.add(
        PingRecord(
            id=ping.id,
            session_id=session_id,
            kind=ping.kind,
            question=ping.question,
            options=ping.options,
            launched_at=ping.launched_at,
            closes_at=ping.closes_at,
            closed_at=None,
            total=None,
            seen=sorted(ping.seen),
        )
    )
    await db.flush()


def save_answer(*, ping_id: str, participant_id: str, answer: Any, now: datetime) -> Batched:
    """A participant's answer; answering again replaces it."""
    return Batched(
        "save_answer",
        _upsert_answer,
        {"ping_id": ping_id, "participant_id": participant_id, "answer": answer, "answered_at": now},
    )


@functools.cache
def _upsert_answer(dialect: str) -> Any:
    t = _table(PingAnswer)
    insert = sqlite_insert if dialect == "sqlite" else pg_insert
    stmt = insert(t)
    return stmt.on_conflict_do_update(
        index_elements=[t.c.ping_id, t.c.participant_id],
        set_={"answer": stmt.excluded.answer, "answered_at": stmt.excluded.answered_at},
    )


async def close_ping(db: DbSession, *, ping: Ping) -> None:
    await db.execute(
        update(PingRecord)
        .where(PingRecord.id == ping.id)
        .values(closed_at=ping.closed_at, total=len(ping.seen), seen=sorted(ping.seen))
    )


async def get_ping(db: DbSession, *, session_id: str, ping_id: str) -> Ping | None:
    row = await db.get(PingRecord, ping_id)
    if row is None or row.session_id != session_id:
        return None
    ping = _ping(row)
    ping.answers = await ping_answers(db, ping_id=ping_id)
    ping.seen |= set(ping.answers)
    return ping


async def ping_answers(db: DbSession, *, ping_id: str) -> dict[str, Any]:
    rows = await db.execute(
        select(PingAnswer.participant_id, PingAnswer.answer)
        .where(PingAnswer.ping_id == ping_id)
        .order_by(PingAnswer.answered_at)
    )
    return {pid: a for pid, a in rows}


# ---------------------------------------------------------------- help tickets


def _ticket(row: HelpTicket, name: str) -> Ticket:
    return Ticket(
        id=row.id,
        participant_id=row.participant_id,
        name=name,
        category=row.category,
        text=row.text,
        created_at=row.created_at,
        state=row.state,  # type: ignore[arg-type]
        claimed_by=row.claimed_by,
        note=row.note,
    )


async def add_ticket(db: DbSession, *, session_id: str, ticket: Ticket) -> None:
    db.add(
        HelpTicket(
            id=ticket.id,
            session_id=session_id,
            participant_id=ticket.participant_id,
            category=ticket.category,
            text=ticket.text,
            state=ticket.state,
            created_at=ticket.created_at,
            claimed_at=None,
            claimed_by=None,
            resolved_at=None,
            note=None,
        )
    )
    await db.flush()


async def save_ticket(db: DbSession, *, ticket: Ticket, now: datetime) -> None:
    values: dict[str, Any] = {"state": ticket.state, "claimed_by": ticket.claimed_by, "note": ticket.note}
    if ticket.state == "claimed":
        values["claimed_at"] = now
    elif ticket.state in ("resolved", "unresolved"):
        values["resolved_at"] = now
    await db.execute(update(HelpTicket).where(HelpTicket.id == ticket.id).values(**values))


# ---------------------------------------------------------------- chat


def add_chat(*, session_id: str, message: ChatMessage) -> Batched:
    return Batched(
        "add_chat",
        lambda _: insert(_table(ChatRecord)),
        {
            "id": message.id,
            "session_id": session_id,
            "seq": message.seq,
            "client_id": message.client_id,
            "author_key": message.author_key,
            "author": message.author,
            "role": message.role,
            "text": message.text,
            "sent_at": message.sent_at,
        },
    )


async def chat_page(db: DbSession, *, session_id: str, after_seq: int, limit: int | None) -> list[ChatMessage]:
    query = (
        select(ChatRecord)
        .where(ChatRecord.session_id == session_id, ChatRecord.seq > after_seq)
        .order_by(ChatRecord.seq)
    )
    if limit is not None:
        query = query.limit(limit)
    return [
        ChatMessage(
            id=r.id,
            seq=r.seq,
            client_id=r.client_id,
            author_key=r.author_key,
            author=r.author,
            role=r.role,
            text=r.text,
            sent_at=r.sent_at,
        )
        for r in await db.scalars(query)
    ]


# ---------------------------------------------------------------- connections (presence intervals)


def open_connection(
    *, connection_id: str, session_id: str, participant_id: str, process_id: str, now: datetime
) -> Batched:
    return Batched(
        "open_connection",
        lambda _: insert(_table(Connection)),
        {
            "id": connection_id,
            "session_id": session_id,
            "participant_id": participant_id,
            "process_id": process_id,
            "connected_at": now,
            "alive_at": now,
            "ended_at": None,
        },
    )


def close_connection(*, connection_id: str, now: datetime) -> Batched:
    return Batched("close_connection", _close_connection, {"b_id": connection_id, "ended_at": now})


def _close_connection(dialect: str) -> Any:
    t = _table(Connection)
    return update(t).where(t.c.id == bindparam("b_id"), t.c.ended_at.is_(None)).values(ended_at=bindparam("ended_at"))


async def keep_alive(db: DbSession, *, process_id: str, now: datetime) -> None:
    """This process's open connections are still open at `now`."""
    await db.execute(
        update(Connection)
        .where(Connection.process_id == process_id, Connection.ended_at.is_(None))
        .values(alive_at=now)
    )


async def end_stale_connections(db: DbSession, *, alive_before: datetime, process_id: str | None = None) -> int:
    """Connections of processes that died end where they were last known alive."""
    cond = Connection.ended_at.is_(None) & (Connection.alive_at < alive_before)
    if process_id is not None:
        cond = Connection.ended_at.is_(None) & (Connection.process_id == process_id)
    result = await db.execute(update(Connection).where(cond).values(ended_at=Connection.alive_at))
    return int(getattr(result, "rowcount", 0) or 0)


async def connections(db: DbSession, *, session_id: str) -> list[tuple[str, datetime, datetime | None]]:
    rows = await db.execute(
        select(Connection.participant_id, Connection.connected_at, Connection.ended_at).where(
            Connection.session_id == session_id
        )
    )
    return [(p, c, e) for p, c, e in rows]


# ---------------------------------------------------------------- attendance


async def answer_counts(db: DbSession, *, session_id: str) -> tuple[int, dict[str, int]]:
    """Pings of the session, and how many each participant answered."""
    total = await db.scalar(select(func.count()).where(PingRecord.session_id == session_id)) or 0
    rows = await db.execute(
        select(PingAnswer.participant_id, func.count())
        .join(PingRecord, PingRecord.id == PingAnswer.ping_id)
        .where(PingRecord.session_id == session_id)
        .group_by(PingAnswer.participant_id)
    )
    return total, {p: n for p, n in rows}


async def save_attendance(db: DbSession, *, session_id: str, rows: list[dict[str, Any]]) -> None:
    """The sheet as saved at close, in one statement for the whole class."""
    table = _table(AttendanceRecord)
    await db.execute(delete(table).where(table.c.session_id == session_id))
    if rows:
        await db.execute(
            insert(table), [{"session_id": session_id, "participant_id": r["participant_id"], "row": r} for r in rows]
        )


async def saved_attendance(db: DbSession, *, session_id: str) -> list[dict[str, Any]]:
    rows = await db.scalars(select(AttendanceRecord.row).where(AttendanceRecord.session_id == session_id))
    return list(rows)


async def members(db: DbSession, *, session_id: str) -> list[Member]:
    rows = await db.scalars(
        select(Participant).where(Participant.session_id == session_id).order_by(Participant.created_at)
    )
    return [_member(r) for r in rows]

"""Sessions: the session row as the core's SessionState, the sessions the ticker watches, the live snapshot."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession as DbSession

from core.model import Ping, SessionState
from persistence.live.base import Snapshot
from persistence.models import ChatRecord, HelpTicket, LiveSession, Participant, PingRecord
from persistence.repos import _rows, pings


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


# ---------------------------------------------------------------- the live snapshot


async def load_snapshot(db: DbSession, *, session_id: str) -> Snapshot | None:
    row = await db.get(LiveSession, session_id)
    if row is None:
        return None
    members = [
        _rows.member(p) for p in await db.scalars(select(Participant).where(Participant.session_id == session_id))
    ]
    open_pings: list[Ping] = []
    for p in await db.scalars(
        select(PingRecord).where(PingRecord.session_id == session_id, PingRecord.closed_at.is_(None))
    ):
        ping = _rows.ping(p)
        ping.answers = await pings.ping_answers(db, ping_id=p.id)
        ping.seen = set(p.seen or []) | set(ping.answers)
        open_pings.append(ping)
    tickets = [
        _rows.ticket(t, name)
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
    return Snapshot(_session_state(row), members, open_pings, tickets, index, last_seq)

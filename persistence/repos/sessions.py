"""Sessions: the session row as the core's SessionState, the sessions the ticker watches, the live snapshot."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession as DbSession

from core.model import Ping, SessionState
from core.schedule import Booking
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
        series_id=row.series_id,
        timezone=row.timezone,
        required_features=list(row.required_features or []),
        expected_participants=row.expected_participants,
        override_reason=row.override_reason,
        cancelled_at=row.cancelled_at,
        cancel_reason=row.cancel_reason,
        invitations_sent_at=row.invitations_sent_at,
        short_notice_reason=row.short_notice_reason,
        meeting_provider=row.meeting_provider,
        meeting_id=row.meeting_id,
        meeting_occurrence_id=row.meeting_occurrence_id,
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
    "series_id",
    "timezone",
    "required_features",
    "expected_participants",
    "override_reason",
    "cancelled_at",
    "cancel_reason",
    "invitations_sent_at",
    "short_notice_reason",
    "meeting_provider",
    "meeting_id",
    "meeting_occurrence_id",
)


def _values(state: SessionState) -> dict[str, Any]:
    values = {f: getattr(state, f) for f in _SESSION_FIELDS}
    values["required_features"] = list(state.required_features)
    return {**values, "expected_start": state.expected_start, "instructor_key": state.instructor_email.lower()}


async def create_session(db: DbSession, *, state: SessionState, now: datetime) -> None:
    await create_sessions(db, states=[state], now=now)


async def create_sessions(db: DbSession, *, states: list[SessionState], now: datetime) -> None:
    """New sessions (one, or every occurrence of a series) in one statement."""
    db.add_all([LiveSession(id=s.id, created_at=now, **_values(s)) for s in states])
    await db.flush()


async def save_session(db: DbSession, *, state: SessionState) -> None:
    await db.execute(update(LiveSession).where(LiveSession.id == state.id).values(**_values(state)))


async def save_sessions(db: DbSession, *, states: list[SessionState]) -> None:
    for state in states:
        await save_session(db, state=state)


async def get_session(db: DbSession, *, session_id: str) -> SessionState | None:
    row = await db.get(LiveSession, session_id)
    return _session_state(row) if row else None


# Sessions last at most a day (server.schemas): one that overlaps [start, end) starts after start - MAX.
MAX_DURATION = timedelta(minutes=24 * 60)


async def instructor_bookings(
    db: DbSession, *, instructor_email: str, start: datetime, end: datetime, exclude: Collection[str] = ()
) -> list[Booking]:
    """The instructor's sessions that still take place and may overlap [start, end), by the index."""
    query = select(LiveSession.id, LiveSession.topic, LiveSession.starts_at, LiveSession.duration_minutes).where(
        LiveSession.instructor_key == instructor_email.lower(),
        LiveSession.starts_at > start - MAX_DURATION,
        LiveSession.starts_at < end,
        LiveSession.status != "cancelled",
    )
    if exclude:
        query = query.where(LiveSession.id.not_in(list(exclude)))
    return [Booking(i, t, s, d) for i, t, s, d in await db.execute(query)]


async def list_sessions(
    db: DbSession,
    *,
    start: datetime | None,
    end: datetime | None,
    instructor_email: str | None,
    limit: int,
) -> list[tuple[SessionState, int]]:
    """Sessions that start in [start, end), in start order, with the size of each roster."""
    size = select(func.count()).where(Participant.session_id == LiveSession.id).correlate(LiveSession).scalar_subquery()
    query = select(LiveSession, size).order_by(LiveSession.starts_at, LiveSession.id).limit(limit)
    if start is not None:
        query = query.where(LiveSession.starts_at >= start)
    if end is not None:
        query = query.where(LiveSession.starts_at < end)
    if instructor_email is not None:
        query = query.where(LiveSession.instructor_key == instructor_email.lower())
    return [(_session_state(row), n) for row, n in await db.execute(query)]


async def series_from(db: DbSession, *, series_id: str, starts_at: datetime) -> list[SessionState]:
    """The sessions of a series that start at or after `starts_at`, in start order."""
    rows = await db.scalars(
        select(LiveSession)
        .where(LiveSession.series_id == series_id, LiveSession.starts_at >= starts_at)
        .order_by(LiveSession.starts_at)
    )
    return [_session_state(r) for r in rows]


async def scheduled_after(db: DbSession, *, after: datetime) -> list[SessionState]:
    """The scheduled sessions that start after `after`, in start order."""
    rows = await db.scalars(
        select(LiveSession)
        .where(LiveSession.status == "scheduled", LiveSession.starts_at > after)
        .order_by(LiveSession.starts_at, LiveSession.id)
    )
    return [_session_state(r) for r in rows]


async def roster_size(db: DbSession, *, session_id: str) -> int:
    return await db.scalar(select(func.count()).where(Participant.session_id == session_id)) or 0


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
    # An erased participant (docs/records.md) is off the live roster: their token is refused at connect.
    on_roster = (Participant.session_id == session_id, Participant.erased_at.is_(None))
    members = [_rows.member(p) for p in await db.scalars(select(Participant).where(*on_roster))]
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

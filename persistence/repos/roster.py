"""The roster: a session's participants, their check-in and their mark."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession as DbSession

from core.errors import Conflict
from core.model import Member, roster_order
from persistence.models import LiveSession, Participant, StaffMember
from persistence.repos import _rows
from persistence.writer import Batched


async def add_participants(
    db: DbSession,
    *,
    session_id: str,
    people: Sequence[tuple[str, str] | tuple[str, str, str | None]],
    new_ids: Iterable[str],
    now: datetime,
) -> list[Member]:
    """Add people (name, email[, timezone]) by email, case-insensitive; one already there keeps its id and
    gets the new name (and the new zone, when one is given)."""
    session = await db.get(LiveSession, session_id)
    if session is None or session.status in ("closed", "cancelled"):
        raise Conflict(f"the session is {session.status if session else 'gone'}")
    keys = {person[1].lower() for person in people}
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
    for person in people:
        name, email = person[0], person[1]
        tz = person[2] if len(person) > 2 else None
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
                timezone=tz,
            )
            db.add(row)
            existing[key] = row
        else:
            row.name = name
            if tz is not None:
                row.timezone = tz
        touched[row.id] = row
    await db.flush()
    return [_rows.member(r) for r in touched.values()]


async def get_member(db: DbSession, *, participant_id: str) -> tuple[str, Member] | None:
    """A participant and its session id; None for an erased one (every link of theirs stops working)."""
    row = await db.get(Participant, participant_id)
    return (row.session_id, _rows.member(row)) if row and row.erased_at is None else None


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
    t = _rows.table(Participant)
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


async def members(db: DbSession, *, session_id: str) -> list[Member]:
    rows = await db.scalars(
        select(Participant).where(Participant.session_id == session_id).order_by(Participant.created_at)
    )
    return sorted((_rows.member(r) for r in rows), key=roster_order)


async def remove_participant(db: DbSession, *, session_id: str, participant_id: str) -> Member | None:
    """Take a participant off the roster (their answers, tickets and connections go with them); None if not there."""
    row = await db.get(Participant, participant_id)
    if row is None or row.session_id != session_id:
        return None
    member = _rows.member(row)
    await db.delete(row)
    await db.flush()
    return member


async def others_overlapping(
    db: DbSession, *, session_id: str, starts_at: datetime, ends_at: datetime
) -> dict[str, list[tuple[str, str, datetime]]]:
    """For each email on this roster (lower-cased), the other sessions they are on that overlap [starts_at, ends_at).

    Sessions last at most a day, so only those starting in the day before are read (by the start index).
    """
    mine = select(Participant.email_key).where(Participant.session_id == session_id)
    other = (
        select(
            Participant.email_key,
            LiveSession.id,
            LiveSession.topic,
            LiveSession.starts_at,
            LiveSession.duration_minutes,
        )
        .join(LiveSession, LiveSession.id == Participant.session_id)
        .where(
            Participant.email_key.in_(mine),
            LiveSession.id != session_id,
            LiveSession.status != "cancelled",
            LiveSession.starts_at > starts_at - timedelta(days=1),
            LiveSession.starts_at < ends_at,
        )
    )
    found: dict[str, list[tuple[str, str, datetime]]] = {}
    for key, other_id, topic, start, minutes in await db.execute(other):
        if start + timedelta(minutes=minutes) > starts_at:
            found.setdefault(key, []).append((other_id, topic, start))
    return found


async def busy_of(
    db: DbSession, *, emails: Collection[str], start: datetime, end: datetime
) -> dict[str, list[tuple[str, str, datetime, int]]]:
    """For each email, the sessions (not cancelled) they are on or teach that may overlap [start, end)."""
    keys = [e.lower() for e in emails]
    found: dict[str, list[tuple[str, str, datetime, int]]] = {k: [] for k in keys}
    window = (
        LiveSession.starts_at > start - timedelta(days=1),
        LiveSession.starts_at < end,
        LiveSession.status != "cancelled",
    )
    for chunk in _chunks(keys, 500):
        attending = select(
            Participant.email_key,
            LiveSession.id,
            LiveSession.topic,
            LiveSession.starts_at,
            LiveSession.duration_minutes,
        ).join(LiveSession, LiveSession.id == Participant.session_id)
        for key, sid, topic, at, minutes in await db.execute(
            attending.where(Participant.email_key.in_(chunk), *window)
        ):
            found[key].append((sid, topic, at, minutes))
        teaching = select(
            LiveSession.instructor_key,
            LiveSession.id,
            LiveSession.topic,
            LiveSession.starts_at,
            LiveSession.duration_minutes,
        )
        for key, sid, topic, at, minutes in await db.execute(
            teaching.where(LiveSession.instructor_key.in_(chunk), *window)
        ):
            found[key].append((sid, topic, at, minutes))
    return found


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


async def timezones(db: DbSession, *, emails: Collection[str]) -> dict[str, str]:
    """The zone each person last gave (a roster row, else their staff record), by lower-cased email."""
    keys = [e.lower() for e in emails]
    zones: dict[str, str] = {}
    for chunk in _chunks(keys, 500):
        for key, tz in await db.execute(
            select(StaffMember.email, StaffMember.timezone).where(
                StaffMember.email.in_(chunk), StaffMember.timezone.is_not(None)
            )
        ):
            zones[key] = tz or "UTC"
        for key, tz in await db.execute(
            select(Participant.email_key, Participant.timezone)
            .where(Participant.email_key.in_(chunk), Participant.timezone.is_not(None))
            .order_by(Participant.created_at)
        ):
            zones[key] = tz or "UTC"  # never None: the query asks for zones that are set
    return zones

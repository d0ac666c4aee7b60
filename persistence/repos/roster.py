"""The roster: a session's participants, their check-in and their mark."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession as DbSession

from core.errors import Conflict
from core.model import Member, roster_order
from persistence.models import LiveSession, Participant
from persistence.repos import _rows
from persistence.writer import Batched


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
    return [_rows.member(r) for r in touched.values()]


async def get_member(db: DbSession, *, participant_id: str) -> tuple[str, Member] | None:
    """A participant and its session id."""
    row = await db.get(Participant, participant_id)
    return (row.session_id, _rows.member(row)) if row else None


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

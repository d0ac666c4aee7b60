"""The audit log: written through `record` only, in the transaction of the change it records; read a page at a time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession as DbSession

from core.model import Actor, iso
from persistence.models import AuditEntry, AuditPolicy, StaffMember


async def actor_id(db: DbSession, actor: Actor) -> str:
    """The internal id an audit entry names a person by: the staff member's, else the bare token's."""
    if actor.email is not None and actor.role != "participant":
        person = await db.scalar(select(StaffMember.id).where(StaffMember.email == actor.email.lower()))
        if person is not None:
            return f"staff:{person}"
    if actor.participant_id is not None:
        return f"participant:{actor.participant_id}"
    return f"token:{actor.token_id}"


async def set_keep(db: DbSession, *, seconds: int) -> None:
    """How long entries are kept, as the database's DELETE trigger reads it (migration 0012)."""
    await db.execute(update(AuditPolicy).where(AuditPolicy.id == 1).values(keep_seconds=seconds))


async def keep_seconds(db: DbSession) -> int | None:
    return await db.scalar(select(AuditPolicy.keep_seconds).where(AuditPolicy.id == 1))


async def record(
    db: DbSession,
    *,
    actor: Actor,
    action: str,
    target: str,
    at: datetime,
    session_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one entry, in the caller's transaction: it commits with the change, or neither does."""
    db.add(
        AuditEntry(
            at=at,
            actor=await actor_id(db, actor),
            action=action,
            target=target,
            session_id=session_id,
            detail=detail or {},
        )
    )
    await db.flush()


async def staff_actor_id(db: DbSession, *, email: str) -> str | None:
    """The audit id of the staff member with this email, for filtering by a person (None: unknown)."""
    person = await db.scalar(select(StaffMember.id).where(StaffMember.email == email.lower()))
    return f"staff:{person}" if person is not None else None


async def entries(
    db: DbSession,
    *,
    session_id: str | None,
    actor: str | None,
    action: str | None,
    after: datetime | None,
    cursor: int | None,
    limit: int,
) -> tuple[list[dict[str, Any]], int | None]:
    """A page of the log, oldest first, and the cursor of the next page (None: this was the last)."""
    query = select(AuditEntry).order_by(AuditEntry.id).limit(limit + 1)
    if session_id is not None:
        query = query.where(AuditEntry.session_id == session_id)
    if actor is not None:
        query = query.where(AuditEntry.actor == actor)
    if action is not None:
        query = query.where(AuditEntry.action == action)
    if after is not None:
        query = query.where(AuditEntry.at > after)
    if cursor is not None:
        query = query.where(AuditEntry.id > cursor)
    rows = list(await db.scalars(query))
    page = rows[:limit]
    return [_view(e) for e in page], (page[-1].id if len(rows) > limit else None)


def _view(e: AuditEntry) -> dict[str, Any]:
    return {
        "id": str(e.id),
        "at": iso(e.at),
        "actor": e.actor,
        "action": e.action,
        "target": e.target,
        "session_id": e.session_id,
        "detail": e.detail,
    }

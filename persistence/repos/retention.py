"""Records over time: legal holds (a held session is never purged)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession as DbSession

from core.model import Actor, iso
from persistence.models import LegalHold
from persistence.repos import audit


async def hold_of(db: DbSession, *, session_id: str) -> dict[str, Any] | None:
    row = await db.get(LegalHold, session_id)
    return None if row is None else {"reason": row.reason, "by": row.held_by, "at": iso(row.held_at)}


async def held(db: DbSession, *, session_ids: Collection[str]) -> set[str]:
    """Which of these sessions are on legal hold."""
    if not session_ids:
        return set()
    return set(await db.scalars(select(LegalHold.session_id).where(LegalHold.session_id.in_(list(session_ids)))))


async def set_hold(db: DbSession, *, actor: Actor, session_id: str, hold: bool, reason: str, now: datetime) -> bool:
    """Put the session on hold (or take it off), audited (`hold`); answers whether anything changed.

    Holding a held session again updates its reason; the audit entry says what it was.
    """
    row = await db.get(LegalHold, session_id)
    if hold:
        before = None if row is None else row.reason
        if row is None:
            db.add(
                LegalHold(session_id=session_id, reason=reason, held_by=await audit.actor_id(db, actor), held_at=now)
            )
        elif row.reason != reason:
            row.reason = reason
        else:
            return False
    else:
        if row is None:
            return False
        before = row.reason
        await db.execute(delete(LegalHold).where(LegalHold.session_id == session_id))
    await audit.record(
        db,
        actor=actor,
        action="hold",
        target=f"session:{session_id}",
        session_id=session_id,
        at=now,
        detail={"hold": hold, "reason": reason, "before": before},
    )
    return True

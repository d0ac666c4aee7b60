"""Help tickets: opened, then claimed and resolved (the snapshot reads them back with their names)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession as DbSession

from core.model import Ticket
from persistence.models import HelpTicket


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
        values["claimed_at"] = ticket.claimed_at or now
    elif ticket.state in ("resolved", "unresolved", "withdrawn"):
        values["resolved_at"] = now
    await db.execute(update(HelpTicket).where(HelpTicket.id == ticket.id).values(**values))

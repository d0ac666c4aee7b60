"""What the repositories share: a model's Core table, and rows read back as core objects."""

from __future__ import annotations

from sqlalchemy import Table

from core.model import Member, Ping, Ticket
from persistence.models import Base, HelpTicket, Participant, PingRecord


def table(model: type[Base]) -> Table:
    """A model's Core table, for statements run many at once (executemany)."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


def member(row: Participant) -> Member:
    """A participant row as the core's Member."""
    return Member(
        id=row.id,
        name=row.name,
        email=row.email,
        checked_in_at=row.checked_in_at,
        checkin_status=row.checkin_status,  # type: ignore[arg-type]
        mark=row.mark,  # type: ignore[arg-type]
        timezone=row.timezone,
    )


def ping(row: PingRecord) -> Ping:
    """A ping row as the core's Ping, without its answers."""
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


def ticket(row: HelpTicket, name: str) -> Ticket:
    """A help ticket row as the core's Ticket, with its participant's name."""
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
        claimed_at=row.claimed_at,
    )

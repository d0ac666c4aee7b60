"""The technical-issue help queue: one open ticket per participant, positions among the waiting."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from core.errors import Conflict
from core.model import Emit, Ticket, room_participant


def open_ticket(
    tickets: list[Ticket],
    *,
    ticket_id: str,
    participant_id: str,
    name: str,
    category: str,
    text: str,
    now: datetime,
) -> Ticket:
    """A new waiting ticket at the end of the queue, or conflict carrying the open one."""
    for t in tickets:
        if t.participant_id == participant_id and t.is_open:
            raise Conflict("you already have an open ticket", ticket_id=t.id, ticket=t.mine())
    return Ticket(
        id=ticket_id,
        participant_id=participant_id,
        name=name,
        category=category,
        text=text,
        created_at=now,
    )


def claim(ticket: Ticket, staff_name: str) -> Ticket:
    if ticket.state != "waiting":
        raise Conflict(f"the ticket is {ticket.state}")
    return replace(ticket, state="claimed", claimed_by=staff_name, position=None)


def resolve(ticket: Ticket, staff_name: str, note: str | None) -> Ticket:
    if not ticket.is_open:
        raise Conflict(f"the ticket is {ticket.state}")
    return replace(ticket, state="resolved", claimed_by=ticket.claimed_by or staff_name, note=note, position=None)


def end_unresolved(ticket: Ticket) -> Ticket:
    """At close, waiting and claimed tickets end unresolved."""
    return replace(ticket, state="unresolved", position=None)


def renumber(tickets: list[Ticket]) -> tuple[list[Ticket], list[Emit]]:
    """Positions count from 1 among waiting tickets in arrival order; tell each whose place moved."""
    out: list[Ticket] = []
    emits: list[Emit] = []
    position = 0
    for t in sorted(tickets, key=lambda t: t.created_at):
        if t.state == "waiting":
            position += 1
            if t.position != position:
                t = replace(t, position=position)
                emits.append(Emit("help:ticket", t.mine(), room_participant(t.participant_id)))
        out.append(t)
    return out, emits


def queue_view(tickets: list[Ticket]) -> dict[str, object]:
    """The whole list of waiting and claimed tickets, oldest first."""
    return {"tickets": [t.view() for t in sorted(tickets, key=lambda t: t.created_at) if t.is_open]}

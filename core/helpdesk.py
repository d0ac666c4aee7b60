"""The technical-issue help queue: one open ticket per participant, positions among the waiting."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from core.errors import Conflict, NotFound
from core.lifecycle import require_open
from core.model import Emit, SessionState, Ticket, room_participant, room_staff

Change = Callable[[Ticket], Ticket]


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


def claim(ticket: Ticket, staff_name: str, now: datetime) -> Ticket:
    if ticket.state != "waiting":
        raise Conflict(f"the ticket is {ticket.state}")
    return replace(ticket, state="claimed", claimed_by=staff_name, claimed_at=now, position=None)


def resolve(ticket: Ticket, staff_name: str, note: str | None) -> Ticket:
    if not ticket.is_open:
        raise Conflict(f"the ticket is {ticket.state}")
    return replace(ticket, state="resolved", claimed_by=ticket.claimed_by or staff_name, note=note, position=None)


def withdraw(ticket: Ticket, participant_id: str) -> Ticket:
    """A participant takes back their own ticket while it is waiting or claimed."""
    if ticket.participant_id != participant_id:
        raise NotFound("no such ticket of yours")
    if not ticket.is_open:
        raise Conflict(f"the ticket is {ticket.state}")
    return replace(ticket, state="withdrawn", position=None)


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


def queue_view(session: SessionState, tickets: list[Ticket]) -> dict[str, object]:
    """The whole list of waiting and claimed tickets, oldest first."""
    opened = sorted((t for t in tickets if t.is_open), key=lambda t: t.created_at)
    return {"tickets": [t.view(session.started_at) for t in opened]}


def opened(session: SessionState, tickets: list[Ticket], ticket: Ticket) -> tuple[list[Ticket], Ticket, list[Emit]]:
    """The queue with a new ticket at its end: its participant learns their position, staff the queue."""
    queue, events = renumber([*tickets, ticket])
    numbered = next(t for t in queue if t.id == ticket.id)
    return queue, numbered, [*events, queue_event(session, queue)]


def changed(
    session: SessionState, tickets: list[Ticket], ticket_id: str, change: Change
) -> tuple[list[Ticket], Ticket, list[Emit]]:
    """The queue after one ticket changed (claimed, resolved): its participant, those who moved and staff are told."""
    current = next((t for t in tickets if t.id == ticket_id), None)
    if current is None:
        raise NotFound("no such ticket")
    require_open(session)
    after = change(current)
    queue, events = renumber([after if t.id == ticket_id else t for t in tickets])
    told = Emit("help:ticket", after.mine(), room_participant(after.participant_id))
    return queue, after, [told, *events, queue_event(session, queue)]


def end_all(session: SessionState, tickets: list[Ticket]) -> tuple[list[Ticket], list[Ticket], list[Emit]]:
    """At close, every open ticket ends unresolved: (the queue, the tickets that ended, the events)."""
    ended = [end_unresolved(t) for t in tickets if t.is_open]
    if not ended:
        return tickets, [], []
    by_id = {t.id: t for t in ended}
    queue = [by_id.get(t.id, t) for t in tickets]
    events = [Emit("help:ticket", t.mine(), room_participant(t.participant_id)) for t in ended]
    return queue, ended, [*events, queue_event(session, queue)]


def queue_event(session: SessionState, tickets: list[Ticket]) -> Emit:
    return Emit("help:queue", queue_view(session, tickets), room_staff(session.id))

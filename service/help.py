"""The help queue: participants open tickets; support claims and resolves them."""

from __future__ import annotations

from core import helpdesk, lifecycle, payloads
from core.model import Actor, Ticket
from persistence.identity import new_id
from persistence.repos import help
from service.unit import Unit


class Help:
    def __init__(self, unit: Unit) -> None:
        self._u = unit

    async def open(self, actor: Actor, session_id: str, p: payloads.HelpOpen) -> Ticket:
        assert actor.participant_id is not None
        now = self._u.now()
        store = self._u.store
        async with self._u.session(session_id) as s:
            lifecycle.require_open(s)
            tickets = await store.tickets(session_id)
            new = helpdesk.open_ticket(
                tickets,
                ticket_id=new_id(),
                participant_id=actor.participant_id,
                name=actor.name,
                category=p.category,
                text=p.text,
                now=now,
            )
            tickets, ticket, events = helpdesk.opened(s, tickets, new)
            await store.set_tickets(session_id, tickets)
            pending = await self._u.write(
                session_id, lambda db: help.add_ticket(db, session_id=session_id, ticket=ticket), events
            )
        await pending
        return ticket

    async def claim(self, actor: Actor, session_id: str, ticket_id: str) -> None:
        now = self._u.now()
        await self._change(session_id, ticket_id, lambda t: helpdesk.claim(t, actor.name, now))

    async def resolve(self, actor: Actor, session_id: str, p: payloads.HelpResolve) -> None:
        await self._change(session_id, p.ticket_id, lambda t: helpdesk.resolve(t, actor.name, p.note or None))

    async def withdraw(self, actor: Actor, session_id: str, ticket_id: str) -> None:
        assert actor.participant_id is not None
        pid = actor.participant_id
        await self._change(session_id, ticket_id, lambda t: helpdesk.withdraw(t, pid))

    async def _change(self, session_id: str, ticket_id: str, change: helpdesk.Change) -> None:
        now = self._u.now()
        store = self._u.store
        async with self._u.session(session_id) as s:
            tickets, changed, events = helpdesk.changed(s, await store.tickets(session_id), ticket_id, change)
            await store.set_tickets(session_id, tickets)
            pending = await self._u.write(session_id, lambda db: help.save_ticket(db, ticket=changed, now=now), events)
        await pending

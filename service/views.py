"""Snapshots for clients: enough to draw a whole page after a reconnect."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core import attendance, helpdesk, pings
from core.model import Actor, Member, SessionState, iso
from persistence.live.base import LiveStore


def counts(members: list[Member], connected: set[str]) -> dict[str, int]:
    statuses = [m.status for m in members]
    return {
        "expected": len(members),
        "connected": sum(1 for m in members if m.id in connected),
        "checked_in": sum(1 for m in members if m.checked_in_at is not None),
        "present": statuses.count("present"),
        "late": statuses.count("late"),
        "excused": statuses.count("excused"),
        "absent": statuses.count("absent"),
    }


def checkin_code(session: SessionState, now: datetime) -> dict[str, Any]:
    """The check-in code shown at `now` on staff screens, when the session asks for one."""
    if session.checkin_secret is None:
        return {}
    return {
        "checkin_code": attendance.code_at(session.checkin_secret, now),
        "checkin_code_expires_at": iso(attendance.code_expires_at(now)),
    }


async def session_state(
    store: LiveStore, actor: Actor, session: SessionState, last_seq: int, now: datetime
) -> dict[str, Any]:
    """The `session:state` answer for this actor, as it stands at `now`."""
    sid = session.id
    state: dict[str, Any] = {
        "session": session.public(),
        "platform": {"status": session.platform_status, "message": session.platform_message},
        "last_seq": last_seq,
        "server_time": iso(now),
    }
    open_pings = sorted(await store.open_pings(sid), key=lambda p: p.launched_at)
    tickets = await store.tickets(sid)
    if actor.participant_id is not None:
        member = await store.member(sid, actor.participant_id)
        state["me"] = {
            "role": actor.role,
            "name": member.name if member else actor.name,
            "participant_id": actor.participant_id,
            "status": member.status if member else "absent",
            "checked_in_at": iso(member.checked_in_at) if member else None,
        }
        state["pings"] = [{**pings.view(p), "my_answer": p.answers.get(actor.participant_id)} for p in open_pings]
        mine = [t for t in tickets if t.participant_id == actor.participant_id]
        state["ticket"] = max(mine, key=lambda t: t.created_at).mine() if mine else None
        return state
    members = await store.members(sid)
    connected = await store.connected(sid)
    state["me"] = {"role": actor.role, "name": actor.name, "email": actor.email}
    state["participants"] = [m.presence(m.id in connected) for m in members]
    state["counts"] = counts(members, connected)
    state["pings"] = [{**pings.view(p), **pings.results(p)} for p in open_pings]
    state["tickets"] = helpdesk.queue_view(session, tickets)["tickets"]
    state.update(checkin_code(session, now))
    return state


async def presence_event(
    store: LiveStore, session_id: str, participant_ids: set[str], now: datetime
) -> dict[str, Any] | None:
    """The `presence` event for these participants (none: the counts and code only); None once the session is gone."""
    state = await store.session(session_id)
    if state is None:
        return None
    members = await store.members(session_id)
    connected = await store.connected(session_id)
    return {
        "changes": [m.presence(m.id in connected) for m in members if m.id in participant_ids],
        "counts": counts(members, connected),
        **checkin_code(state, now),
    }

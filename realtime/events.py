"""The Socket.IO event table: each client -> server event, who may send it, its payload, and its answer.

A handler parses nothing and checks no role (the hub does both, from this table); it calls the
service and shapes the acknowledgement.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from core import payloads as P
from core.model import CONDUCT_ROLES, PARTICIPANT_ONLY, STAFF_ROLES, SUPPORT_ROLES, Actor, iso
from service.chat import CHAT_HISTORY_PAGE
from service.service import Service


@dataclass(slots=True)
class Conn:
    actor: Actor
    session_id: str


Handler = Callable[[Conn, Any], Awaitable[dict[str, Any]]]


@dataclass(slots=True, frozen=True)
class EventSpec:
    roles: frozenset[str] | None  # None: anyone in the session
    model: type[BaseModel]
    handler: Handler


def event_table(service: Service) -> dict[str, EventSpec]:
    s = service

    async def clock_sync(c: Conn, p: P.ClockSync) -> dict[str, Any]:
        return {"t0": p.t0, "server": int(s.clock.now().timestamp() * 1000)}

    async def session_state(c: Conn, p: P.Empty) -> dict[str, Any]:
        return await s.session_state(c.actor, c.session_id)

    async def checkin(c: Conn, p: P.Checkin) -> dict[str, Any]:
        m = await s.roster.checkin(c.actor, c.session_id, p)
        return {"status": m.checkin_status, "at": iso(m.checked_in_at)}

    async def mark(c: Conn, p: P.Mark) -> dict[str, Any]:
        await s.roster.mark(c.actor, c.session_id, p)
        return {}

    async def ping_launch(c: Conn, p: P.PingLaunch) -> dict[str, Any]:
        ping = await s.pings.launch(c.session_id, p)
        return {"ping_id": ping.id, "closes_at": iso(ping.closes_at)}

    async def ping_answer(c: Conn, p: P.PingAnswer) -> dict[str, Any]:
        await s.pings.answer(c.actor, c.session_id, p)
        return {}

    async def ping_close(c: Conn, p: P.PingRef) -> dict[str, Any]:
        return {"results": await s.pings.close(c.session_id, p.ping_id)}

    async def help_open(c: Conn, p: P.HelpOpen) -> dict[str, Any]:
        t = await s.help.open(c.actor, c.session_id, p)
        return {"ticket_id": t.id, "position": t.position}

    async def help_claim(c: Conn, p: P.HelpRef) -> dict[str, Any]:
        await s.help.claim(c.actor, c.session_id, p.ticket_id)
        return {}

    async def help_resolve(c: Conn, p: P.HelpResolve) -> dict[str, Any]:
        await s.help.resolve(c.actor, c.session_id, p)
        return {}

    async def help_withdraw(c: Conn, p: P.HelpRef) -> dict[str, Any]:
        await s.help.withdraw(c.actor, c.session_id, p.ticket_id)
        return {}

    async def ping_share(c: Conn, p: P.PingRef) -> dict[str, Any]:
        await s.pings.share(c.session_id, p.ping_id)
        return {}

    async def chat_send(c: Conn, p: P.ChatSend) -> dict[str, Any]:
        message_id, seq = await s.chat.send(c.actor, c.session_id, p)
        return {"id": message_id, "seq": seq}

    async def chat_history(c: Conn, p: P.ChatHistory) -> dict[str, Any]:
        messages = await s.chat.history(c.session_id, p.after_seq, CHAT_HISTORY_PAGE + 1)
        return {
            "messages": [m.view() for m in messages[:CHAT_HISTORY_PAGE]],
            "more": len(messages) > CHAT_HISTORY_PAGE,
        }

    async def session_start(c: Conn, p: P.Empty) -> dict[str, Any]:
        return {"session": (await s.lifecycle.start(c.session_id)).public()}

    async def session_delay(c: Conn, p: P.Delay) -> dict[str, Any]:
        return {"session": (await s.lifecycle.delay(c.session_id, p)).public()}

    async def session_close(c: Conn, p: P.Empty) -> dict[str, Any]:
        return {"session": (await s.lifecycle.close(c.session_id)).public()}

    async def platform(c: Conn, p: P.Platform) -> dict[str, Any]:
        await s.lifecycle.platform(c.session_id, p)
        return {}

    async def consent_request(c: Conn, p: P.ConsentRequest) -> dict[str, Any]:
        return {"request_id": (await s.consent.request(c.actor, c.session_id, p)).id}

    async def consent_answer(c: Conn, p: P.ConsentAnswer) -> dict[str, Any]:
        await s.consent.answer(c.actor, c.session_id, p)
        return {}

    async def recording_status(c: Conn, p: P.RecordingStatus) -> dict[str, Any]:
        await s.consent.recording(c.actor, c.session_id, p)
        return {}

    return {
        "clock:sync": EventSpec(None, P.ClockSync, clock_sync),
        "session:state": EventSpec(None, P.Empty, session_state),
        "attendance:checkin": EventSpec(PARTICIPANT_ONLY, P.Checkin, checkin),
        "attendance:mark": EventSpec(CONDUCT_ROLES, P.Mark, mark),
        "ping:launch": EventSpec(CONDUCT_ROLES, P.PingLaunch, ping_launch),
        "ping:answer": EventSpec(PARTICIPANT_ONLY, P.PingAnswer, ping_answer),
        "ping:close": EventSpec(CONDUCT_ROLES, P.PingRef, ping_close),
        "help:open": EventSpec(PARTICIPANT_ONLY, P.HelpOpen, help_open),
        "help:claim": EventSpec(SUPPORT_ROLES, P.HelpRef, help_claim),
        "help:resolve": EventSpec(SUPPORT_ROLES, P.HelpResolve, help_resolve),
        "help:withdraw": EventSpec(PARTICIPANT_ONLY, P.HelpRef, help_withdraw),
        "ping:share": EventSpec(CONDUCT_ROLES, P.PingRef, ping_share),
        "chat:send": EventSpec(None, P.ChatSend, chat_send),
        "chat:history": EventSpec(None, P.ChatHistory, chat_history),
        "session:start": EventSpec(CONDUCT_ROLES, P.Empty, session_start),
        "session:delay": EventSpec(CONDUCT_ROLES, P.Delay, session_delay),
        "session:close": EventSpec(CONDUCT_ROLES, P.Empty, session_close),
        "platform:status": EventSpec(STAFF_ROLES, P.Platform, platform),
        "consent:request": EventSpec(CONDUCT_ROLES, P.ConsentRequest, consent_request),
        "consent:answer": EventSpec(PARTICIPANT_ONLY, P.ConsentAnswer, consent_answer),
        "recording:status": EventSpec(CONDUCT_ROLES, P.RecordingStatus, recording_status),
    }

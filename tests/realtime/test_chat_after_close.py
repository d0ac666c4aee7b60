"""A chat resend after close: the outbox of a client that lost its ack learns the message arrived."""

from __future__ import annotations

import asyncio

from tests.support import Class


async def test_a_resend_after_close_answers_the_original_id_and_seq(klass: Class) -> None:
    """Resending a stored client_id after close answers its {id, seq} and sends nothing; a new
    client_id after close answers `conflict` (CONTRACT.md, chat:send and Lifecycle)."""
    p0, instructor = klass.participants[0], klass.instructor
    mine = await p0.ok("chat:send", {"client_id": "outbox-0001", "text": "before close"})
    staff = await instructor.ok("chat:send", {"client_id": "outbox-0002", "text": "staff too"})
    await p0.wait_for("chat", lambda m: m["seq"] == staff["seq"])
    assert (await klass.server.api("POST", f"/api/sessions/{klass.id}/close")).status_code == 200
    await p0.wait_for("session", lambda s: s["status"] == "closed")
    chats = len(p0.of("chat"))
    again = await p0.ok("chat:send", {"client_id": "outbox-0001", "text": "before close"})
    assert (again["id"], again["seq"]) == (mine["id"], mine["seq"])
    again = await instructor.ok("chat:send", {"client_id": "outbox-0002", "text": "staff too"})
    assert (again["id"], again["seq"]) == (staff["id"], staff["seq"])
    await p0.refused("chat:send", {"client_id": "outbox-0003", "text": "new after close"}, "conflict")
    await asyncio.sleep(0.3)  # anything sent would have arrived by now
    assert len(p0.of("chat")) == chats
    history = await p0.ok("chat:history", {})
    assert [(m["id"], m["seq"]) for m in history["messages"]] == [
        (mine["id"], mine["seq"]),
        (staff["id"], staff["seq"]),
    ]

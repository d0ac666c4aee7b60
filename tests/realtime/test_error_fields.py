"""What a refusal carries sits inside `error`, where the contract puts it, and beside it, where clients read it."""

from __future__ import annotations

from datetime import timedelta

from tests.clocked import when
from tests.support import Class, Server, iso_in


async def test_a_second_help_open_carries_the_open_ticket_id_inside_its_error(klass: Class) -> None:
    """help:open while a ticket is open: `conflict`, its error carrying the open ticket's ticket_id
    (CONTRACT.md, Help), and the same ticket_id and ticket at the top of the ack as before."""
    p0 = klass.participants[0]
    first = await p0.ok("help:open", {"category": "audio", "text": "no sound"})
    ack = await p0.refused("help:open", {"category": "video", "text": "again"}, "conflict")
    assert ack["error"]["ticket_id"] == ack["ticket_id"] == first["ticket_id"]
    mine = {"ticket_id": first["ticket_id"], "state": "waiting", "position": 1, "note": None}
    assert ack["error"]["ticket"] == ack["ticket"] == mine
    assert ack["error"]["message"] == "you already have an open ticket"


async def test_an_early_checkin_carries_opens_at_inside_its_error(server: Server) -> None:
    """A check-in more than 30 minutes before the expected start: `conflict`, with when it opens in
    the error and beside it."""
    session = await server.session(starts_at=iso_in(45))
    [person] = await server.participants(session["id"], 1)
    participant = await server.connect(person["token"])
    ack = await participant.refused("attendance:checkin", {}, "conflict")
    assert ack["error"]["opens_at"] == ack["opens_at"]
    assert when(ack["opens_at"]) == when(session["expected_start"]) - timedelta(minutes=30)
    assert ack["opens_at"] in ack["error"]["message"]


async def test_errors_without_fields_stay_code_and_message(klass: Class) -> None:
    """Most refusals carry nothing more: `error` is exactly {code, message}, and nothing sits beside it."""
    ack = await klass.participants[0].refused("help:claim", {"ticket_id": "x" * 32}, "forbidden")
    assert set(ack) == {"ok", "error"} and set(ack["error"]) == {"code", "message"}

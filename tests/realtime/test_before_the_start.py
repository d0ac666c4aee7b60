"""Before the start: the ticker watches a scheduled session from the opening of check-in (code
rotation pushed to staff), and an open ping of any scheduled session (it closes at closes_at)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from tests.clock import FakeClock
from tests.clocked import clock_at_now, clocked_server, when
from tests.support import Client, Server, iso_in


def _code_pushed(state: dict[str, Any]) -> Callable[[Any], bool]:
    """A presence that carries the code of this snapshot."""
    shown = (state["checkin_code"], state["checkin_code_expires_at"])
    return lambda e: (e["checkin_code"], e["checkin_code_expires_at"]) == shown


async def test_staff_get_the_rotated_code_before_the_start(clocked: Server, clock: FakeClock) -> None:
    """In the check-in window before the start, each new code reaches staff in a `presence` with no
    changes, without anyone asking for `session:state`."""
    session = await clocked.session(starts_at=iso_in(20), checkin_code=True)
    admin = await clocked.connect(clocked.admin_token, session["id"])
    state = await admin.ok("session:state", {})
    assert state["session"]["status"] == "scheduled"
    await admin.wait_for("presence", _code_pushed(state))  # what the ticker shows first
    for _ in range(3):  # a new window may, by chance (1 in 10,000), show the same 4 digits
        clock.set(when(state["checkin_code_expires_at"]))
        fresh = await admin.ok("session:state", {})
        assert fresh["checkin_code_expires_at"] != state["checkin_code_expires_at"]
        if fresh["checkin_code"] != state["checkin_code"]:
            break
        state = fresh
    pushed = await admin.wait_for("presence", _code_pushed(fresh), timeout=5)
    assert pushed["changes"] == [] and fresh["session"]["status"] == "scheduled"


async def _pinged(server: Server, starts_in_minutes: float) -> tuple[Client, Client, str]:
    session = await server.session(starts_at=iso_in(starts_in_minutes))
    [person] = await server.participants(session["id"], 1)
    admin = await server.connect(server.admin_token, session["id"])
    participant = await server.connect(person["token"])
    ack = await admin.ok("ping:launch", {"kind": "attention", "question": "Warm-up: there?", "seconds": 30})
    return admin, participant, ack["ping_id"]


async def test_a_warm_up_ping_long_before_the_start_closes_at_its_time(clocked: Server, clock: FakeClock) -> None:
    """A ping launched two hours before the start (check-in not yet open) closes by itself at
    closes_at: participants get `ping:closed`, staff the final results."""
    admin, participant, ping_id = await _pinged(clocked, 120)
    assert await participant.ok("ping:answer", {"ping_id": ping_id, "answer": True}) == {"ok": True}
    clock.advance(seconds=30)
    assert await participant.wait_for("ping:closed", timeout=5) == {"ping_id": ping_id}
    final = await admin.wait_for("ping:results", lambda r: r["ping_id"] == ping_id and r["closed"], timeout=5)
    assert final["tally"] == {"yes": 1}
    state = await admin.ok("session:state", {})
    assert state["session"]["status"] == "scheduled" and state["pings"] == []


async def test_an_answer_at_closes_at_is_refused_before_the_ticker_has_closed_it(
    tmp_path: Path, backing: dict[str, Any]
) -> None:
    """The ticker is slow here (a minute a tick): an answer at closes_at answers `conflict` all the
    same, and the ping is still listed as open until the ticker or ping:close closes it."""
    clock = clock_at_now()
    async with clocked_server(tmp_path, clock, ticker_seconds=60, **backing) as server:
        admin, participant, ping_id = await _pinged(server, 10)
        closes_at = clock.now() + timedelta(seconds=30)  # launched now (the clock stands still), for 30 s
        clock.set(closes_at - timedelta(milliseconds=1))
        assert await participant.ok("ping:answer", {"ping_id": ping_id, "answer": True}) == {"ok": True}
        clock.set(closes_at)
        ack = await participant.refused("ping:answer", {"ping_id": ping_id, "answer": True}, "conflict")
        assert ack["error"]["message"] == "the ping is closed"
        assert [p["ping_id"] for p in (await participant.ok("session:state", {}))["pings"]] == [ping_id]
        results = (await admin.ok("ping:close", {"ping_id": ping_id}))["results"]
        assert results["answered"] == 1 and results["closed"] is True

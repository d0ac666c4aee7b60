"""The session's lifecycle over the socket: clock, state snapshots, start, delay, close, auto start/close."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.clock import FakeClock
from tests.clocked import clocked_server
from tests.support import Class, Client, Server, iso_in


def when(value: str) -> datetime:
    """Parse an RFC 3339 time from the server."""
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def everyone(klass: Class) -> list[Client]:
    return [klass.admin, klass.instructor, klass.support, *klass.participants]


def refused(ack: Any, code: str, field: str | None = None) -> bool:
    """The ack is a refusal with this code (and a message naming `field`, when given)."""
    ok = isinstance(ack, dict) and ack.get("ok") is False and ack["error"]["code"] == code
    return ok and (field is None or field in ack["error"]["message"])


def fresh(client: Client, pred: Callable[[Any], bool]) -> Callable[[Any], bool]:
    """Narrow pred to events that arrive from now on (not ones already recorded)."""
    old = {id(d) for _, d in client.events}
    return lambda d: id(d) not in old and pred(d)


async def still_usable(client: Client) -> None:
    """A refused call leaves the connection working: another call succeeds."""
    ack = await client.call("clock:sync", {"t0": 1})
    assert ack["ok"] is True and ack["t0"] == 1


# ---------------------------------------------------------------- clock:sync


async def test_clock_sync_answers_every_role(klass: Class) -> None:
    """Anyone may sync the clock: the ack echoes t0 and carries the server's epoch ms."""
    for client in everyone(klass):
        t0 = time.time() * 1000
        ack = await client.call("clock:sync", {"t0": t0})
        assert ack["ok"] is True
        assert ack["t0"] == t0
        assert isinstance(ack["server"], int) and abs(ack["server"] - t0) < 5_000


async def test_clock_sync_refuses_a_bad_t0(klass: Class) -> None:
    """t0 must be a number: "1", a missing t0 and a non-object payload answer invalid."""
    p = klass.participants[0]
    assert refused(await p.call("clock:sync", {"t0": "1"}), "invalid", "t0")
    assert refused(await p.call("clock:sync", {}), "invalid", "t0")
    assert refused(await p.call("clock:sync", [1]), "invalid", "payload")
    assert refused(await klass.admin.call("clock:sync", "1"), "invalid", "payload")
    await still_usable(p)
    await still_usable(klass.admin)


# ---------------------------------------------------------------- session:state


async def test_participant_state_has_me_pings_and_ticket(klass: Class) -> None:
    """A participant's snapshot: the session, me, open pings with my answer, my ticket; no staff data."""
    p0, p1 = klass.participants[0], klass.participants[1]
    launched = await klass.instructor.call(
        "ping:launch", {"kind": "poll", "question": "Which?", "options": ["A", "B", "C"], "seconds": 120}
    )
    assert launched["ok"] is True
    assert (await p0.call("ping:answer", {"ping_id": launched["ping_id"], "answer": 2}))["ok"] is True
    opened = await p0.call("help:open", {"category": "audio", "text": "I hear nothing"})
    assert opened["ok"] is True and opened["position"] == 1
    checked = await p0.call("attendance:checkin", {})
    assert checked["ok"] is True

    state = await p0.call("session:state", {})
    assert state["ok"] is True
    assert state["session"]["id"] == klass.id and state["session"]["status"] == "scheduled"
    assert state["session"]["topic"] == "Distributed systems"
    assert state["me"]["role"] == "participant"
    assert state["me"]["participant_id"] == klass.people[0]["id"]
    assert state["me"]["name"] == klass.people[0]["name"]
    assert state["me"]["status"] == "present" and state["me"]["checked_in_at"] == checked["at"]
    [ping] = state["pings"]
    assert ping["ping_id"] == launched["ping_id"] and ping["kind"] == "poll"
    assert ping["options"] == ["A", "B", "C"] and ping["closes_at"] == launched["closes_at"]
    assert ping["my_answer"] == 2
    assert "tally" not in ping
    assert state["ticket"] == {"ticket_id": opened["ticket_id"], "state": "waiting", "position": 1, "note": None}
    for staff_only in ("participants", "counts", "tickets", "checkin_code"):
        assert staff_only not in state

    other = await p1.call("session:state", {})
    assert other["me"]["participant_id"] == klass.people[1]["id"] and other["me"]["status"] == "absent"
    assert other["me"]["checked_in_at"] is None
    assert [q["my_answer"] for q in other["pings"]] == [None]
    assert other["ticket"] is None


@pytest.mark.parametrize("role", ["admin", "instructor", "support"])
async def test_staff_state_has_roster_counts_pings_and_tickets(klass: Class, role: str) -> None:
    """Staff's snapshot: roster with connected/status, counts, pings with results, the help queue."""
    staff: Client = getattr(klass, role)
    p0, p1, p2 = klass.participants
    launched = await klass.admin.call("ping:launch", {"kind": "pulse", "question": "Still with me?"})
    assert (await p0.call("ping:answer", {"ping_id": launched["ping_id"], "answer": "lost"}))["ok"] is True
    opened = await p1.call("help:open", {"category": "video", "text": "frozen"})
    checked = await p0.call("attendance:checkin", {})
    pid2 = klass.people[2]["id"]
    left = fresh(staff, lambda e: any(c["participant_id"] == pid2 and not c["connected"] for c in e["changes"]))
    await p2.close()
    await staff.wait_for("presence", left)

    state = await staff.call("session:state", {})
    assert state["ok"] is True
    assert state["session"]["id"] == klass.id and state["session"]["status"] == "scheduled"
    assert state["me"]["role"] == role
    roster = {r["participant_id"]: r for r in state["participants"]}
    assert list(roster) == [p["id"] for p in klass.people]
    first = roster[klass.people[0]["id"]]
    assert first["name"] == klass.people[0]["name"] and first["email"] == klass.people[0]["email"]
    assert first["connected"] is True and first["status"] == "present" and first["checked_in_at"] == checked["at"]
    assert roster[klass.people[1]["id"]]["connected"] is True and roster[klass.people[1]["id"]]["status"] == "absent"
    assert roster[pid2]["connected"] is False and roster[pid2]["status"] == "absent"
    assert state["counts"] == {
        "expected": 3,
        "connected": 2,
        "checked_in": 1,
        "present": 1,
        "late": 0,
        "excused": 0,
        "absent": 2,
    }
    [ping] = state["pings"]
    assert ping["ping_id"] == launched["ping_id"] and ping["answered"] == 1 and ping["total"] == 3
    assert ping["tally"] == {"ok": 0, "lost": 1} and ping["closed"] is False
    [ticket] = state["tickets"]
    assert ticket["ticket_id"] == opened["ticket_id"] and ticket["participant_id"] == klass.people[1]["id"]
    assert ticket["state"] == "waiting" and ticket["position"] == 1 and ticket["category"] == "video"
    assert "checkin_code" not in state and state["session"]["checkin_code_required"] is False


async def test_state_refuses_a_non_object_payload(klass: Class) -> None:
    """session:state takes an object; anything else answers invalid and the socket stays usable."""
    for client in (klass.admin, klass.participants[0]):
        assert refused(await client.call("session:state", "all"), "invalid", "payload")
        assert refused(await client.call("session:state", [1]), "invalid", "payload")
        assert (await client.call("session:state", {}))["ok"] is True


# ---------------------------------------------------------------- session:start


@pytest.mark.parametrize("role", ["admin", "instructor"])
async def test_start_makes_the_session_live_for_everyone(klass: Class, role: str) -> None:
    """Instructor and admin start the session; everyone gets `session` with status live."""
    before = datetime.now().astimezone()
    ack = await getattr(klass, role).call("session:start", {})
    assert ack["ok"] is True
    session = ack["session"]
    assert session["id"] == klass.id and session["status"] == "live"
    assert when(session["started_at"]) >= before - timedelta(seconds=1)
    for client in everyone(klass):
        event = await client.wait_for("session", lambda s: s["status"] == "live")
        assert event["started_at"] == session["started_at"] and event["id"] == klass.id
    state = await klass.participants[0].call("session:state", {})
    assert state["session"]["status"] == "live" and state["session"]["started_at"] == session["started_at"]
    r = await klass.server.api("GET", f"/api/sessions/{klass.id}")
    assert r.json()["status"] == "live" and r.json()["started_at"] == session["started_at"]


@pytest.mark.parametrize("role", ["support", "participant"])
async def test_start_is_forbidden_to_support_and_participants(klass: Class, role: str) -> None:
    """Support and participants may not start a session; it stays scheduled."""
    client = klass.support if role == "support" else klass.participants[0]
    assert refused(await client.call("session:start", {}), "forbidden")
    assert (await klass.admin.call("session:state", {}))["session"]["status"] == "scheduled"
    await still_usable(client)


async def test_start_of_a_live_session_answers_it_unchanged(klass: Class) -> None:
    """Starting again answers the same session (same started_at) and sends no second `session`."""
    first = await klass.admin.call("session:start", {})
    again = await klass.instructor.call("session:start", {})
    assert again["ok"] is True and again["session"] == first["session"]
    sent = await klass.admin.call("chat:send", {"client_id": "after-start-1", "text": "welcome"})
    p = klass.participants[0]
    await p.wait_for("chat", lambda m: m["id"] == sent["id"])
    assert [s["status"] for s in p.of("session")] == ["live"]


# ---------------------------------------------------------------- session:delay


async def test_delays_add_up_and_move_the_expected_start(klass: Class) -> None:
    """Each delay moves the expected start on from where it was; everyone gets `session` each time."""
    starts_at = when(klass.session["starts_at"])
    ack = await klass.admin.call("session:delay", {"minutes": 5, "reason": "traffic"})
    assert ack["ok"] is True
    assert when(ack["session"]["expected_start"]) == starts_at + timedelta(minutes=5)
    assert ack["session"]["delay_minutes"] == 5 and ack["session"]["delay_reason"] == "traffic"
    assert ack["session"]["status"] == "scheduled" and when(ack["session"]["starts_at"]) == starts_at

    again = await klass.instructor.call("session:delay", {"minutes": 10})
    assert again["ok"] is True
    assert when(again["session"]["expected_start"]) == starts_at + timedelta(minutes=15)
    assert again["session"]["delay_minutes"] == 15

    for client in everyone(klass):
        await client.wait_for("session", lambda s: s["delay_minutes"] == 15)
        assert [s["expected_start"] for s in client.of("session")] == [
            ack["session"]["expected_start"],
            again["session"]["expected_start"],
        ]
    state = await klass.participants[1].call("session:state", {})
    assert state["session"]["expected_start"] == again["session"]["expected_start"]


@pytest.mark.parametrize("role", ["support", "participant"])
async def test_delay_is_forbidden_to_support_and_participants(klass: Class, role: str) -> None:
    """Support and participants may not delay a session; the expected start does not move."""
    client = klass.support if role == "support" else klass.participants[0]
    assert refused(await client.call("session:delay", {"minutes": 5}), "forbidden")
    state = await klass.admin.call("session:state", {})
    assert state["session"]["delay_minutes"] == 0
    assert state["session"]["expected_start"] == state["session"]["starts_at"]
    await still_usable(client)


async def test_delay_of_a_live_session_conflicts(klass: Class) -> None:
    """Only a scheduled session can be delayed."""
    await klass.admin.call("session:start", {})
    assert refused(await klass.instructor.call("session:delay", {"minutes": 5}), "conflict")
    assert (await klass.admin.call("session:state", {}))["session"]["delay_minutes"] == 0


async def test_delay_refuses_bad_payloads(klass: Class) -> None:
    """minutes must be a positive integer; reason a string; the payload an object."""
    admin = klass.admin
    assert refused(await admin.call("session:delay", {"minutes": "5"}), "invalid", "minutes")
    assert refused(await admin.call("session:delay", {"minutes": 5.5}), "invalid", "minutes")
    assert refused(await admin.call("session:delay", {"minutes": 0}), "invalid", "minutes")
    assert refused(await admin.call("session:delay", {}), "invalid", "minutes")
    assert refused(await admin.call("session:delay", {"minutes": 5, "reason": 7}), "invalid", "reason")
    assert refused(await admin.call("session:delay", 5), "invalid", "payload")
    ack = await admin.call("session:delay", {"minutes": 5})
    assert ack["ok"] is True and ack["session"]["delay_minutes"] == 5


# ---------------------------------------------------------------- session:close


@pytest.mark.parametrize("role", ["admin", "instructor"])
async def test_close_over_the_socket_tells_everyone(klass: Class, role: str) -> None:
    """Closing answers the closed session, everyone gets `session` closed, the sheet is saved."""
    await klass.admin.call("session:start", {})
    ack = await getattr(klass, role).call("session:close", {})
    assert ack["ok"] is True
    assert ack["session"]["status"] == "closed" and ack["session"]["closed_at"] is not None
    for client in everyone(klass):
        event = await client.wait_for("session", lambda s: s["status"] == "closed")
        assert event["closed_at"] == ack["session"]["closed_at"]
    r = await klass.server.api("GET", f"/api/sessions/{klass.id}")
    assert r.json()["status"] == "closed" and r.json()["closed_at"] == ack["session"]["closed_at"]
    sheet = await klass.server.api("GET", f"/api/sessions/{klass.id}/attendance")
    assert [row["participant_id"] for row in sheet.json()["rows"]] == [p["id"] for p in klass.people]


@pytest.mark.parametrize("role", ["support", "participant"])
async def test_close_is_forbidden_to_support_and_participants(klass: Class, role: str) -> None:
    """Support and participants may not close a session."""
    client = klass.support if role == "support" else klass.participants[0]
    assert refused(await client.call("session:close", {}), "forbidden")
    assert (await klass.admin.call("session:state", {}))["session"]["status"] == "scheduled"
    await still_usable(client)


async def test_close_ends_open_pings_and_tickets(klass: Class) -> None:
    """At close, open pings close and waiting tickets end unresolved."""
    p0 = klass.participants[0]
    launched = await klass.instructor.call("ping:launch", {"kind": "attention", "question": "Here?"})
    opened = await p0.call("help:open", {"category": "audio", "text": "no sound"})
    await klass.instructor.call("session:close", {})
    await p0.wait_for("ping:closed", lambda e: e["ping_id"] == launched["ping_id"])
    await p0.wait_for("help:ticket", lambda t: t["ticket_id"] == opened["ticket_id"] and t["state"] == "unresolved")
    staff_state = await klass.support.call("session:state", {})
    assert staff_state["pings"] == [] and staff_state["tickets"] == []
    mine = await p0.call("session:state", {})
    assert mine["pings"] == [] and mine["ticket"]["state"] == "unresolved"


async def test_every_change_after_close_conflicts(klass: Class) -> None:
    """After close, sockets may read, but every change answers conflict."""
    p0 = klass.participants[0]
    closed = await klass.admin.call("session:close", {})
    changes: list[tuple[Client, str, dict[str, Any]]] = [
        (p0, "attendance:checkin", {}),
        (p0, "chat:send", {"client_id": "late-msg-1", "text": "hello?"}),
        (klass.admin, "chat:send", {"client_id": "late-msg-2", "text": "gone"}),
        (klass.instructor, "ping:launch", {"kind": "pulse", "question": "ok?"}),
        (p0, "help:open", {"category": "audio", "text": "help"}),
        (klass.support, "platform:status", {"status": "down", "message": "outage"}),
        (klass.instructor, "attendance:mark", {"participant_id": klass.people[1]["id"], "status": "excused"}),
        (klass.admin, "session:start", {}),
        (klass.instructor, "session:delay", {"minutes": 5}),
    ]
    for client, event, payload in changes:
        assert refused(await client.call(event, payload), "conflict"), event
    assert (await p0.call("session:state", {}))["session"]["status"] == "closed"
    assert (await p0.call("chat:history", {}))["messages"] == []
    again = await klass.instructor.call("session:close", {})
    assert again["ok"] is True and again["session"] == closed["session"]
    sheet = (await klass.server.api("GET", f"/api/sessions/{klass.id}/attendance")).json()["rows"]
    assert [row["status"] for row in sheet] == ["absent", "absent", "absent"]


# ---------------------------------------------------------------- going live by itself


async def test_session_goes_live_by_itself_at_its_expected_start(clocked: Server, clock: FakeClock) -> None:
    """A scheduled session goes live at its expected start; everyone connected is told."""
    server = clocked
    session = await server.session(starts_at=iso_in(10))
    [person] = await server.participants(session["id"], 1)
    admin = await server.connect(server.admin_token, session["id"])
    participant = await server.connect(person["token"])
    state = await participant.call("session:state", {})
    assert state["session"]["status"] == "scheduled" and state["session"]["started_at"] is None
    clock.set(when(session["starts_at"]) - timedelta(seconds=1))
    assert (await participant.call("session:state", {}))["session"]["status"] == "scheduled"
    # starts_at is shown to the millisecond and kept to the microsecond: 1 ms on, it is past.
    start = when(session["starts_at"]) + timedelta(milliseconds=1)
    clock.set(start)
    for client in (admin, participant):
        event = await client.wait_for("session", lambda s: s["status"] == "live", timeout=15)
        assert when(event["started_at"]) >= when(session["starts_at"])
    assert when(event["started_at"]) == start
    r = await server.api("GET", f"/api/sessions/{session['id']}")
    assert r.json()["status"] == "live" and r.json()["started_at"] == event["started_at"]


# ---------------------------------------------------------------- auto-close


# A one-minute session that started this long ago: its end is a minute away on the fake clock,
# which stands still while the test connects, and then moves past it.
STARTED_MINUTES_AGO = 0.5


@pytest.fixture
async def closing_server(tmp_path: Path, backing: dict[str, Any], clock: FakeClock) -> AsyncIterator[Server]:
    """A server that closes empty sessions as soon as their scheduled end has passed."""
    async with clocked_server(
        tmp_path, clock, ticker_seconds=0.2, auto_close_grace_minutes=0, auto_close_every_s=0.2, **backing
    ) as srv:
        yield srv


async def test_auto_close_closes_an_empty_session_past_its_end(closing_server: Server, clock: FakeClock) -> None:
    """A session past its scheduled end with nobody connected is closed by the server."""
    server = closing_server
    session = await server.session(starts_at=iso_in(-STARTED_MINUTES_AGO), duration_minutes=1)
    await server.participants(session["id"], 2)
    admin = await server.connect(server.admin_token, session["id"])
    await admin.wait_for("session", lambda s: s["status"] == "live")  # the ticker started it
    assert (await admin.call("session:state", {}))["session"]["status"] == "live"
    end = when(session["starts_at"]) + timedelta(minutes=1, milliseconds=1)
    clock.set(end)
    event = await admin.wait_for("session", lambda s: s["status"] == "closed", timeout=20)
    assert event["closed_at"] is not None and when(event["closed_at"]) == end
    r = await server.api("GET", f"/api/sessions/{session['id']}")
    assert r.json()["status"] == "closed"
    sheet = (await server.api("GET", f"/api/sessions/{session['id']}/attendance")).json()["rows"]
    assert [row["status"] for row in sheet] == ["absent", "absent"]


async def test_auto_close_spares_a_session_with_a_connected_participant(
    closing_server: Server, clock: FakeClock
) -> None:
    """A session past its end stays open while a participant is connected, and closes once they leave."""
    server = closing_server
    busy = await server.session(starts_at=iso_in(-STARTED_MINUTES_AGO), duration_minutes=1)
    [person] = await server.participants(busy["id"], 1)
    participant = await server.connect(person["token"])
    empty = await server.session(starts_at=iso_in(-STARTED_MINUTES_AGO), duration_minutes=1)
    watcher = await server.connect(server.admin_token, empty["id"])
    clock.advance(minutes=1)
    await watcher.wait_for("session", lambda s: s["status"] == "closed", timeout=20)
    await asyncio.sleep(1.0)  # several more ticker rounds, each checking auto-close
    r = await server.api("GET", f"/api/sessions/{busy['id']}")
    assert r.json()["status"] == "live"
    assert all(s["status"] != "closed" for s in participant.of("session"))
    await participant.close()
    for _ in range(75):
        if (await server.api("GET", f"/api/sessions/{busy['id']}")).json()["status"] == "closed":
            break
        await asyncio.sleep(0.2)
    assert (await server.api("GET", f"/api/sessions/{busy['id']}")).json()["status"] == "closed"

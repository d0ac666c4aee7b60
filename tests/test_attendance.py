"""Check-in (window, late, code), staff marks, and the attendance sheet saved at close."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from tests.clock import FakeClock
from tests.support import Class, Client, Server, iso_in, ok


def refused(ack: Any, code: str, field: str | None = None) -> bool:
    """The ack is a refusal with this code (and a message naming `field`, when given)."""
    ok = isinstance(ack, dict) and ack.get("ok") is False and ack["error"]["code"] == code
    return ok and (field is None or field in ack["error"]["message"])


def when(value: str) -> datetime:
    """Parse an RFC 3339 time from the server."""
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def change_for(event: dict[str, Any], participant_id: str) -> dict[str, Any] | None:
    """The change about this participant in a `presence` event, if any."""
    return next((c for c in event["changes"] if c["participant_id"] == participant_id), None)


def fresh(client: Client, pred: Callable[[Any], bool]) -> Callable[[Any], bool]:
    """Narrow pred to events that arrive from now on (not ones already recorded)."""
    old = {id(d) for _, d in client.events}
    return lambda d: id(d) not in old and pred(d)


async def sheet(server: Server, session_id: str) -> list[dict[str, Any]]:
    r = await server.api("GET", f"/api/sessions/{session_id}/attendance")
    assert r.status_code == 200, r.text
    return list(r.json()["rows"])


async def class_of(
    server: Server, n: int = 2, **fields: Any
) -> tuple[dict[str, Any], list[dict[str, Any]], Client, list[Client]]:
    """A session with these fields, n participants connected and the admin connected."""
    session = await server.session(**fields)
    people = await server.participants(session["id"], n)
    admin = await server.connect(server.admin_token, session["id"])
    clients = [await server.connect(p["token"]) for p in people]
    return session, people, admin, clients


# ---------------------------------------------------------------- check-in


async def test_checkin_answers_present_before_the_start(klass: Class) -> None:
    """Inside the window, before the start, check-in answers present with its time."""
    before = datetime.now().astimezone()
    ack = await klass.participants[0].call("attendance:checkin", {})
    assert ack["ok"] is True and ack["status"] == "present"
    assert when(ack["at"]) >= before.replace(microsecond=0)
    state = await klass.participants[0].call("session:state", {})
    assert state["me"]["status"] == "present" and state["me"]["checked_in_at"] == ack["at"]


async def test_a_second_checkin_keeps_the_first(server: Server) -> None:
    """Checking in again answers the first time and status, even once it would be late."""
    session, _, admin, [p0, _] = await class_of(server, late_after_minutes=0)
    first = await p0.call("attendance:checkin", {})
    assert first["status"] == "present"
    await admin.call("session:start", {})
    await asyncio.sleep(0.05)
    again = await p0.call("attendance:checkin", {})
    assert again == first
    [row, _] = await sheet(server, session["id"])
    assert row["status"] == "present" and row["checked_in_at"] == first["at"]


async def test_checkin_is_closed_until_30_minutes_before_the_start(server: Server) -> None:
    """A session 40 minutes ahead answers conflict; 25 minutes ahead it is open."""
    _, _, _, [far] = await class_of(server, 1, starts_at=iso_in(40))
    ack = await far.call("attendance:checkin", {})
    assert refused(ack, "conflict")
    assert (await far.call("session:state", {}))["me"]["checked_in_at"] is None
    _, _, _, [near] = await class_of(server, 1, starts_at=iso_in(25))
    assert (await near.call("attendance:checkin", {}))["status"] == "present"


async def test_a_delay_moves_the_checkin_window(server: Server) -> None:
    """Delaying a session 25 minutes ahead by 10 closes its check-in again until 30 minutes before."""
    _, _, admin, [p0, p1] = await class_of(server, starts_at=iso_in(25))
    assert (await p0.call("attendance:checkin", {}))["ok"] is True
    assert (await admin.call("session:delay", {"minutes": 10}))["ok"] is True
    assert refused(await p1.call("attendance:checkin", {}), "conflict")
    assert (await admin.call("session:delay", {"minutes": 1}))["ok"] is True
    assert refused(await p1.call("attendance:checkin", {}), "conflict")


async def test_checkin_after_late_after_minutes_is_late(server: Server) -> None:
    """Checking in later than late_after_minutes after the start (due now, started now) answers late."""
    # Due now: a session started before its expected start counts from that (tests/realtime/test_late_checkin.py).
    _, people, admin, [p0, p1] = await class_of(server, late_after_minutes=0, starts_at=iso_in(0))
    await admin.call("session:start", {})
    await asyncio.sleep(0.05)
    ack = await p0.call("attendance:checkin", {})
    assert ack["ok"] is True and ack["status"] == "late"
    event = await admin.wait_for("presence", lambda e: (change_for(e, people[0]["id"]) or {}).get("status") == "late")
    assert change_for(event, people[0]["id"])["checked_in_at"] == ack["at"]  # type: ignore[index]
    assert (await p1.call("session:state", {}))["me"]["status"] == "absent"


async def test_checkin_within_late_after_minutes_is_present(server: Server) -> None:
    """With the default 5 minutes, checking in just after the start is present."""
    _, _, admin, [p0, _] = await class_of(server)
    started = await admin.call("session:start", {})
    assert started["session"]["late_after_minutes"] == 5
    await asyncio.sleep(0.05)
    assert (await p0.call("attendance:checkin", {}))["status"] == "present"


@pytest.mark.parametrize("role", ["admin", "instructor", "support"])
async def test_checkin_is_for_participants_only(klass: Class, role: str) -> None:
    """Staff may not check in."""
    client: Client = getattr(klass, role)
    assert refused(await client.call("attendance:checkin", {}), "forbidden")
    assert (await client.call("clock:sync", {"t0": 2}))["ok"] is True


async def test_checkin_refuses_bad_payloads(klass: Class) -> None:
    """code must be a string; the payload an object; the socket stays usable."""
    p0 = klass.participants[0]
    assert refused(await p0.call("attendance:checkin", {"code": 1234}), "invalid", "code")
    assert refused(await p0.call("attendance:checkin", "1234"), "invalid", "payload")
    assert (await p0.call("attendance:checkin", {}))["status"] == "present"


# ---------------------------------------------------------------- the check-in code


async def test_checkin_code_is_shown_to_staff_only(server: Server) -> None:
    """With checkin_code, staff see a 4-digit code in session:state and presence; participants never."""
    session = await server.session(checkin_code=True)
    assert session["checkin_code_required"] is True
    instructor_token = await server.token("instructor", "Iris", "teacher@example.org")
    support_token = await server.token("support", "Sam", "support@example.org")
    staff = [
        await server.connect(server.admin_token, session["id"]),
        await server.connect(instructor_token, session["id"]),
        await server.connect(support_token, session["id"]),
    ]
    [person] = await server.participants(session["id"], 1)
    participant = await server.connect(person["token"])
    for client in staff:
        state = await client.call("session:state", {})
        assert re.fullmatch(r"\d{4}", state["checkin_code"])
        assert when(state["checkin_code_expires_at"]) > when(state["server_time"])
        event = await client.wait_for("presence", lambda e: change_for(e, person["id"]) is not None)
        assert re.fullmatch(r"\d{4}", event["checkin_code"])
    mine = await participant.call("session:state", {})
    assert mine["session"]["checkin_code_required"] is True
    assert "checkin_code" not in mine and "checkin_code_expires_at" not in mine
    assert "checkin_code" not in str(mine["session"]).replace("checkin_code_required", "")


async def test_checkin_code_must_be_given_and_right(server: Server) -> None:
    """No code or a wrong code answers invalid naming the code; the code staff see checks in."""
    session = await server.session(checkin_code=True)
    [person] = await server.participants(session["id"], 1)
    admin = await server.connect(server.admin_token, session["id"])
    participant = await server.connect(person["token"])
    assert refused(await participant.call("attendance:checkin", {}), "invalid", "code")
    assert refused(await participant.call("attendance:checkin", {"code": "abcd"}), "invalid", "code")
    assert refused(await participant.call("attendance:checkin", {"code": "00000"}), "invalid", "code")
    assert (await participant.call("session:state", {}))["me"]["checked_in_at"] is None
    code = (await admin.call("session:state", {}))["checkin_code"]
    ack = await participant.call("attendance:checkin", {"code": code})
    assert ack["ok"] is True and ack["status"] == "present"


async def test_a_session_without_code_ignores_one(klass: Class) -> None:
    """Where no code is asked for, staff see none and check-in works with or without one."""
    assert "checkin_code" not in await klass.admin.call("session:state", {})
    assert (await klass.participants[0].call("attendance:checkin", {"code": "1234"}))["status"] == "present"
    assert (await klass.participants[1].call("attendance:checkin", {}))["status"] == "present"


# ---------------------------------------------------------------- attendance:mark


@pytest.mark.parametrize("role", ["admin", "instructor"])
async def test_mark_sets_the_status_for_staff(klass: Class, role: str) -> None:
    """Instructor and admin mark a participant; staff see it in presence and session:state."""
    pid = klass.people[1]["id"]
    ack = await getattr(klass, role).call("attendance:mark", {"participant_id": pid, "status": "excused"})
    assert ack == {"ok": True}
    for staff in (klass.admin, klass.instructor, klass.support):
        event = await staff.wait_for("presence", lambda e: (change_for(e, pid) or {}).get("status") == "excused")
        assert event["counts"]["excused"] == 1
    state = await klass.support.call("session:state", {})
    assert {r["participant_id"]: r["status"] for r in state["participants"]}[pid] == "excused"
    assert (await klass.participants[1].call("session:state", {}))["me"]["status"] == "excused"


@pytest.mark.parametrize("role", ["support", "participant"])
async def test_mark_is_forbidden_to_support_and_participants(klass: Class, role: str) -> None:
    """Support and participants may not mark attendance."""
    client = klass.support if role == "support" else klass.participants[0]
    pid = klass.people[0]["id"]
    assert refused(await client.call("attendance:mark", {"participant_id": pid, "status": "present"}), "forbidden")
    assert (await klass.participants[0].call("session:state", {}))["me"]["status"] == "absent"
    assert (await client.call("clock:sync", {"t0": 3}))["ok"] is True


async def test_mark_refuses_unknown_participants_and_bad_payloads(klass: Class) -> None:
    """An unknown participant answers not_found; a bad status or type answers invalid naming it."""
    admin = klass.admin
    pid = klass.people[0]["id"]
    assert refused(await admin.call("attendance:mark", {"participant_id": "nobody", "status": "present"}), "not_found")
    assert refused(await admin.call("attendance:mark", {"participant_id": pid, "status": "gone"}), "invalid", "status")
    assert refused(await admin.call("attendance:mark", {"participant_id": pid}), "invalid", "status")
    assert refused(
        await admin.call("attendance:mark", {"participant_id": 7, "status": "late"}), "invalid", "participant_id"
    )
    assert refused(await admin.call("attendance:mark", {"status": "late"}), "invalid", "participant_id")
    assert refused(await admin.call("attendance:mark", [pid, "late"]), "invalid", "payload")
    assert (await admin.call("attendance:mark", {"participant_id": pid, "status": "late"}))["ok"] is True


async def test_participant_of_another_session_is_not_found(server: Server) -> None:
    """A participant id of another session cannot be marked in this one."""
    session, people, admin, _ = await class_of(server, 1)
    other = await server.session(topic="Other")
    [stranger] = await server.participants(other["id"], 1, prefix="x")
    ack = await admin.call("attendance:mark", {"participant_id": stranger["id"], "status": "present"})
    assert refused(ack, "not_found")
    assert [r["participant_id"] for r in await sheet(server, session["id"])] == [people[0]["id"]]
    assert [r["status"] for r in await sheet(server, other["id"])] == ["absent"]


async def test_a_mark_overrides_the_checkin(klass: Class) -> None:
    """A mark wins over the check-in status and keeps the check-in time, in presence and the sheet."""
    pid = klass.people[0]["id"]
    checked = await klass.participants[0].call("attendance:checkin", {})
    assert checked["status"] == "present"
    await klass.instructor.call("attendance:mark", {"participant_id": pid, "status": "late"})
    event = await klass.admin.wait_for("presence", lambda e: (change_for(e, pid) or {}).get("status") == "late")
    assert change_for(event, pid)["checked_in_at"] == checked["at"]  # type: ignore[index]
    again = await klass.participants[0].call("attendance:checkin", {})
    assert again["at"] == checked["at"]
    assert (await klass.participants[0].call("session:state", {}))["me"]["status"] == "late"
    await klass.admin.call("session:close", {})
    row = (await sheet(klass.server, klass.id))[0]
    assert row["status"] == "late" and row["checked_in_at"] == checked["at"]


# ---------------------------------------------------------------- the sheet


async def test_sheet_after_close(clocked: Server, clock: FakeClock) -> None:
    """The saved sheet: statuses, check-in, first/last seen, minutes present and pings answered."""
    server = clocked
    session = await server.session()
    people = await server.participants(session["id"], 4)
    admin = await server.connect(server.admin_token, session["id"])
    p0, p1, p2 = [await server.connect(p["token"]) for p in people[:3]]
    checked = await p0.call("attendance:checkin", {})
    await admin.call("attendance:mark", {"participant_id": people[1]["id"], "status": "excused"})
    started = (await admin.call("session:start", {}))["session"]
    first = await admin.call("ping:launch", {"kind": "rating", "question": "How was it?"})
    second = await admin.call("ping:launch", {"kind": "attention", "question": "Still there?"})
    await p0.call("ping:answer", {"ping_id": first["ping_id"], "answer": 4})
    await p0.call("ping:answer", {"ping_id": second["ping_id"], "answer": True})
    await p1.call("ping:answer", {"ping_id": second["ping_id"], "answer": True})
    clock.advance(minutes=5)  # time present
    closed = (await admin.call("session:close", {}))["session"]

    rows = await sheet(server, session["id"])
    assert [r["participant_id"] for r in rows] == [p["id"] for p in people]
    assert [r["name"] for r in rows] == [p["name"] for p in people]
    assert [r["email"] for r in rows] == [p["email"] for p in people]
    assert [r["status"] for r in rows] == ["present", "excused", "absent", "absent"]
    assert rows[0]["checked_in_at"] == checked["at"]
    assert [r["checked_in_at"] for r in rows[1:]] == [None, None, None]
    assert [r["pings_answered"] for r in rows] == [2, 1, 0, 0]
    assert [r["pings_total"] for r in rows] == [2, 2, 2, 2]
    span = (when(closed["closed_at"]) - when(started["started_at"])).total_seconds() / 60
    for r in rows[:3]:
        assert r["first_seen"] is not None and r["last_seen"] is not None
        assert when(r["first_seen"]) <= when(started["started_at"])
        assert when(r["last_seen"]) == when(closed["closed_at"])
        assert 0 < r["minutes_present"] <= span + 0.01
        assert r["minutes_present"] == span == 5.0  # connected before the start: the whole session
    never = rows[3]
    assert never["first_seen"] is None and never["last_seen"] is None and never["minutes_present"] == 0
    csv = await server.api("GET", f"/api/sessions/{session['id']}/attendance.csv")
    lines = csv.text.strip().splitlines()
    assert lines[0].startswith("participant_id,name,email,status,checked_in_at")
    assert len(lines) == 5 and lines[1].startswith(f"{people[0]['id']},{people[0]['name']},")
    await p2.close()


async def test_connected_but_never_checked_in_is_absent(clocked: Server, clock: FakeClock) -> None:
    """Whoever never checked in and was not marked is absent, however long they were connected."""
    server = clocked
    session, people, admin, [p0] = await class_of(server, 1)
    await admin.call("session:start", {})
    clock.advance(minutes=2)
    await admin.call("session:close", {})
    [row] = await sheet(server, session["id"])
    assert row["participant_id"] == people[0]["id"]
    assert row["status"] == "absent" and row["checked_in_at"] is None and row["minutes_present"] > 0
    assert (await p0.call("session:state", {}))["me"]["status"] == "absent"


async def test_the_sheet_does_not_change_after_close(clocked: Server, clock: FakeClock) -> None:
    """A disconnect after close leaves the saved sheet as it was."""
    server = clocked
    session, people, admin, [p0, p1] = await class_of(server)
    await p0.call("attendance:checkin", {})
    await admin.call("session:start", {})
    clock.advance(minutes=1)
    await admin.call("session:close", {})
    before = await sheet(server, session["id"])
    assert before[0]["status"] == "present" and before[0]["minutes_present"] > 0
    left = fresh(admin, lambda e: (change_for(e, people[0]["id"]) or {}).get("connected") is False)
    await p0.close()
    await admin.wait_for("presence", left)
    clock.advance(minutes=1)  # a sheet computed anew would now count another minute
    await asyncio.sleep(1.0)  # writes after the disconnect have landed
    assert await sheet(server, session["id"]) == before
    assert refused(await p1.call("attendance:checkin", {}), "conflict")
    assert await sheet(server, session["id"]) == before


async def test_the_sheet_and_the_roster_list_people_in_one_order(server: Server) -> None:
    """By name, whatever order they were added in and whatever the case: the sheet (live and saved), its
    CSV, the dashboard's roster and the presence timeline read alike."""
    session = await server.session()
    names = ["zoë Zimmer", "Adam Ant", "bea Brown", "Adam Ant"]
    added = ok(
        await server.api(
            "POST",
            f"/api/sessions/{session['id']}/participants",
            {"participants": [{"name": n, "email": f"x{i}@example.org"} for i, n in enumerate(names)]},
        )
    )["participants"]
    admin = await server.connect(server.admin_token, session["id"])
    roster = [p["participant_id"] for p in (await admin.ok("session:state", {}))["participants"]]
    adams = sorted(p["id"] for p in added if p["name"] == "Adam Ant")
    assert [p["name"] for p in added] == names  # the answer keeps the order of the request
    assert roster == [*adams, added[2]["id"], added[0]["id"]]
    assert [r["participant_id"] for r in await sheet(server, session["id"])] == roster
    timeline = ok(await server.api("GET", f"/api/sessions/{session['id']}/presence"))
    assert [p["participant_id"] for p in timeline["participants"]] == roster
    await admin.ok("session:close", {})
    assert [r["participant_id"] for r in await sheet(server, session["id"])] == roster

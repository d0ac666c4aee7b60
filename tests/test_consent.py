"""Recording consent over Socket.IO: ask, answer, live counts, late joiners, replace and close, and the banner.

Every test runs on SQLite in-process and on PostgreSQL + Redis (tests/conftest.py).
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.settings import DEFAULT_CONSENT_TEXT, Settings, SettingsError
from persistence.db import create_engine, sessionmaker
from persistence.repos import consent as consent_repo
from server.cli import _create_token
from tests.support import PAUSE, Class, Client, Server, iso_in, ok, running_server
from tests.test_durability import Process, _connect


def staff(k: Class) -> list[Client]:
    return [k.admin, k.instructor, k.support]


def everyone(k: Class) -> list[Client]:
    return [*staff(k), *k.participants]


async def ask(client: Client, **extra: Any) -> str:
    ack = await client.ok("consent:request", {"purpose": "recording", **extra})
    assert isinstance(ack["request_id"], str) and ack["request_id"]
    return str(ack["request_id"])


async def answer(client: Client, request_id: str, consent: bool) -> None:
    ack = await client.call("consent:answer", {"request_id": request_id, "consent": consent})
    assert ack == {"ok": True}, ack


async def counts(client: Client, request_id: str, **expected: int) -> dict[str, Any]:
    """The first consent:results of this request with these counts (waiting for it)."""
    found = await client.wait_for(
        "consent:results",
        lambda r: r["request_id"] == request_id and all(r[k] == v for k, v in expected.items()),
    )
    return dict(found)


async def go_live(k: Class) -> None:
    await k.instructor.ok("session:start")
    for c in everyone(k):
        await c.wait_for("session", lambda s: s["status"] == "live")


async def state(client: Client) -> dict[str, Any]:
    return ok(await client.call("session:state", {}))


async def audit(server: Server, session_id: str) -> list[dict[str, Any]]:
    body = ok(await server.api("GET", "/api/audit", params={"session_id": session_id, "action": "recording"}))
    return list(body["entries"])


# ------------------------------------------------------------ the request


@pytest.mark.parametrize("who", ["instructor", "admin"])
async def test_a_request_reaches_every_participant_tab_and_staff_see_counts(klass: Class, who: str) -> None:
    """Instructor and admin ask; every participant tab (two tabs of one person too) gets `consent` with
    the default text; staff get it too, then `consent:results` with pending = the connected participants."""
    second_tab = await klass.server.connect(klass.people[0]["token"])
    asker = klass.instructor if who == "instructor" else klass.admin
    rid = await ask(asker)
    for p in [*klass.participants, second_tab]:
        got = await p.wait_for("consent", lambda d: d["request_id"] == rid)
        assert got["purpose"] == "recording"
        assert got["text"] == DEFAULT_CONSENT_TEXT
        assert got["requested_at"].endswith("Z")
        assert p.of("consent:results") == []
    for s in staff(klass):
        assert await counts(s, rid) == {"request_id": rid, "yes": 0, "no": 0, "pending": 3}
        assert [d["request_id"] for d in s.of("consent")] == [rid]


async def test_a_request_may_give_its_own_text_and_blank_means_the_default(klass: Class) -> None:
    rid = await ask(klass.instructor, text="  We record for students who are ill today. OK?  ")
    got = await klass.participants[0].wait_for("consent", lambda d: d["request_id"] == rid)
    assert got["text"] == "We record for students who are ill today. OK?"
    rid2 = await ask(klass.instructor, text="   ")
    got = await klass.participants[0].wait_for("consent", lambda d: d["request_id"] == rid2)
    assert got["text"] == DEFAULT_CONSENT_TEXT


async def test_only_conductors_ask_and_record_and_only_participants_answer(klass: Class) -> None:
    """Support and participants may not ask or record, staff may not answer: forbidden, nothing sent or kept."""
    await go_live(klass)
    for c in (klass.support, klass.participants[0]):
        await c.refused("consent:request", {"purpose": "recording"}, "forbidden")
        await c.refused("recording:status", {"recording": True}, "forbidden")
    rid = await ask(klass.instructor)
    for c in staff(klass):  # staff do not answer for participants
        await c.refused("consent:answer", {"request_id": rid, "consent": True}, "forbidden")
    await counts(klass.instructor, rid, yes=0, no=0, pending=3)
    await asyncio.sleep(0.3)
    for c in everyone(klass):
        assert [d["request_id"] for d in c.of("consent")] == [rid] and c.of("recording") == []
    for c in staff(klass):
        assert [(r["yes"], r["no"]) for r in c.of("consent:results")] == [(0, 0)]
    snap = await state(klass.instructor)
    assert snap["consent"]["request_id"] == rid and snap["consent"]["results"]["yes"] == 0
    assert snap["recording"] is False


async def test_another_sessions_people_cannot_reach_the_request(klass: Class) -> None:
    """A participant of another session answering this request is told not_found; that session's tabs hear nothing."""
    srv = klass.server
    other = await srv.session(topic="Another class")
    [stranger] = await srv.participants(other["id"], 1, prefix="o")
    stranger_tab = await srv.connect(stranger["token"])
    other_staff = await srv.connect(await srv.token("admin", "Other Admin"), other["id"])
    rid = await ask(klass.instructor)
    await counts(klass.instructor, rid, pending=3)
    await stranger_tab.refused("consent:answer", {"request_id": rid, "consent": True}, "not_found")
    await answer(klass.participants[0], rid, True)
    await counts(klass.instructor, rid, yes=1, pending=2)
    await asyncio.sleep(0.3)
    assert stranger_tab.of("consent") == [] and other_staff.of("consent:results") == []
    assert (await state(stranger_tab))["consent"] is None


BAD_REQUESTS: list[tuple[Any, str]] = [
    ({}, "purpose"),
    ({"purpose": "marketing"}, "purpose"),
    ({"purpose": 1}, "purpose"),
    ({"purpose": "recording", "text": 5}, "text"),
    ({"purpose": "recording", "text": "x" * 2001}, "text"),
    ({"purpose": "recording", "text": "bad\x00text"}, "text"),
    ("recording", "payload"),
    ([1], "payload"),
]
BAD_ANSWERS: list[tuple[Any, str]] = [
    ({}, "request_id"),
    ({"request_id": "not an id!", "consent": True}, "request_id"),
    ({"request_id": "f" * 32}, "consent"),
    ({"request_id": "f" * 32, "consent": "yes"}, "consent"),
    ({"request_id": "f" * 32, "consent": 1}, "consent"),
    ({"request_id": "f" * 32, "consent": None}, "consent"),
    (7, "payload"),
]
BAD_STATUSES: list[tuple[Any, str]] = [
    ({}, "recording"),
    ({"recording": "on"}, "recording"),
    ({"recording": 1}, "recording"),
    ({"recording": True, "override_reason": ""}, "override_reason"),
    ({"recording": True, "override_reason": "   "}, "override_reason"),
    ({"recording": True, "override_reason": "x" * 501}, "override_reason"),
    ({"recording": True, "override_reason": 3}, "override_reason"),
    (None, "recording"),
]


async def test_bad_payloads_are_invalid_naming_the_field_and_nothing_is_kept(klass: Class) -> None:
    """Each bad payload answers invalid naming its field; the connection stays usable; nothing is written or sent."""
    await go_live(klass)
    for data, field in BAD_REQUESTS:
        await klass.instructor.refused("consent:request", data, "invalid", field)
    assert (await state(klass.instructor))["consent"] is None
    for data, field in BAD_STATUSES:
        await klass.instructor.refused("recording:status", data, "invalid", field)
    assert (await state(klass.instructor))["recording"] is False
    rid = await ask(klass.instructor)  # still usable
    await counts(klass.instructor, rid, pending=3)
    for data, field in BAD_ANSWERS:
        await klass.participants[0].refused("consent:answer", data, "invalid", field)
    await klass.participants[0].refused("consent:answer", {"request_id": "f" * 32, "consent": True}, "not_found")
    await asyncio.sleep(0.3)
    assert [r["pending"] for r in klass.instructor.of("consent:results")] == [3]
    assert (await state(klass.participants[0]))["consent"]["mine"] is None
    for c in everyone(klass):
        assert c.of("recording") == []
    await answer(klass.participants[0], rid, True)  # and answering still works
    await counts(klass.instructor, rid, yes=1, pending=2)


# ------------------------------------------------------------ answers, live


async def test_answers_are_counted_live_and_may_change(klass: Class) -> None:
    """Staff see yes / no / pending move with each answer; a changed answer counts once, the latest;
    the participant's other tab shows their answer."""
    p0, p1, _ = klass.participants
    p0_other = await klass.server.connect(klass.people[0]["token"])
    rid = await ask(klass.instructor)
    await answer(p0, rid, True)
    for s in staff(klass):
        await counts(s, rid, yes=1, no=0, pending=2)
    mine = await p0_other.wait_for("consent", lambda d: d["request_id"] == rid and "mine" in d)
    assert mine["mine"] is True
    await answer(p1, rid, False)
    await counts(klass.admin, rid, yes=1, no=1, pending=1)
    await answer(p1, rid, True)
    await counts(klass.support, rid, yes=2, no=0, pending=1)
    await answer(p1, rid, True)  # the same again changes nothing but is kept
    await counts(klass.instructor, rid, yes=2, no=0, pending=1)
    snap = await state(klass.instructor)
    assert snap["consent"]["request_id"] == rid
    assert snap["consent"]["results"] == {"request_id": rid, "yes": 2, "no": 0, "pending": 1}
    assert (await state(p1))["consent"]["mine"] is True
    assert klass.participants[2].of("consent:results") == []


async def test_pending_follows_who_is_connected(klass: Class) -> None:
    """pending counts connected participants yet to answer: it drops when one leaves, grows when one comes."""
    rid = await ask(klass.instructor)
    await counts(klass.instructor, rid, pending=3)
    await klass.participants[2].close()
    await counts(klass.instructor, rid, yes=0, no=0, pending=2)
    late = (await klass.server.participants(klass.id, 1, prefix="late"))[0]
    await klass.server.connect(late["token"])
    await counts(klass.instructor, rid, pending=3)


async def test_a_late_joiner_is_asked_from_session_state(klass: Class) -> None:
    """A participant who connects while the request is open finds it (and their own answer) in session:state."""
    rid = await ask(klass.instructor, text="May we record?")
    late = (await klass.server.participants(klass.id, 1, prefix="late"))[0]
    tab = await klass.server.connect(late["token"])
    snap = await state(tab)
    assert snap["consent"]["request_id"] == rid
    assert snap["consent"]["text"] == "May we record?"
    assert snap["consent"]["purpose"] == "recording"
    assert snap["consent"]["mine"] is None
    assert snap["recording"] is False
    await answer(tab, rid, False)
    await tab.close()
    again = await klass.server.connect(late["token"])
    assert (await state(again))["consent"]["mine"] is False


async def test_a_new_request_replaces_the_open_one_and_close_ends_it(klass: Class) -> None:
    """Answers to a replaced request are conflict; after close the request is gone and answers are conflict."""
    p0 = klass.participants[0]
    first = await ask(klass.instructor)
    await answer(p0, first, True)
    second = await ask(klass.admin)
    await p0.wait_for("consent", lambda d: d["request_id"] == second)
    await p0.refused("consent:answer", {"request_id": first, "consent": False}, "conflict")
    now_open = (await state(p0))["consent"]
    assert (now_open["request_id"], now_open["mine"]) == (second, None)
    await counts(klass.instructor, second, yes=0, no=0, pending=3)
    await go_live(klass)
    await klass.instructor.ok("session:close")
    await p0.wait_for("session", lambda s: s["status"] == "closed")
    await p0.refused("consent:answer", {"request_id": second, "consent": True}, "conflict")
    assert (await state(p0))["consent"] is None
    assert (await state(klass.instructor))["consent"] is None
    await klass.instructor.refused("consent:request", {"purpose": "recording"}, "conflict")


# ------------------------------------------------------------ the recording


async def test_recording_is_refused_unless_the_session_is_live(klass: Class) -> None:
    await klass.instructor.refused("recording:status", {"recording": True}, "conflict", "scheduled")
    await klass.instructor.refused("recording:status", {"recording": False}, "conflict")
    await go_live(klass)
    await klass.instructor.ok("session:close")
    await klass.instructor.refused("recording:status", {"recording": True}, "conflict", "closed")
    assert await audit(klass.server, klass.id) == []


async def test_starting_while_someone_declined_needs_an_audited_override(klass: Class) -> None:
    """A connected "no" makes a start without override_reason conflict; with a reason it starts, every
    tab gets `recording`, and GET /api/audit has the override with action `recording`."""
    await go_live(klass)
    p0, p1, _ = klass.participants
    rid = await ask(klass.instructor)
    await answer(p0, rid, True)
    await answer(p1, rid, False)
    await counts(klass.instructor, rid, yes=1, no=1, pending=1)
    refusal = await klass.instructor.refused("recording:status", {"recording": True}, "conflict", "declined")
    assert refusal["error"]["declined"] == 1
    await asyncio.sleep(0.3)
    assert all(c.of("recording") == [] for c in everyone(klass))
    assert await audit(klass.server, klass.id) == []
    reason = "Exam review: the dean requires a recording"
    await klass.instructor.ok("recording:status", {"recording": True, "override_reason": f"  {reason} "})
    for c in everyone(klass):
        assert await c.wait_for("recording") == {"recording": True}
        assert (await state(c))["recording"] is True
    [entry] = await audit(klass.server, klass.id)
    assert entry["action"] == "recording"
    assert entry["target"] == f"session:{klass.id}"
    assert entry["detail"]["override_reason"] == reason
    assert entry["detail"]["request_id"] == rid
    assert (entry["detail"]["yes"], entry["detail"]["no"], entry["detail"]["pending"]) == (1, 1, 1)
    assert entry["actor"].startswith("staff:")
    # Starting again changes nothing; stopping reaches every tab.
    await klass.admin.ok("recording:status", {"recording": True})
    await klass.admin.ok("recording:status", {"recording": False})
    for c in everyone(klass):
        await c.wait_for("recording", lambda d: d == {"recording": False})
        assert [d["recording"] for d in c.of("recording")] == [True, False]
    assert len(await audit(klass.server, klass.id)) == 1
    assert (await state(p0))["recording"] is False


async def test_a_decliner_who_left_does_not_block_and_a_start_is_audited_anyway(klass: Class) -> None:
    """Only connected participants' "no" needs an override; a plain start is audited too."""
    await go_live(klass)
    rid = await ask(klass.instructor)
    await answer(klass.participants[1], rid, False)
    await klass.participants[1].close()
    await counts(klass.instructor, rid, no=1, pending=2)
    await klass.instructor.ok("recording:status", {"recording": True})
    await klass.participants[0].wait_for("recording", lambda d: d["recording"] is True)
    [entry] = await audit(klass.server, klass.id)
    assert entry["detail"]["override_reason"] is None and entry["detail"]["no"] == 1


async def test_closing_the_session_stops_the_recording_on_every_tab(klass: Class) -> None:
    await go_live(klass)
    await klass.instructor.ok("recording:status", {"recording": True})
    for c in everyone(klass):
        await c.wait_for("recording", lambda d: d["recording"] is True)
    await klass.instructor.ok("session:close")
    for c in everyone(klass):
        await c.wait_for("recording", lambda d: d["recording"] is False)
        assert (await state(c))["recording"] is False


async def test_a_late_joiner_sees_the_recording_in_session_state(klass: Class) -> None:
    await go_live(klass)
    await klass.admin.ok("recording:status", {"recording": True})
    late = (await klass.server.participants(klass.id, 1, prefix="late"))[0]
    tab = await klass.server.connect(late["token"])
    assert (await state(tab))["recording"] is True


# ------------------------------------------------------------ several processes


async def test_a_request_made_in_one_process_is_answered_in_another(
    tmp_path: Path, backing: dict[str, Any], server: Server
) -> None:
    """Two servers on one PostgreSQL and Redis: the request, the answers, the counts and the banner cross over."""
    if not backing.get("redis_url"):
        pytest.skip("several processes need the Redis configuration")
    async with running_server(tmp_path / "second", ticker_seconds=0.2, **backing) as other:
        session = await server.session()
        people = await server.participants(session["id"], 2)
        instructor = await server.connect(
            await server.token("instructor", "Iris", "teacher@example.org"), session["id"]
        )
        here = await server.connect(people[0]["token"])
        there = await other.connect(people[1]["token"])
        dashboard_there = await other.connect(other.admin_token, session["id"])
        rid = await ask(instructor)
        await there.wait_for("consent", lambda d: d["request_id"] == rid)
        await here.wait_for("consent", lambda d: d["request_id"] == rid)
        await counts(instructor, rid, pending=2)
        await answer(there, rid, False)
        await counts(instructor, rid, no=1, pending=1)
        await counts(dashboard_there, rid, no=1, pending=1)
        await instructor.ok("session:start")
        await asyncio.sleep(PAUSE)
        await instructor.refused("recording:status", {"recording": True}, "conflict")
        await dashboard_there.ok("recording:status", {"recording": True, "override_reason": "agreed in person"})
        for c in (here, there, instructor):
            await c.wait_for("recording", lambda d: d["recording"] is True)
        assert (await state(here))["recording"] is True


# ------------------------------------------------------------ durability


@pytest.fixture
async def process(tmp_path: Path) -> AsyncIterator[Process]:
    p = Process(tmp_path)
    yield p
    if p.proc is not None:
        p.kill()


@pytest.mark.slow
async def test_an_acknowledged_answer_and_recording_survive_kill_9(process: Process) -> None:
    """The request, answers (each acknowledged once committed), the recording and its audit entry survive kill -9."""
    _, admin = await _create_token(process.settings(), "admin", "Root", None)
    await process.start()
    h = {"authorization": f"Bearer {admin}"}
    async with httpx.AsyncClient(base_url=process.url, headers=h) as http:
        body = {"topic": "Durable", "instructor_email": "t@example.org", "starts_at": iso_in(5), "duration_minutes": 60}
        sid = (await http.post("/api/sessions", json=body)).json()["id"]
        roster = {"participants": [{"name": f"P{i}", "email": f"p{i}@example.org"} for i in range(2)]}
        people = (await http.post(f"/api/sessions/{sid}/participants", json=roster)).json()["participants"]
        staff = await _connect(process.url, admin, sid)
        assert (await staff.call("session:start", {}))["ok"] is True
        p0, p1 = [await _connect(process.url, p["token"]) for p in people]
        rid = (await staff.call("consent:request", {"purpose": "recording", "text": "Record?"}))["request_id"]
        assert (await p1.call("consent:answer", {"request_id": rid, "consent": False}))["ok"] is True
        ack = await staff.call("recording:status", {"recording": True, "override_reason": "agreed by the board"})
        assert ack == {"ok": True}, ack
        assert (await p0.call("consent:answer", {"request_id": rid, "consent": True}))["ok"] is True
        # The very last acknowledgement, then the crash, with nothing in between.
        process.kill(signal.SIGKILL)

        await process.start()
        p0 = await _connect(process.url, people[0]["token"])
        state = await p0.call("session:state", {})
        assert state["consent"]["request_id"] == rid and state["consent"]["mine"] is True
        assert state["recording"] is True
        staff = await _connect(process.url, admin, sid)
        results = (await staff.call("session:state", {}))["consent"]["results"]
        assert (results["yes"], results["no"]) == (1, 1)
        audit = (await http.get("/api/audit", params={"session_id": sid, "action": "recording"})).json()["entries"]
        assert [e["detail"]["override_reason"] for e in audit] == ["agreed by the board"]
        for c in (staff, p0):
            await c.close()
        process.kill(signal.SIGTERM)


# ------------------------------------------------------------ the session record


async def test_the_record_rows_list_every_answer_and_who_never_answered(klass: Class) -> None:
    """consent.csv's rows: each answer with its time (a changed answer twice), then the roster's non-answerers;
    the recording stretches with who started and stopped them and the override reason."""
    p0, p1, _ = klass.participants
    await go_live(klass)
    first = await ask(klass.instructor)
    await answer(p0, first, False)
    await answer(p0, first, True)
    second = await ask(klass.instructor, text="Again, for the second half")
    await answer(p1, second, False)
    await klass.instructor.ok("recording:status", {"recording": True, "override_reason": "needed for the exam"})
    await klass.admin.ok("recording:status", {"recording": False})
    await klass.instructor.ok("recording:status", {"recording": True, "override_reason": "second half"})
    await klass.instructor.ok("session:close")
    await klass.instructor.wait_for("recording", lambda d: d["recording"] is False)
    engine = create_engine(klass.server.settings.database_url)
    try:
        async with sessionmaker(engine)() as db:
            rows = await consent_repo.for_record(db, session_id=klass.id)
            stretches = await consent_repo.recordings_for_record(db, session_id=klass.id)
    finally:
        await engine.dispose()
    names = {p["id"]: p["name"] for p in klass.people}
    ids = [p["id"] for p in klass.people]
    got = [(r["request_id"], r["participant_id"], r["consent"], bool(r["answered_at"])) for r in rows]
    assert got == [
        (first, ids[0], "no", True),
        (first, ids[0], "yes", True),
        (first, ids[1], "", False),
        (first, ids[2], "", False),
        (second, ids[1], "no", True),
        (second, ids[0], "", False),
        (second, ids[2], "", False),
    ]
    assert all(r["name"] == names[r["participant_id"]] and r["purpose"] == "recording" for r in rows)
    assert rows[0]["answered_at"] <= rows[1]["answered_at"] and rows[0]["requested_at"].endswith("Z")
    assert [(r["started_by"], r["override_reason"], r["stopped_by"]) for r in stretches] == [
        ("Iris Instructor", "needed for the exam", "Root Admin"),
        ("Iris Instructor", "second half", "the session closed"),
    ]
    assert all(r["stopped_at"] for r in stretches)
    assert stretches[0]["consent"]["request_id"] == second and stretches[0]["consent"]["no"] == 1


# ------------------------------------------------------------ events == snapshot


def _apply(model: dict[str, Any], event: str, data: Any, *, staff: bool) -> None:
    """What a page does with the consent events: the test's model of a tab."""
    if event == "consent":
        current = model.get("consent") or {}
        same = current.get("request_id") == data["request_id"]
        view = {k: data[k] for k in ("request_id", "purpose", "text", "requested_at")}
        if staff:
            model["consent"] = {**view, "results": current.get("results") if same else None}
        else:
            model["consent"] = {
                **view,
                "mine": data["mine"] if "mine" in data else current.get("mine") if same else None,
            }
    elif event == "consent:results" and model.get("consent", {}).get("request_id") == data["request_id"]:
        model["consent"]["results"] = data
    elif event == "recording":
        model["recording"] = data["recording"]
    elif event == "session" and data["status"] == "closed":
        model["consent"], model["recording"] = None, False  # the close ends the request (and the recording)


async def test_the_events_bring_every_tab_to_what_a_fresh_snapshot_shows(klass: Class) -> None:
    """After each action, a tab's snapshot plus the events it got equals a fresh `session:state` (consent and
    recording); each action changed some snapshot and sent some event."""
    tabs = [(klass.instructor, True), (klass.participants[0], False), (klass.participants[1], False)]
    models: list[dict[str, Any]] = []
    seen: list[int] = []
    for c, _ in tabs:
        snap = await state(c)
        models.append({"consent": snap["consent"], "recording": snap["recording"]})
        seen.append(len(c.events))

    async def step(event: str, client: Client, data: dict[str, Any]) -> dict[str, Any]:
        before = [dict(m) for m in models]
        got = [len(c.events) for c, _ in tabs]
        await asyncio.sleep(PAUSE)
        ack = ok(await client.call(event, data))
        for _ in range(40):
            await asyncio.sleep(0.1)
            fresh = []
            for i, (c, is_staff) in enumerate(tabs):
                for e, d in c.events[seen[i] :]:
                    _apply(models[i], e, d, staff=is_staff)
                seen[i] = len(c.events)
                snap = await state(c)
                fresh.append({"consent": snap["consent"], "recording": snap["recording"]})
            if fresh == models:
                break
        assert fresh == models, (event, data)
        assert models != before, f"{event}: no snapshot changed"
        assert any(len(c.events) > n for (c, _), n in zip(tabs, got, strict=True)), f"{event}: emitted nothing"
        return ack

    p0, p1 = klass.participants[0], klass.participants[1]
    rid = (await step("consent:request", klass.instructor, {"purpose": "recording"}))["request_id"]
    await step("consent:answer", p0, {"request_id": rid, "consent": True})
    await step("consent:answer", p1, {"request_id": rid, "consent": False})
    await step("consent:answer", p0, {"request_id": rid, "consent": False})
    rid = (await step("consent:request", klass.admin, {"purpose": "recording", "text": "Once more?"}))["request_id"]
    await step("consent:answer", p1, {"request_id": rid, "consent": False})
    await go_live(klass)
    await step("recording:status", klass.instructor, {"recording": True, "override_reason": "the board asked"})
    await step("recording:status", klass.admin, {"recording": False})
    await step("recording:status", klass.admin, {"recording": True, "override_reason": "again"})
    await step("session:close", klass.instructor, {})


# ------------------------------------------------------------ the setting


def test_the_default_text_is_configured_and_bounded(tmp_path: Path) -> None:
    base = {"COMPANION_DATA_DIR": str(tmp_path), "COMPANION_SECRET_KEY": "s" * 40}
    assert Settings.from_env(base).consent_text == DEFAULT_CONSENT_TEXT
    assert Settings.from_env({**base, "COMPANION_CONSENT_TEXT": "  "}).consent_text == DEFAULT_CONSENT_TEXT
    ours = Settings.from_env({**base, "COMPANION_CONSENT_TEXT": " We record for the archive. OK? "})
    assert ours.consent_text == "We record for the archive. OK?"
    with pytest.raises(SettingsError, match="COMPANION_CONSENT_TEXT"):
        Settings.from_env({**base, "COMPANION_CONSENT_TEXT": "x" * 2001})


async def test_a_request_without_text_uses_the_configured_one(tmp_path: Path) -> None:
    async with running_server(tmp_path, consent_text="Recording for the archive: do you agree?") as srv:
        session = await srv.session()
        [person] = await srv.participants(session["id"], 1)
        tab = await srv.connect(person["token"])
        admin = await srv.connect(srv.admin_token, session["id"])
        rid = await ask(admin)
        got = await tab.wait_for("consent", lambda d: d["request_id"] == rid)
        assert got["text"] == "Recording for the archive: do you agree?"

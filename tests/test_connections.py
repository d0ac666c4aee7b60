"""Connections and the edges of the socket: who may connect, unknown events, bad payloads, limits, pages, headers."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import socketio

from tests.support import Class, Client, Server

STATIC = Path(__file__).resolve().parent.parent / "static"

EVENTS_PER_SECOND = 20


async def refusal(server: Server, auth: dict[str, Any] | None) -> str:
    """The message a Socket.IO connect with this auth is refused with."""
    sio = socketio.AsyncClient(reconnection=False)
    messages: list[Any] = []
    sio.on("connect_error", lambda data=None: messages.append(data))
    with pytest.raises(socketio.exceptions.ConnectionError):
        await sio.connect(server.url, auth=auth, transports=["websocket"], wait_timeout=10)
    assert not sio.connected
    assert len(messages) == 1, messages
    data = messages[0]
    return str(data["message"] if isinstance(data, dict) else data)


async def works(client: Client) -> None:
    """The connection still answers: a clock:sync round trip."""
    ack = await client.call("clock:sync", {"t0": 12345})
    assert ack["ok"] is True and ack["t0"] == 12345 and isinstance(ack["server"], int), ack


# ------------------------------------------------------------ refused at connect


async def test_missing_token_is_refused(server: Server) -> None:
    """No token at all (no auth, or auth without token) is refused saying the token is missing."""
    session = await server.session()
    assert "missing token" in await refusal(server, None)
    assert "missing token" in await refusal(server, {"session": session["id"]})
    assert "missing token" in await refusal(server, {"token": "", "session": session["id"]})


async def test_unknown_token_is_refused(server: Server) -> None:
    """A token the server never issued, staff-like or participant-like, is refused as unknown."""
    session = await server.session()
    (person,) = await server.participants(session["id"], 1)
    forged_participant = person["token"][:-3] + ("xyz" if not person["token"].endswith("xyz") else "abc")
    for token in ["nonsense", "cmp_0123456789abcdef_secret", forged_participant]:
        message = await refusal(server, {"token": token, "session": session["id"]})
        assert "unknown token" in message, (token, message)


async def test_staff_without_session_is_refused(server: Server) -> None:
    """A staff token must name the session: without it the connect is refused saying so."""
    await server.session()
    support = await server.token("support", "Sam Support", "support@example.org")
    for token in [server.admin_token, support]:
        assert "missing session" in await refusal(server, {"token": token})
        assert "missing session" in await refusal(server, {"token": token, "session": ""})


async def test_unknown_session_is_refused(server: Server) -> None:
    """Staff naming a session that does not exist are refused saying the session is unknown."""
    message = await refusal(server, {"token": server.admin_token, "session": "0123456789abcdef0123456789abcdef"})
    assert "unknown session" in message


async def test_non_string_session_is_refused(server: Server) -> None:
    """A session that is not a string is refused naming session."""
    session = await server.session()
    message = await refusal(server, {"token": server.admin_token, "session": [session["id"]]})
    assert "session" in message and "string" in message


async def test_participant_token_with_another_sessions_id_is_refused(server: Server) -> None:
    """A participant's token names its own session: another session's id is refused."""
    mine = await server.session()
    other = await server.session(topic="Another class")
    (person,) = await server.participants(mine["id"], 1)
    message = await refusal(server, {"token": person["token"], "session": other["id"]})
    assert "another session" in message


async def test_instructor_of_another_session_is_refused(server: Server) -> None:
    """An instructor may connect to their own sessions only."""
    theirs = await server.session(instructor_email="someone.else@example.org")
    mine = await server.session()
    token = await server.token("instructor", "Iris Instructor", "teacher@example.org")
    message = await refusal(server, {"token": token, "session": theirs["id"]})
    assert "may not act in that session" in message
    client = await server.connect(token, mine["id"])
    state = await client.ok("session:state", {})
    assert state["session"]["id"] == mine["id"]


async def test_revoked_token_is_refused(server: Server) -> None:
    """A token revoked with DELETE /api/tokens/{id} is refused at connect saying revoked."""
    session = await server.session()
    r = await server.api("POST", "/api/tokens", {"role": "support", "name": "Sam", "email": "sam@example.org"})
    made = r.json()
    before = await server.connect(made["token"], session["id"])
    await works(before)
    await before.close()
    assert (await server.api("DELETE", f"/api/tokens/{made['id']}")).status_code == 200
    message = await refusal(server, {"token": made["token"], "session": session["id"]})
    assert "revoked" in message


# ------------------------------------------------------------ accepted at connect


async def test_participant_token_alone_connects_to_its_session(server: Server) -> None:
    """A participant's token implies its session; naming that same session also works."""
    session = await server.session()
    await server.session(topic="Another class")
    people = await server.participants(session["id"], 2)
    alone = await server.connect(people[0]["token"])
    named = await server.connect(people[1]["token"], session["id"])
    for client, person in [(alone, people[0]), (named, people[1])]:
        state = await client.ok("session:state", {})
        assert state["session"]["id"] == session["id"]
        assert state["me"]["participant_id"] == person["id"]
        assert state["me"]["role"] == "participant"


@pytest.mark.parametrize("role", ["admin", "support"])
async def test_admin_and_support_connect_to_any_session(server: Server, role: str) -> None:
    """Admin and support act in every session, whoever its instructor is."""
    session = await server.session(instructor_email="someone.else@example.org")
    token = server.admin_token if role == "admin" else await server.token("support", "Sam", "sam@example.org")
    client = await server.connect(token, session["id"])
    state = await client.ok("session:state", {})
    assert state["session"]["id"] == session["id"] and state["me"]["role"] == role


# ------------------------------------------------------------ unknown events and bad payloads


async def test_unknown_event_answers_not_found(klass: Class) -> None:
    """An unknown event sent with an ack answers `not_found` naming it; the socket still works."""
    for client in [klass.participants[0], klass.admin]:
        ack = await client.refused("no:such-event", {"x": 1}, "not_found", "no:such-event")
        assert ack["ok"] is False
        await client.refused("chat:sendd", [1, 2], "not_found", "chat:sendd")
        await client.refused("nothing", None, "not_found", "nothing")
        await works(client)


# (event, a client that may send it): every one gets the three non-object payloads.
KNOWN_EVENTS: list[tuple[str, str]] = [
    ("clock:sync", "participant"),
    ("session:state", "participant"),
    ("attendance:checkin", "participant"),
    ("ping:answer", "participant"),
    ("help:open", "participant"),
    ("chat:send", "participant"),
    ("chat:history", "participant"),
    ("attendance:mark", "instructor"),
    ("ping:launch", "instructor"),
    ("ping:close", "instructor"),
    ("session:start", "instructor"),
    ("session:delay", "instructor"),
    ("session:close", "instructor"),
    ("help:claim", "support"),
    ("help:resolve", "support"),
    ("platform:status", "support"),
]


@pytest.mark.parametrize("payload", [["a", "list"], "a string", 7])
async def test_non_object_payloads_are_invalid_for_every_event(klass: Class, payload: Any) -> None:
    """A list, a string or a number to any known event answers `invalid` naming payload; sockets still work."""
    clients = {"participant": klass.participants[0], "instructor": klass.instructor, "support": klass.support}
    for event, role in KNOWN_EVENTS:
        await clients[role].refused(event, payload, "invalid", "payload")
    for client in clients.values():
        await works(client)
    state = await klass.instructor.ok("session:state", {})
    assert state["session"]["status"] == "scheduled"  # session:start/close with bad payloads changed nothing


# ------------------------------------------------------------ the event budget


async def test_event_storm_is_rate_limited_and_the_socket_recovers(klass: Class) -> None:
    """Beyond 20 events a second the excess answers `rate_limited`; a second later calls succeed."""
    p0, p1 = klass.participants[:2]
    acks = await asyncio.gather(*(p0.call("clock:sync", {"t0": i}) for i in range(2 * EVENTS_PER_SECOND)))
    passed = [a for a in acks if a["ok"] is True]
    limited = [a for a in acks if a["ok"] is False]
    assert len(passed) == EVENTS_PER_SECOND
    assert len(limited) == EVENTS_PER_SECOND
    assert {a["error"]["code"] for a in limited} == {"rate_limited"}
    assert p0.sio.connected
    await works(p1)  # the budget is per connection
    await asyncio.sleep(1.1)
    await works(p0)
    history = await p0.ok("chat:history", {})
    assert history["messages"] == []


async def test_staff_have_a_roomier_event_budget(klass: Class) -> None:
    """Support working the queue from a script gets 200 events a second, not a participant's 20."""
    acks = await asyncio.gather(*(klass.support.call("clock:sync", {"t0": i}) for i in range(60)))
    assert all(a["ok"] is True for a in acks)
    acks = await asyncio.gather(*(klass.admin.call("clock:sync", {"t0": i}) for i in range(260)))
    assert 0 < sum(1 for a in acks if a["ok"] is False) <= 60
    assert {a["error"]["code"] for a in acks if a["ok"] is False} == {"rate_limited"}


# ------------------------------------------------------------ oversized payloads


async def test_payload_over_64_kb_does_not_crash_the_server(klass: Class) -> None:
    """A message over the 64 KB limit may cost its sender the connection, never the server."""
    server = klass.server
    p0 = klass.participants[0]
    try:
        ack = await p0.call("chat:send", {"client_id": "oversized-1", "text": "x" * 70_000}, timeout=3)
    except (socketio.exceptions.TimeoutError, socketio.exceptions.BadNamespaceError):
        ack = None
    if ack is not None:  # the server read it after all: then it is refused like any long text
        assert ack["ok"] is False and ack["error"]["code"] == "invalid", ack
    await works(klass.admin)
    await works(klass.participants[1])
    again = await server.connect(klass.people[0]["token"])
    await works(again)
    sent = await again.ok("chat:send", {"client_id": "after-oversized", "text": "small again"})
    assert sent["seq"] == 1
    r = await server.http.get("/healthz")
    assert (r.status_code, r.json()) == (200, {"status": "ok"})
    log = await server.api("GET", f"/api/sessions/{klass.id}/chat")
    assert [m["text"] for m in log.json()["messages"]] == ["small again"]


# ------------------------------------------------------------ pages and headers


PAGES = [("join", "companion.html"), ("dashboard", "dashboard.html"), ("support", "support.html")]


@pytest.mark.parametrize(("prefix", "file"), PAGES)
async def test_pages_answer_html(server: Server, prefix: str, file: str) -> None:
    """/join/{id}, /dashboard/{id} and /support/{id} answer their page as text/html."""
    if not (STATIC / file).exists():
        pytest.skip(f"static/{file} is not written yet")
    session = await server.session()
    r = await server.http.get(f"/{prefix}/{session['id']}")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert r.content == (STATIC / file).read_bytes()


def script_src(csp: str) -> str:
    """The script-src directive of a Content-Security-Policy."""
    directives = {d.strip().split(" ", 1)[0]: d.strip() for d in csp.split(";") if d.strip()}
    return directives["script-src"]


async def test_every_http_answer_carries_the_security_headers(server: Server) -> None:
    """Pages, static files, the API (successes and errors) and 404s carry CSP script-src 'self' and nosniff."""
    session = await server.session()
    (person,) = await server.participants(session["id"], 1)
    sid = session["id"]
    auth = {"authorization": f"Bearer {server.admin_token}"}
    answers = [
        await server.http.get("/"),
        await server.http.get(f"/join/{sid}"),
        await server.http.get(f"/dashboard/{sid}"),
        await server.http.get(f"/support/{sid}"),
        await server.http.get("/static/favicon.svg"),
        await server.http.get("/static/no-such-file.js"),
        await server.http.get("/healthz"),
        await server.http.get("/api/openapi.json"),
        await server.http.get(f"/api/sessions/{sid}", headers=auth),
        await server.http.get(f"/api/sessions/{sid}/chat", headers=auth),
        await server.http.get(f"/api/sessions/{sid}"),
        await server.http.get(f"/api/sessions/{sid}", headers={"authorization": f"Bearer {person['token']}"}),
        await server.http.get("/api/sessions/0123456789abcdef", headers=auth),
        await server.http.post("/api/sessions", content=b"{not json", headers=auth),
        await server.http.get("/no/such/page"),
    ]
    statuses = sorted({r.status_code for r in answers})
    assert {200, 400, 401, 404} <= set(statuses), statuses
    for r in answers:
        where = f"{r.request.method} {r.request.url.path} -> {r.status_code}"
        assert "content-security-policy" in r.headers, where
        assert script_src(r.headers["content-security-policy"]) == "script-src 'self'", where
        assert r.headers["x-content-type-options"] == "nosniff", where

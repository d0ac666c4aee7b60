"""Who may do what, tried: every HTTP route and every client → server event, sent by every kind of
caller, against what the documents say.

HTTP. The routes and their "who may" come from the served OpenAPI document (`GET
/api/openapi.json`: a protected operation's description reads `Who may: admin, instructor`, see
server/openapi.py; an `x-roles` list is read instead where an operation has one; an operation with
no `security` is open to anyone). They are cross-checked with the table of docs/protocol.md section
8: a route both list must name the same roles, and every route of that table must be in the
OpenAPI document; every API route the app serves must be in the OpenAPI document too. For routes
under `/api/sessions/{id}`, an instructor may act only in the sessions whose `instructor_email` is
theirs (section 8, under its table). Callers: no credential; bearer tokens of an admin, an
instructor of the session, an instructor of another session, support, and a participant of the
session; and the staff session cookie (passkey sign-in, tests/staff_flows.py) of the four staff.
A documented caller must not be answered 401 or 403 (nor a 5xx); any other is answered 401 or 403
with the error body, and 401 when it brings no credential.

Socket.IO. The events and their "who may send" come from the table of docs/protocol.md section 3,
which must list exactly the events the hub handles. A participant, the session's instructor,
support and an admin, connected to one session, each send every event with a payload of the right
shape: a documented sender is never answered `forbidden` (nor `rate_limited`/`unavailable`, which
would come before the role check and prove nothing, nor `unknown event`); anyone else is answered
exactly `{"ok": false, "error": {"code": "forbidden", "message": "..."}}` (section 2). After each
event every connection must still answer `clock:sync`. An instructor of another session is refused
at connect with `forbidden` (section 1).

One server per configuration and test: each test goes through all its cases and then fails once,
listing every mismatch as `<case>: <documented>, <what the server did>`, a case reading like
`POST /api/sessions as support` or `help:claim from instructor`.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import socketio
from starlette.applications import Starlette
from starlette.routing import Route as StarletteRoute

from tests.staff_flows import Browser, enrolled
from tests.support import PAUSE, Class, Client, Server, iso_in, running_server

PROTOCOL = Path(__file__).resolve().parents[1] / "docs" / "protocol.md"

STAFF = frozenset({"admin", "instructor", "support"})
Roles = frozenset[str] | None  # None: anyone

# The phrases of the documents' "who" columns and the roles they stand for. A phrase not here fails
# the test (teach it here): a new wording must not quietly mean "nobody" or "anyone".
WHO_PHRASES: dict[str, frozenset[str]] = {
    "admin": frozenset({"admin"}),
    "instructor": frozenset({"instructor"}),
    "support": frozenset({"support"}),
    "participant": frozenset({"participant"}),
    "staff": STAFF,
    "staff who may act in it": STAFF,
    "the session's instructor": frozenset({"instructor"}),
    "the session's participants": frozenset({"participant"}),
}
ANYONE_PHRASES = {"anyone", "anyone in the session"}

# Known mismatches between the documents and the server that this test tolerates, as case ids
# (`POST /api/sessions as support`, `help:claim from instructor`); each must still happen, so a
# fixed one fails the test until it is taken off. Empty: none is known.
EXPECTED_MISMATCHES: frozenset[str] = frozenset()


@dataclass
class Findings:
    """The mismatches one test found."""

    problems: list[str] = field(default_factory=list)
    cases: set[str] = field(default_factory=set)
    tolerated: set[str] = field(default_factory=set)

    def judged(self, case: str, problem: str | None) -> None:
        self.cases.add(case)
        if problem is not None and case in EXPECTED_MISMATCHES:
            self.tolerated.add(case)
        elif problem is not None:
            self.problems.append(problem)

    def check(self, what: str) -> None:
        stale = sorted((EXPECTED_MISMATCHES & self.cases) - self.tolerated)
        problems = self.problems + [f"{c}: in EXPECTED_MISMATCHES, but server and docs agree now" for c in stale]
        assert not problems, f"{len(problems)} {what} mismatches between the docs and the server:\n" + "\n".join(
            problems
        )


def roles_of(who: str) -> Roles:
    """The roles a "who" cell names (None: anyone)."""
    text = who.strip().rstrip(".").lower()
    if text in ANYONE_PHRASES:
        return None
    roles: set[str] = set()
    for part in (p.strip() for p in re.split(r",|\band\b", text)):
        if not part:
            continue
        assert part in WHO_PHRASES, f"unknown 'who' phrase {part!r} in {who!r}: add it to WHO_PHRASES"
        roles |= WHO_PHRASES[part]
    assert roles, f"no role in {who!r}"
    return frozenset(roles)


def shown(roles: Roles) -> str:
    return "anyone" if roles is None else ", ".join(sorted(roles))


# ------------------------------------------------------------ reading docs/protocol.md


def section(number: int) -> str:
    """The text of section `number` of docs/protocol.md, up to the next section."""
    m = re.search(rf"^## {number}\. [^\n]*\n(.*?)(?=^## |\Z)", PROTOCOL.read_text(encoding="utf-8"), re.M | re.S)
    assert m is not None, f"docs/protocol.md has no section {number}"
    return m.group(1)


def cells(line: str) -> list[str]:
    """The cells of one markdown table row (`\\|` is a pipe inside a cell)."""
    return [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]


def table(text: str, header: tuple[str, ...]) -> list[list[str]]:
    """The body rows of the first markdown table in `text` whose header row starts with `header`."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("|") and tuple(cells(line)[: len(header)]) == header:
            rows = []
            for row in lines[i + 2 :]:  # after the header and its --- line
                if not row.startswith("|"):
                    break
                rows.append(cells(row))
            assert rows, f"the table {header} is empty"
            return rows
    raise AssertionError(f"docs/protocol.md has no table headed {header}")


def documented_events() -> dict[str, Roles]:
    """Section 3's table: each client → server event and who may send it."""
    events: dict[str, Roles] = {}
    for row in table(section(3), ("event", "who may send")):
        names = re.findall(r"`([\w:.-]+)`", row[0])
        assert names, f"no event name in {row[0]!r}"
        for name in names:
            assert name not in events, f"{name} is in the table twice"
            events[name] = roles_of(row[1])
    return events


def shape(path: str) -> str:
    """A path with its parameters unnamed and its query dropped: `/api/sessions/{}/close`."""
    return re.sub(r"\{[^}]*\}", "{}", path.split("?", 1)[0])


def documented_routes() -> dict[tuple[str, str], Roles]:
    """Section 8's table: each (method, path shape) and who may call it."""
    routes: dict[tuple[str, str], Roles] = {}
    for row in table(section(8), ("method and path", "who")):
        calls = re.findall(r"`(GET|HEAD|POST|PUT|PATCH|DELETE) (/[^`\s]*)`", row[0])
        assert calls, f"no method and path in {row[0]!r}"
        for method, path in calls:
            routes[(method, shape(path))] = roles_of(row[1])
    return routes


# ------------------------------------------------------------ HTTP


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # as the OpenAPI document names it: /api/sessions/{session_id}
    roles: Roles
    takes_body: bool

    @property
    def in_a_session(self) -> bool:
        """A route about one session: an instructor may call it only for their own."""
        return re.match(r"/api/sessions/\{[^}]+\}", self.path) is not None


Send = Callable[[str, str, Any], Awaitable[httpx.Response]]


@dataclass(frozen=True)
class Caller:
    name: str  # as it reads in a case id, after "as"
    role: str | None  # None: no credential
    send: Send
    own: bool = True  # an instructor: of the session in the path, or of another


def openapi_roles(method: str, path: str, op: dict[str, Any]) -> Roles:
    if "x-roles" in op:
        return frozenset(op["x-roles"])
    m = re.search(r"Who may:\s*([^.\n]+)", op.get("description") or "")
    if m is not None:
        return roles_of(m.group(1))
    assert not op.get("security"), f"{method} {path} needs a credential, but its description does not say who may"
    return None


def openapi_routes(document: dict[str, Any]) -> list[Route]:
    routes = []
    for path, ops in document["paths"].items():
        for method, op in ops.items():
            if method.upper() in {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"}:
                roles = openapi_roles(method.upper(), path, op)
                routes.append(Route(method.upper(), path, roles, "requestBody" in op))
    return routes


def may_call(route: Route, caller: Caller) -> bool:
    if route.roles is None:
        return True
    if caller.role is None or caller.role not in route.roles:
        return False
    return not (caller.role == "instructor" and not caller.own and route.in_a_session)


def served_api_routes(app: Any) -> set[tuple[str, str]]:
    """(method, path shape) of every route the Starlette app serves that is not a page: under /api/,
    /healthz, or any method but GET and HEAD."""
    node = app
    for _ in range(8):
        if isinstance(node, Starlette):
            break
        node = getattr(node, "other_asgi_app", None) or getattr(node, "app", None)
    assert isinstance(node, Starlette), "no Starlette app behind the ASGI app"
    served = set()
    for r in node.routes:
        if not isinstance(r, StarletteRoute):
            continue
        for method in r.methods or set():
            if method != "HEAD" and (r.path.startswith("/api/") or r.path == "/healthz" or method != "GET"):
                served.add((method, shape(r.path)))
    return served


# Where a route's path parameters point: the session under test, and ids nothing has (an admin
# then gets 404, which is not a refusal: nothing real is revoked, disabled or removed).
PATH_VALUES = {
    "token_id": "f" * 32,
    "passkey_id": "f" * 24,
    "email": "nobody-here@example.org",
}

_made = iter(range(1_000_000))


def request_body(route: Route) -> Any:
    """A body of the right shape where this test knows the route, `{}` for other routes that take
    one (an allowed caller then gets 400, which is not a refusal), nothing for those that take none."""
    n = next(_made)
    known: dict[tuple[str, str], Any] = {
        ("POST", "/api/tokens"): {"role": "support", "name": f"Probe {n}", "email": None},
        ("POST", "/api/sessions"): {
            "topic": "Roles",
            "instructor_email": "teacher@example.org",
            "starts_at": iso_in(120),
            "duration_minutes": 30,
        },
        ("POST", "/api/sessions/{session_id}/participants"): {
            "participants": [{"name": f"Pat Probe {n}", "email": f"probe{n}@example.org"}]
        },
        ("POST", "/api/invitations"): {"email": f"invitee{n}@example.org", "role": "support"},
        ("PATCH", "/api/me/passkeys/{passkey_id}"): {"label": "Renamed"},
    }
    if (route.method, route.path) in known:
        return known[(route.method, route.path)]
    return {} if route.takes_body else None


# Routes that end something the next calls need: called after all the others, in this order.
LAST = [("POST", "/api/sessions/{session_id}/close"), ("POST", "/logout")]


def bearer(server: Server, token: str | None) -> Send:
    async def send(method: str, path: str, body: Any) -> httpx.Response:
        headers = {} if token is None else {"authorization": f"Bearer {token}"}
        return await server.http.request(method, path, json=body, headers=headers)

    return send


def cookie(browser: Browser) -> Send:
    async def send(method: str, path: str, body: Any) -> httpx.Response:
        return await browser.send(method, path, body)  # with the session's X-CSRF-Token

    return send


def judge_http(case: str, documented: str, allowed: bool, caller: Caller, r: httpx.Response) -> str | None:
    """What is wrong with this answer, or None."""
    what = f"answered {r.status_code} {r.text[:160]!r}"
    if allowed:
        if r.status_code in (401, 403):
            return f"{case}: documented {documented}, but refused: {what}"
        if r.status_code >= 500 or r.status_code == 429:
            return f"{case}: documented {documented}, but {what}: that proves nothing about who may"
        return None
    if r.status_code not in (401, 403):
        return f"{case}: documented {documented}, so 401/403 expected, but {what}"
    if caller.role is None and r.status_code != 401:
        return f"{case}: no credential must be 401 (protocol.md section 8), but {what}"
    try:
        error = r.json()["error"]
        good = error["code"] == {401: "unauthorized", 403: "forbidden"}[r.status_code] and error["message"]
    except (ValueError, KeyError, TypeError):
        good = False
    return None if good else f"{case}: refused without the error body of its status: {what}"


async def test_http_routes_answer_whom_the_docs_say(tmp_path: Path, backing: dict[str, Any]) -> None:
    # The `server` fixture's server (both configurations) with a roomy sign-in budget: ten callers
    # on six sign-in routes spend more than the 30 attempts a minute one address gets, and a 429
    # would say nothing about who may.
    async with running_server(tmp_path, ticker_seconds=0.2, signin_attempts_per_minute=10_000, **backing) as server:
        await http_matrix(server)


async def http_matrix(server: Server) -> None:
    findings = Findings()
    mismatches = findings.problems  # those that are no case of the matrix

    r = await server.http.get("/api/openapi.json")
    assert r.status_code == 200, r.text
    routes = openapi_routes(r.json())
    in_openapi = {(rt.method, shape(rt.path)): rt for rt in routes}

    # The two documents agree, and the app serves nothing the OpenAPI document leaves out.
    table8 = documented_routes()
    for key, roles in table8.items():
        if key == ("GET", "/api/openapi.json"):  # the document does not describe itself
            routes.append(Route("GET", "/api/openapi.json", roles, False))
        elif key not in in_openapi:
            mismatches.append(f"{key[0]} {key[1]}: in protocol.md section 8 but not in the OpenAPI document")
        elif in_openapi[key].roles != roles:
            mismatches.append(
                f"{key[0]} {key[1]}: protocol.md section 8 says {shown(roles)}, "
                f"the OpenAPI document says {shown(in_openapi[key].roles)}"
            )
    for method, path in sorted(served_api_routes(server.app) - set(in_openapi) - {("GET", "/api/openapi.json")}):
        mismatches.append(f"{method} {path}: served but not in the OpenAPI document, so nobody knows who may")

    # The session in the paths, its participant, and the callers. Staff enrol a passkey (their
    # cookie), and their bearer tokens carry the same email: the passkey routes are for people
    # who have one (a token without an email, or of someone never enrolled, is refused there).
    session = await server.session(instructor_email="teacher@example.org")
    person = (await server.participants(session["id"], 1))[0]
    staff = [
        ("admin", "admin", "admin@example.org", True),
        ("instructor of this session", "instructor", "teacher@example.org", True),
        ("instructor of another session", "instructor", "other.teacher@example.org", False),
        ("support", "support", "support@example.org", True),
    ]
    browsers: list[Browser] = []
    try:
        callers = [Caller("no credential", None, bearer(server, None))]
        cookie_callers = []
        for name, role, email, own in staff:
            browser = await enrolled(server, email, role, name.title())
            browsers.append(browser)
            token = await server.token(role, name.title(), email)
            callers.append(Caller(name, role, bearer(server, token), own))
            cookie_callers.append(Caller(f"{name} (cookie)", role, cookie(browser), own))
        callers.append(Caller("participant", "participant", bearer(server, person["token"])))
        callers += cookie_callers

        ordered = sorted(
            routes, key=lambda rt: LAST.index((rt.method, rt.path)) + 1 if (rt.method, rt.path) in LAST else 0
        )
        params = {**PATH_VALUES, "session_id": session["id"]}
        for route in ordered:
            path = re.sub(r"\{([^}]+)\}", lambda m: params.get(m.group(1), "f" * 32), route.path)
            own = route.in_a_session and route.roles is not None and "instructor" in route.roles
            where = " (an instructor: their own sessions)" if own else ""
            for caller in callers:
                case = f"{route.method} {route.path} as {caller.name}"
                allowed = may_call(route, caller)
                documented = f"who may: {shown(route.roles)}{where}"
                answer = await caller.send(route.method, path, request_body(route))
                findings.judged(case, judge_http(case, documented, allowed, caller, answer))
        assert len(ordered) * len(callers) >= 100  # the matrix did not shrink to nothing unnoticed
    finally:
        for browser in browsers:
            await browser.close()

    findings.check("HTTP")


# ------------------------------------------------------------ Socket.IO


@dataclass
class Ids:
    """Real objects made before the matrix runs, so that an allowed sender is answered ok (or a
    state error such as conflict) rather than not_found."""

    participant_id: str
    answer_ping: str  # an open poll nobody closes before ping:answer is tried
    close_ping: str  # closed by the first allowed ping:close; closing again answers the same
    claim_ticket: str  # another participant's waiting ticket: claimed by the first allowed sender
    resolve_ticket: str  # a third participant's ticket: resolved by the first allowed sender


def now_ms() -> int:
    return int(time.time() * 1000)


def event_payload(event: str, ids: Ids) -> Any:
    """A payload of the right shape for each event this test knows; `{}` for others (an allowed
    sender is then told invalid, which is not forbidden: the role is checked before the payload)."""
    known: dict[str, Any] = {
        "clock:sync": {"t0": now_ms()},
        "session:state": {},
        "attendance:checkin": {},  # no check-in code is asked; check-in opens 30 min before the start
        "attendance:mark": {"participant_id": ids.participant_id, "status": "present"},
        "ping:launch": {"kind": "poll", "question": "Which one?", "options": ["A", "B"], "seconds": 600},
        "ping:answer": {"ping_id": ids.answer_ping, "answer": 0},
        "ping:close": {"ping_id": ids.close_ping},
        "ping:share": {"ping_id": ids.close_ping},
        "help:open": {"category": "audio", "text": "I cannot hear the instructor"},
        "help:claim": {"ticket_id": ids.claim_ticket},
        "help:resolve": {"ticket_id": ids.resolve_ticket, "note": "muted tab"},
        # Another participant's ticket: for who may, any answer but forbidden will do.
        "help:withdraw": {"ticket_id": ids.claim_ticket},
        "chat:send": {"client_id": uuid.uuid4().hex, "text": "hello"},
        "chat:history": {"after_seq": 0},
        "session:delay": {"minutes": 1, "reason": "projector"},
        "session:start": {},
        "session:close": {},
        "platform:status": {"status": "degraded", "message": "audio drops"},
        "consent:request": {"purpose": "recording"},
        "recording:status": {"recording": False},
    }
    return known.get(event, {})


# Events that change what the others need: sent after all the others, in this order (a delay
# needs a scheduled session; once closed, every change answers conflict).
LAST_EVENTS = ["session:delay", "session:start", "session:close"]


def judge_ack(case: str, documented: str, allowed: bool, ack: Any) -> str | None:
    """What is wrong with this acknowledgement, or None."""
    if not isinstance(ack, dict) or not isinstance(ack.get("ok"), bool):
        return f"{case}: not an acknowledgement: {ack!r}"
    error = ack.get("error") if isinstance(ack.get("error"), dict) else {}
    code, message = error.get("code"), str(error.get("message", ""))
    if allowed:
        if ack["ok"]:
            return None
        if code == "forbidden":
            return f"{case}: documented {documented}, but answered forbidden ({message!r})"
        if code in ("rate_limited", "unavailable"):
            return f"{case}: answered {code} ({message!r}), before the role check: it proves nothing"
        if code == "not_found" and message.startswith("unknown event"):
            return f"{case}: documented, but the server does not know the event ({message!r})"
        return None  # another error about the payload or the state: the role was let through
    if ack.get("ok") is False and code == "forbidden" and set(ack) == {"ok", "error"}:
        if set(error) == {"code", "message"} and isinstance(error["message"], str) and error["message"]:
            return None
    return f"{case}: documented {documented}, so {{ok: false, error: {{code: forbidden, message}}}}, but got {ack!r}"


def served_events(app: Any) -> set[str]:
    """The events the Socket.IO server has a handler for (socketio.ASGIApp keeps the server as
    `engineio_server`; python-socketio keeps handlers by namespace, then event)."""
    handlers = app.engineio_server.handlers["/"]
    return set(handlers) - {"connect", "disconnect", "*"}


async def call(client: Client, event: str, payload: Any) -> Any:
    try:
        return await client.call(event, payload, timeout=10)
    except socketio.exceptions.TimeoutError:
        return "no acknowledgement within 10 s"


async def connect_refusal(server: Server, auth: dict[str, Any]) -> Any:
    """The connect_error data of a refused connection, or a sentence saying it was let in."""
    sio = socketio.AsyncClient(reconnection=False)
    seen: list[Any] = []
    sio.on("connect_error", lambda data=None: seen.append(data))
    try:
        await sio.connect(server.url, auth=auth, transports=["websocket"], wait_timeout=10)
    except socketio.exceptions.ConnectionError:
        return seen[0] if seen else "refused without connect_error data"
    await sio.disconnect()
    return "connected"


async def test_socket_events_answer_whom_the_docs_say(klass: Class) -> None:
    findings = Findings()
    mismatches = findings.problems  # those that are no case of the matrix
    events = documented_events()

    # The table lists exactly the events the server handles.
    served = served_events(klass.server.app)
    for name in sorted(served - set(events)):
        mismatches.append(f"{name}: handled by the server but not in protocol.md section 3, so nobody knows who may")
    for name in sorted(set(events) - served):
        mismatches.append(f"{name}: in protocol.md section 3 but the server does not handle it")

    # Connecting at all: an instructor of another session is refused with forbidden.
    other = await klass.server.token("instructor", "Otto Other", "other.teacher@example.org")
    data = await connect_refusal(klass.server, {"token": other, "session": klass.id})
    if not (isinstance(data, dict) and data.get("code") == "forbidden"):
        mismatches.append(f"connect as instructor of another session: documented forbidden, got {data!r}")

    poll = {"kind": "poll", "question": "Which one?", "options": ["A", "B"], "seconds": 600}
    rating = {"kind": "rating", "question": "Rate it", "seconds": 600}
    ids = Ids(
        participant_id=klass.people[0]["id"],
        answer_ping=(await klass.admin.ok("ping:launch", poll))["ping_id"],
        close_ping=(await klass.admin.ok("ping:launch", rating))["ping_id"],
        claim_ticket=(await klass.participants[1].ok("help:open", {"category": "video", "text": "frozen"}))[
            "ticket_id"
        ],
        resolve_ticket=(await klass.participants[2].ok("help:open", {"category": "audio", "text": "echo"}))[
            "ticket_id"
        ],
    )
    senders = {
        "participant": klass.participants[0],
        "instructor": klass.instructor,
        "support": klass.support,
        "admin": klass.admin,
    }

    ordered = sorted(events, key=lambda e: LAST_EVENTS.index(e) + 1 if e in LAST_EVENTS else 0)
    for event in ordered:
        roles = events[event]
        await asyncio.sleep(PAUSE)  # each connection's budget is 20 events a second
        acks = await asyncio.gather(*(call(c, event, event_payload(event, ids)) for c in senders.values()))
        for role, ack in zip(senders, acks, strict=True):
            case = f"{event} from {role}"
            findings.judged(case, judge_ack(case, f"who may send: {shown(roles)}", roles is None or role in roles, ack))
        # The connection stays usable after whatever it was answered.
        await asyncio.sleep(PAUSE)
        t0 = now_ms()
        syncs = await asyncio.gather(*(call(c, "clock:sync", {"t0": t0}) for c in senders.values()))
        for role, sync in zip(senders, syncs, strict=True):
            if not (isinstance(sync, dict) and sync.get("ok") is True and sync.get("t0") == t0):
                mismatches.append(f"clock:sync from {role} after {event}: the connection is not usable: {sync!r}")
    assert len(ordered) * len(senders) >= 40  # the matrix did not shrink to nothing unnoticed

    findings.check("Socket.IO")


def test_the_who_phrases_read_as_documented() -> None:
    """The reading of the documents' "who" columns, which the two tests above rely on."""
    assert roles_of("anyone") is None
    assert roles_of("instructor, support, admin") == STAFF
    assert roles_of("admin, the session's instructor") == {"admin", "instructor"}
    assert roles_of("staff who may act in it") == STAFF
    with pytest.raises(AssertionError, match="unknown 'who' phrase"):
        roles_of("the janitor")
    assert documented_events()["help:claim"] == {"support", "admin"}
    assert documented_routes()[("POST", "/api/sessions/{}/close")] == {"admin", "instructor"}

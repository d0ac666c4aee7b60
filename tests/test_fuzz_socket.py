"""Fuzzing the live hub: every socket event's payload schema through a real Socket.IO client, and raw
Engine.IO/Socket.IO frames through a bare websocket, against a real server on a free port.

The property (issue 9): every input is answered with `invalid` or another error of the contract
(`{"ok": false, "error": {"code", "message"}}`), never silence (an event with an ack id always gets
its ack), never `unavailable` (with the database and Redis up, that is the server failing on the
input), never an ERROR in the server's log, and never a server that stops answering others: after
each run a well-behaved participant and staff member still get clock:sync and session:state answered
at once. Examples are derandomized (fuzz_support.fuzz_settings); FUZZ_EXAMPLES scales their number.

Runs on both configurations: the hub's packet handling is the same, but the payloads reach different
stores (SQLite and memory; PostgreSQL and Redis), where overflows and encodings differ.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import socketio
from hypothesis import Phase, given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from tests.fuzz_support import (
    Bridge,
    Failures,
    LogWatch,
    RawSocket,
    ack_problem,
    describe_logs,
    fuzz_client,
    fuzz_server,
    fuzz_settings,
    in_thread,
    json_values,
    minimal_valid,
    payloads_for,
    short,
    signature_of,
    sweep,
    watch_logs,
)
from tests.support import Client, Server, iso_in

ROLES = ("participant", "instructor", "support", "admin")
# The lifecycle events change the session for every later example: they go last, close at the end.
LAST = ("session:start", "session:delay", "session:close")
RESERVED = ("connect", "disconnect", "connect_error", "disconnecting", "message", "*")
ACK_TIMEOUT = 3.0
# Raw frames come in lists of at most four, readable as found; shrinking them would cost an ack
# timeout per attempt where the bug is silence.
NO_SHRINK = (Phase.explicit, Phase.generate)
STATS: dict[str, dict[str, int]] = {}  # event -> answer code -> count, printed with -s
# A well-behaved client's round trip after a fuzz run; generous for a loaded 2-core CI machine.
RESPONSIVE_S = 2.0


@dataclass
class Room:
    """A class in session, its tokens, the fuzzing clients (one per role) and two bystanders."""

    server: Server
    hub: Any
    session_id: str
    tokens: dict[str, str]
    ids: dict[str, list[str]]
    clients: dict[str, socketio.AsyncClient] = field(default_factory=dict)
    bystanders: list[Client] = field(default_factory=list)

    def auth(self, role: str) -> dict[str, Any]:
        if role == "participant":
            return {"token": self.tokens[role]}
        return {"token": self.tokens[role], "session": self.session_id}

    async def client(self, role: str) -> socketio.AsyncClient:
        c = self.clients.get(role)
        if c is None or not c.connected:
            c = await fuzz_client(self.server.url, self.auth(role))
            self.clients[role] = c
        return c

    async def close(self) -> None:
        for c in self.clients.values():
            if c.connected:
                await c.disconnect()


@pytest.fixture
async def room(tmp_path: Path, backing: dict[str, Any]) -> AsyncIterator[Room]:
    async with fuzz_server(tmp_path, backing) as (srv, hub):
        r = await srv.api(
            "POST",
            "/api/sessions",
            {
                "topic": "Fuzzing",
                "instructor_email": "teacher@example.org",
                "starts_at": iso_in(10),
                "duration_minutes": 60,
                "checkin_code": True,
            },
        )
        assert r.status_code == 201, r.text
        sid = r.json()["id"]
        people = await srv.participants(sid, 4)
        tokens = {
            "participant": people[0]["token"],
            "instructor": await srv.token("instructor", "Iris Instructor", "teacher@example.org"),
            "support": await srv.token("support", "Sam Support", "support@example.org"),
            "admin": srv.admin_token,
        }
        room = Room(srv, hub, sid, tokens, {"participant_id": [p["id"] for p in people]})
        for role in ROLES:
            await room.client(role)
        # Real ids for the fields that name things, so payloads reach past `not_found`: open pings of
        # every kind, and a ticket of another participant.
        pings = []
        for kind, extra in [
            ("poll", {"options": ["a", "b"]}),
            ("rating", {}),
            ("text", {}),
            ("pulse", {}),
            ("attention", {}),
        ]:
            ack = await room.clients["instructor"].call(
                "ping:launch", {"kind": kind, "question": "Q?", **extra}, timeout=10
            )
            assert ack["ok"], ack
            pings.append(ack["ping_id"])
        other = await srv.connect(people[1]["token"])
        ack = await other.call("help:open", {"category": "audio", "text": "I cannot hear"})
        assert ack["ok"], ack
        room.ids.update(ping_id=pings, ticket_id=[ack["ticket_id"]])
        room.bystanders = [await srv.connect(people[3]["token"]), await srv.connect(tokens["support"], sid)]
        try:
            yield room
        finally:
            await room.close()


async def still_answers(room: Room) -> list[str]:
    """What a well-behaved bystander is not answered promptly (empty when all is well)."""
    problems = []
    for c in room.bystanders:
        for event, data in (("clock:sync", {"t0": 1234}), ("session:state", {})):
            t = time.monotonic()
            try:
                ack = await c.call(event, data, timeout=RESPONSIVE_S)
            except (socketio.exceptions.TimeoutError, socketio.exceptions.BadNamespaceError) as e:
                problems.append(f"bystander {event}: no answer ({type(e).__name__})")
                continue
            if not (isinstance(ack, dict) and ack.get("ok") is True):
                problems.append(f"bystander {event}: {short(ack)}")
            elif time.monotonic() - t > RESPONSIVE_S:
                problems.append(f"bystander {event}: {time.monotonic() - t:.1f}s")
    r = await room.server.http.get("/healthz")
    if r.status_code != 200:
        problems.append(f"/healthz {r.status_code} {r.text[:200]}")
    return problems


def locally_valid(model: type[BaseModel], payload: Any) -> bool:
    if payload is None:
        payload = {}
    if not isinstance(payload, dict):
        return False
    try:
        model.model_validate(payload)
    except ValidationError:
        return False
    return True


# ------------------------------------------------------------ every event's payload schema


async def call_once(
    room: Room, logs: LogWatch, event: str, model: type[BaseModel] | None, role: str, payload: Any
) -> str | None:
    """One event from one role: what breaks the property, or None."""
    client = await room.client(role)
    mark = logs.mark()
    where = f"{event} as {role} with {short(payload)}"
    try:
        ack = (
            await client.call(event, payload, timeout=ACK_TIMEOUT)
            if payload is not None
            else await client.call(event, timeout=ACK_TIMEOUT)
        )
    except socketio.exceptions.TimeoutError:
        return f"no ack within {ACK_TIMEOUT}s: {where}" + _logs(logs, mark)
    except socketio.exceptions.BadNamespaceError:
        return f"the server dropped the socket: {where}" + _logs(logs, mark)
    code = ack.get("error", {}).get("code") if isinstance(ack, dict) and ack.get("ok") is False else "ok"
    STATS.setdefault(event if model is not None else "(unknown)", {}).setdefault(str(code), 0)
    STATS[event if model is not None else "(unknown)"][str(code)] += 1
    await asyncio.sleep(0)  # let anything the handler scheduled log before the check
    problem = ack_problem(ack)
    if problem is None and model is not None and ack.get("ok") and not locally_valid(model, payload):
        problem = f"accepted a payload its schema refuses: {short(ack)}"
    if problem is None and model is None and ack.get("ok") is not False:
        problem = f"unknown event not refused: {short(ack)}"
    if problem is None and model is None and ack["error"]["code"] != "not_found":
        problem = f"unknown event answered {ack['error']['code']}, not not_found"
    if problem is None and logs.since(mark):
        problem = "logged an ERROR"
    if problem is None:
        return None
    return f"{problem}: {where}" + _logs(logs, mark)


def _logs(logs: LogWatch, mark: int) -> str:
    found = logs.since(mark)
    return f" | log: {describe_logs(found)}" if found else ""


def sig(problem: str, *context: str) -> str:
    """A failure's signature, for the FUZZ_REPORT list: its kind, what it was sent to, and the last
    line of the first traceback it logged."""
    kind = problem.split(": ", 1)[0]
    kind = kind.split(" frame ")[0] if kind.startswith("no ack for") else kind
    tb = problem.rsplit("[", 1)[-1].rstrip("]") if " | log: " in problem else ""
    return signature_of(" / ".join([kind, *context, tb[:120]]))


def bases(room: Room) -> dict[str, dict[str, Any]]:
    """A valid payload of each event, naming real things; events not listed start from the simplest
    payload their schema allows."""
    ping, ticket, person = room.ids["ping_id"][0], room.ids["ticket_id"][0], room.ids["participant_id"][1]
    return {
        "clock:sync": {"t0": 1},
        "attendance:checkin": {"code": "0000"},
        "attendance:mark": {"participant_id": person, "status": "present"},
        "ping:launch": {"kind": "poll", "question": "Q?", "options": ["a", "b"], "seconds": 30},
        "ping:answer": {"ping_id": ping, "answer": 0},
        "ping:close": {"ping_id": room.ids["ping_id"][-1]},
        "ping:share": {"ping_id": room.ids["ping_id"][-1]},
        "help:open": {"category": "audio", "text": "I cannot hear"},
        "help:claim": {"ticket_id": ticket},
        "help:resolve": {"ticket_id": ticket, "note": "fixed"},
        "help:withdraw": {"ticket_id": ticket},
        "chat:send": {"client_id": "fuzz-client-0", "text": "hello"},
        "chat:history": {"after_seq": 0},
        "session:delay": {"minutes": 5, "reason": "traffic"},
        "platform:status": {"status": "degraded", "message": "slow"},
    }


def sweep_role(spec: Any) -> str:
    if spec.roles is None:
        return "instructor"  # not subject to the participants' chat allowance
    return next(r for r in ROLES if r in spec.roles)


async def sweep_event(
    room: Room, logs: LogWatch, failures: Failures, event: str, spec: Any, base: dict[str, Any]
) -> None:
    """Each field of a valid payload replaced by each hostile value in turn (or dropped)."""
    for _where, payload in sweep(base):
        problem = await call_once(room, logs, event, spec.model, sweep_role(spec), payload)
        if problem:
            failures.record(sig(problem, event), problem)


def fuzz_event(bridge: Bridge, room: Room, logs: LogWatch, failures: Failures, event: str, spec: Any, n: int) -> None:
    allowed = sorted(spec.roles) if spec.roles is not None else list(ROLES)
    # Mostly (7 in 8) a role that passes the role check, so payloads reach the schema and the actions.
    roles = st.integers(0, 7 * len(allowed) * len(ROLES) - 1 + len(allowed) * len(ROLES)).map(
        lambda i: allowed[i % len(allowed)] if i < 7 * len(allowed) * len(ROLES) else ROLES[i % len(ROLES)]
    )

    @fuzz_settings(n)
    @given(role=roles, payload=payloads_for(spec.model, room.ids))
    def prop(role: str, payload: Any) -> None:
        problem = bridge.run(call_once(room, logs, event, spec.model, role, payload))
        if problem:
            failures.fail(sig(problem, event), problem)

    prop()


@pytest.mark.timeout(240)
async def test_every_event_payload_is_answered(room: Room) -> None:
    """Hypothesis over each event of the hub's event table, from each role; then unknown events."""
    bridge = Bridge(asyncio.get_running_loop())
    events: dict[str, Any] = dict(room.hub.events)
    assert set(events) >= {"clock:sync", "session:state", "chat:send", "chat:history"}, events
    order = [e for e in events if e not in LAST] + [e for e in LAST if e in events]
    failures = Failures("socket payloads")
    found: list[str] = []
    timings: dict[str, float] = {}
    valid = bases(room)
    with watch_logs() as logs:
        for event in order:
            t = time.monotonic()
            spec = events[event]
            schema = spec.model.model_json_schema()
            base = valid.get(event) or minimal_valid(schema, schema.get("$defs", {}))
            await sweep_event(room, logs, failures, event, spec, base)
            try:
                await in_thread(lambda e=event: fuzz_event(bridge, room, logs, failures, e, events[e], 150))
            except AssertionError as e:  # the shrunk counterexample of this event; go on with the next
                found.append(str(e).splitlines()[0][:1500])
            timings[event] = time.monotonic() - t

        unknown = st.one_of(
            st.text(min_size=1, max_size=40),
            st.sampled_from(
                [
                    "chat:Send",
                    "chat:send ",
                    "CLOCK:SYNC",
                    "__proto__",
                    "toString",
                    "ping",
                    "pong",
                    "session",
                    "help:queue",
                    "x" * 5000,
                    "connect_errors",
                    "disconnected",
                ]
            ),
        )

        @fuzz_settings(40)
        @given(
            role=st.sampled_from(ROLES),
            event=unknown.filter(lambda e: e not in events and e not in RESERVED),
            payload=json_values,
        )
        def unknown_prop(role: str, event: str, payload: Any) -> None:
            problem = bridge.run(call_once(room, logs, event, None, role, payload))
            if problem:
                failures.fail(sig(problem), problem)

        try:
            await in_thread(unknown_prop)
        except AssertionError as e:
            found.append(str(e).splitlines()[0][:1500])
        failures.write()
        found += await still_answers(room)
        late = [r for r in logs.records]
    print("seconds per event:", {k: round(v, 1) for k, v in timings.items()})
    print("answers:", STATS)
    assert not found, "\n".join(found)
    assert not late, describe_logs(late)
    assert not failures.seen, "\n".join(failures.seen.values())


# ------------------------------------------------------------ raw frames on a connected socket


@dataclass(frozen=True)
class Frame:
    """A frame to send, what it is, and the ack id it asks for (if it must be answered)."""

    data: str | bytes
    kind: str  # "ack" (must be answered), "reserved" (answered or the socket closed), "event" (no ack),
    # "bad" (malformed: nothing required but no ERROR; the socket may close), "close" (asks to close)
    ack_id: int | None = None


def _event_payloads(events: dict[str, Any]) -> st.SearchStrategy[tuple[str, Any]]:
    return st.one_of([st.tuples(st.just(name), payloads_for(spec.model)) for name, spec in events.items()])


def frames(events: dict[str, Any], ack_ids: st.SearchStrategy[int]) -> st.SearchStrategy[Frame]:
    known = _event_payloads(events)
    named = st.one_of(known, known, st.tuples(st.one_of(st.text(max_size=20), st.just("x" * 3000)), json_values))
    ascii_or_not = st.booleans()

    def encode(args: list[Any], ensure_ascii: bool) -> str:
        return json.dumps(args, ensure_ascii=ensure_ascii)

    with_ack = st.builds(
        lambda ev, i, asc, extra: Frame(
            f"42{i}{encode([ev[0], *([] if ev[1] is None else [ev[1]]), *extra], asc)}", "ack", i
        ),
        named,
        ack_ids,
        ascii_or_not,
        st.lists(json_values, max_size=1),
    )
    no_ack = st.builds(lambda ev: Frame("42" + json.dumps([ev[0], ev[1]]), "event"), named)
    reserved = st.builds(
        lambda name, i, args: Frame(f"42{i}{json.dumps([name, *args])}", "reserved", i),
        st.sampled_from(RESERVED),
        ack_ids,
        st.lists(json_values, max_size=2),
    )
    reserved_no_ack = st.builds(
        lambda name, args: Frame("42" + json.dumps([name, *args]), "bad"),
        st.sampled_from(RESERVED),
        st.lists(json_values, max_size=2),
    )
    bad_text = st.sampled_from(
        [
            "",
            "4",
            "42",
            "42[",
            "42]",
            "42{}",
            '42"clock:sync"',
            "42[]",
            "421[]",
            "42[1]",
            "42[null]",
            '42[{"a":1}]',
            '421[{"a":1},{}]',
            '42["clock:sync",{"t0":NaN}]',
            '421["clock:sync",{"t0":Infinity}]',
            '421["clock:sync",{"t0":-Infinity}]',
            '421["clock:sync",{"t0":1e309}]',
            '421["chat:send",{"client_id":"abcdefgh1","text":"\\ud800"}]',
            '42["\\udfff"]',
            '421["chat:history",{"after_seq":1' + "0" * 400 + "}]",
            "421" + "[" * 2000 + "]" * 2000,
            '421["clock:sync",' + "[" * 1100 + "]" * 1100 + "]",
            "43",
            "431[]",
            "431[{}]",
            "44",
            '44{"message":"x"}',
            "47",
            "48",
            "49",
            "4x",
            "4-1",
            '4299999999999999999999999["clock:sync",{"t0":1}]',
            '42-1["clock:sync",{"t0":1}]',
            '42/nope,1["clock:sync",{"t0":1}]',
            "40/nope,",
            '40/nope,{"token":"x"}',
            "40",
            '40{"token":"x"}',
            "0",
            "3",
            "5",
            "6",
            "7",
            "8",
            "9",
            "x",
            "ðŸ",
            "\x00",
            "42\x00",
            '451-["chat:send",{"_placeholder":true,"num":0}]',
            '4599-["chat:send",{"_placeholder":true,"num":0}]',
            '461-[{"_placeholder":true,"num":0}]',
            '452-["x",{"_placeholder":true,"num":5}]',
        ]
    )
    bad = st.one_of(
        st.builds(lambda s: Frame(s, "bad"), bad_text),
        st.builds(lambda s: Frame(s, "bad"), st.text(max_size=40)),
        st.builds(lambda s: Frame("4" + s, "bad"), st.text(max_size=40)),
        st.builds(lambda s: Frame("42" + s, "bad"), st.text(max_size=40)),
        st.builds(lambda b: Frame(b, "bad"), st.binary(max_size=64)),
        st.builds(lambda b: Frame(b"\x04" + b, "bad"), st.binary(max_size=64)),
    )
    closing = st.sampled_from([Frame("41", "close"), Frame("1", "close")])
    return st.one_of(with_ack, with_ack, with_ack, no_ack, reserved, reserved_no_ack, bad, bad, closing)


class RawPool:
    """One raw socket per role, opened and signed in again whenever the server closed it."""

    def __init__(self, room: Room) -> None:
        self.room = room
        self.socks: dict[str, RawSocket] = {}

    async def get(self, role: str) -> RawSocket:
        sock = self.socks.get(role)
        if sock is None or sock.closed:
            if sock is not None:
                await sock.close()
            sock = await RawSocket.open(self.room.server.url)
            answer = await sock.connect(self.room.auth(role))
            assert answer is not None and answer.startswith("40{"), answer
            self.socks[role] = sock
        return sock

    async def close(self) -> None:
        for s in self.socks.values():
            await s.close()


_probe_ids = iter(range(10**9, 2 * 10**9))


async def probe(sock: RawSocket, timeout: float = ACK_TIMEOUT) -> str | None:
    """The socket still answers clock:sync (None), or what went wrong; a closed socket is not probed."""
    if sock.closed:
        return None
    i = next(_probe_ids)
    await sock.send(f'42{i}["clock:sync",{{"t0":{i}}}]')
    got, ack = await sock.ack(i, timeout)
    if not got:
        return None if sock.closed else "the socket stopped answering clock:sync"
    if not (
        isinstance(ack, list)
        and ack
        and isinstance(ack[0], dict)
        and ack[0].get("ok") is True
        and ack[0].get("t0") == i
    ):
        return f"clock:sync afterwards answered {short(ack)}"
    return None


async def send_frames(pool: RawPool, logs: LogWatch, role: str, batch: list[Frame]) -> str | None:
    sock = await pool.get(role)
    mark = logs.mark()
    where = f"as {role}, frames {short([f.data if isinstance(f.data, str) else repr(f.data) for f in batch], 800)}"
    for f in batch:
        if f.kind in ("bad", "close"):
            sock.malformed_sent += 1
        await sock.send(f.data)
        if f.kind == "close":  # the client left (`41`) or closed (`1`): nothing more is answered
            await sock.close()
            break
    problem = None
    for f in batch:
        if f.ack_id is None:
            continue
        got, ack = await sock.ack(f.ack_id, ACK_TIMEOUT)
        if not got:
            if sock.closed and (sock.malformed_sent or f.kind == "reserved"):
                break  # the server may close a socket that sent malformed or reserved frames
            problem = f"no ack for {f.kind} frame {short(f.data)}" + (" (socket closed)" if sock.closed else "")
            break
        inner = ack[0] if isinstance(ack, list) and len(ack) == 1 else ack
        problem = ack_problem(inner)
        if problem is None and f.kind == "reserved" and inner.get("ok") is not False:
            problem = f"reserved event accepted: {short(inner)}"
        if problem:
            problem += f" (to {short(f.data)})"
            break
    if problem is None:
        problem = await probe(sock)
    await asyncio.sleep(0.01)  # a malformed frame's log record is written after the frame was read
    if problem is None and logs.since(mark):
        problem = "logged an ERROR"
    if problem is None:
        return None
    if not sock.closed:  # start the next example on a socket in a known state
        await sock.close()
    return f"{problem}: {where}" + _logs(logs, mark)


@pytest.mark.timeout(240)
async def test_raw_frames_on_a_connected_socket(room: Room) -> None:
    """Hypothesis over raw frames: well-formed events with ack ids (every one answered), reserved
    event names, malformed and binary packets, Engine.IO packet types and garbage."""
    bridge = Bridge(asyncio.get_running_loop())
    events: dict[str, Any] = {k: v for k, v in room.hub.events.items() if k not in LAST}
    pool = RawPool(room)
    failures = Failures("raw frames")
    counter = iter(range(1, 10**9))
    ack_ids = st.builds(lambda _: next(counter), st.just(0))
    found: list[str] = []
    with watch_logs() as logs:

        @fuzz_settings(150, phases=NO_SHRINK)
        @given(
            role=st.sampled_from(["participant", "participant", "instructor", "support"]),
            batch=st.lists(frames(events, ack_ids), min_size=1, max_size=4),
        )
        def prop(role: str, batch: list[Frame]) -> None:
            problem = bridge.run(send_frames(pool, logs, role, batch))
            if problem:
                failures.fail(sig(problem), problem)

        t = time.monotonic()
        try:
            await in_thread(prop)
        except AssertionError as e:
            found.append(str(e).splitlines()[0][:2000])
        finally:
            await pool.close()
        print(f"raw frames: {time.monotonic() - t:.1f}s")
        failures.write()
        found += await still_answers(room)
    assert not found, "\n".join(found)
    assert not failures.seen, "\n".join(failures.seen.values())


# ------------------------------------------------------------ the handshake


@pytest.mark.timeout(180)
async def test_raw_handshake(room: Room) -> None:
    """Fresh sockets: anything before the namespace connect, then `40` with any auth at all. Each is
    answered (`40{sid}` or `44{message}`) or closed, nothing is logged as an ERROR, and a socket that
    got in answers clock:sync."""
    bridge = Bridge(asyncio.get_running_loop())
    events: dict[str, Any] = {k: v for k, v in room.hub.events.items() if k not in LAST}
    failures = Failures("handshake")
    counter = iter(range(1, 10**9))
    ack_ids = st.builds(lambda _: next(counter), st.just(0))
    t = room.tokens
    sid = room.session_id
    auths = st.one_of(
        st.sampled_from(
            [
                {"token": t["participant"]},
                {"token": t["participant"], "session": sid},
                {"token": t["participant"], "session": "other"},
                {"token": t["instructor"], "session": sid},
                {"token": t["support"]},
                {"token": t["admin"], "session": "nope"},
                {"token": t["admin"], "session": 1},
                {"token": t["participant"] + "x"},
                {"token": t["participant"][:-3]},
                {"token": ""},
                {},
                [],
                1,
                "x",
                {"token": t["admin"], "session": sid, "extra": [1]},
                {"token": t["admin"], "session": ["x"]},
                {"token": ["x"]},
                {"token": {"a": 1}},
                {"token": 2**64},
                {"token": None, "session": sid},
                {"session": sid},
                {"token": "x" * 20_000},
                {"token": t["admin"], "session": "x" * 5000},
            ]
        ),
        st.none(),
        json_values,
        st.fixed_dictionaries(
            {"token": st.one_of(st.text(max_size=60), json_values)},
            optional={"session": st.one_of(st.just(sid), st.text(max_size=30), json_values)},
        ),
    )
    before = st.lists(frames(events, ack_ids), max_size=2)

    async def one(pre: list[Frame], auth: Any) -> str | None:
        mark = logs.mark()
        sock = await RawSocket.open(room.server.url)
        where = (
            f"frames {short([f.data if isinstance(f.data, str) else repr(f.data) for f in pre], 600)} "
            f"then 40{short(auth, 600)}"
        )
        try:
            for f in pre:
                await sock.send(f.data)
            answer = await sock.connect(auth)
            problem = None
            if answer is None and not sock.closed:
                problem = "no answer to the connect"
            elif answer is not None and answer.startswith("40{"):
                problem = await probe(sock)
            elif answer is not None and not answer.startswith("44"):
                problem = f"connect answered {answer[:200]}"
            await asyncio.sleep(0.01)
            if problem is None and logs.since(mark):
                problem = "logged an ERROR"
            return None if problem is None else f"{problem}: {where}" + _logs(logs, mark)
        finally:
            await sock.close()

    found: list[str] = []
    with watch_logs() as logs:

        @fuzz_settings(80, phases=NO_SHRINK)
        @given(pre=before, auth=auths)
        def prop(pre: list[Frame], auth: Any) -> None:
            problem = bridge.run(one(pre, auth))
            if problem:
                failures.fail(sig(problem), problem)

        start = time.monotonic()
        try:
            await in_thread(prop)
        except AssertionError as e:
            found.append(str(e).splitlines()[0][:2000])
        print(f"handshake: {time.monotonic() - start:.1f}s")
        failures.write()
        found += await still_answers(room)
    assert not found, "\n".join(found)
    assert not failures.seen, "\n".join(failures.seen.values())

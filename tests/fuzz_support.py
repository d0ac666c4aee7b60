"""Shared pieces of the fuzz tests: a server with a roomy event budget, log capture, the bridge
that lets hypothesis (synchronous) drive the in-process server from a worker thread, JSON and
payload strategies, and a raw Engine.IO/Socket.IO websocket client.

Bounds: FUZZ_EXAMPLES scales every test's number of examples (default 1.0; CI keeps it there so
the fuzz tests take well under a minute per configuration). Examples are derandomized and the
hypothesis database is off, so a run is reproducible and writes nothing into the repository.
FUZZ_REPORT=<file> switches the properties from "fail at the first counterexample" to "record
every distinct failure and go on": the file then lists one line per failure signature with a
reproducer (used to write up what the fuzzers found).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import threading
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest
import socketio
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st

from tests.support import Server, running_server

T = TypeVar("T")

# The error codes of the contract, for HTTP bodies and socket acks alike.
ERROR_CODES = frozenset(
    {"invalid", "unauthorized", "forbidden", "not_found", "conflict", "too_large", "rate_limited", "unavailable"}
)
ACK_CODES = frozenset({"forbidden", "invalid", "not_found", "conflict", "rate_limited", "unavailable"})
HTTP_STATUS = {
    "invalid": 400,
    "unauthorized": 401,
    "forbidden": 403,
    "not_found": 404,
    "conflict": 409,
    "too_large": 413,
    "rate_limited": 429,
    "unavailable": 503,
}
# Loggers of the in-process server: ours, python-socketio/engineio, uvicorn (which does not
# propagate to the root logger) and asyncio (a task that died unseen).
WATCHED_LOGGERS = ("companion", "socketio", "engineio", "uvicorn", "asyncio")

SCALE = float(os.environ.get("FUZZ_EXAMPLES", "1"))
REPORT = os.environ.get("FUZZ_REPORT")


def examples(n: int) -> int:
    return max(1, round(n * SCALE))


def fuzz_settings(n: int, **kw: Any) -> settings:
    """Hypothesis settings of every fuzz property: bounded, reproducible, no database, no deadline
    (a round trip to a real server varies with the machine's load)."""
    kw.setdefault("phases", [Phase.explicit, Phase.generate] + ([] if REPORT else [Phase.shrink]))
    return settings(
        max_examples=examples(n),
        deadline=None,
        derandomize=True,
        database=None,
        report_multiple_bugs=False,
        print_blob=False,
        suppress_health_check=list(HealthCheck),
        **kw,
    )


# ------------------------------------------------------------ the server


def hub_of(app: Any) -> Any:
    """The Hub behind the ASGI app uvicorn serves (socketio.ASGIApp -> SecurityHeaders -> Starlette)."""
    node = app
    for _ in range(8):
        state = getattr(node, "state", None)
        if state is not None and hasattr(state, "hub"):
            return state.hub
        node = getattr(node, "other_asgi_app", None) or getattr(node, "app", None)
    raise AssertionError("no hub found behind the app")


@contextlib.asynccontextmanager
async def fuzz_server(tmp_path: Path, backing: dict[str, Any]) -> AsyncIterator[tuple[Server, Any]]:
    """As the `server` fixture, with event budgets high enough that the fuzzers are not merely
    told `rate_limited` (the budgets themselves are tested in test_connections and test_passkeys);
    also the running Hub."""
    async with running_server(
        tmp_path,
        ticker_seconds=0.2,
        events_per_second=100_000,
        staff_events_per_second=100_000,
        signin_attempts_per_minute=100_000,
        **backing,
    ) as srv:
        yield srv, hub_of(srv.app)


class StdJsonPacket(socketio.packet.Packet):
    """Packets encoded by the standard json module. The server hands orjson to Socket.IO's packet
    class (which is shared with clients in this process), and orjson cannot even encode an integer
    beyond 64 bits: a hostile client can."""

    json = json


async def fuzz_client(url: str, auth: dict[str, Any]) -> socketio.AsyncClient:
    sio = socketio.AsyncClient(reconnection=False, serializer=StdJsonPacket)
    await sio.connect(url, auth=auth, transports=["websocket"], wait_timeout=10)
    return sio


# ------------------------------------------------------------ logs


@dataclass
class Logged:
    logger: str
    level: str
    message: str
    last_line: str  # the traceback's last line, or the message


class LogWatch(logging.Handler):
    """Every record at ERROR or above from the server's loggers, in order."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[Logged] = []
        self._lock2 = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:  # a record whose arguments do not format is itself worth seeing
            message = str(record.msg)
        last = message
        if record.exc_info and record.exc_info[1] is not None:
            last = "".join(traceback.format_exception_only(record.exc_info[1])).strip().splitlines()[-1]
        with self._lock2:
            self.records.append(Logged(record.name, record.levelname, message, last))

    def mark(self) -> int:
        return len(self.records)

    def since(self, mark: int) -> list[Logged]:
        with self._lock2:
            return self.records[mark:]


@contextlib.contextmanager
def watch_logs() -> Iterator[LogWatch]:
    watch = LogWatch()
    loggers = [logging.getLogger(name) for name in WATCHED_LOGGERS]
    for lg in loggers:
        lg.addHandler(watch)
    try:
        yield watch
    finally:
        for lg in loggers:
            lg.removeHandler(watch)


def describe_logs(records: list[Logged]) -> str:
    return "; ".join(f"{r.level} {r.logger}: {r.message[:200]} [{r.last_line[:200]}]" for r in records[:5])


# ------------------------------------------------------------ failures


class Failures:
    """Property failures: raised at once (so hypothesis shrinks them), or, with FUZZ_REPORT,
    recorded by signature and written out at the end."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.seen: dict[str, str] = {}

    def fail(self, signature: str, detail: str) -> None:
        if REPORT is None:
            raise AssertionError(f"{signature}: {detail}")
        self.seen.setdefault(signature, detail)

    def record(self, signature: str, detail: str) -> None:
        """A failure of a sweep: kept (one per signature), the sweep goes on."""
        self.seen.setdefault(signature, detail)

    def write(self) -> None:
        if REPORT is None or not self.seen:
            return
        with open(REPORT, "a", encoding="utf-8") as f:
            for sig, detail in self.seen.items():
                f.write(f"[{self.name}] {sig}\n    {detail}\n")


def signature_of(text: str) -> str:
    """A failure's signature: its text with ids, numbers and quoted values blurred."""
    text = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", text)
    return re.sub(r"\d+", "N", text)[:200]


# ------------------------------------------------------------ the thread bridge


class Bridge:
    """Hypothesis runs its examples synchronously, in a worker thread; each example's coroutine
    runs on the test's event loop, beside the in-process server, and its result comes back."""

    def __init__(self, loop: asyncio.AbstractEventLoop, timeout: float = 30) -> None:
        self.loop = loop
        self.timeout = timeout

    def run(self, coro: Awaitable[T]) -> T:
        async def wrapped() -> T:
            return await coro

        return asyncio.run_coroutine_threadsafe(wrapped(), self.loop).result(self.timeout)


async def in_thread(fn: Callable[[], T]) -> T:
    """Runs a blocking fuzz loop beside the server's event loop, each with a random module of its own."""
    with thread_local_random():
        return await asyncio.to_thread(fn)


@contextlib.contextmanager
def thread_local_random() -> Iterator[None]:
    """Gives each thread its own state behind the `random` module's functions, for the duration.

    Hypothesis seeds `random` for each example, and schemathesis draws from it inside strategies.
    The server beside it draws from the same module (uvicorn's WebSocket ping payloads, SQLAlchemy's
    savepoint names), so in one process the examples would not replay as drawn: hypothesis reports
    them as flaky, or warns about `random` in strategies. Per-thread state keeps both honest.
    """
    import random

    local = threading.local()
    shared = random._inst  # type: ignore[attr-defined]

    def instance() -> random.Random:
        r: random.Random | None = getattr(local, "r", None)
        if r is None:
            r = local.r = random.Random()
            r.setstate(shared.getstate())
        return r

    names = [
        n
        for n in dir(shared)
        if not n.startswith("_")
        and callable(getattr(random, n, None))
        and getattr(getattr(random, n), "__self__", None) is shared
    ]
    saved = {n: getattr(random, n) for n in names}
    for n in names:
        setattr(random, n, lambda *a, _n=n, **k: getattr(instance(), _n)(*a, **k))
    try:
        yield
    finally:
        for n, f in saved.items():
            setattr(random, n, f)


# ------------------------------------------------------------ JSON strategies

# Integers where types and columns overflow: 32 and 64 bits, signed and not, and beyond.
EDGE_INTS = [
    0,
    -1,
    1,
    2**31 - 1,
    2**31,
    2**53,
    2**53 + 1,
    2**63 - 1,
    2**63,
    -(2**63),
    -(2**63) - 1,
    2**64 - 1,
    2**64,
    10**30,
    -(10**30),
]
EDGE_FLOATS = [0.5, -0.0, 1e308, -1e308, 5e-324, 1.5, 1e16]
EDGE_STRINGS = [
    "",
    " ",
    "\t\n",
    "0",
    "1",
    "-1",
    "true",
    "null",
    "NaN",
    "=1+1",
    "+1",
    "@x",
    "-1+2",
    "\x00",
    "\u202e",
    "😀" * 3,
    "a" * 101,
    "a" * 2001,
    "x" * 10_000,
    "\\",
    "'\"",
    "<script>",
    "../../etc/passwd",
    "%00",
    "${x}",
    "Ω" * 700,
]

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from(EDGE_INTS),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(EDGE_FLOATS),
    st.text(max_size=30),
    st.sampled_from(EDGE_STRINGS),
)
json_values: st.SearchStrategy[Any] = st.recursive(
    json_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)),
    max_leaves=12,
)


def deep(depth: int, leaf: Any = 1) -> Any:
    v: Any = leaf
    for i in range(depth):
        v = [v] if i % 2 else {"a": v}
    return v


nasty_values = st.one_of(
    json_values,
    st.sampled_from(EDGE_INTS),
    st.sampled_from(EDGE_STRINGS),
    st.sampled_from([[], {}, [1, 2], {"a": 1}, True, False, None]),
    st.integers(min_value=50, max_value=200).map(deep),
)


def _resolve(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = defs[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def from_json_schema(
    schema: dict[str, Any], defs: dict[str, Any], ids: dict[str, list[str]] | None = None, name: str = ""
) -> st.SearchStrategy[Any]:
    """Values valid under a pydantic JSON schema (the keywords pydantic emits), boundaries included.
    `ids` offers real identifiers for fields of that name (a ping, a ticket, a participant)."""
    schema = _resolve(schema, defs)
    known = (ids or {}).get(name)
    if "anyOf" in schema:
        return st.one_of([from_json_schema(s, defs, ids, name) for s in schema["anyOf"]])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "const" in schema:
        return st.just(schema["const"])
    kind = schema.get("type")
    if kind == "string":
        if "pattern" in schema:
            lo, hi = schema.get("minLength", 0), schema.get("maxLength")
            rx = re.compile(schema["pattern"])
            edges = [
                s
                for s in ("a" * lo, "b" * (hi or 0), "c" * max(lo, 1))
                if rx.fullmatch(s) and lo <= len(s.strip()) and (hi is None or len(s) <= hi)
            ]
            base = st.from_regex(schema["pattern"], fullmatch=True).filter(
                lambda s: lo <= len(s.strip()) and (hi is None or len(s) <= hi)
            )
            if edges:
                base = st.one_of(base, st.sampled_from(edges))
        else:
            lo, hi = schema.get("minLength", 0), schema.get("maxLength")
            edges = [s for s in ("a" * lo, "b" * (hi or lo + 10)) if len(s.strip()) >= lo]
            base = st.one_of(
                st.text(min_size=lo, max_size=min(hi or 40, 40)).filter(lambda s: len(s.strip()) >= lo),
                st.sampled_from(edges or ["a" * max(lo, 1)]),
            )
        return st.one_of(st.sampled_from(known), base) if known else base
    if kind == "integer":
        lo, hi = schema.get("minimum"), schema.get("maximum")
        edges = [v for v in (lo, hi) if v is not None]
        # Unbounded: where storage overflows (a schema without a maximum promises to take them).
        edges += [v for v in EDGE_INTS if (lo is None or v >= lo) and (hi is None or v <= hi)] if hi is None else []
        ints = st.integers(min_value=lo, max_value=hi)
        return st.one_of(ints, st.sampled_from(edges)) if edges else ints
    if kind == "number":
        return st.one_of(
            st.integers(min_value=-(2**53), max_value=2**53), st.floats(allow_nan=False, allow_infinity=False)
        )
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    if kind == "array":
        lo, hi = schema.get("minItems", 0), schema.get("maxItems")
        item = from_json_schema(schema.get("items", {}), defs, ids)
        return st.lists(item, min_size=lo, max_size=min(hi if hi is not None else lo + 4, lo + 4))
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        required = set(schema.get("required", []))
        return st.fixed_dictionaries(
            {k: from_json_schema(v, defs, ids, k) for k, v in props.items() if k in required},
            optional={k: from_json_schema(v, defs, ids, k) for k, v in props.items() if k not in required},
        )
    return json_values  # {}: any JSON value


# What the sweeps put in each field in turn: where storage, encoders and types break.
HOSTILE: list[Any] = [
    0,
    -1,
    2**31 - 1,
    2**31,
    2**53,
    2**63 - 1,
    2**63,
    -(2**63) - 1,
    2**64,
    10**30,
    1e308,
    0.5,
    "",
    " ",
    "\x00",
    "\r",
    "\u202e",
    "=1+1",
    "1",
    "😀",
    "a" * 2001,
    "x" * 10_000,
    "9999-12-31T23:59:59-23:59",
    "0001-01-01T00:00:00+23:59",
    "2026-03-01T09:00:00+24:00",
    [],
    {},
    True,
    None,
    [2**64],
    [{"n": 2**64}],
    {"n": 2**64},
    deep(100),
]


def minimal_valid(schema: dict[str, Any], defs: dict[str, Any]) -> Any:
    """The simplest value hypothesis finds for a schema (deterministic)."""
    from hypothesis import find

    return find(
        from_json_schema(schema, defs),
        lambda _: True,
        settings=settings(database=None, derandomize=True, suppress_health_check=list(HealthCheck)),
    )


def sweep(base: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each field of a valid body in turn (one level into lists of objects), dropped or replaced by
    each HOSTILE value: (where, body)."""
    for key, value in base.items():
        yield f"{key} dropped", {k: v for k, v in base.items() if k != key}
        for bad in HOSTILE:
            yield f"{key}={short(bad, 40)}", {**base, key: bad}
        if isinstance(value, list) and value and isinstance(value[0], dict):
            for inner in value[0]:
                for bad in HOSTILE:
                    yield f"{key}[0].{inner}={short(bad, 40)}", {**base, key: [{**value[0], inner: bad}, *value[1:]]}


def payloads_for(model: Any, ids: dict[str, list[str]] | None = None) -> st.SearchStrategy[Any]:
    """Payloads for one socket event: valid ones, valid ones with one field broken, dropped or
    added, and any JSON at all (what a hostile client sends instead of an object)."""
    schema = model.model_json_schema()
    defs = schema.get("$defs", {})
    valid = from_json_schema(schema, defs, ids)
    keys = list(schema.get("properties", {})) or ["x"]

    @st.composite
    def broken(draw: st.DrawFn) -> Any:
        base = dict(draw(valid))
        key = draw(st.sampled_from([*keys, "extra", "__proto__", "constructor"]))
        how = draw(st.sampled_from(["replace", "drop", "replace"]))
        if how == "drop":
            base.pop(key, None)
        else:
            base[key] = draw(nasty_values)
        return base

    return st.one_of(valid, broken(), broken(), json_values, st.none())


# ------------------------------------------------------------ a raw Engine.IO / Socket.IO client


@dataclass
class RawSocket:
    """A websocket speaking Engine.IO 4 / Socket.IO 5 by hand: frames are sent exactly as given.

    A reader task answers the server's pings, and files acks (`43<id>[...]`), connect answers
    (`40{...}` / `44{...}`) and every other frame."""

    ws: aiohttp.ClientWebSocketResponse
    http: aiohttp.ClientSession
    frames: list[str | bytes] = field(default_factory=list)
    acks: dict[int, Any] = field(default_factory=dict)
    connect_answers: list[str] = field(default_factory=list)
    closed: bool = False
    reader: asyncio.Task[None] | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    malformed_sent: int = 0

    @classmethod
    async def open(cls, url: str, timeout: float = 5) -> RawSocket:
        http = aiohttp.ClientSession()
        try:
            ws = await http.ws_connect(
                f"{url}/socket.io/?EIO=4&transport=websocket",
                timeout=aiohttp.ClientWSTimeout(ws_close=2),
                autoping=True,
                max_msg_size=0,
            )
            first = await ws.receive(timeout)
        except BaseException:
            await http.close()
            raise
        sock = cls(ws, http)
        if first.type != aiohttp.WSMsgType.TEXT or not str(first.data).startswith("0{"):
            await sock.close()
            raise AssertionError(f"no Engine.IO open packet: {first!r}")
        sock.reader = asyncio.create_task(sock._read())
        return sock

    async def _read(self) -> None:
        try:
            async for msg in self.ws:
                if msg.type == aiohttp.WSMsgType.TEXT:
                    text = str(msg.data)
                    self.frames.append(text)
                    if text == "2":
                        await self.ws.send_str("3")
                    elif text.startswith("43"):
                        m = re.match(r"43(\d+)(.*)$", text, re.S)
                        if m:
                            try:
                                self.acks[int(m.group(1))] = json.loads(m.group(2))
                            except ValueError:
                                self.acks[int(m.group(1))] = ("unparsable", m.group(2))
                    elif text.startswith(("40", "44")):
                        self.connect_answers.append(text)
                    elif text.startswith("41") or text == "1":
                        self.closed = True
                elif msg.type == aiohttp.WSMsgType.BINARY:
                    self.frames.append(bytes(msg.data))
                else:
                    break
                self.changed.set()
        except (aiohttp.ClientError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self.closed = True
            self.changed.set()

    async def send(self, frame: str | bytes) -> None:
        if self.closed or self.ws.closed:
            self.closed = True
            return
        try:
            if isinstance(frame, bytes):
                await self.ws.send_bytes(frame)
            else:
                await self.ws.send_str(frame)
        except (aiohttp.ClientError, ConnectionError, RuntimeError):
            self.closed = True

    async def wait(self, pred: Callable[[], bool], timeout: float) -> bool:
        """Until pred() holds (True) or the socket closes or the time is up (False)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not pred():
            if self.closed:
                return pred()
            left = deadline - loop.time()
            if left <= 0:
                return False
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), left)
        return True

    async def connect(self, auth: Any, timeout: float = 5) -> str | None:
        """Send `40<auth>`; the answer (`40{sid}` or `44{message}`), or None if none came."""
        before = len(self.connect_answers)
        await self.send("40" + ("" if auth is None else json.dumps(auth)))
        if await self.wait(lambda: len(self.connect_answers) > before, timeout):
            return self.connect_answers[before]
        return None

    async def ack(self, ack_id: int, timeout: float) -> tuple[bool, Any]:
        got = await self.wait(lambda: ack_id in self.acks, timeout)
        return got, self.acks.pop(ack_id, None)

    async def close(self) -> None:
        self.closed = True
        with contextlib.suppress(Exception):
            await self.ws.close()
        if self.reader is not None:
            self.reader.cancel()
            with contextlib.suppress(BaseException):
                await self.reader
        await self.http.close()


# ------------------------------------------------------------ ack shapes


def ack_problem(ack: Any) -> str | None:
    """What is wrong with an ack's shape, or None: `{"ok": true, ...}` or
    `{"ok": false, "error": {"code", "message"}}` with a contract code other than `unavailable`
    (which, with the database and Redis up, means the server failed on the input)."""
    if not isinstance(ack, dict) or not isinstance(ack.get("ok"), bool):
        return f"ack is not {{ok: bool, ...}}: {short(ack)}"
    if ack["ok"]:
        return None
    err = ack.get("error")
    if not isinstance(err, dict) or not isinstance(err.get("message"), str) or not err.get("message"):
        return f"refusal without {{error: {{code, message}}}}: {short(ack)}"
    if err.get("code") not in ACK_CODES:
        return f"refusal with code {err.get('code')!r} outside the contract: {short(ack)}"
    if err["code"] == "unavailable":
        return f"answered unavailable (an internal failure) to a bad input: {short(ack)}"
    return None


def http_problem(status: int, content_type: str, text: str) -> str | None:
    """What is wrong with an HTTP answer, or None: no 5xx; errors as {"error": {code, message}}
    with the code matching the status."""
    if status >= 500:
        return f"{status}: {text[:300]}"
    if status < 400:
        return None
    if "json" not in content_type:
        return f"{status} error not JSON ({content_type}): {text[:200]}"
    try:
        body = json.loads(text)
    except ValueError:
        return f"{status} error body is not JSON: {text[:200]}"
    err = body.get("error") if isinstance(body, dict) else None
    if not isinstance(err, dict) or not isinstance(err.get("message"), str) or err.get("code") not in ERROR_CODES:
        return f"{status} error not {{error: {{code, message}}}}: {text[:200]}"
    if HTTP_STATUS[err["code"]] != status and not (status == 405 and err["code"] == "invalid"):
        return f"{status} answered with code {err['code']}: {text[:200]}"
    return None


def short(value: Any, limit: int = 300) -> str:
    text = json.dumps(value, default=repr) if not isinstance(value, str | bytes) else repr(value)
    return text if len(text) <= limit else text[:limit] + f"…({len(text)} chars)"


def skip_unless_config(backing: dict[str, Any], which: str) -> None:
    is_pg = bool(backing)
    if (which == "sqlite") == is_pg:
        pytest.skip(f"runs on the {which} configuration only")

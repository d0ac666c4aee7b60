"""Hostile clients, as an attacker would send them: raw Engine.IO/Socket.IO frames over a real WebSocket.

Each test drives a real server (both configurations) with frames written by hand, not through a
Socket.IO client library that would refuse to send them.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import socket
import struct
import time
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import update

from core.model import SessionState, room_staff
from persistence.models import LiveSession
from persistence.repos import sessions
from realtime.hub import Hub
from realtime.transport import SEND_QUEUE_PACKETS
from tests.staff_flows import enrolled
from tests.support import Server, iso_in, running_server


@pytest.fixture(autouse=True)
def hubs(monkeypatch: pytest.MonkeyPatch) -> list[Hub]:
    """The hub of each server the test starts, to look at its sockets and loops."""
    started: list[Hub] = []
    start = Hub.start

    async def recording_start(self: Hub) -> None:
        started.append(self)
        await start(self)

    monkeypatch.setattr(Hub, "start", recording_start)
    return started


class RawSocket:
    """A WebSocket speaking Engine.IO by hand: it sends exactly the frames it is given."""

    def __init__(self, http: aiohttp.ClientSession, ws: aiohttp.ClientWebSocketResponse, eio_sid: str) -> None:
        self.http = http
        self.ws = ws
        self.eio_sid = eio_sid
        self.frames: list[str] = []
        self.closed = asyncio.Event()
        self._changed = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def open(cls, server: Server, headers: dict[str, str] | None = None) -> RawSocket:
        http = aiohttp.ClientSession()
        url = server.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        ws = await http.ws_connect(url, headers=headers or {})
        opening = await ws.receive_str(timeout=5)
        assert opening.startswith("0"), opening
        return cls(http, ws, json.loads(opening[1:])["sid"])

    async def _read(self) -> None:
        async for msg in self.ws:
            if msg.type == aiohttp.WSMsgType.TEXT:
                if msg.data == "2":
                    await self.ws.send_str("3")  # the heartbeat, as any client answers it
                    continue
                self.frames.append(msg.data)
                self._changed.set()
        self.closed.set()
        self._changed.set()

    async def send(self, frame: str | bytes) -> None:
        if isinstance(frame, bytes):
            await self.ws.send_bytes(frame)
        else:
            await self.ws.send_str(frame)

    async def wait_for(self, pred: Callable[[str], bool], timeout: float = 5, start: int = 0) -> str:
        """The first frame from index `start` on that satisfies pred (waiting for it if needed)."""
        deadline = time.monotonic() + timeout
        while True:
            for f in self.frames[start:]:
                if pred(f):
                    return f
            left = deadline - time.monotonic()
            if left <= 0 or self.closed.is_set():
                raise AssertionError(f"no matching frame within {timeout}s; got {self.frames}")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), left)
            except TimeoutError:
                pass

    async def connect(self, auth: dict[str, Any]) -> str:
        """Socket.IO CONNECT to the default namespace; answers its Socket.IO sid."""
        seen = len(self.frames)
        await self.send("40" + json.dumps(auth))
        answer = await self.wait_for(lambda f: f.startswith(("40", "44")), start=seen)
        assert answer.startswith("40{"), answer
        return str(json.loads(answer[2:])["sid"])

    async def ack(self, ack_id: int, timeout: float = 5) -> Any:
        """The answer to event `ack_id`: the first argument of its ACK packet."""
        prefix = f"43{ack_id}["
        frame = await self.wait_for(lambda f: f.startswith(prefix), timeout)
        return json.loads(frame[len(prefix) - 1 :])[0]

    async def is_closed(self, timeout: float = 5) -> bool:
        try:
            await asyncio.wait_for(self.closed.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def close(self) -> None:
        await self.ws.close()
        await self.http.close()
        self._reader.cancel()


@pytest.fixture
async def raw(server: Server) -> AsyncIterator[Callable[..., Any]]:
    """Opens raw sockets on the server; each is closed at the end of the test."""
    opened: list[RawSocket] = []

    async def open_raw(headers: dict[str, str] | None = None) -> RawSocket:
        s = await RawSocket.open(server, headers)
        opened.append(s)
        return s

    yield open_raw
    for s in opened:
        await s.close()


async def participant(server: Server, session_id: str, prefix: str) -> dict[str, Any]:
    return (await server.participants(session_id, 1, prefix))[0]


async def staff_token(server: Server, role: str, email: str) -> tuple[str, str]:
    r = await server.api("POST", "/api/tokens", {"role": role, "name": "Ivo Instructor", "email": email})
    assert r.status_code == 201, r.text
    return str(r.json()["id"]), str(r.json()["token"])


def errors_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.levelno >= logging.ERROR]


def is_connected(hub: Hub, sid: str) -> bool:
    return hub.sio.manager.is_connected(sid, "/") and sid in hub._conns


# ---------------------------------------------------------------- reserved events, closing through rooms


@pytest.mark.parametrize("closer", ["revoke", "disable", "logout"])
async def test_reserved_disconnect_does_not_hide_a_staff_socket_from_being_closed(
    server: Server, raw: Callable[..., Any], hubs: list[Hub], closer: str
) -> None:
    """`42["disconnect"]` is answered invalid; revoking, disabling or logging out still closes the socket."""
    email = "ivo@example.org"
    session = await server.session(instructor_email=email)
    if closer == "logout":
        browser = await enrolled(server, email, "instructor", "Ivo Instructor")
        s = await raw({"Cookie": f"companion_session={browser.cookie}", "Origin": server.settings.public_url})
        sid = await s.connect({"session": session["id"]})
    else:
        token_id, token = await staff_token(server, "instructor", email)
        s = await raw()
        sid = await s.connect({"token": token, "session": session["id"]})

    await s.send('42["disconnect"]')
    await s.send('421["disconnect","client namespace disconnect"]')
    ack = await s.ack(1)
    assert ack["ok"] is False and ack["error"]["code"] == "invalid"
    assert is_connected(hubs[0], sid)

    if closer == "revoke":
        assert (await server.api("DELETE", f"/api/tokens/{token_id}")).status_code in (200, 204)
    elif closer == "disable":
        assert (await server.api("POST", f"/api/staff/{email}/disable")).status_code == 200
    else:
        assert (await browser.send("POST", "/logout")).status_code == 200
        await browser.close()
    await s.wait_for(lambda f: f == "41")
    assert not is_connected(hubs[0], sid)
    assert sid not in dict(hubs[0].sio.manager.get_participants("/", room_staff(session["id"])))

    # Staff broadcasts no longer reach it: a participant connecting is a presence change for staff.
    seen = len(s.frames)
    p = await participant(server, session["id"], "late")
    await server.connect(p["token"])
    await asyncio.sleep(0.5)
    assert not any(f.startswith('42["presence"') for f in s.frames[seen:]), s.frames[seen:]


async def test_reserved_connect_and_disconnect_events_run_no_handler(
    server: Server, raw: Callable[..., Any], hubs: list[Hub], caplog: pytest.LogCaptureFixture
) -> None:
    """A participant sending connect/disconnect events stays connected, in presence too, and nothing fails."""
    session = await server.session()
    instructor = await server.connect(await server.token("instructor", "Iris", "teacher@example.org"), session["id"])
    person = await participant(server, session["id"], "raw")
    s = await raw()
    sid = await s.connect({"token": person["token"]})
    # Added (not connected) and then connected may reach the instructor in one batch or two: what the
    # frames below could change is judged from the moment the instructor sees the person connected.
    await instructor.wait_for(
        "presence", lambda e: any(c["participant_id"] == person["id"] and c["connected"] for c in e["changes"])
    )
    seen_before = len(instructor.of("presence"))

    frames = [
        '421["disconnect"]',
        '422["connect",{"token":"forged","session":"other"}]',
        '423["connect_error",{"message":"x"}]',
        '42["disconnect","transport close"]',
        '42["connect"]',
    ]
    for frame in frames:
        await s.send(frame)
    for ack_id in (1, 2, 3):
        ack = await s.ack(ack_id)
        assert ack["ok"] is False and ack["error"]["code"] == "invalid", ack
    await s.send('424["clock:sync",{"t0":1}]')
    assert (await s.ack(4))["ok"] is True

    state = await instructor.call("session:state", {})
    row = next(r for r in state["participants"] if r["participant_id"] == person["id"])
    assert row["connected"] is True, row
    await asyncio.sleep(0.3)  # a presence batch would have gone out by now
    later = instructor.of("presence")[seen_before:]
    offline = [c for e in later for c in e["changes"] if c["participant_id"] == person["id"]]
    assert all(c["connected"] for c in offline), offline
    assert is_connected(hubs[0], sid)
    assert errors_logged(caplog) == []

    # A chat during a flood of them is still accepted.
    chat = await instructor.call("chat:send", {"client_id": uuid.uuid4().hex, "text": "still here"})
    assert chat["ok"] is True, chat


async def test_unknown_events_still_answer_not_found(server: Server, raw: Callable[..., Any]) -> None:
    """The guard lets ordinary names through: an unknown event with an ack answers not_found."""
    session = await server.session()
    s = await raw()
    await s.connect({"token": server.admin_token, "session": session["id"]})
    await s.send('427["no:such:event",{}]')
    ack = await s.ack(7)
    assert ack["ok"] is False and ack["error"]["code"] == "not_found"


@pytest.mark.parametrize("frame", ['428["*",{}]', '428["*"]'])
async def test_the_catch_all_name_is_not_an_event(
    server: Server, raw: Callable[..., Any], caplog: pytest.LogCaptureFixture, frame: str
) -> None:
    """python-socketio calls its catch-all handler directly for an event named `*` (with the sid
    where the name belongs): it is refused like a reserved name, and nothing is logged at ERROR."""
    session = await server.session()
    s = await raw()
    sid = await s.connect({"token": server.admin_token, "session": session["id"]})
    await s.send(frame)
    ack = await s.ack(8)
    assert ack["ok"] is False and ack["error"]["code"] == "invalid", ack
    assert sid not in ack["error"]["message"]
    assert errors_logged(caplog) == []


@pytest.mark.parametrize(
    "auth",
    [{"token": "cmp_ab\u0000cd_secret"}, {"token": "cpt_a.b_\u00e9\u00e9"}, {"session": "s\u0000"}],
    ids=["nul-in-staff-token", "non-ascii-participant-mac", "nul-in-session"],
)
async def test_a_handshake_with_characters_no_token_has_is_refused_plainly(
    server: Server, raw: Callable[..., Any], caplog: pytest.LogCaptureFixture, auth: dict[str, str]
) -> None:
    """A NUL reached PostgreSQL (logged as 'database unavailable'), a non-ASCII mac raised in
    compare_digest: both are an unknown token or session, refused with that reason."""
    session = await server.session()
    s = await raw()
    await s.send("40" + json.dumps({"token": server.admin_token, "session": session["id"], **auth}))
    answer = await s.wait_for(lambda f: f.startswith(("40", "44")))
    assert answer.startswith("44"), answer
    assert "unknown" in json.loads(answer[2:])["message"], answer
    assert errors_logged(caplog) == []


# ---------------------------------------------------------------- binary and malformed packets


@pytest.mark.parametrize(
    "frame",
    [
        '451-["chat:send",{"_placeholder":true,"num":0}]',
        '4599-["chat:send",{"_placeholder":true,"num":0}]',
        "461-0[]",
        b"\x04" + b"\x00" * 1000,
    ],
    ids=["binary-event", "many-attachments", "binary-ack", "binary-frame"],
)
async def test_binary_packets_close_the_socket(
    server: Server, raw: Callable[..., Any], hubs: list[Hub], frame: str | bytes
) -> None:
    """The app uses no binary data: a binary packet or frame closes the socket, nothing is kept."""
    session = await server.session()
    person = await participant(server, session["id"], "bin")
    s = await raw()
    sid = await s.connect({"token": person["token"]})
    await s.send(frame)
    for _ in range(20):
        if s.closed.is_set():
            break
        try:
            await s.send(b"\x00" * 4096)  # attachments, as many as declared
        except ConnectionError:
            break
        await asyncio.sleep(0.05)
    assert await s.is_closed()
    hub = hubs[0]
    assert not is_connected(hub, sid)
    assert s.eio_sid not in hub.sio.eio.sockets
    assert hub.sio._binary_packet == {}


async def test_malformed_packets_are_answered_logged_once_and_close_the_socket_after_five(
    server: Server, raw: Callable[..., Any], hubs: list[Hub], caplog: pytest.LogCaptureFixture
) -> None:
    """NaN, ±1e309, a lone surrogate, deep nesting: each answered invalid, one warning, closed at the fifth."""
    caplog.set_level(logging.WARNING)
    session = await server.session()
    person = await participant(server, session["id"], "bad")
    s = await raw()
    sid = await s.connect({"token": person["token"]})
    frames = [
        '421["chat:send",NaN]',
        '422["chat:send",1e309]',
        '423["chat:send",-1e309]',
        '424["chat:send","\\ud800"]',
    ]
    for frame in frames:
        await s.send(frame)
    for ack_id in (1, 2, 3, 4):
        ack = await s.ack(ack_id)
        assert ack["ok"] is False and ack["error"]["code"] == "invalid", ack
    assert is_connected(hubs[0], sid)
    await s.send('425["chat:send",' + "[" * 1100 + "]" * 1100 + "]")
    assert await s.is_closed()
    assert not is_connected(hubs[0], sid)

    assert errors_logged(caplog) == []
    malformed = [r for r in caplog.records if "malformed" in r.getMessage()]
    assert 1 <= len(malformed) <= 2, [r.getMessage() for r in malformed]  # the throttled warning, the close


async def test_malformed_packets_before_and_after_sign_in(
    server: Server, raw: Callable[..., Any], hubs: list[Hub], caplog: pytest.LogCaptureFixture
) -> None:
    """Bad JSON before sign-in gets a connect error; an object as event name, unknown types, bad frames count."""
    session = await server.session()
    s = await raw()
    await s.send("40{bad")
    refused = await s.wait_for(lambda f: f.startswith("44"))
    assert "malformed" in json.loads(refused[2:])["message"]
    sid = await s.connect({"token": server.admin_token, "session": session["id"]})  # strike 1 above
    await s.send('426[{"event":"chat:send"}]')  # 2
    ack = await s.ack(6)
    assert ack["ok"] is False and ack["error"]["code"] == "invalid"
    await s.send("47")  # 3: no such Socket.IO packet type
    await s.send("x")  # 4: no such Engine.IO packet type
    await s.send('427["clock:sync",{"t0":1}]')
    assert (await s.ack(7))["ok"] is True
    assert is_connected(hubs[0], sid)
    await s.send("431[]")  # 5: an ACK the server never asked for
    assert await s.is_closed()
    assert not is_connected(hubs[0], sid)
    assert errors_logged(caplog) == []


# ---------------------------------------------------------------- a client that stops reading


class StalledClient:
    """A WebSocket client over a bare TCP socket with a tiny receive buffer, which stops reading.

    It keeps the Engine.IO session alive by answering pings it never reads (a pong every 2 s),
    so only the server's own bound on what waits for it can end it.
    """

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = b""
        self._pongs: asyncio.Task[None] | None = None

    @classmethod
    async def connect(cls, server: Server, auth: dict[str, Any]) -> tuple[StalledClient, str]:
        loop = asyncio.get_running_loop()
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setblocking(False)
        port = int(server.url.rsplit(":", 1)[1])
        await loop.sock_connect(sock, ("127.0.0.1", port))
        c = cls(sock)
        key = base64.b64encode(os.urandom(16)).decode()
        await loop.sock_sendall(
            sock,
            (
                f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode(),
        )
        while b"\r\n\r\n" not in c.buf:
            c.buf += await loop.sock_recv(sock, 4096)
        head, c.buf = c.buf.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 101"), head
        opening = await c.read_text()
        eio_sid = json.loads(opening[1:])["sid"]
        await c.send_text("40" + json.dumps(auth))
        while not (await c.read_text()).startswith("40"):
            pass
        c._pongs = asyncio.create_task(c._pong_forever())
        return c, eio_sid

    async def _fill(self, n: int) -> None:
        while len(self.buf) < n:
            self.buf += await asyncio.get_running_loop().sock_recv(self.sock, 4096)

    async def read_text(self) -> str:
        await self._fill(2)
        length, offset = self.buf[1] & 0x7F, 2
        if length == 126:
            await self._fill(4)
            length, offset = struct.unpack("!H", self.buf[2:4])[0], 4
        elif length == 127:
            await self._fill(10)
            length, offset = struct.unpack("!Q", self.buf[2:10])[0], 10
        await self._fill(offset + length)
        payload, self.buf = self.buf[offset : offset + length], self.buf[offset + length :]
        return payload.decode()

    async def send_text(self, text: str) -> None:
        data = text.encode()
        mask = os.urandom(4)
        head = bytes([0x81]) + (
            bytes([0x80 | len(data)]) if len(data) < 126 else struct.pack("!BH", 0x80 | 126, len(data))
        )
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        await asyncio.get_running_loop().sock_sendall(self.sock, head + mask + masked)

    async def _pong_forever(self) -> None:
        while True:
            await asyncio.sleep(2)
            try:
                await self.send_text("3")
            except OSError:
                return

    def close(self) -> None:
        if self._pongs is not None:
            self._pongs.cancel()
        self.sock.close()


async def test_a_client_that_stops_reading_is_closed_within_30s(server: Server, hubs: list[Hub]) -> None:
    """While a class chats, a socket that reads nothing is closed at the transport, its queue bounded."""
    session = await server.session()
    admin = await server.connect(server.admin_token, session["id"])
    person = await participant(server, session["id"], "slow")
    stalled, eio_sid = await StalledClient.connect(server, {"token": person["token"]})
    hub = hubs[0]
    try:
        text = "x" * 2000

        # Staff screens, each within its budget of events a second.
        senders = [admin, *[await server.connect(server.admin_token, session["id"]) for _ in range(3)]]

        async def chat(n: int) -> None:
            sends = [
                c.call("chat:send", {"client_id": uuid.uuid4().hex, "text": text}) for c in senders for _ in range(n)
            ]
            answers = await asyncio.gather(*sends)
            assert all(a["ok"] for a in answers), [a for a in answers if not a["ok"]][:1]

        def waiting() -> int | None:
            s = hub.sio.eio.sockets.get(eio_sid)
            return None if s is None or s.closed else int(s.queue.qsize())

        # A burst fills the kernel's buffers (megabytes on loopback): then packets wait in the queue.
        deadline = time.monotonic() + 20
        while (w := waiting()) is not None and w == 0:
            assert time.monotonic() < deadline, "the client's buffers never filled"
            await chat(15)
            await asyncio.sleep(0.1)
        behind_since = time.monotonic()
        # Then a class's usual pace: a few messages a second.
        deepest = 0
        while (w := waiting()) is not None:
            deepest = max(deepest, w)
            assert time.monotonic() - behind_since < 30, f"still open 30 s after falling behind ({w} waiting)"
            await chat(1)
            await asyncio.sleep(0.5)
        assert deepest <= SEND_QUEUE_PACKETS
        assert person["id"] not in await hub.service.store.connected(session["id"])
        await admin.wait_for(
            "presence",
            lambda p: any(c["participant_id"] == person["id"] and not c["connected"] for c in p["changes"]),
        )
    finally:
        stalled.close()


# ---------------------------------------------------------------- CORS


async def test_cors_headers_name_only_the_public_url(server: Server) -> None:
    """/socket.io/ echoes the companion's own origin with credentials, and no other."""
    path = "/socket.io/?EIO=4&transport=polling"
    evil = await server.http.get(path, headers={"origin": "https://evil.example"})
    assert "access-control-allow-origin" not in evil.headers
    assert "access-control-allow-credentials" not in evil.headers
    own = await server.http.get(path, headers={"origin": server.settings.public_url})
    assert own.headers.get("access-control-allow-origin") == server.settings.public_url


# ---------------------------------------------------------------- the ticker and /healthz


@pytest.fixture
async def ticking(tmp_path: Path, backing: dict[str, Any]) -> AsyncIterator[Server]:
    """A server whose ticker also runs its auto-close check often."""
    async with running_server(tmp_path, ticker_seconds=0.2, auto_close_every_s=0.2, **backing) as srv:
        yield srv


async def test_one_session_that_cannot_tick_does_not_stall_the_others(ticking: Server, hubs: list[Hub]) -> None:
    """A session in year 9999 overflows on every tick; another still starts by itself, /healthz stays ok."""
    hub = hubs[0]
    now = datetime.now(UTC)
    doomed = SessionState(
        id="00000000-year-9999",
        topic="The end of time",
        instructor_email="teacher@example.org",
        starts_at=datetime(9999, 12, 31, 23, 0, tzinfo=UTC),
        duration_minutes=120,
        late_after_minutes=5,
    )

    async def create(db: Any) -> None:
        await sessions.create_session(db, state=doomed, now=now)
        # Its stored expected start is moved to an hour ago: the ticker's query then returns it
        # first on either database, whichever index it uses; its end still overflows.
        await db.execute(
            update(LiveSession).where(LiveSession.id == doomed.id).values(expected_start=now - timedelta(hours=1))
        )

    await hub.service.writer.submit(create)
    session = await ticking.session(starts_at=iso_in(2 / 60))
    deadline = time.monotonic() + 10
    while True:
        assert (await ticking.http.get("/healthz")).status_code == 200
        r = await ticking.api("GET", f"/api/sessions/{session['id']}")
        if r.json()["status"] == "live":
            break
        assert time.monotonic() < deadline, "the session did not go live by itself"
        await asyncio.sleep(0.2)
    assert (await ticking.http.get("/healthz")).status_code == 200


async def test_healthz_answers_503_while_a_loop_fails_or_is_dead(server: Server, hubs: list[Hub]) -> None:
    """A loop in restart backoff, or one that ended, is named by /healthz; once it runs again, ok."""
    hub = hubs[0]
    publisher = hub.service.publisher
    flush = publisher.flush_batches

    async def broken() -> None:
        raise RuntimeError("batching is broken")

    publisher.flush_batches = broken  # type: ignore[method-assign]
    deadline = time.monotonic() + 5
    while (r := await server.http.get("/healthz")).status_code == 200:
        assert time.monotonic() < deadline, "healthz stayed ok while the batcher failed"
        await asyncio.sleep(0.05)
    assert r.status_code == 503 and "batcher" in r.json()["failing"], r.text
    publisher.flush_batches = flush  # type: ignore[method-assign]
    deadline = time.monotonic() + 10
    while (await server.http.get("/healthz")).status_code != 200:
        assert time.monotonic() < deadline, "healthz did not recover once the batcher ran again"
        await asyncio.sleep(0.1)

    sweeper = hub.service.loops.tasks["sweeper"]
    sweeper.cancel()
    await asyncio.sleep(0.05)
    r = await server.http.get("/healthz")
    assert r.status_code == 503 and "sweeper" in r.json()["failing"], r.text

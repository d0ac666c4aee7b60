"""Test helpers: a real server on a free port, real HTTP and Socket.IO clients."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import socketio
import uvicorn

from core.clock import Clock
from core.errors import HTTP_STATUS
from core.settings import Settings
from server.app import create_app
from server.cli import _create_token

# Each connection may send 20 events a second (the contract's budget): a refusal expected from the
# server is sent after this pause, so that a test sending many in a row is not told rate_limited.
PAUSE = 0.06


def ok(answer: Any) -> dict[str, Any]:
    """The answer, a Socket.IO ack or an HTTP response, is a success; answers its body."""
    if isinstance(answer, httpx.Response):
        assert 200 <= answer.status_code < 300, (answer.status_code, answer.text[:300])
        if not answer.content or not answer.headers.get("content-type", "").startswith("application/json"):
            return {}
        body = answer.json()
        return dict(body) if isinstance(body, dict) else {"body": body}
    assert isinstance(answer, dict) and answer.get("ok") is True, answer
    return dict(answer)


def refused(answer: Any, code: str, field: str | None = None, *, status: int | None = None) -> dict[str, Any]:
    """The answer, a Socket.IO ack or an HTTP response, is a refusal with this code (an HTTP one with
    the status the contract gives the code, unless `status` says otherwise), with a message naming
    `field` when given; answers the ack, or the response's body."""
    if isinstance(answer, httpx.Response):
        expected = HTTP_STATUS[code] if status is None else status
        assert answer.status_code == expected, (answer.status_code, answer.text[:300])
        body = answer.json()
    else:
        assert isinstance(answer, dict) and answer.get("ok") is False, answer
        body = answer
    error = body["error"]
    assert error["code"] == code, error
    assert {"code", "message"} <= set(error) and error["message"], error
    if body is answer:
        # An ack carries what its error carries (ticket_id, opens_at, retry_at) beside `error` too.
        assert all(answer.get(k) == v for k, v in error.items() if k not in ("code", "message")), answer
    if field is not None:
        assert field in error["message"], error
    return dict(body)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def iso_in(minutes: float) -> str:
    """An RFC 3339 time `minutes` from now, with an explicit offset."""
    return (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat()


class Client:
    """A Socket.IO client that records every event it receives, in order."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.sio = socketio.AsyncClient(reconnection=False)
        self.events: list[tuple[str, Any]] = []
        self._changed = asyncio.Event()
        self.sio.on("*", self._record)

    async def _record(self, event: str, data: Any = None) -> None:
        self.events.append((event, data))
        self._changed.set()

    async def connect(self, auth: dict[str, Any]) -> Client:
        await self.sio.connect(self.url, auth=auth, transports=["websocket"], wait_timeout=10)
        return self

    async def call(self, event: str, data: Any = None, timeout: float = 10) -> Any:
        if data is None:
            return await self.sio.call(event, timeout=timeout)
        return await self.sio.call(event, data, timeout=timeout)

    async def ok(self, event: str, data: Any = None) -> dict[str, Any]:
        """Send an event that must succeed; answers the ack."""
        return ok(await self.call(event, data))

    async def refused(self, event: str, data: Any, code: str, field: str | None = None) -> dict[str, Any]:
        """Send an event that must be refused with `code` (and a message naming `field`); answers the ack."""
        await asyncio.sleep(PAUSE)
        return refused(await self.call(event, data), code, field)

    def of(self, event: str) -> list[Any]:
        return [d for e, d in self.events if e == event]

    async def wait_for(self, event: str, pred: Callable[[Any], bool] = lambda _: True, timeout: float = 5) -> Any:
        """The first recorded `event` whose payload satisfies pred (waiting for it if needed)."""
        deadline = time.monotonic() + timeout
        while True:
            for e, d in self.events:
                if e == event and pred(d):
                    return d
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {event} matching within {timeout}s; got {[e for e, _ in self.events]}")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), left)
            except TimeoutError:
                pass

    async def close(self) -> None:
        if self.sio.connected:
            await self.sio.disconnect()


@dataclass
class Server:
    """A running server and what tests need to drive it."""

    url: str
    settings: Settings
    admin_token: str
    http: httpx.AsyncClient
    clients: list[Client] = field(default_factory=list)
    app: Any = None  # the ASGI app it serves (tests that look behind it find the Hub there)

    @property
    def service(self) -> Any:
        """The Service behind the app (socketio.ASGIApp -> SecurityHeaders -> Starlette), for tests that act on it."""
        node = self.app
        for _ in range(8):
            state = getattr(node, "state", None)
            if state is not None and hasattr(state, "service"):
                return state.service
            node = getattr(node, "other_asgi_app", None) or getattr(node, "app", None)
        raise AssertionError("no service found behind the app")

    async def api(
        self, method: str, path: str, json: Any = None, token: str | None = None, **kw: Any
    ) -> httpx.Response:
        headers = {"authorization": f"Bearer {token or self.admin_token}"}
        return await self.http.request(method, path, json=json, headers=headers, **kw)

    async def token(self, role: str, name: str = "Staff", email: str | None = None) -> str:
        r = await self.api("POST", "/api/tokens", {"role": role, "name": name, "email": email})
        assert r.status_code == 201, r.text
        return str(r.json()["token"])

    async def session(self, **fields: Any) -> dict[str, Any]:
        body = {
            "topic": "Distributed systems",
            "instructor_email": "teacher@example.org",
            "starts_at": iso_in(10),
            "duration_minutes": 60,
            **fields,
        }
        r = await self.api("POST", "/api/sessions", body)
        if r.status_code == 409 and "override_reason" not in fields:
            # Tests open many sessions of one instructor at once: booked as an admin would, overriding
            # the conflict (the scheduling tests book without this helper and see the refusal).
            r = await self.api("POST", "/api/sessions", {**body, "override_reason": "tests run sessions side by side"})
        assert r.status_code == 201, r.text
        return dict(r.json())

    async def participants(self, session_id: str, n: int, prefix: str = "p") -> list[dict[str, Any]]:
        people = [{"name": f"Person {prefix}{i}", "email": f"{prefix}{i}@example.org"} for i in range(n)]
        r = await self.api("POST", f"/api/sessions/{session_id}/participants", {"participants": people})
        assert r.status_code == 200, r.text
        return list(r.json()["participants"])

    async def connect(self, token: str, session: str | None = None) -> Client:
        client = Client(self.url)
        auth: dict[str, Any] = {"token": token}
        if session is not None:
            auth["session"] = session
        await client.connect(auth)
        self.clients.append(client)
        return client


@dataclass
class Class:
    """A session with its roster and connected people: the usual starting point of a test."""

    server: Server
    session: dict[str, Any]
    people: list[dict[str, Any]]
    admin: Client
    instructor: Client
    support: Client
    participants: list[Client]

    @property
    def id(self) -> str:
        return str(self.session["id"])


async def start_server(
    tmp: Path, *, public_host: str | None = None, clock: Clock | None = None, **overrides: Any
) -> tuple[Server, uvicorn.Server, asyncio.Task[None]]:
    """A server on a free port, its settings from the environment a deployment would give, then overrides.

    `public_host` makes http://HOST:PORT its public URL and the address clients (and browsers) use;
    the test's own HTTP client always goes to 127.0.0.1. `clock` is the live side's clock
    (tests/clock.py's FakeClock: time-based rules run when the test moves it).
    """
    port = free_port()
    env = {
        "COMPANION_DATA_DIR": str(tmp),
        "COMPANION_DATABASE_URL": overrides.pop("database_url", f"sqlite+aiosqlite:///{tmp / 'test.db'}"),
        "COMPANION_SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
    }
    if overrides.get("redis_url"):
        env["COMPANION_REDIS_URL"] = overrides.pop("redis_url")
    if public_host is not None:
        env["COMPANION_PUBLIC_URL"] = f"http://{public_host}:{port}"
    settings = Settings.from_env(env, port=port)
    if overrides:
        settings = replace(settings, **overrides)
    _, admin = await _create_token(settings, "admin", "Root Admin", None)
    app = create_app(settings, clock=clock)
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        lifespan="on",
        log_level="warning",
        ws_per_message_deflate=False,
        # As `companion serve` does: a socket that does not close in time must not hold a test up.
        timeout_graceful_shutdown=5,
    )
    uv = uvicorn.Server(config)
    task = asyncio.create_task(uv.serve())
    for _ in range(200):
        if uv.started:
            break
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    assert uv.started, "the server did not start in 4 s"
    http = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10)
    return Server(f"http://{public_host or '127.0.0.1'}:{port}", settings, admin, http, app=app), uv, task


@contextlib.asynccontextmanager
async def running_server(tmp: Path, **overrides: Any) -> AsyncIterator[Server]:
    """A running server (see start_server for the overrides), stopped with its clients at the end.

    The one way the tests start a server: the `server` fixture is `running_server(tmp_path,
    ticker_seconds=0.2, **backing)`; a test that needs other settings names them here.
    """
    srv, uv, task = await start_server(tmp, **overrides)
    try:
        yield srv
    finally:
        for c in srv.clients:
            await c.close()
        await srv.http.aclose()
        uv.should_exit = True
        await task

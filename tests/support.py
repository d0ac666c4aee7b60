"""Test helpers: a real server on a free port, real HTTP and Socket.IO clients."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import socketio
import uvicorn

from core.settings import Settings
from server.app import create_app
from server.cli import _create_token


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


async def start_server(tmp: Path, **overrides: Any) -> tuple[Server, uvicorn.Server, asyncio.Task[None]]:
    port = free_port()
    env = {
        "COMPANION_DATA_DIR": str(tmp),
        "COMPANION_DATABASE_URL": overrides.pop("database_url", f"sqlite+aiosqlite:///{tmp / 'test.db'}"),
        "COMPANION_SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
    }
    if overrides.get("redis_url"):
        env["COMPANION_REDIS_URL"] = overrides.pop("redis_url")
    settings = Settings.from_env(env, port=port)
    if overrides:
        from dataclasses import replace

        settings = replace(settings, **overrides)
    _, admin = await _create_token(settings, "admin", "Root Admin", None)
    config = uvicorn.Config(
        create_app(settings),
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
    url = f"http://127.0.0.1:{port}"
    return Server(url, settings, admin, httpx.AsyncClient(base_url=url, timeout=10)), uv, task

"""A refused connection carries its error code: `connect_error` data `{code, message}` for every refusal."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import socketio
from sqlalchemy.exc import OperationalError

from realtime.hub import Hub
from tests.support import Server

CODES = {"unauthorized", "forbidden", "not_found", "invalid", "unavailable", "rate_limited"}


async def refusal(server: Server, auth: Any, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """The connect_error data a python-socketio client is refused with."""
    sio = socketio.AsyncClient(reconnection=False)
    seen: list[Any] = []
    sio.on("connect_error", lambda data=None: seen.append(data))
    with pytest.raises(socketio.exceptions.ConnectionError):
        await sio.connect(server.url, auth=auth, headers=headers or {}, transports=["websocket"], wait_timeout=10)
    assert len(seen) == 1, seen
    data = seen[0]
    assert isinstance(data, dict) and data["code"] in CODES, data
    # Where the Socket.IO JavaScript client looks for it (it hands pages err.message and err.data).
    assert data["data"] == {"code": data["code"]}, data
    return data


class Raw:
    """A bare Engine.IO WebSocket that speaks Socket.IO packets by hand."""

    def __init__(self, http: aiohttp.ClientSession, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.http, self.ws = http, ws

    async def send(self, frame: str) -> None:
        await self.ws.send_str(frame)

    async def refusal(self) -> dict[str, Any]:
        """The next CONNECT_ERROR packet's data (answering heartbeats on the way)."""
        while True:
            frame = await self.ws.receive_str(timeout=5)
            if frame == "2":
                await self.ws.send_str("3")
                continue
            assert frame.startswith("44"), frame
            return dict(json.loads(frame[2:]))


@pytest.fixture
async def raw(server: Server) -> AsyncIterator[Any]:
    opened: list[Raw] = []

    async def open_raw(headers: dict[str, str] | None = None) -> Raw:
        http = aiohttp.ClientSession()
        ws = await http.ws_connect(
            server.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket", headers=headers or {}
        )
        assert (await ws.receive_str(timeout=5)).startswith("0")
        opened.append(Raw(http, ws))
        return opened[-1]

    yield open_raw
    for r in opened:
        await r.ws.close()
        await r.http.close()


async def test_each_refusal_reason_gives_its_code(server: Server) -> None:
    session = await server.session()
    other = await server.session(instructor_email="someone@example.org")
    person = (await server.participants(session["id"], 1))[0]
    instructor = await server.token("instructor", "Ivo", "teacher@example.org")
    cases: list[tuple[Any, dict[str, str], str, str]] = [
        (None, {}, "unauthorized", "missing token: connect with auth {token, session}, or sign in as staff"),
        ({"token": "nope", "session": session["id"]}, {}, "unauthorized", "unknown token"),
        ({"token": server.admin_token, "session": 5}, {}, "invalid", "session: must be a string"),
        ({"token": person["token"], "session": other["id"]}, {}, "forbidden", "this token belongs to another session"),
        (
            {"token": server.admin_token},
            {},
            "invalid",
            "missing session: staff connect with auth {token, session}",
        ),
        ({"token": server.admin_token, "session": "no-such-session"}, {}, "not_found", "unknown session"),
        ({"token": instructor, "session": other["id"]}, {}, "forbidden", "this token may not act in that session"),
        (
            {"token": server.admin_token, "session": session["id"]},
            {"Origin": "https://evil.example"},
            "forbidden",
            f"origin https://evil.example is not allowed: open the companion from {server.settings.public_url}",
        ),
    ]
    for auth, headers, code, message in cases:
        data = await refusal(server, auth, headers)
        assert (data["code"], data["message"]) == (code, message), (auth, headers, data)
    ok = await server.connect(instructor, session["id"])
    assert (await ok.call("clock:sync", {"t0": 1}))["ok"] is True


async def test_a_revoked_token_and_a_store_that_does_not_answer(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = await server.session()
    r = await server.api("POST", "/api/tokens", {"role": "support", "name": "Sam", "email": "sam@example.org"})
    token_id, token = r.json()["id"], r.json()["token"]
    assert (await server.api("DELETE", f"/api/tokens/{token_id}")).status_code < 300
    data = await refusal(server, {"token": token, "session": session["id"]})
    assert (data["code"], data["message"]) == ("unauthorized", "token revoked")

    async def down(self: Hub, auth: Any, cookie: str = "") -> Any:
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("database down"))

    monkeypatch.setattr(Hub, "_authenticate", down)
    data = await refusal(server, {"token": server.admin_token, "session": session["id"]})
    assert (data["code"], data["message"]) == ("unavailable", "the service is unavailable; try again")


async def test_a_raw_client_gets_the_code_beside_the_message(server: Server, raw: Any) -> None:
    session = await server.session()
    s = await raw()
    await s.send("40")
    assert await s.refusal() == {
        "message": "missing token: connect with auth {token, session}, or sign in as staff",
        "code": "unauthorized",
        "data": {"code": "unauthorized"},
    }
    await s.send('40{"token": "x", "session": ')
    assert await s.refusal() == {"message": "malformed CONNECT packet", "code": "invalid", "data": {"code": "invalid"}}

    evil = await raw({"Origin": "https://evil.example"})
    await evil.send("40" + json.dumps({"token": server.admin_token, "session": session["id"]}))
    data = await evil.refusal()
    assert data["code"] == "forbidden" and data["message"].startswith("origin https://evil.example"), data


async def test_too_many_connect_attempts_is_rate_limited(server: Server, raw: Any) -> None:
    s = await raw()
    budget = server.settings.events_per_second
    for _ in range(budget + 1):
        await s.send('40{"token": "nope", "session": "s"}')
    answers = [await s.refusal() for _ in range(budget + 1)]
    assert {a["code"] for a in answers[:budget]} == {"unauthorized"}, answers
    assert answers[budget] == {
        "message": "too many connect attempts",
        "code": "rate_limited",
        "data": {"code": "rate_limited"},
    }

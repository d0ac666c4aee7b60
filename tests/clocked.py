"""A test server whose live session reads a FakeClock: time-based rules run when the test moves the clock.

`running_server` (tests/support.py) hands the clock to `create_app`, so the server is built exactly as
the other fixtures build it.
The ticker still runs on the wall clock's schedule (`ticker_seconds`, fast in tests): what it finds due
is decided by the fake clock. Rate limits (chat, wrong check-in codes) keep counting wall-clock time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.clock import FakeClock
from tests.support import Class, Server, running_server


@asynccontextmanager
async def clocked_server(tmp: Path, clock: FakeClock, **overrides: Any) -> AsyncIterator[Server]:
    """A running server (the same overrides as `running_server`) whose Hub reads `clock`."""
    async with running_server(tmp, clock=clock, **overrides) as srv:
        yield srv


def clock_at_now() -> FakeClock:
    """A fake clock that starts at the wall clock's now, so HTTP-side and live-side times agree until it moves."""
    return FakeClock(datetime.now(UTC))


async def class_on(server: Server) -> Class:
    """As the `klass` fixture (tests/conftest.py): a session in 10 minutes, 3 participants and 3 staff connected."""
    session = await server.session()
    people = await server.participants(session["id"], 3)
    instructor_token = await server.token("instructor", "Iris Instructor", "teacher@example.org")
    support_token = await server.token("support", "Sam Support", "support@example.org")
    admin = await server.connect(server.admin_token, session["id"])
    instructor = await server.connect(instructor_token, session["id"])
    support_ = await server.connect(support_token, session["id"])
    participants = [await server.connect(p["token"]) for p in people]
    return Class(server, session, people, admin, instructor, support_, participants)


def when(value: str) -> datetime:
    """Parse an RFC 3339 time from the server."""
    return datetime.fromisoformat(value.replace("Z", "+00:00"))

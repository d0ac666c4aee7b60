"""A test server whose live session reads a FakeClock: time-based rules run when the test moves the clock.

`start_server` (tests/support.py) builds the app with `create_app(settings)`; this hands that call the
clock for the duration of the start, so the server is built exactly as the other fixtures build it.
The ticker still runs on the wall clock's schedule (`ticker_seconds`, fast in tests): what it finds due
is decided by the fake clock. Rate limits (chat, wrong check-in codes) keep counting wall-clock time.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests import support
from tests.clock import FakeClock
from tests.support import Class, Server


@asynccontextmanager
async def clocked_server(tmp: Path, clock: FakeClock, **overrides: Any) -> AsyncIterator[Server]:
    """A running server (the same overrides as `start_server`) whose Hub reads `clock`; stopped at the end."""
    build = support.create_app
    support.create_app = functools.partial(build, clock=clock)  # type: ignore[assignment]
    try:
        srv, uv, task = await support.start_server(tmp, **overrides)
    finally:
        support.create_app = build  # type: ignore[assignment]
    try:
        yield srv
    finally:
        for c in srv.clients:
            await c.close()
        await srv.http.aclose()
        uv.should_exit = True
        await task


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

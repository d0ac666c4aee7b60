"""Fixtures: a fresh server (own SQLite file) per test, and a class ready to run."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support import Class, Server, start_server


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    srv, uv, task = await start_server(tmp_path, ticker_seconds=0.2)
    try:
        yield srv
    finally:
        for c in srv.clients:
            await c.close()
        await srv.http.aclose()
        uv.should_exit = True
        await task


@pytest.fixture
async def klass(server: Server) -> Class:
    """A scheduled session starting in 10 minutes, 3 participants connected, admin, instructor, support."""
    session = await server.session()
    people = await server.participants(session["id"], 3)
    instructor_token = await server.token("instructor", "Iris Instructor", "teacher@example.org")
    support_token = await server.token("support", "Sam Support", "support@example.org")
    admin = await server.connect(server.admin_token, session["id"])
    instructor = await server.connect(instructor_token, session["id"])
    support = await server.connect(support_token, session["id"])
    participants = [await server.connect(p["token"]) for p in people]
    return Class(server, session, people, admin, instructor, support, participants)

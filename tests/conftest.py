"""Fixtures: a fresh server per test on each configuration, and a class ready to run.

Every test that takes `server` runs twice: on the embedded default (SQLite, live state in memory)
and on the scale-out setup (PostgreSQL, live state and fan-out in Redis). COMPANION_TEST_CONFIGS
picks a subset (e.g. `sqlite` while iterating).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.clock import FakeClock
from tests.clocked import clock_at_now, clocked_server
from tests.fakes.smtp import smtp_server  # noqa: F401 (a fixture: a real SMTP server)
from tests.services import Postgres, RedisServer
from tests.support import Class, Server, running_server

CONFIGS = [c for c in os.environ.get("COMPANION_TEST_CONFIGS", "sqlite,postgresql").split(",") if c]


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    pg = Postgres()
    # Requested lazily from inside a running test loop: run its own loop in a thread.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, pg.setup()).result()
        yield pg
        pool.submit(asyncio.run, pg.teardown()).result()


@pytest.fixture(params=CONFIGS)
async def backing(request: pytest.FixtureRequest) -> AsyncIterator[dict[str, Any]]:
    """Settings overrides for one configuration, with its databases made fresh for the test."""
    if request.param == "sqlite":
        yield {}
        return
    pg: Postgres = request.getfixturevalue("postgres")
    redis: RedisServer = request.getfixturevalue("redis_server")
    redis.flush()
    url = await pg.fresh()
    try:
        yield {"database_url": url, "redis_url": redis.url}
    finally:
        await pg.drop(url)


@pytest.fixture
async def server(tmp_path: Path, backing: dict[str, Any]) -> AsyncIterator[Server]:
    async with running_server(tmp_path, ticker_seconds=0.2, **backing) as srv:
        yield srv


@pytest.fixture
async def clock() -> FakeClock:
    """A fake clock standing at the wall clock's now: the test steps it."""
    return clock_at_now()


@pytest.fixture
async def clocked(tmp_path: Path, backing: dict[str, Any], clock: FakeClock) -> AsyncIterator[Server]:
    """The usual test server (both configurations), its live session reading `clock`."""
    async with clocked_server(tmp_path, clock, ticker_seconds=0.2, **backing) as srv:
        yield srv


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

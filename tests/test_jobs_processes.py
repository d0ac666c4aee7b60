"""Jobs across real OS processes on PostgreSQL: two workers racing send each reminder once; kill -9 loses none.

Each worker (tests/jobs_worker.py) records what it "sent" in its own file, so the test sees what a
mail server would have been handed, and the database says how often each job was claimed.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from core.jobs import job_key
from persistence.db import create_engine, sessionmaker
from persistence.models import JobRecord
from persistence.repos import jobs
from tests.services import Postgres

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]
ROOT = Path(__file__).resolve().parents[1]
JOBS = 2000


@pytest.fixture
async def database(postgres: Postgres) -> AsyncIterator[str]:
    """A fresh PostgreSQL database with JOBS reminders due now."""
    url = await postgres.fresh()
    engine = create_engine(url)
    now = datetime.now(UTC)
    try:
        async with sessionmaker(engine)() as s, s.begin():
            for n in range(JOBS):
                due = now - timedelta(seconds=n % 60)
                key = job_key("reminder", f"s{n % 7}", f"p{n}@example.org", 1)
                await jobs.schedule(
                    s, kind="reminder", key=key, session_id=f"s{n % 7}", due_at=due, payload={}, now=now
                )
    finally:
        await engine.dispose()
    yield url
    await postgres.drop(url)


class Workers:
    """Worker processes started together: each reports ready, then all are let go at once."""

    def __init__(self, url: str, out: Path) -> None:
        self.url = url
        self.out = out
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, *args: str) -> None:
        with (self.out / f"{name}.log").open("wb") as log:  # the child keeps its own copy of the descriptor
            self.procs[name] = subprocess.Popen(
                [sys.executable, "-m", "tests.jobs_worker", self.url, str(self.out), name, *args],
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    async def go(self) -> None:
        for _ in range(3000):
            if all((self.out / f"{n}.ready").exists() for n in self.procs):
                (self.out / "go").touch()
                return
            self._check_alive()
            await asyncio.sleep(0.01)
        raise AssertionError("the workers did not start")

    async def wait(self, name: str, timeout_s: float = 120) -> None:
        for _ in range(int(timeout_s * 20)):
            code = self.procs[name].poll()
            if code is not None:
                assert code == 0, self.log(name)
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"{name} did not finish: {self.log(name)}")

    def kill(self, name: str) -> None:
        proc = self.procs[name]
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=10) == -signal.SIGKILL

    def ids(self, name: str, what: str) -> list[int]:
        path = self.out / f"{name}.{what}"
        return [int(line) for line in path.read_text().split()] if path.exists() else []

    def log(self, name: str) -> str:
        return (self.out / f"{name}.log").read_text()

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)

    def _check_alive(self) -> None:
        for name, proc in self.procs.items():
            assert proc.poll() is None, f"{name} ended early: {self.log(name)}"


@pytest.fixture
def workers(database: str, tmp_path: Path) -> Iterator[Workers]:
    w = Workers(database, tmp_path)
    yield w
    w.stop_all()


async def stored(url: str) -> dict[int, tuple[str, int]]:
    """Every job's (state, attempts)."""
    engine = create_engine(url)
    try:
        async with sessionmaker(engine)() as s:
            rows = await s.execute(select(JobRecord.id, JobRecord.state, JobRecord.attempts))
            return {id_: (state, attempts) for id_, state, attempts in rows.all()}
    finally:
        await engine.dispose()


def once_each(*sent: list[int]) -> None:
    counts = Counter(i for ids in sent for i in ids)
    assert {i for i, n in counts.items() if n > 1} == set(), "sent more than once"


async def test_two_processes_racing_send_each_reminder_once(workers: Workers, database: str) -> None:
    workers.start("a")
    workers.start("b")
    await workers.go()
    await workers.wait("a")
    await workers.wait("b")
    a, b = workers.ids("a", "sent"), workers.ids("b", "sent")
    once_each(a, b)
    jobs_now = await stored(database)
    assert set(a) | set(b) == set(jobs_now) and len(jobs_now) == JOBS
    assert set(jobs_now.values()) == {("done", 1)}  # none was ever claimed twice
    assert a and b, "both processes took part"


async def test_a_process_killed_mid_batch_loses_none_of_its_jobs(workers: Workers, database: str) -> None:
    """A claims a batch and is killed before sending it; B takes those jobs once A's lease has run out."""
    lease = "3"  # seconds: each handler may run 2.4 s of it, and the kill comes well before
    workers.start("a", "--lease", lease, "--hang-after", "5")
    workers.start("b", "--lease", lease)
    await workers.go()
    for _ in range(1200):
        if workers.ids("a", "held"):
            break
        assert workers.procs["a"].poll() is None, workers.log("a")
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.1)  # the rest of the batch's handlers start in the same instant
    workers.kill("a")
    held = workers.ids("a", "held")
    assert held, "a hung in a batch"

    await workers.wait("b")
    a, b = workers.ids("a", "sent"), workers.ids("b", "sent")
    once_each(a, b)
    jobs_now = await stored(database)
    assert set(a) | set(b) == set(jobs_now) and len(jobs_now) == JOBS, "none lost"
    assert set(held) <= set(b) and not set(held) & set(a)
    assert {jobs_now[i] for i in held} == {("done", 2)}  # claimed by a, then by b after the lease
    assert {v for i, v in jobs_now.items() if i not in held} == {("done", 1)}

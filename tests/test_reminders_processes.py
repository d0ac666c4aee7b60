"""Reminders from real `companion serve` processes: two of them on one PostgreSQL database (and Redis), the
wall clock, a real SMTP server in the test process (tests/fakes/smtp.py), `COMPANION_REMINDERS=90s,45s`.

What the contract asks of reminders (SOP 2): one mail per roster participant and the instructor at each
offset, exactly once however many processes run, never after the start; and what docs/invitations.md
allows: a process killed after SMTP took a mail and before its job was marked makes that mail go again,
with the same Message-ID. Each reminder mail's Message-ID comes from its job's key
(`reminder-mail:{session}:{recipient}:{offset}@{start}`), so the test knows, for every mail it receives,
whom it is for and which reminder it is.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from core import invitations as rules
from core.invitations import INSTRUCTOR
from core.jobs import job_key
from core.model import iso
from core.settings import Settings
from persistence.db import create_engine, sessionmaker
from persistence.models import JobRecord
from server.cli import _create_token
from service.invitations import REMINDER_MAIL
from tests.fakes.smtp import FakeSmtp
from tests.services import Postgres, RedisServer
from tests.test_cluster import Node

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

PUBLIC = "http://127.0.0.1:1"  # the Message-IDs' domain is its host
DOMAIN = "127.0.0.1"
# Each handler may run 80% of the lease (core.jobs.HANDLER_SHARE_OF_LEASE), and a batch of 200 (the
# default) runs side by side: on a 2-core machine one process sends some 100 reminders a second, so a
# 3-second lease would time the last of a batch out (a failed attempt, retried 30 s later). 8 s leaves room.
LEASE_S = 8
INSTRUCTOR_EMAIL = "teacher@example.org"


@dataclass
class Deployment:
    """Two `companion serve` processes on one fresh database and a private Redis, mailing to `smtp`."""

    smtp: FakeSmtp
    nodes: list[Node]
    db_url: str
    admin: str = ""
    instructor: str = ""
    logs: list[Path] = field(default_factory=list)

    def http(self, node: Node, token: str | None = None) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=node.url, headers={"authorization": f"Bearer {token or self.admin}"}, timeout=30
        )

    def log_tail(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in self.logs if p.exists())


@pytest.fixture
async def deployment(tmp_path: Path, postgres: Postgres) -> AsyncIterator[Deployment]:
    redis = RedisServer(tmp_path)
    redis.start()
    smtp = FakeSmtp()
    smtp.start()
    db = await postgres.fresh()
    env = {
        **os.environ,
        "COMPANION_DATA_DIR": str(tmp_path),
        "COMPANION_DATABASE_URL": db,
        "COMPANION_REDIS_URL": redis.url,
        "COMPANION_SECRET_KEY": "reminders-secret-key-0123456789-abcdefghijkl",
        "COMPANION_PUBLIC_URL": PUBLIC,
        "COMPANION_SMTP_URL": f"smtp://127.0.0.1:{smtp.port}",
        "COMPANION_REMINDERS": "90s,45s",
        "COMPANION_JOBS_EVERY_S": "0.2",
        "COMPANION_JOBS_LEASE_S": str(LEASE_S),
    }
    nodes = [Node(env, tmp_path / f"node{i}.log") for i in range(2)]
    d = Deployment(smtp, nodes, db, logs=[n.log for n in nodes])
    _, d.admin = await _create_token(Settings.from_env(env), "admin", "Root", None)
    try:
        await asyncio.gather(*(n.start() for n in nodes))
        async with d.http(nodes[0]) as http:
            r = await http.post("/api/tokens", json={"role": "instructor", "name": "Tea", "email": INSTRUCTOR_EMAIL})
            assert r.status_code == 201, r.text
            d.instructor = r.json()["token"]
        yield d
    finally:
        for n in nodes:
            n.kill(signal.SIGTERM)
        smtp.stop()
        redis.stop()
        await postgres.drop(db)


# ---------------------------------------------------------------- helpers


async def book(d: Deployment, node: Node, starts_in_s: float, topic: str) -> tuple[dict[str, Any], datetime]:
    """A session starting `starts_in_s` from now (whole seconds), booked through the API."""
    start = (datetime.now(UTC) + timedelta(seconds=starts_in_s)).replace(microsecond=0)
    async with d.http(node) as http:
        body = {
            "topic": topic,
            "instructor_email": INSTRUCTOR_EMAIL,
            "starts_at": start.isoformat(),
            "duration_minutes": 30,
        }
        r = await http.post("/api/sessions", json=body)
        assert r.status_code == 201, r.text
    s = r.json()
    assert datetime.fromisoformat(s["starts_at"]) == start
    return s, start


def reminder_ids(sid: str, start: datetime, recipients: list[str], offsets: list[str]) -> dict[str, tuple[str, str]]:
    """Each reminder mail's Message-ID -> (recipient, offset), as the server derives it from the job's key."""
    return {
        rules.message_id(job_key(REMINDER_MAIL, sid, r, f"{o}@{iso(start)}"), DOMAIN): (r, o)
        for r in recipients
        for o in offsets
    }


def to(m: EmailMessage) -> str:
    return str(m["To"].addresses[0].addr_spec)


def is_invitation(m: EmailMessage) -> bool:
    return any(p.get_content_type() == "text/calendar" for p in m.walk())


def sorted_out(
    received: list[tuple[float, EmailMessage]], expected: dict[str, tuple[str, str]]
) -> tuple[list[tuple[float, EmailMessage]], list[EmailMessage], list[EmailMessage]]:
    """The reminders of the session (by their Message-IDs), its invitations, and any other mail: none of those
    may be a reminder (another session's, or one with a Message-ID not derived from its job's key)."""
    reminders = [(t, m) for t, m in received if str(m["Message-ID"]) in expected]
    rest = [m for _, m in received if str(m["Message-ID"]) not in expected]
    stray = [str(m["Subject"]) for m in rest if str(m["Subject"]).startswith("Reminder:")]
    assert not stray, f"reminders that are not this session's: {stray}"
    return reminders, [m for m in rest if is_invitation(m)], [m for m in rest if not is_invitation(m)]


def reminders_arrived(smtp: FakeSmtp, expected: dict[str, tuple[str, str]]) -> int:
    return sum(1 for mid in smtp.message_ids() if mid in expected)


async def reminders_api(d: Deployment, node: Node, sid: str) -> dict[str, dict[str, Any]]:
    async with d.http(node, d.instructor) as http:  # staff read it: the instructor's own token
        r = await http.get(f"/api/sessions/{sid}/reminders")
        assert r.status_code == 200, r.text
    return {x["offset"]: x for x in r.json()["reminders"]}


async def until(
    check: Callable[[], bool | Awaitable[bool]], timeout: float, what: str, d: Deployment, every: float = 0.1
) -> None:
    """Wait until check() (a function or a coroutine function) holds, the processes still running."""
    deadline = time.monotonic() + timeout
    while True:
        done = check()
        if not isinstance(done, bool):
            done = await done
        if done:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:.0f}s\n{d.log_tail()}")
        for n in d.nodes:
            assert n.proc is None or n.proc.poll() is None, d.log_tail()
        await asyncio.sleep(every)


async def job_attempts(db_url: str, sid: str) -> dict[str, tuple[str, int]]:
    """The session's reminder-mail jobs: key -> (state, attempts)."""
    engine = create_engine(db_url)
    try:
        async with sessionmaker(engine)() as s:
            rows = await s.execute(
                select(JobRecord.key, JobRecord.state, JobRecord.attempts).where(
                    JobRecord.session_id == sid, JobRecord.kind == REMINDER_MAIL
                )
            )
            return {k: (state, n) for k, state, n in rows.all()}
    finally:
        await engine.dispose()


# ---------------------------------------------------------------- the tests


async def test_two_processes_send_each_reminder_once_to_everyone_and_none_after_the_start(
    deployment: Deployment,
) -> None:
    """A class of 40 booked 100 s ahead and invited at short notice: at 90 s and at 45 s before the start
    every participant and the instructor gets one reminder, whichever of the two processes sends it.

    The test ends some 40 s before the start (its waits stay under a minute): "never after the start" is
    seen here as every reminder accepted by SMTP before it; a reminder found due only after the start is
    skipped, which tests/test_invitations.py shows on a fake clock."""
    d = deployment
    a, b = d.nodes
    s, start = await book(d, a, 100, "Reminded twice")
    sid = s["id"]
    csv = "name,email\n" + "".join(f"Person {i},p{i}@example.org\n" for i in range(40))
    async with d.http(b) as http:  # the roster through the other process: a CSV import
        r = await http.post(
            f"/api/sessions/{sid}/participants.csv", content=csv.encode(), headers={"content-type": "text/csv"}
        )
        assert r.status_code == 200, r.text
        people = r.json()["participants"]
        assert len(people) == 40
        r = await http.post(f"/api/sessions/{sid}/invitations", json={})
        assert r.status_code == 409 and r.json()["error"]["reason"] == "short_notice", r.text
        r = await http.post(f"/api/sessions/{sid}/invitations", json={"short_notice_reason": "booked this morning"})
        assert r.status_code == 200, r.text
        assert r.json() == {"sent": 41, "skipped": 0}
    assert datetime.now(UTC) < start - timedelta(seconds=90), "booked too slowly: the 90 s reminder was due already"
    due = await reminders_api(d, a, sid)
    assert {k: (v["state"], v["sent"]) for k, v in due.items()} == {"90s": ("pending", 0), "45s": ("pending", 0)}
    assert datetime.fromisoformat(due["90s"]["due_at"]) == start - timedelta(seconds=90)
    assert datetime.fromisoformat(due["45s"]["due_at"]) == start - timedelta(seconds=45)

    recipients = [INSTRUCTOR] + [p["id"] for p in people]
    address = {INSTRUCTOR: INSTRUCTOR_EMAIL} | {p["id"]: p["email"] for p in people}
    expected = reminder_ids(sid, start, recipients, ["90s", "45s"])
    # 41 invitations, then 41 reminders at 90 s and 41 at 45 s before the start (and whatever else the server
    # mails about the session: today a "Not ready" note to its instructor and the administrators).
    wait_s = (start - datetime.now(UTC)).total_seconds() - 45 + 20
    await until(lambda: reminders_arrived(d.smtp, expected) >= 82, wait_s, "both reminders", d)
    jobs_now: dict[str, tuple[str, int]] = {}

    async def all_done() -> bool:  # once marked done, a job is never claimed again: nothing more will come
        jobs_now.update(await job_attempts(d.db_url, sid))
        return len(jobs_now) == 82 and {state for state, _ in jobs_now.values()} == {"done"}

    await until(all_done, 15, "every reminder job marked done", d, every=0.25)
    await asyncio.sleep(0.5)
    got, invitations, others = sorted_out(d.smtp.received(), expected)
    assert sorted(to(m) for m in invitations) == sorted(address.values()), "one invitation each"
    assert {to(m) for m in others} <= {INSTRUCTOR_EMAIL}, [str(m["Subject"]) for m in others]
    assert len(got) == 82, Counter(str(m["Subject"]) for _, m in got)
    per: Counter[tuple[str, str]] = Counter()
    for at, m in got:
        recipient, offset = expected[str(m["Message-ID"])]  # a reminder of this session, no other
        per[(recipient, offset)] += 1
        assert to(m) == address[recipient]
        assert at < start.timestamp(), "never after the start"
        # It says the time left, rounded down: just under (or at) the offset, well above the next one.
        left = int(str(m["Subject"]).rsplit(" in ", 1)[1].split()[0])
        due_at = start - timedelta(seconds=int(offset[:-1]))
        assert at >= due_at.timestamp() - 0.5, "not before it is due"
        assert (75 <= left <= 90) if offset == "90s" else (30 <= left <= 45), (offset, m["Subject"])
    assert per == {(r, o): 1 for r in recipients for o in ("90s", "45s")}, "each reminder once to each person"
    listed = await reminders_api(d, b, sid)
    assert {k: (v["state"], v["sent"]) for k, v in listed.items()} == {"90s": ("sent", 41), "45s": ("sent", 41)}
    assert set(jobs_now.values()) == {("done", 1)}, "none claimed twice"


async def test_a_process_killed_mid_batch_loses_no_reminder_and_repeats_at_most_a_few(
    deployment: Deployment,
) -> None:
    """300 participants and a slow mail server: the first reminders arrive, one process is killed -9; the
    other takes over its jobs once their lease has run out. Everyone gets the reminder; the only repeats are
    mails SMTP took just before the kill, each with the Message-ID of its first copy."""
    d = deployment
    a, b = d.nodes
    d.smtp.delay = 0.004  # one mail at a time, about 250 a second: the kill lands in a steady stream
    # 55 s ahead: the 90 s reminder was already past at booking (never sent); the 45 s one is due in 10 s.
    s, start = await book(d, b, 55, "Reminded under fire")
    sid = s["id"]
    roster = {"participants": [{"name": f"Person {i}", "email": f"p{i}@example.org"} for i in range(300)]}
    async with d.http(b) as http:
        r = await http.post(f"/api/sessions/{sid}/participants", json=roster)
        assert r.status_code == 200, r.text
        people = r.json()["participants"]
    assert datetime.now(UTC) < start - timedelta(seconds=45), "booked too slowly: the reminder was due already"
    recipients = [INSTRUCTOR] + [p["id"] for p in people]
    address = {INSTRUCTOR: INSTRUCTOR_EMAIL} | {p["id"]: p["email"] for p in people}
    expected = reminder_ids(sid, start, recipients, ["45s"])

    wait_s = (start - datetime.now(UTC)).total_seconds() - 45 + 15
    await until(lambda: reminders_arrived(d.smtp, expected) >= 1, wait_s, "the first reminder", d, every=0.002)
    a.kill(signal.SIGKILL)
    killed_at = time.time()
    first_count = reminders_arrived(d.smtp, expected)

    def everyone() -> bool:
        return {expected[mid][0] for mid in d.smtp.message_ids() if mid in expected} >= set(recipients)

    await until(everyone, LEASE_S + 30, "a reminder for everyone", d, every=0.25)
    # Once every job is marked done none is claimed again: whatever was to be mailed has been.
    jobs_now: dict[str, tuple[str, int]] = {}

    async def all_done() -> bool:
        jobs_now.update(await job_attempts(d.db_url, sid))
        return len(jobs_now) == 301 and {state for state, _ in jobs_now.values()} == {"done"}

    await until(all_done, 15, "every reminder job marked done", d, every=0.25)
    await asyncio.sleep(0.5)
    got, invitations, others = sorted_out(d.smtp.received(), expected)
    assert not invitations and {to(m) for m in others} <= {INSTRUCTOR_EMAIL}, [str(m["Subject"]) for m in others]
    copies: dict[str, list[str]] = defaultdict(list)
    for at, m in got:
        recipient, _ = expected[str(m["Message-ID"])]
        assert to(m) == address[recipient]
        copies[recipient].append(str(m["Message-ID"]))
        assert at < start.timestamp(), "never after the start"
    assert set(copies) == set(recipients), "every recipient got the reminder"
    repeated = {r: ids for r, ids in copies.items() if len(ids) > 1}
    assert all(len(set(ids)) == 1 for ids in repeated.values()), "a repeat is the same mail (its Message-ID)"
    duplicates = sum(len(ids) - 1 for ids in repeated.values())
    assert duplicates <= 5, f"{duplicates} repeats: more than the mails in flight at the kill"

    taken_over = [k for k, (_, n) in jobs_now.items() if n >= 2]
    assert taken_over, "the killed process held none of the jobs: the kill came too late to test anything"
    assert len(taken_over) >= duplicates
    listed = await reminders_api(d, b, sid)
    assert {k: (v["state"], v["sent"]) for k, v in listed.items()} == {"90s": ("skipped", 0), "45s": ("sent", 301)}
    print(
        f"kill -9 after {first_count} of 301 reminders; {len(taken_over)} jobs taken over after the lease; "
        f"{duplicates} repeated; all in {got[-1][0] - killed_at:.1f}s after the kill"
    )

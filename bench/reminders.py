"""Reminders at the top of the hour: N reminder mails due in the same minute, two `companion serve` on PostgreSQL.

Seeds a fresh PostgreSQL database (built by the project's migrations) in this process, before any server
runs: `--sessions` sessions (default: N / 100) that start one hour after the same instant, each with its
roster and its invitations already sent, and each session's reminders scheduled as booking schedules
them (`Invitations.on_created`; `COMPANION_REMINDERS` is the default `24h,1h`, so the 1 h reminder of
each session is due at that instant, `--lead-s` after seeding, `--spread-s` spreads the instants over
that many seconds). Then starts two `companion serve` processes (Redis for their live state, SMTP to a
local aiosmtpd in this process that records when each Message-ID arrived, the job runner's settings left
at their defaults), and waits for every mail.

Each reminder mail's Message-ID comes from its job's key (`reminder-mail:{session}:{recipient}:1h@{start}`),
so every mail that arrives is matched to the reminder it is, and its due time. Reported: whether each of
the N arrived exactly once (missing, duplicates, unexpected), due -> received latency (p50, p99, max),
the wall time from the first due instant to the last mail, mails per second, the CPU time of each server
and of this process (the SMTP sink), and the jobs' final states. Other mails the servers send meanwhile
(the readiness note about sessions due within a day and not ready: one per session, at start) are
counted apart, by subject.

Usage: .venv/bin/python bench/reminders.py [--reminders 10000] [--per-session 100] [--lead-s 20]
       [--spread-s 0] [--max-seconds 600] [--json] [--out FILE] [--pg-name NAME]
BENCH_PG_ADMIN (postgresql://postgres@127.0.0.1:5432/postgres) is where the database is created and dropped;
BENCH_REDIS_URL uses that Redis (flushed!) instead of a private redis-server.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import platform
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from aiosmtpd.controller import Controller
from sqlalchemy import func, insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core import invitations as rules
from core.clock import SystemClock
from core.invitations import INSTRUCTOR, Invitation
from core.jobs import job_key
from core.model import SessionState, iso
from core.settings import Settings, parse_offsets
from persistence.db import create_engine, migrate, sessionmaker
from persistence.identity import new_id
from persistence.live.memory import MemoryLiveStore
from persistence.models import JobRecord, Participant
from persistence.repos import invitations as invitation_repo
from persistence.repos import sessions
from service.invitations import REMINDER_MAIL, Invitations
from service.publish import Publisher
from service.smtp import LogTransport
from service.unit import Unit

ROOT = Path(__file__).resolve().parent.parent
COMPANION = str(ROOT / ".venv" / "bin" / "companion")  # this checkout's
PG_ADMIN = os.environ.get("BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
REMINDERS = "24h,1h"  # the default: each session's 1 h reminder is the one due
OFFSET = "1h"
PUBLIC = "http://127.0.0.1:8000"  # the servers' public URL: its host is the Message-IDs' domain
DOMAIN = "127.0.0.1"
_MESSAGE_ID = re.compile(rb"^Message-ID:\s*(<[^>\r\n]+>)", re.IGNORECASE | re.MULTILINE)
_SUBJECT = re.compile(rb"^Subject:[ \t]*([^\r\n]*)", re.IGNORECASE | re.MULTILINE)


# ---------------------------------------------------------------- the SMTP sink


class Sink:
    """An aiosmtpd handler that accepts every mail and records (time.time(), Message-ID, Subject) for each."""

    def __init__(self, expected: set[str]) -> None:
        self.port = free_port()
        self.got: list[tuple[float, str, str]] = []
        self._expected = expected
        self._seen: set[str] = set()  # of the expected Message-IDs
        self._lock = threading.Lock()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.cpu_s = 0.0  # the sink thread's CPU time, read when it stops

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        at = time.time()
        content = bytes(envelope.original_content or envelope.content)
        head = content.split(b"\r\n\r\n", 1)[0]
        found, subject = _MESSAGE_ID.search(head), _SUBJECT.search(head)
        mid = found.group(1).decode() if found else ""
        with self._lock:
            self.got.append((at, mid, subject.group(1).decode("ascii", "replace") if subject else ""))
            if mid in self._expected:
                self._seen.add(mid)
        return "250 OK"

    def distinct_expected(self) -> int:
        """How many of the expected Message-IDs have arrived (each counted once)."""
        with self._lock:
            return len(self._seen)

    @contextlib.contextmanager
    def running(self) -> Iterator[Sink]:
        self._controller.start()
        assert self._controller._thread is not None and self._controller._thread.native_id is not None
        tid = self._controller._thread.native_id
        try:
            yield self
        finally:
            with contextlib.suppress(OSError):
                self.cpu_s = thread_cpu_s(tid)
            self._controller.stop()


# ---------------------------------------------------------------- seeding


def plan(n: int, per_session: int, sessions_arg: int | None) -> list[int]:
    """How many recipients (the instructor and the roster) each session has: n in all."""
    count = sessions_arg or max(1, math.ceil(n / per_session))
    base, extra = divmod(n, count)
    sizes = [base + (1 if k < extra else 0) for k in range(count)]
    if min(sizes) < 1:
        raise SystemExit("--sessions: more sessions than reminders")
    return sizes


async def seed(url: str, sizes: list[int], due: datetime, spread_s: float) -> tuple[dict[str, datetime], float]:
    """The sessions, rosters, invitations (sent days ago) and reminders; answers each expected Message-ID's due
    time, and how long seeding took."""
    t0 = time.perf_counter()
    engine = create_engine(url)
    try:
        await migrate(engine)  # the schema as the server builds it on start
        store, clock = MemoryLiveStore(), SystemClock()
        unit = Unit(
            store=store,
            sessionmaker=sessionmaker(engine),
            clock=clock,
            publisher=Publisher(store, clock),
            ordered_publish=False,
        )
        settings = Settings(
            database_url=url,
            secret_key="bench-" * 8,
            public_url=PUBLIC,
            reminders=parse_offsets(REMINDERS),
        )
        invitations = Invitations(unit, settings, LogTransport())
        now = datetime.now(UTC)
        invited_at = now - timedelta(days=4)
        expected: dict[str, datetime] = {}
        states: list[SessionState] = []
        rows: list[dict[str, Any]] = []
        people: list[Invitation] = []
        for k, size in enumerate(sizes):
            at = due + timedelta(seconds=spread_s * k / max(1, len(sizes) - 1)) if spread_s else due
            start = (at + timedelta(hours=1)).replace(microsecond=(at.microsecond // 1000) * 1000)
            sid = new_id()
            teacher = f"instructor{k:04d}@example.edu"
            states.append(
                SessionState(
                    id=sid,
                    topic=f"Course {k}",
                    instructor_email=teacher,
                    starts_at=start,
                    duration_minutes=90,
                    late_after_minutes=5,
                    timezone="Europe/Berlin",
                    invitations_sent_at=invited_at,
                )
            )
            recipients: list[tuple[str, str | None, str, str, str]] = [
                (INSTRUCTOR, None, teacher, teacher, "instructor")
            ]
            for p in range(size - 1):
                pid, address = new_id(), f"s{k}.{p}@students.example.edu"
                rows.append(
                    {
                        "id": pid,
                        "session_id": sid,
                        "name": f"Student {k}.{p}",
                        "email": address,
                        "email_key": address,
                        "created_at": invited_at,
                        "timezone": None,
                    }
                )
                recipients.append((pid, pid, f"Student {k}.{p}", address, "participant"))
            for recipient, participant_id, name, address, role in recipients:
                people.append(
                    Invitation(
                        id=new_id(),
                        session_id=sid,
                        recipient=recipient,
                        participant_id=participant_id,
                        role=role,  # type: ignore[arg-type]
                        name=name,
                        email=address,
                        timezone=None,
                        sequence=0,
                        sent_at=invited_at,
                    )
                )
                key = job_key(REMINDER_MAIL, sid, recipient, f"{OFFSET}@{iso(start)}")
                expected[rules.message_id(key, DOMAIN)] = start - timedelta(hours=1)
        make = sessionmaker(engine)
        for k in range(0, len(states), 500):
            async with make() as db, db.begin():
                chunk = states[k : k + 500]
                await sessions.create_sessions(db, states=chunk, now=now)
                await invitations.on_created(db, chunk, now)  # as booking does: the reminders
        async with engine.begin() as conn:
            for k in range(0, len(rows), 10_000):
                await conn.execute(insert(Participant), rows[k : k + 10_000])
        for k in range(0, len(people), 5000):
            async with make() as db, db.begin():
                await invitation_repo.add(db, invitations=people[k : k + 5000])
        async with engine.begin() as conn:
            await conn.execute(text("ANALYZE"))  # what autovacuum does within a minute of such a load
    finally:
        await engine.dispose()
    return expected, time.perf_counter() - t0


async def job_states(url: str) -> dict[str, Any]:
    """The jobs as they ended: (kind, state) counts, and how many were attempted more than once."""
    engine = create_engine(url)
    try:
        async with sessionmaker(engine)() as db:
            rows = await db.execute(
                select(JobRecord.kind, JobRecord.state, func.count(), func.max(JobRecord.attempts)).group_by(
                    JobRecord.kind, JobRecord.state
                )
            )
            states = {f"{kind}:{state}": {"jobs": n, "max_attempts": most} for kind, state, n, most in rows.all()}
            retried = await db.scalar(select(func.count()).select_from(JobRecord).where(JobRecord.attempts > 1))
        return {"states": states, "attempted_more_than_once": retried}
    finally:
        await engine.dispose()


# ---------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def thread_cpu_s(tid: int) -> float:
    fields = Path(f"/proc/self/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def redis(tmp: Path) -> Iterator[str]:
    """BENCH_REDIS_URL (flushed), or a private redis-server on a free port."""
    given = os.environ.get("BENCH_REDIS_URL")
    if given:
        subprocess.run(["redis-cli", "-u", given, "flushall"], capture_output=True, timeout=10, check=False)
        yield given
        return
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not installed (or set BENCH_REDIS_URL)")
    port = free_port()
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(tmp)]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(10)


def healthy(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            return s.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


@contextlib.contextmanager
def servers(url: str, redis_url: str, smtp_port: int, tmp: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Two `companion serve` processes on the database, mailing to the sink; the job runner at its defaults."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPANION_")}
    env |= {
        "COMPANION_DATA_DIR": str(tmp),
        "COMPANION_DATABASE_URL": url,
        "COMPANION_REDIS_URL": redis_url,
        "COMPANION_SECRET_KEY": secrets.token_hex(32),
        "COMPANION_PUBLIC_URL": PUBLIC,
        "COMPANION_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
        "COMPANION_REMINDERS": REMINDERS,
    }
    procs: list[subprocess.Popen[bytes]] = []
    logs = []
    try:
        ports = [free_port(), free_port()]
        for i, port in enumerate(ports):
            log = (tmp / f"server{i}.log").open("wb")
            logs.append(log)
            procs.append(
                subprocess.Popen(
                    [COMPANION, "serve", "--host", "127.0.0.1", "--port", str(port)],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        deadline = time.monotonic() + 60
        for i, (proc, port) in enumerate(zip(procs, ports, strict=True)):
            while not healthy(port):
                if proc.poll() is not None or time.monotonic() > deadline:
                    tail = (tmp / f"server{i}.log").read_text()[-2000:]
                    raise RuntimeError(f"server {i} did not start; its log: {tail}")
                time.sleep(0.1)
        yield procs
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for log in logs:
            log.close()


@contextlib.asynccontextmanager
async def database(name: str) -> Any:
    admin = await asyncpg.connect(PG_ADMIN)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
        base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
        try:
            yield f"{base}/{name}"
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


# ---------------------------------------------------------------- the run


def percentiles(values: list[float]) -> dict[str, float]:
    """n, p50, p99 (nearest rank) and max, in ms, of values in seconds."""
    if not values:
        return {"n": 0, "p50": 0.0, "p99": 0.0, "max": 0.0}
    ordered = sorted(values)

    def rank(q: float) -> float:
        return round(ordered[max(0, math.ceil(q * len(ordered)) - 1)] * 1e3, 1)

    return {"n": len(ordered), "p50": rank(0.5), "p99": rank(0.99), "max": round(ordered[-1] * 1e3, 1)}


async def run(args: argparse.Namespace) -> dict[str, Any]:
    sizes = plan(args.reminders, args.per_session, args.sessions)
    report: dict[str, Any] = {
        "machine": machine(),
        "reminders": args.reminders,
        "sessions": len(sizes),
        "recipients_per_session": {"min": min(sizes), "max": max(sizes)},
        "spread_s": args.spread_s,
        "settings": {"COMPANION_REMINDERS": REMINDERS, "jobs": "defaults (every 1 s, batch 200, lease 300 s)"},
    }
    with tempfile.TemporaryDirectory(prefix="companion-reminders-") as tmp_name:
        tmp = Path(tmp_name)
        async with database(args.pg_name) as url:
            due = (datetime.now(UTC) + timedelta(seconds=args.lead_s)).replace(microsecond=0)
            expected, seed_s = await seed(url, sizes, due, args.spread_s)
            report["seed_s"] = round(seed_s, 2)
            assert len(expected) == args.reminders
            with redis(tmp) as redis_url, Sink(set(expected)).running() as sink:
                with servers(url, redis_url, sink.port, tmp) as procs:
                    up = datetime.now(UTC)
                    report["servers_up_before_due_s"] = round((due - up).total_seconds(), 2)
                    cpu0 = [cpu_seconds(p.pid) for p in procs]
                    deadline = due.timestamp() + args.spread_s + args.max_seconds
                    while sink.distinct_expected() < len(expected) and time.time() < deadline:
                        for i, p in enumerate(procs):
                            if p.poll() is not None:
                                log = (tmp / f"server{i}.log").read_text()[-2000:]
                                raise RuntimeError(f"server {i} died: {log}")
                        await asyncio.sleep(0.1)
                    await asyncio.sleep(args.settle_s)  # a second copy, were one coming, would be here by now
                    report["server_cpu_s"] = [
                        round(cpu_seconds(p.pid) - c, 2) for p, c in zip(procs, cpu0, strict=True)
                    ]
                # Taken once the servers have stopped: what they sent while stopping is counted too.
                got = list(sink.got)
            report["sink_cpu_s"] = round(sink.cpu_s, 2)
            report["jobs"] = await job_states(url)
            log_lines = sum(len((tmp / f"server{i}.log").read_text().splitlines()) for i in range(2))
            report["server_log_lines"] = log_lines
    # The reminders are the mails with the Message-IDs their jobs' keys give; a mail that says it is a reminder
    # and has none of those is unexpected. Other mails (the server's readiness note to the instructors of
    # sessions due within a day and not ready) are counted apart.
    reminders = [(at, mid) for at, mid, subject in got if mid in expected or subject.startswith("Reminder:")]
    others = Counter(
        subject.split(":", 1)[0] for _, mid, subject in got if not (mid in expected or subject.startswith("Reminder:"))
    )
    copies = Counter(mid for _, mid in reminders)
    first: dict[str, float] = {}
    for at, mid in reminders:
        first.setdefault(mid, at)
    latencies = [first[mid] - due_at.timestamp() for mid, due_at in expected.items() if mid in first]
    last = max((at for at, mid in reminders if mid in expected), default=due.timestamp())
    report["received"] = len(reminders)
    report["other_mails"] = dict(others)
    report["once"] = sum(1 for mid in expected if copies[mid] == 1)
    report["missing"] = sum(1 for mid in expected if copies[mid] == 0)
    report["duplicates"] = sum(n - 1 for mid, n in copies.items() if mid in expected and n > 1)
    report["unexpected"] = sum(n for mid, n in copies.items() if mid not in expected)
    report["all_sent_once"] = report["once"] == len(expected) and report["unexpected"] == 0
    report["latency_ms"] = percentiles(latencies)
    report["first_mail_after_due_ms"] = round(min(latencies) * 1e3, 1) if latencies else None
    report["wall_s"] = round(last - due.timestamp(), 2)
    report["mails_per_s"] = round(report["once"] / report["wall_s"], 1) if report["wall_s"] > 0 else None
    report["server_cpu_ms_per_mail"] = round(sum(report["server_cpu_s"]) / max(1, len(reminders)) * 1e3, 2)
    # Other work on the machine inflates every figure: the load at the end says whether there was any.
    report["load_average_end"] = os.getloadavg()
    return report


def machine() -> dict[str, Any]:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "load_average": os.getloadavg(),
        "commit": commit.stdout.strip() or "?",
    }


def summary(r: dict[str, Any]) -> str:
    lat = r["latency_ms"]
    return "\n".join(
        [
            f"reminders: {r['reminders']} mails due "
            + (f"within {r['spread_s']:g} s" if r["spread_s"] else "at once")
            + f" ({r['sessions']} sessions of {r['recipients_per_session']['min']}-"
            f"{r['recipients_per_session']['max']} recipients), two processes on PostgreSQL; seeded in {r['seed_s']} s",
            f"exactly once: {'yes' if r['all_sent_once'] else 'NO'} (once {r['once']}, missing {r['missing']}, "
            f"duplicates {r['duplicates']}, unexpected {r['unexpected']}); other mails: {r['other_mails'] or 'none'}",
            f"due -> received: p50 {lat['p50'] / 1e3:.2f} s, p99 {lat['p99'] / 1e3:.2f} s, "
            f"max {lat['max'] / 1e3:.2f} s "
            f"(first mail {r['first_mail_after_due_ms']} ms after due)",
            f"wall {r['wall_s']} s, {r['mails_per_s']} mails/s; server CPU {r['server_cpu_s']} s "
            f"({r['server_cpu_ms_per_mail']} ms a mail), SMTP sink CPU {r['sink_cpu_s']} s",
            f"load average: {r['machine']['load_average'][0]:.2f} at start, {r['load_average_end'][0]:.2f} at end",
            f"jobs: {json.dumps(r['jobs']['states'])}; "
            f"attempted more than once: {r['jobs']['attempted_more_than_once']}",
        ]
    )


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--reminders", type=int, default=10_000, help="reminder mails due (default 10000)")
    parser.add_argument("--per-session", type=int, default=100, help="recipients per session (instructor included)")
    parser.add_argument("--sessions", type=int, default=None, help="how many sessions (default: N / per-session)")
    parser.add_argument("--lead-s", type=float, default=20.0, help="seconds from seeding to the due instant")
    parser.add_argument("--spread-s", type=float, default=0.0, help="spread the due instants over this many seconds")
    parser.add_argument("--settle-s", type=float, default=3.0, help="wait this long after the last mail for repeats")
    parser.add_argument("--max-seconds", type=float, default=600.0, help="give up this long after the last due time")
    parser.add_argument("--pg-name", default=f"companion_bench_reminders_{os.getpid()}")
    parser.add_argument("--json", action="store_true", help="print the JSON report instead of the summary")
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON report here")
    args = parser.parse_args(argv)
    if args.reminders < 1 or args.per_session < 1:
        parser.error("--reminders and --per-session: at least 1")
    if not 0 <= args.spread_s <= 60:
        parser.error("--spread-s: 0 to 60 (the reminders are due in the same minute)")
    return args


if __name__ == "__main__":
    options = parse()
    result = asyncio.run(run(options))
    if options.out:
        options.out.parent.mkdir(parents=True, exist_ok=True)
        options.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2) if options.json else summary(result))
    sys.exit(0 if result["all_sent_once"] else 1)

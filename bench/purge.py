"""The retention purge of a year of an institution, and what it does to a live class meanwhile.

On PostgreSQL, against a real `companion serve` (one process, live state in memory):

1. Seed a year of a 300-instructor institution straight into a fresh database (COPY): `--sessions`
   (10,000) sessions closed between 366 and 730 days ago, each with `--roster` (30) participants, their
   attendance sheet rows (300,000) and connections, and `--chat` (200) chat messages each (2 million).
2. Serve it with `COMPANION_RETENTION` keeping every session-bound kind 365 days, so all of it is past
   keeping; a live class of `--live` (200) participants connects over Socket.IO and an instructor chats
   `--rate` (10) messages a second. Each message's fan-out latency (send to arrival at every participant)
   and ack latency is measured for `--window` (30) seconds without the purge.
3. Make the server's daily retention job due now (the job the server queued at start) and measure the
   same while the job runs, until it is done: the purge's time (the job's claim to its end), what it
   deleted (from its audit entry), and the live class's p99 during the purge against its p99 without it.

    .venv/bin/python bench/purge.py [--sessions 10000] [--roster 30] [--chat 200] [--live 200]
                                    [--rate 10] [--window 30] [--json OUT]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import socketio

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.scheduling import database, machine, served, session_with_roster
from persistence.db import create_engine, migrate

RETENTION = "chat=365d,attendance=365d,feedback=365d,records=365d,materials=365d"


def pg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def seed(url: str, *, sessions: int, roster: int, chat: int) -> dict[str, Any]:
    """A closed year of sessions with rosters, sheets, connections and chat, by COPY; answers counts and seconds."""
    engine = create_engine(url)
    try:
        await migrate(engine)
    finally:
        await engine.dispose()
    rng = random.Random(17)
    now = datetime.now(UTC)
    started = time.perf_counter()
    conn = await asyncpg.connect(pg_dsn(url))
    try:
        session_rows, participant_rows, sheet_rows, connection_rows = [], [], [], []
        for k in range(sessions):
            sid = uuid.uuid4().hex
            closed = now - timedelta(days=366 + rng.random() * 364)
            start = closed - timedelta(minutes=60)
            instructor = f"instructor{k % 300}@example.edu"
            session_rows.append(
                (sid, f"Course {k % 300} week {k // 300}", instructor, instructor, start, start, 60, 60, 10,
                 "closed", start, closed, 0, "ok", "", start - timedelta(days=14), "UTC")
            )  # fmt: skip
            for p in range(roster):
                pid = uuid.uuid4().hex
                email = f"student{(k * 7 + p) % 9000}@students.example.edu"
                participant_rows.append(
                    (pid, sid, f"Student {(k * 7 + p) % 9000}", email, email, start, "present", start)
                )
                row = {
                    "participant_id": pid, "name": f"Student {p}", "email": email, "status": "present",
                    "checked_in_at": start.isoformat(), "first_seen": start.isoformat(),
                    "last_seen": closed.isoformat(), "minutes_present": 60.0, "platform_minutes": None,
                    "pings_answered": 0, "pings_total": 0,
                }  # fmt: skip
                sheet_rows.append((sid, pid, json.dumps(row)))
                connection_rows.append((uuid.uuid4().hex, sid, pid, "bench", start, closed, closed))
        await conn.copy_records_to_table(
            "sessions",
            records=session_rows,
            columns=[
                "id", "topic", "instructor_email", "instructor_key", "starts_at", "expected_start",
                "duration_minutes", "capacity", "late_after_minutes", "status", "started_at", "closed_at",
                "delay_minutes", "platform_status", "platform_message", "created_at", "timezone",
            ],
        )  # fmt: skip
        await conn.copy_records_to_table(
            "participants",
            records=participant_rows,
            columns=["id", "session_id", "name", "email", "email_key", "checked_in_at", "checkin_status", "created_at"],
        )
        await conn.copy_records_to_table(
            "attendance_records", records=sheet_rows, columns=["session_id", "participant_id", "row"]
        )
        await conn.copy_records_to_table(
            "connections",
            records=connection_rows,
            columns=["id", "session_id", "participant_id", "process_id", "connected_at", "alive_at", "ended_at"],
        )
        by_session: dict[str, list[str]] = {}
        for pid, sid, *_ in participant_rows:
            by_session.setdefault(sid, []).append(pid)
        messages = 0
        batch: list[tuple[Any, ...]] = []
        for sid, _, _, _, start, *_ in session_rows:
            people = by_session[sid]
            for seq in range(1, chat + 1):
                pid = people[seq % len(people)]
                batch.append(
                    (uuid.uuid4().hex, sid, seq, f"c{seq}", f"p:{pid}", f"Student {seq % roster}", "participant",
                     f"message {seq}: a question about the reading for this week", start + timedelta(seconds=seq * 15))
                )  # fmt: skip
            if len(batch) >= 200_000:
                await _copy_chat(conn, batch)
                messages += len(batch)
                batch = []
        if batch:
            await _copy_chat(conn, batch)
            messages += len(batch)
        await conn.execute("ANALYZE")  # what autovacuum does within a minute of such a load
    finally:
        await conn.close()
    return {
        "sessions": len(session_rows),
        "participants": len(participant_rows),
        "attendance_rows": len(sheet_rows),
        "connections": len(connection_rows),
        "chat_messages": messages,
        "seconds": round(time.perf_counter() - started, 1),
    }


async def _copy_chat(conn: asyncpg.Connection, rows: list[tuple[Any, ...]]) -> None:
    await conn.copy_records_to_table(
        "chat_messages",
        records=rows,
        columns=["id", "session_id", "seq", "client_id", "author_key", "author", "role", "text", "sent_at"],
    )


def p(samples: list[float], q: float) -> float | None:
    if not samples:
        return None
    ordered = sorted(samples)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1)


class LiveClass:
    """A class connected over Socket.IO: an instructor chats at a steady rate, every participant receives."""

    def __init__(self, base: str, staff_token: str, session_id: str, roster: list[dict[str, Any]]) -> None:
        self.base, self.staff_token, self.session_id, self.roster = base, staff_token, session_id, roster
        self.sent: dict[str, float] = {}  # client_id -> monotonic send time
        self.arrivals: dict[str, int] = {}
        self.last_arrival: dict[str, float] = {}
        self.clients: list[socketio.AsyncClient] = []
        self.staff: socketio.AsyncClient | None = None
        self.stop = asyncio.Event()  # ends a chat run before its seconds are up
        self.delivered = asyncio.Event()  # a message reached every participant

    async def connect(self) -> None:
        async def one(token: str, session: str | None) -> socketio.AsyncClient:
            client = socketio.AsyncClient(reconnection=False)

            @client.on("chat")
            async def _chat(message: dict[str, Any]) -> None:
                cid = message.get("client_id")
                if cid in self.sent and session is None:  # a participant's tab (the instructor's is not counted)
                    self.arrivals[cid] = self.arrivals.get(cid, 0) + 1
                    self.last_arrival[cid] = time.monotonic()
                    if self.arrivals[cid] == len(self.roster):
                        self.delivered.set()

            auth: dict[str, Any] = {"token": token} | ({"session": session} if session else {})
            await client.connect(self.base, auth=auth, transports=["websocket"], wait_timeout=30)
            return client

        for k in range(0, len(self.roster), 50):
            self.clients += await asyncio.gather(*(one(r["token"], None) for r in self.roster[k : k + 50]))
        self.staff = await one(self.staff_token, self.session_id)

    async def chat(self, seconds: float, rate: float, label: str) -> dict[str, Any]:
        """Send `rate` messages a second for `seconds` (or until `stop` is set); fan-out and ack latencies."""
        assert self.staff is not None
        acks: list[float] = []
        ids: list[str] = []
        began = time.monotonic()
        errors = 0
        until = time.monotonic() + seconds
        tick = 1 / rate
        next_at = time.monotonic()
        pending: set[asyncio.Task[None]] = set()

        async def send(n: int) -> None:
            nonlocal errors
            cid = f"{label}-{n:08d}"  # client ids are 8 to 64 characters
            ids.append(cid)
            self.sent[cid] = time.monotonic()
            assert self.staff is not None
            answer = await self.staff.call("chat:send", {"client_id": cid, "text": f"{label} {n}"}, timeout=60)
            acks.append(time.monotonic() - self.sent[cid])
            if not (isinstance(answer, dict) and answer.get("ok")):
                errors += 1
                if errors == 1:
                    print(f"[purge] chat:send refused: {answer}", file=sys.stderr)

        n = 0
        while time.monotonic() < until and not self.stop.is_set():
            task = asyncio.create_task(send(n))
            pending.add(task)
            task.add_done_callback(pending.discard)
            n += 1
            next_at += tick
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        await asyncio.gather(*pending)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(self.arrivals.get(c, 0) < len(self.roster) for c in ids):
            self.delivered.clear()
            try:
                await asyncio.wait_for(self.delivered.wait(), deadline - time.monotonic())
            except TimeoutError:
                break
        fanout = [self.last_arrival[c] - self.sent[c] for c in ids if c in self.last_arrival]
        # The slowest deliveries and when they were sent (seconds into the run): where a stall sits.
        slowest = sorted(
            ((self.last_arrival[c] - self.sent[c], self.sent[c] - began) for c in ids if c in self.last_arrival),
            reverse=True,
        )[:5]
        missing = sum(len(self.roster) - self.arrivals.get(c, 0) for c in ids)
        return {
            "messages": len(ids),
            "errors": errors,
            "missing_deliveries": missing,
            "ack_p50_ms": p(acks, 0.5),
            "ack_p99_ms": p(acks, 0.99),
            "fanout_p50_ms": p(fanout, 0.5),
            "fanout_p99_ms": p(fanout, 0.99),
            "fanout_max_ms": p(fanout, 1.0),
            "slowest": [{"ms": round(ms * 1000, 1), "sent_at_s": round(at, 2)} for ms, at in slowest],
        }

    async def close(self) -> None:
        await asyncio.gather(*(c.disconnect() for c in [*self.clients, *([self.staff] if self.staff else [])]))


async def purge_job(conn: asyncpg.Connection) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT id, state, due_at, updated_at, done_at, last_error FROM jobs WHERE kind = 'retention' "
        "ORDER BY due_at LIMIT 1"
    )


async def run(args: argparse.Namespace) -> dict[str, Any]:
    report: dict[str, Any] = {"machine": machine(), "args": vars(args)}
    with tempfile.TemporaryDirectory(prefix="companion-purge-") as tmp:
        async with database("postgresql", Path(tmp), args.pg_name) as url:
            report["seed"] = await seed(url, sessions=args.sessions, roster=args.roster, chat=args.chat)
            print(f"[purge] seeded {report['seed']}", file=sys.stderr)
            with served(url, Path(tmp), extra_env={"COMPANION_RETENTION": RETENTION}) as (proc, port, token):
                base = f"http://127.0.0.1:{port}"
                headers = {"Authorization": f"Bearer {token}"}
                async with httpx.AsyncClient(base_url=base, timeout=60) as http:
                    starts = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
                    session_id, roster = await session_with_roster(http, headers, args.live, starts)
                live = LiveClass(base, token, session_id, roster)
                await live.connect()
                conn = await asyncpg.connect(pg_dsn(url))
                try:
                    await live.chat(5, args.rate, "warmup")
                    report["without_purge"] = await live.chat(args.window, args.rate, "quiet")
                    job = await purge_job(conn)
                    if job is None:
                        raise RuntimeError("the server queued no retention job")
                    spy = None
                    if args.pyspy is not None:  # a profile of the server while it purges (py-spy in .venv)
                        spy = await asyncio.create_subprocess_exec(
                            str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(proc.pid),
                            "--rate", "100", "--format", "raw", "--nonblocking", "--output", str(args.pyspy),
                            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
                        )  # fmt: skip
                    await conn.execute("UPDATE jobs SET due_at = now() WHERE id = $1", job["id"])
                    triggered = time.monotonic()
                    during = asyncio.create_task(live.chat(3600, args.rate, "purge"))
                    while True:
                        row = await conn.fetchrow("SELECT state, done_at, updated_at, last_error FROM jobs "
                                                  "WHERE id = $1", job["id"])  # fmt: skip
                        if row["state"] not in ("pending", "running"):
                            break
                        await asyncio.sleep(0.2)
                    wall = time.monotonic() - triggered
                    if spy is not None:
                        spy.send_signal(signal.SIGINT)
                        await asyncio.wait_for(spy.wait(), 30)
                    live.stop.set()
                    report["during_purge"] = await during
                    entry = await conn.fetchrow(
                        "SELECT at, detail FROM audit_log WHERE action = 'purge' ORDER BY id DESC LIMIT 1"
                    )
                    left = await conn.fetchval("SELECT count(*) FROM chat_messages WHERE session_id <> $1", session_id)
                finally:
                    await conn.close()
                    await live.close()
                report["purge"] = {
                    "job_state": row["state"],
                    "job_error": row["last_error"],
                    "seconds_from_due": round(wall, 1),
                    "seeded_chat_messages_left": left,
                    "deleted": _deleted(entry["detail"] if entry else None),
                }
    q, d = report["without_purge"], report["during_purge"]
    for key in ("ack_p99_ms", "fanout_p99_ms"):
        if q[key] and d[key]:
            report[f"{key}_ratio"] = round(d[key] / q[key], 2)
    return report


def _deleted(detail: Any) -> dict[str, Any] | None:
    """The purge audit entry's rows per kind and table, and how many sessions each kind touched."""
    if isinstance(detail, str):
        detail = json.loads(detail)
    if not isinstance(detail, dict):
        return None
    kinds = detail.get("kinds", {})
    return {
        "total": detail.get("total"),
        "kinds": {k: {"sessions": len(v.get("sessions", [])), "rows": v.get("rows", {})} for k, v in kinds.items()},
    }


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--roster", type=int, default=30)
    parser.add_argument("--chat", type=int, default=200)
    parser.add_argument("--live", type=int, default=200)
    parser.add_argument("--rate", type=float, default=10)
    parser.add_argument("--window", type=float, default=30)
    parser.add_argument("--pg-name", default=f"companion_bench_purge_{os.getpid()}")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--pyspy", type=Path, help="profile the server during the purge into this file (raw)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    report = asyncio.run(run(args))
    text = json.dumps(report, indent=2, default=str)
    if args.json:
        args.json.write_text(text)
    print(text)
    return 0 if report.get("purge", {}).get("job_state") == "done" else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""kill -9 in the middle of a purge: every batch is whole or absent, and the next run finishes, its one audit
entry naming what the killed run deleted too. A real `companion purge` process on SQLite, with enough closed
sessions that it runs many batches."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from persistence.db import create_engine, migrate, sessionmaker
from persistence.models import (
    AttendanceRecord,
    AuditEntry,
    ChatRecord,
    LiveSession,
    Participant,
    PurgeProgress,
    SessionCounts,
)

pytestmark = pytest.mark.slow
SECRET = "test-secret-key-that-is-long-enough-0123456789"
SESSIONS, ROSTER, CHAT = 600, 10, 150


async def seed(engine: AsyncEngine) -> None:
    """SESSIONS sessions closed 30 days ago, each with ROSTER participants, their sheet and CHAT messages."""
    now = datetime.now(UTC)
    closed = now - timedelta(days=30)
    start = closed - timedelta(hours=1)
    sessions, people, sheet, chat = [], [], [], []
    for k in range(SESSIONS):
        sid = uuid.uuid4().hex
        sessions.append(
            {
                "id": sid,
                "topic": f"Course {k}",
                "instructor_email": "t@example.org",
                "instructor_key": "t@example.org",
                "starts_at": start,
                "expected_start": start,
                "duration_minutes": 60,
                "late_after_minutes": 5,
                "status": "closed",
                "started_at": start,
                "closed_at": closed,
                "delay_minutes": 0,
                "platform_status": "ok",
                "platform_message": "",
                "created_at": start,
                "timezone": "UTC",
            }
        )
        for p in range(ROSTER):
            pid = uuid.uuid4().hex
            email = f"s{k}-{p}@example.org"
            people.append(
                {
                    "id": pid,
                    "session_id": sid,
                    "name": f"S {p}",
                    "email": email,
                    "email_key": email,
                    "checked_in_at": start,
                    "checkin_status": "present",
                    "created_at": start,
                }
            )
            sheet.append({"session_id": sid, "participant_id": pid, "row": {"status": "present"}})
        for seq in range(1, CHAT + 1):
            chat.append(
                {
                    "id": uuid.uuid4().hex,
                    "session_id": sid,
                    "seq": seq,
                    "client_id": f"client-{seq}",
                    "author_key": "staff:t@example.org",
                    "author": "T",
                    "role": "instructor",
                    "text": f"message {seq}",
                    "sent_at": start,
                }
            )
    async with sessionmaker(engine)() as db, db.begin():
        for model, rows in (
            (LiveSession, sessions),
            (Participant, people),
            (AttendanceRecord, sheet),
            (ChatRecord, chat),
        ):
            await db.execute(insert(model), rows)


def purge(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "server.cli", "purge"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


async def count(engine: AsyncEngine, what: Any, *where: Any) -> int:
    async with sessionmaker(engine)() as db:
        return int(await db.scalar(select(func.count()).select_from(what).where(*where)) or 0)


async def test_a_purge_killed_mid_way_leaves_whole_batches_and_the_next_run_finishes(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
    engine = create_engine(url)
    try:
        await migrate(engine)
        await seed(engine)
        env = {k: v for k, v in os.environ.items() if not k.startswith("COMPANION_")}
        env |= {
            "COMPANION_DATA_DIR": str(tmp_path),
            "COMPANION_SECRET_KEY": SECRET,
            "COMPANION_DATABASE_URL": url,
            "COMPANION_RETENTION": "chat=1d,attendance=1d,feedback=1d,records=1d,materials=1d",
        }
        first = purge(env)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and await count(engine, PurgeProgress) < 3:
            assert first.poll() is None, ("the purge ended before it could be killed", first.communicate())
            time.sleep(0.005)
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=10)
        done = await count(engine, SessionCounts, SessionCounts.done_at.is_not(None))
        assert 0 < done < SESSIONS, done
        # Each session is purged whole (its chat, sheet and roster gone, its counts kept) or not at all.
        assert await count(engine, SessionCounts) == done
        assert await count(engine, ChatRecord) == (SESSIONS - done) * CHAT
        assert await count(engine, Participant) == await count(engine, AttendanceRecord) == (SESSIONS - done) * ROSTER
        assert await count(engine, AuditEntry, AuditEntry.action == "purge") == 0  # the run did not finish

        second = purge(env)
        out, err = second.communicate(timeout=120)
        assert second.returncode == 0, err
        assert await count(engine, ChatRecord) == await count(engine, Participant) == 0
        assert await count(engine, SessionCounts, SessionCounts.done_at.is_not(None)) == SESSIONS
        assert await count(engine, PurgeProgress) == 0
        async with sessionmaker(engine)() as db:
            (detail,) = list(await db.scalars(select(AuditEntry.detail).where(AuditEntry.action == "purge")))
        kinds = detail["kinds"]
        assert len(kinds["chat"]["sessions"]) == len(kinds["roster"]["sessions"]) == SESSIONS
        assert kinds["chat"]["rows"] == {"chat_messages": SESSIONS * CHAT}, "the killed run's batches are named too"
        assert kinds["roster"]["rows"] == {"participants": SESSIONS * ROSTER}
        assert f"chat: {SESSIONS - done:,} sessions" not in out  # the printed report is the whole run's as well
        assert f"chat: {SESSIONS:,} sessions, {SESSIONS * CHAT:,} rows" in out
    finally:
        await engine.dispose()

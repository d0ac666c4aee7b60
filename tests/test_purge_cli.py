"""`companion purge [--dry-run]` as an operator runs it: against the settings' database, no server; a line
per kind and a total; the dry run deletes nothing and says what the real run then deletes; exit 0."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.clock import FakeClock
from tests.support import ok, running_server

SECRET = "test-secret-key-that-is-long-enough-0123456789"  # the one tests.support.running_server uses
KEEP = "chat=1d,attendance=1d,feedback=1d,records=1d,materials=1d,mail=1d,audit=7y"


def purge(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPANION_")}
    env |= {
        "COMPANION_DATA_DIR": str(tmp_path),
        "COMPANION_SECRET_KEY": SECRET,
        "COMPANION_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'test.db'}",
        "COMPANION_RETENTION": KEEP,
    }
    return subprocess.run(
        [sys.executable, "-m", "server.cli", "purge", *args], env=env, capture_output=True, text=True, timeout=120
    )


def body(done: subprocess.CompletedProcess[str]) -> list[str]:
    assert done.returncode == 0, done.stderr
    return [line.strip() for line in done.stdout.splitlines()[1:]]


async def test_purge_prints_what_would_go_then_deletes_it_once(tmp_path: Path) -> None:
    # A class closed ten days ago (the server's clock stood then), its roster of two.
    async with running_server(tmp_path, clock=FakeClock(datetime.now(UTC) - timedelta(days=10))) as srv:
        s = await srv.session()
        await srv.participants(s["id"], 2)
        ok(await srv.api("POST", f"/api/sessions/{s['id']}/close"))

    dry = purge(tmp_path, "--dry-run")
    assert dry.stdout.startswith("Would delete (retention chat=1d,"), dry.stdout
    lines = body(dry)
    assert [line.split(":")[0] for line in lines] == [
        "chat",
        "attendance",
        "feedback",
        "records",
        "materials",
        "roster",
        "mail",
        "audit",
        "total",
    ]
    assert "attendance: 1 session, 2 rows (attendance_records 2)" in lines
    assert "roster: 1 session, 2 rows (participants 2)" in lines
    assert body(purge(tmp_path, "--dry-run")) == lines, "a dry run deletes nothing"

    real = purge(tmp_path)
    assert real.stdout.startswith("Deleted (retention "), real.stdout
    assert body(real) == lines, "the real run deletes what the dry run listed"
    again = body(purge(tmp_path))
    assert again[-1] == "total: 0 rows" and "roster: 0 sessions, 0 rows" in again

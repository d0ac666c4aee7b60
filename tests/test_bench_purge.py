"""bench/purge.py runs: a small closed year seeded on PostgreSQL is purged by the server's daily job while a live
class chats, every delivery arrives, and nothing seeded is left (no timing bounds)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.services import PG_ADMIN_DSN

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def test_the_purge_bench_purges_a_seeded_year_while_a_class_chats(tmp_path: Path) -> None:
    out = tmp_path / "purge.json"
    done = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), str(ROOT / "bench" / "purge.py"),
         "--sessions", "40", "--roster", "5", "--chat", "20", "--live", "5", "--rate", "5", "--window", "2",
         "--pg-name", f"companion_test_bench_purge_{os.getpid()}", "--json", str(out)],
        capture_output=True, text=True, timeout=240, cwd=ROOT, env={**os.environ, "BENCH_PG_ADMIN": PG_ADMIN_DSN},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["seed"]["sessions"] == 40 and report["seed"]["chat_messages"] == 800
    purge = report["purge"]
    assert purge["job_state"] == "done" and purge["seeded_chat_messages_left"] == 0
    kinds = purge["deleted"]["kinds"]
    assert kinds["chat"] == {"sessions": 40, "rows": {"chat_messages": 800}}
    assert kinds["attendance"]["rows"] == {"attendance_records": 200, "connections": 200}
    assert kinds["roster"]["rows"] == {"participants": 200}
    for phase in ("without_purge", "during_purge"):
        figures = report[phase]
        assert figures["messages"] > 0 and figures["errors"] == 0 and figures["missing_deliveries"] == 0
        assert 0 < figures["fanout_p50_ms"] <= figures["fanout_p99_ms"]

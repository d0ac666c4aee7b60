"""bench/record.py runs: a small class closes, its record is built and checked, five answer the feedback form
and a second version follows (no timing bounds)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def test_the_record_bench_closes_a_class_and_checks_its_record(tmp_path: Path) -> None:
    out = tmp_path / "record.json"
    done = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), str(ROOT / "bench" / "record.py"),
         "--participants", "30", "--connected", "10", "--chat", "20", "--feedback", "5", "--feedback-seconds", "1",
         "--json", str(out)],
        capture_output=True, text=True, timeout=180, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["class"] == {"participants": 30, "connected": 10, "chat": 20, "sheet_rows": 30}
    assert report["sums_ok"] and report["files"] == 11 and report["record_bytes"] > 2 * 1024 * 1024
    assert report["close_s"] > 0 and report["record_after_close_s"] > 0
    wave = report["feedback"]
    assert wave["n"] == 5 and wave["statuses"] == {"200": 5} and 0 < wave["p50_ms"] <= wave["p99_ms"] <= wave["max_ms"]
    assert report["version_2_after_last_answer_s"] > 0  # the answers made a new version of the record

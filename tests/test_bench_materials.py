"""bench/materials.py runs: a small upload and a small class, every figure present and sane (no timing bounds)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def test_the_materials_bench_uploads_and_lists(tmp_path: Path) -> None:
    out = tmp_path / "materials.json"
    done = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), str(ROOT / "bench" / "materials.py"),
         "--upload-mb", "3", "--participants", "40", "--concurrency", "10", "--json", str(out)],
        capture_output=True, text=True, timeout=180, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(out.read_text())
    up = report["upload"]
    assert up["status"] == 201 and up["sha256_ok"] and up["size"] == 3 * 1024 * 1024
    assert up["server_peak_after_mb"] >= up["server_peak_before_mb"] > 0 and up["mb_per_s"] > 0
    listing = report["listing"]
    assert listing["n"] == 40 and listing["statuses"] == {"200": 40}
    assert 0 < listing["p50_ms"] <= listing["p99_ms"] <= listing["max_ms"]

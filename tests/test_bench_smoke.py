"""The classroom benchmark (bench/run.sh) runs end to end at a tiny N, peer and project side by side.

Benchmarks are not timed tests: these only prove the benchmark works and reports every figure, with
no errors and nothing lost or duplicated. The figures themselves are in docs/performance.md.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.services import PG_ADMIN_DSN

ROOT = Path(__file__).resolve().parent.parent
N = 20
# The Node.js peer and its load generator are not part of this repository: bench/lib.sh takes them
# from ../shared/bench beside the checkout (or BENCH_PEER_SRC), and finds them by compare.sh.
PEER = Path(os.environ.get("BENCH_PEER_SRC") or ROOT.parent / "shared" / "bench")
NO_PEER = (
    f"the benchmark's peer is not beside this checkout: no {PEER / 'compare.sh'} "
    "(bench/run.sh needs ../shared/bench, or BENCH_PEER_SRC)"
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which("node") is None or shutil.which("npm") is None,
        reason="the benchmark's load generator and peer need node and npm (make bench installs their packages)",
    ),
    pytest.mark.skipif(not (PEER / "compare.sh").is_file(), reason=NO_PEER),
    # Two servers started, a 20-person class played against each, npm packages installed the first time.
    pytest.mark.timeout(300),
]

# Every latency docs/performance.md reports, as classroom.mjs reports it.
LATENCIES = [
    ("join", "checkin_to_presence_ms"),
    ("ping", "fanout_ms"),
    ("ping", "answer_ack_ms"),
    ("chat", "fanout_ms"),
    ("help", "queue_visible_ms"),
    ("help", "claimed_notify_ms"),
    ("help", "resolved_notify_ms"),
    ("close", "session_event_ms"),
]
# Rows of compare.sh's table and of the summary that `make bench` prints.
TABLE_ROWS = [
    "join: checkin -> presence ms p99",
    "ping: launch -> ping ms p99",
    "ping: last answer -> results ms",
    "chat: send -> receipt ms p99",
    "chat: lost",
    "chat: duplicates",
    "help: claim -> ticket ms p99",
    "close: POST close ms",
    "server cpu s: total",
    "server peak rss MB",
    "generator cpu s",
]
SUMMARY_ROWS = [
    "| check-in -> dashboard presence |",
    "| ping launch -> every participant |",
    "| chat send -> every receipt |",
    "| close: POST + everyone told |",
    "| server KB per participant (peak RSS / N) |",
    "| generator CPU share (busiest measured phase) |",
]


def run_bench(out: Path, setup: str) -> subprocess.CompletedProcess[str]:
    """bench/run.sh for one setup at N=20 with a 2-second chat phase and 5 help tickets."""
    env = {
        **os.environ,
        "BENCH_N": str(N),
        "BENCH_ROUNDS": "1",
        "BENCH_SETUPS": setup,
        "BENCH_OUT": str(out),
        "BENCH_SCHEDULING": "0",
        "BENCH_REMINDERS": "0",
        "BENCH_PURGE": "0",  # the purge has a smoke of its own (test_bench_purge)
        "BENCH_AFTER": "0",  # materials and the record have smokes of their own (test_bench_materials, _record)
    }
    return subprocess.run(
        ["bash", str(ROOT / "bench" / "run.sh"), "--", "--chat-seconds", "2", "--help-tickets", "5"],
        env=env,
        capture_output=True,
        text=True,
        timeout=280,
        cwd=ROOT,
    )


def check_report(report: dict[str, Any], label: str) -> None:
    """A complete classroom report: every phase ran, nothing lost, duplicated or refused."""
    phases = report["phases"]
    assert report["label"] == label
    assert report["completed"] is True, report["errors"]
    assert report["errors"]["total"] == 0, report["errors"]["samples"]
    assert report["unexpected_disconnects"] == 0
    assert all(v == 0 for v in report["leaks"].values()), report["leaks"]
    assert phases["join"]["connected"] == N and phases["join"]["presence_missing"] == 0
    assert phases["ping"]["received"] == N and phases["ping"]["answers_sent"] == N
    assert phases["ping"]["results_max_answered"] == N and phases["ping"]["close_tally_sum"] == N
    chat = phases["chat"]
    # 10 messages a second for 2 s, and two more sent twice each to check client_id idempotency.
    assert chat["sent"] == 22 and chat["acked"] == 22 and chat["ack_errors"] == 0
    assert (chat["lost"], chat["duplicates"], chat["out_of_order"]) == (0, 0, 0)
    assert chat["idempotency"] == {"sequential_same_ack": True, "concurrent_same_ack": True}
    assert phases["help"]["tickets"] == 5 and phases["help"]["notifications_missing"] == 0
    assert phases["close"]["session_event_received"] == N
    assert phases["close"]["attendance_ok"] is True and phases["close"]["transcript_ok"] is True
    for phase, key in LATENCIES:
        s = phases[phase][key]
        assert s["n"] > 0, (phase, key)
        assert 0 <= s["p50"] <= s["max"], (phase, key, s)
        if "p99" in s:
            assert s["p50"] <= s["p99"] <= s["max"], (phase, key, s)
    assert phases["ping"]["last_answer_to_results_ms"] is not None
    assert report["server"]["cpu_s"] > 0 and report["server"]["peak_rss_mb"] > 10
    assert report["generator"]["cpu_s"] > 0
    assert all("generator_busy" in p and "server_cpu_s" in p for p in phases.values())


def check_output(result: subprocess.CompletedProcess[str], out: Path, setup: str) -> None:
    """The run succeeded, printed both tables and wrote them under the output directory."""
    assert result.returncode == 0, result.stderr[-3000:]
    for row in TABLE_ROWS:
        assert row in result.stdout, row
    for row in SUMMARY_ROWS:
        assert row in result.stdout, row
    assert "project/peer" in result.stdout
    table = (out / setup / "table.txt").read_text()
    assert table.splitlines()[0].split() == ["metric", "peer", "(n=1)", "project", "(n=1)", "project/peer"]
    summary = (out / setup / "summary.md").read_text()
    assert summary.startswith(f"### {setup}: ") and f"N = {N}, 1 round(s)" in summary
    for row in ("errors", "chat sends not acknowledged", "chat copies lost", "chat copies duplicated"):
        assert f"| {row} | 0 | 0 |" in summary, row
    assert f"cpus: {len(os.sched_getaffinity(0))} (" in (out / "machine.txt").read_text()
    for side in ("peer", "project"):
        check_report(json.loads((out / setup / f"{side}-1.json").read_text()), side)


def databases(prefix: str) -> list[str]:
    """Names of PostgreSQL databases starting with prefix."""
    done = subprocess.run(
        ["psql", PG_ADMIN_DSN, "-qAtc", f"SELECT datname FROM pg_database WHERE datname LIKE '{prefix}%'"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return done.stdout.split()


def test_embedded_default_runs_side_by_side_with_the_peer(tmp_path: Path) -> None:
    """One process on SQLite and the peer each play the whole class; every figure is reported."""
    result = run_bench(tmp_path, "embedded")
    check_output(result, tmp_path, "embedded")
    project = json.loads((tmp_path / "embedded" / "project-1.json").read_text())
    assert project["server"]["processes"] == 1
    assert not (tmp_path / "embedded" / "services.json").exists()


def test_two_processes_with_redis_and_postgresql_run_side_by_side_with_the_peer(tmp_path: Path) -> None:
    """`serve --workers 2` on Redis and PostgreSQL plays the class; services are measured, databases dropped."""
    result = run_bench(tmp_path, "cluster")
    check_output(result, tmp_path, "cluster")
    project = json.loads((tmp_path / "cluster" / "project-1.json").read_text())
    assert project["server"]["processes"] >= 3  # the supervisor and two workers
    services = json.loads((tmp_path / "cluster" / "services.json").read_text())
    assert services["postgres"]["backends"] > 0 and services["postgres"]["cpu_s"] > 0
    assert services["redis"]["cpu_s"] > 0
    (db,) = services["postgres"]["by_db"]
    assert db.startswith("companion_bench_")
    assert databases(db) == []


def test_scheduling_bench_measures_a_small_term_on_both_databases(tmp_path: Path) -> None:
    """bench/scheduling.py on a term of 120 sessions: every figure, both plans through the index, nothing left."""
    out, db = tmp_path / "scheduling.json", f"companion_bench_sched_smoke_{os.getpid()}"
    size = ["--sessions", "120", "--instructors", "6", "--roster", "2", "--repeats", "20", "--http-repeats", "10"]
    bench = [str(ROOT / ".venv" / "bin" / "python"), str(ROOT / "bench" / "scheduling.py")]
    result = subprocess.run(
        [*bench, *size, "--pg-name", db, "--out", str(out)],
        env={**os.environ, "BENCH_PG_ADMIN": PG_ADMIN_DSN},
        capture_output=True,
        text=True,
        timeout=240,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["term"]["sessions"] == 120 and report["term"]["instructors"] == 6
    assert 0 < report["term"]["in_series"] < 120 and report["term"]["cancelled"] > 0
    keys = ["series_check", "bookings_read", "instructor_term", "http_get_term", "http_get_none", "http_post_refused"]
    for backend in ("sqlite", "postgresql"):
        r = report["backends"][backend]
        assert sorted(r["figures"]) == sorted(keys), r["figures"]
        for key in keys:
            s = r["figures"][key]
            assert s["n"] == (10 if key.startswith("http") else 20), (backend, key)
            assert 0 < s["p50"] <= s["p95"] <= s["p99"] <= s["max"], (backend, key, s)
        assert r["figures"]["instructor_term"]["rows_mean"] > 0
        assert r["roster_rows"] > 0
        # SQLite (no statistics) always reads one instructor's sessions by the index; PostgreSQL scans a
        # table this small, and uses the index on the full term (docs/performance.md).
        for plan in r["plans"].values():
            assert ("ix_sessions_instructor_start" if backend == "sqlite" else "on sessions") in plan["plan"], plan
            assert "FROM sessions" in plan["sql"] and plan["db_ms"] > 0, plan
        assert f"{backend:<11} series check" in result.stdout
    assert report["core_conflicts_largest_series"]["occurrences"] == 200
    assert databases(db) == []


def test_reminders_bench_sends_a_few_reminders_exactly_once(tmp_path: Path) -> None:
    """bench/reminders.py with 50 reminder mails in 5 sessions: each arrives once, every figure is reported,
    its database is dropped."""
    out, db = tmp_path / "reminders.json", f"companion_bench_reminders_smoke_{os.getpid()}"
    bench = [str(ROOT / ".venv" / "bin" / "python"), str(ROOT / "bench" / "reminders.py")]
    size = ["--reminders", "50", "--per-session", "10", "--lead-s", "12", "--settle-s", "1"]
    result = subprocess.run(
        [*bench, *size, "--pg-name", db, "--json", "--out", str(out)],
        env={**os.environ, "BENCH_PG_ADMIN": PG_ADMIN_DSN},
        capture_output=True,
        text=True,
        timeout=240,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)
    assert report == json.loads(out.read_text())
    assert report["reminders"] == 50 and report["sessions"] == 5
    assert report["all_sent_once"] is True
    assert (report["once"], report["missing"], report["duplicates"], report["unexpected"]) == (50, 0, 0, 0)
    assert report["servers_up_before_due_s"] > 0, "the reminders fell due before the servers were up"
    lat = report["latency_ms"]
    assert lat["n"] == 50 and 0 < lat["p50"] <= lat["p99"] <= lat["max"], lat
    assert report["wall_s"] > 0 and report["mails_per_s"] > 0
    assert report["jobs"]["states"]["reminder-mail:done"]["jobs"] == 50
    assert report["jobs"]["states"]["reminder:done"]["jobs"] == 5
    assert len(report["server_cpu_s"]) == 2
    assert databases(db) == []

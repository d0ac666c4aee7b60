"""Seeing the server run (docs/deploy.md, "Seeing it run"): `GET /metrics` in the Prometheus text format, one
log line per HTTP request and per refused or failed event, as JSON with COMPANION_LOG_FORMAT=json.

The in-process servers of one test run share prometheus-client's registry, so those tests read what changed
across their own actions; the log and the `--workers` tests run `companion serve` as a process of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from core.settings import Settings
from persistence.repos import jobs
from server.cli import _create_token
from tests.services import Postgres, RedisServer
from tests.support import Client, Server, free_port, iso_in, refused, running_server

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    return {
        (s.name, frozenset(s.labels.items())): s.value for f in text_string_to_metric_families(text) for s in f.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def scrape(http: httpx.AsyncClient, **headers: str) -> Samples:
    r = await http.get("/metrics", headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    return parse(r.text)


async def test_metrics_count_connections_events_acks_requests_and_commits(server: Server) -> None:
    s = await server.session()
    people = await server.participants(s["id"], 2)
    before = await scrape(server.http)
    a = await server.connect(people[0]["token"])
    b = await server.connect(people[1]["token"])
    staff = await server.connect(server.admin_token, s["id"])
    await a.ok("chat:send", {"client_id": "metrics-0001", "text": "hello"})
    refused(await b.call("session:start", {}), "forbidden")  # a participant may not start the class
    refused(await b.call("chat:send", {"client_id": 5, "text": "x"}), "invalid")
    await server.api("GET", f"/api/sessions/{s['id']}/chat")
    await server.http.get("/rsvp/not-a-real-token-0123456789")  # a path with a token: named by its template
    after = await scrape(server.http)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("companion_connections", role="participant") == 2
    assert grew("companion_connections", role="admin") == 1
    assert grew("companion_events_total", event="connect", outcome="ok") == 3
    assert grew("companion_events_total", event="chat:send", outcome="ok") == 1
    assert grew("companion_events_total", event="chat:send", outcome="invalid") == 1
    assert grew("companion_events_total", event="session:start", outcome="forbidden") == 1
    assert grew("companion_ack_seconds_count", event="chat:send") == 2
    assert grew("companion_ack_seconds_bucket", event="chat:send", le="+Inf") == 2
    route = "/api/sessions/{session_id}/chat"
    assert grew("companion_http_requests_total", method="GET", route=route, status="200") == 1
    assert grew("companion_http_requests_total", method="GET", route="/rsvp/{token}", status="200") == 1
    assert grew("companion_http_request_seconds_count", method="GET", route=route) == 1
    assert grew("companion_commit_seconds_count") >= 1  # the chat message, at least
    assert grew("companion_commit_writes_total") >= 1
    assert ("companion_jobs_due", frozenset()) in after and ("companion_jobs_late", frozenset()) in after
    assert not any("not-a-real-token" in str(labels) for _, labels in after)
    await a.close()
    await staff.close()
    for _ in range(100):  # a disconnect is handled as the socket closes
        left = await scrape(server.http)
        if value(left, "companion_connections", role="participant") == value(
            before, "companion_connections", role="participant"
        ) + 1 and value(left, "companion_connections", role="admin") == value(
            before, "companion_connections", role="admin"
        ):
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError(f"connections did not fall back: {left}")


async def test_jobs_due_and_late_are_read_from_the_jobs_table(tmp_path: Path) -> None:
    """A job due two minutes ago that nobody runs (its kind has no handler here) is due and late."""
    async with running_server(tmp_path, jobs_every_s=3600) as srv:
        now = srv.service.clock.now()

        async def queue(db: Any) -> None:
            for n, ago in enumerate((timedelta(minutes=2), timedelta(seconds=5))):
                await jobs.schedule(
                    db, kind="nobody-runs-this", key=f"nobody-runs-this:-:x:{n}", session_id=None,
                    due_at=now - ago, payload={}, now=now,
                )  # fmt: skip

        await srv.service.unit.submit(queue)
        samples = await scrape(srv.http)
        assert value(samples, "companion_jobs_due") >= 2
        assert value(samples, "companion_jobs_late") >= 1
        assert value(samples, "companion_jobs_due") - value(samples, "companion_jobs_late") >= 1


async def test_with_a_metrics_token_only_its_bearer_may_scrape(tmp_path: Path) -> None:
    async with running_server(tmp_path, metrics_token="scrape-me-0123456789") as srv:
        r = await srv.http.get("/metrics")
        assert r.status_code == 401 and "COMPANION_METRICS_TOKEN" in r.json()["error"]["message"]
        assert (await srv.http.get("/metrics", headers={"authorization": "Bearer wrong"})).status_code == 401
        admin = await srv.http.get("/metrics", headers={"authorization": f"Bearer {srv.admin_token}"})
        assert admin.status_code == 401  # a staff token is not the scrape token
        await scrape(srv.http, authorization="Bearer scrape-me-0123456789")


# ---------------------------------------------------------------- the log, from a process of its own


def _env(tmp_path: Path, **more: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPANION_")}
    return {
        **env,
        "COMPANION_DATA_DIR": str(tmp_path / "var"),
        "COMPANION_SECRET_KEY": "observability-secret-key-0123456789-abcdef",
        **more,
    }


@contextlib.contextmanager
def serving(tmp_path: Path, env: dict[str, str], *extra: str) -> Iterator[tuple[str, Path, subprocess.Popen[bytes]]]:
    port = free_port()
    log = tmp_path / "server.log"  # the log is stderr; stdout has the "serving on" line for people
    with log.open("wb") as err, (tmp_path / "server.out").open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "serve", "--port", str(port), *extra],
            env={**env, "COMPANION_PUBLIC_URL": f"http://127.0.0.1:{port}"},
            stdout=out,
            stderr=err,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(400):
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            assert proc.poll() is None, log.read_text()[-3000:]
            time.sleep(0.05)
        yield url, log, proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def token(env: dict[str, str]) -> str:
    made = subprocess.run(
        [sys.executable, "-m", "server.cli", "token", "create", "--role", "admin", "--name", "Root"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return made.stdout.split()[-1]


async def test_json_log_has_a_line_per_request_and_per_refused_event_with_session_and_connection(
    tmp_path: Path,
) -> None:
    env = _env(tmp_path, COMPANION_LOG_FORMAT="json")
    admin = token(env)
    with serving(tmp_path, env) as (url, log, _):
        headers = {"authorization": f"Bearer {admin}"}
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=20) as http:
            body = {
                "topic": "Logs",
                "instructor_email": "t@example.org",
                "starts_at": iso_in(30),
                "duration_minutes": 60,
            }
            sid = (await http.post("/api/sessions", json=body)).json()["id"]
            roster = {"participants": [{"name": "Ada", "email": "ada@example.org"}]}
            person = (await http.post(f"/api/sessions/{sid}/participants", json=roster)).json()["participants"][0]
            assert (await http.get("/rsvp/secret-link-token-0123456789abcdef")).status_code == 200
            participant = await Client(url).connect({"token": person["token"]})
            refused(await participant.call("session:start", {}), "forbidden")
            await participant.close()
        for _ in range(100):
            lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
            if any(line.get("event") == "session:start" for line in lines):
                break
            await asyncio.sleep(0.05)
    text = log.read_text()
    assert admin not in text and person["token"] not in text and "secret-link-token" not in text
    records = [json.loads(line) for line in text.splitlines() if line.strip()]  # every line is one JSON object
    assert all({"time", "level", "logger", "message"} <= r.keys() for r in records)
    created = [r for r in records if r.get("route") == "/api/sessions/{session_id}/participants"]
    assert len(created) == 1
    assert created[0]["level"] == "info" and created[0]["method"] == "POST" and created[0]["status"] == 200
    assert created[0]["session_id"] == sid and created[0]["connection_id"].startswith("127.0.0.1:")
    assert isinstance(created[0]["ms"], float) and created[0]["request_id"]
    assert [r["status"] for r in records if r.get("route") == "/rsvp/{token}"] == [200]
    start = [r for r in records if r.get("event") == "session:start"]
    assert len(start) == 1, start
    assert start[0]["level"] == "info" and start[0]["code"] == "forbidden" and start[0]["session_id"] == sid
    assert start[0]["role"] == "participant" and start[0]["connection_id"]


def test_a_bad_log_format_stops_the_command_naming_the_setting(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "server.cli", "serve", "--port", "0"],
        env=_env(tmp_path, COMPANION_LOG_FORMAT="xml"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "COMPANION_LOG_FORMAT must be text or json, not 'xml'" in done.stderr


# ---------------------------------------------------------------- --workers: one scrape sees every worker


@pytest.mark.slow
async def test_with_workers_any_scrape_sums_every_worker_and_forgets_killed_ones(
    tmp_path: Path, postgres: Postgres
) -> None:
    redis = RedisServer(tmp_path)
    redis.start()
    db = await postgres.fresh()
    shared = tmp_path / "metrics"  # where the workers keep their values (server/cli.py empties it first)
    shared.mkdir()
    (shared / "gauge_livesum_999999999.db").write_bytes(b"left by an earlier run")
    env = _env(tmp_path, COMPANION_DATABASE_URL=db, COMPANION_REDIS_URL=redis.url, PROMETHEUS_MULTIPROC_DIR=str(shared))
    _, admin = await _create_token(Settings.from_env(env), "admin", "Root", None)
    clients: list[Client] = []
    try:
        with serving(tmp_path, env, "--workers", "2") as (url, _, proc):
            async with httpx.AsyncClient(base_url=url, headers={"authorization": f"Bearer {admin}"}) as http:
                body = {
                    "topic": "W",
                    "instructor_email": "t@example.org",
                    "starts_at": iso_in(30),
                    "duration_minutes": 60,
                }
                sid = (await http.post("/api/sessions", json=body)).json()["id"]
                roster = {"participants": [{"name": f"P{i}", "email": f"p{i}@example.org"} for i in range(8)]}
                people = (await http.post(f"/api/sessions/{sid}/participants", json=roster)).json()["participants"]
                clients = [await Client(url).connect({"token": p["token"]}) for p in people]
                # Each scrape reaches one worker or the other: every one of them counts all eight.
                for _ in range(6):
                    samples = await scrape(http)
                    assert value(samples, "companion_connections", role="participant") == 8
                assert not (shared / "gauge_livesum_999999999.db").exists()
                children = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True)
                workers = {int(f.stem.rsplit("_", 1)[1]) for f in shared.glob("gauge_livesum_*.db")}
                assert len(workers) == 2 and workers <= {int(p) for p in children.stdout.split()}, workers
                # kill -9 of both (which one holds the sockets is the kernel's choice): the supervisor starts
                # new ones, and their scrape counts none of the dead ones' sockets.
                for pid in workers:
                    os.kill(pid, signal.SIGKILL)
                seen = -1.0
                for _ in range(400):
                    alive = sum(c.sio.connected for c in clients)
                    with contextlib.suppress(httpx.TransportError):
                        seen = value(await scrape(http), "companion_connections", role="participant")
                        if alive == 0 and seen == 0:
                            break
                    await asyncio.sleep(0.05)
                else:
                    raise AssertionError(f"the killed workers' sockets are still counted: {seen}, {alive} open")
    finally:
        for c in clients:
            await c.close()
        redis.stop()
        await postgres.drop(db)

"""One class served by several `companion serve` processes over PostgreSQL and Redis, and their failures.

Real processes, a private redis-server, the machine's PostgreSQL reached through a TCP relay that
the tests can cut (a database that becomes unreachable, not a fake one).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.settings import Settings
from server.cli import _create_token
from tests.services import Postgres, RedisServer
from tests.support import Client, free_port, iso_in

pytestmark = pytest.mark.slow
COMPANION = str(Path(sys.executable).with_name("companion"))


class Relay:
    """A TCP relay process to PostgreSQL; `cut()` kills it (every connection drops), `mend()` starts it again."""

    def __init__(self, target_port: int = 5432) -> None:
        self.port = free_port()
        self.target_port = target_port
        self.proc: subprocess.Popen[bytes] | None = None

    def mend(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.relay", str(self.port), str(self.target_port)], stdout=subprocess.PIPE
        )
        assert self.proc.stdout is not None and self.proc.stdout.readline().strip() == b"ready"

    def cut(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=10)
            if self.proc.stdout is not None:
                self.proc.stdout.close()
            self.proc = None


class Node:
    """One `companion serve` process."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = env
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [COMPANION, "serve", "--port", str(self.port)], env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        async with httpx.AsyncClient() as http:
            for _ in range(400):
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get(f"{self.url}/healthz")).status_code == 200:
                        return
                assert self.proc.poll() is None, self.log.read_text()
                await asyncio.sleep(0.05)
        raise AssertionError(self.log.read_text())

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc is not None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=20)
            self.proc = None


class Cluster:
    def __init__(self, tmp: Path, db_url: str, redis: RedisServer, relay: Relay | None) -> None:
        self.redis = redis
        self.relay = relay
        self.env = {
            **os.environ,
            "COMPANION_DATA_DIR": str(tmp),
            "COMPANION_DATABASE_URL": db_url,
            "COMPANION_REDIS_URL": redis.url,
            "COMPANION_SECRET_KEY": "cluster-secret-key-0123456789-abcdefghijkl",
            "COMPANION_PUBLIC_URL": "http://127.0.0.1:1",
        }
        self.nodes = [Node(self.env, tmp / f"node{i}.log") for i in range(2)]
        self.admin = ""
        self.clients: list[Client] = []

    async def connect(self, node: Node, token: str, session: str | None = None) -> Client:
        auth: dict[str, Any] = {"token": token}
        if session:
            auth["session"] = session
        client = await Client(node.url).connect(auth)
        self.clients.append(client)
        return client

    def http(self, node: Node) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=node.url, headers={"authorization": f"Bearer {self.admin}"}, timeout=20)

    async def klass(self, n: int) -> tuple[str, list[dict[str, Any]]]:
        async with self.http(self.nodes[0]) as http:
            body = {
                "topic": "Cluster",
                "instructor_email": "t@example.org",
                "starts_at": iso_in(5),
                "duration_minutes": 60,
            }
            sid = (await http.post("/api/sessions", json=body)).json()["id"]
            roster = {"participants": [{"name": f"P{i}", "email": f"p{i}@example.org"} for i in range(n)]}
            people = (await http.post(f"/api/sessions/{sid}/participants", json=roster)).json()["participants"]
        return sid, people


@pytest.fixture
async def cluster(tmp_path: Path, postgres: Postgres) -> AsyncIterator[Cluster]:
    redis = RedisServer(tmp_path)
    redis.start()
    relay = Relay()
    relay.mend()
    db = await postgres.fresh()
    c = Cluster(tmp_path, db.replace("127.0.0.1:5432", f"127.0.0.1:{relay.port}"), redis, relay)
    _, c.admin = await _create_token(Settings.from_env(c.env), "admin", "Root", None)
    await asyncio.gather(*(n.start() for n in c.nodes))
    try:
        yield c
    finally:
        for client in c.clients:
            await client.close()
        for n in c.nodes:
            n.kill(signal.SIGTERM)
        relay.cut()
        redis.stop()
        await postgres.drop(db)


async def test_a_checkin_on_one_process_reaches_the_dashboard_on_another(cluster: Cluster) -> None:
    """Presence crosses processes: participant on A, dashboard on B."""
    a, b = cluster.nodes
    sid, people = await cluster.klass(2)
    dashboard = await cluster.connect(b, cluster.admin, sid)
    p0 = await cluster.connect(a, people[0]["token"])
    ack = await p0.call("attendance:checkin", {})
    assert ack["status"] == "present"
    change = await dashboard.wait_for(
        "presence",
        lambda e: any(c["participant_id"] == people[0]["id"] and c["status"] == "present" for c in e["changes"]),
        timeout=3,
    )
    assert change["counts"]["checked_in"] == 1
    state = await dashboard.call("session:state", {})
    assert {p["participant_id"]: p["connected"] for p in state["participants"]} == {
        people[0]["id"]: True,
        people[1]["id"]: False,
    }


async def test_tickets_opened_on_one_process_are_claimed_on_another(cluster: Cluster) -> None:
    """Queue order and positions stay right across processes."""
    a, b = cluster.nodes
    sid, people = await cluster.klass(3)
    support = await cluster.connect(b, cluster.admin, sid)
    ps = [await cluster.connect(a if i % 2 == 0 else b, p["token"]) for i, p in enumerate(people)]
    tickets = [await p.call("help:open", {"category": "camera", "text": f"t{i}"}) for i, p in enumerate(ps)]
    assert [t["position"] for t in tickets] == [1, 2, 3]
    assert (await support.call("help:claim", {"ticket_id": tickets[0]["ticket_id"]}))["ok"] is True
    moved = await ps[2].wait_for("help:ticket", lambda e: e["position"] == 2, timeout=3)
    assert moved["ticket_id"] == tickets[2]["ticket_id"]
    await ps[1].wait_for("help:ticket", lambda e: e["position"] == 1, timeout=3)
    queue = await support.wait_for("help:queue", lambda e: e["tickets"][0]["state"] == "claimed", timeout=3)
    assert [(t["state"], t["position"]) for t in queue["tickets"]] == [
        ("claimed", None),
        ("waiting", 1),
        ("waiting", 2),
    ]


async def test_chat_from_two_processes_gets_one_gapless_order(cluster: Cluster) -> None:
    """Concurrent chat on A and B: seq 1..N without gaps, and every client receives it in that order."""
    a, b = cluster.nodes
    sid, people = await cluster.klass(4)
    ps = [await cluster.connect(a if i % 2 == 0 else b, p["token"]) for i, p in enumerate(people)]
    staff = [await cluster.connect(n, cluster.admin, sid) for n in (a, b)]
    sends = [ps[i % 4].call("chat:send", {"client_id": f"cluster-{i:04d}", "text": f"m{i}"}) for i in range(16)]
    sends += [staff[i % 2].call("chat:send", {"client_id": f"staffmsg-{i:04d}", "text": f"s{i}"}) for i in range(16)]
    acks = await asyncio.gather(*sends)
    assert all(x["ok"] for x in acks), acks
    assert sorted(x["seq"] for x in acks) == list(range(1, 33))
    for client in [*ps, *staff]:
        await client.wait_for("chat", lambda m: True, timeout=3)
        for _ in range(100):
            if len(client.of("chat")) == 32:
                break
            await asyncio.sleep(0.05)
        assert [m["seq"] for m in client.of("chat")] == list(range(1, 33))


async def test_a_revoked_token_closes_its_sockets_on_every_process(cluster: Cluster) -> None:
    """Revoking on A closes the token's sockets on A and on B at once, not at their next connect;
    another staff member's socket on B stays and goes on receiving."""
    a, b = cluster.nodes
    sid, people = await cluster.klass(1)
    async with cluster.http(a) as http:
        body = {"role": "support", "name": "Sam", "email": "sam@example.org"}
        made = (await http.post("/api/tokens", json=body)).json()
    on_a = await cluster.connect(a, made["token"], sid)
    on_b = await cluster.connect(b, made["token"], sid)
    other = await cluster.connect(b, cluster.admin, sid)
    async with cluster.http(a) as http:
        assert (await http.delete(f"/api/tokens/{made['id']}")).status_code in (200, 204)
    for client in (on_a, on_b):
        for _ in range(100):
            if not client.sio.connected:
                break
            await asyncio.sleep(0.05)
        assert not client.sio.connected, "a revoked token's socket stayed open"
    p0 = await cluster.connect(a, people[0]["token"])
    assert (await p0.call("attendance:checkin", {}))["ok"] is True
    await other.wait_for("presence", lambda e: any(c["status"] == "present" for c in e["changes"]), timeout=3)


async def test_a_killed_process_loses_nothing_and_its_people_move_on(cluster: Cluster) -> None:
    """kill -9 of A: acknowledged state survives, A's participants reconnect to B, and A's sockets expire."""
    a, b = cluster.nodes
    sid, people = await cluster.klass(2)
    dashboard = await cluster.connect(b, cluster.admin, sid)
    p0 = await cluster.connect(a, people[0]["token"])
    assert (await p0.call("attendance:checkin", {}))["ok"] is True
    acked = [await p0.call("chat:send", {"client_id": f"before-{i:03d}", "text": f"m{i}"}) for i in range(3)]
    a.kill(signal.SIGKILL)
    # p0's socket on A is gone without a goodbye: the dashboard sees it disconnected within 30 s.
    await dashboard.wait_for(
        "presence",
        lambda e: any(c["participant_id"] == people[0]["id"] and not c["connected"] for c in e["changes"]),
        timeout=35,
    )
    moved = await cluster.connect(b, people[0]["token"])
    state = await moved.call("session:state", {})
    assert state["me"]["status"] == "present"
    history = await moved.call("chat:history", {"after_seq": 0})
    assert [(m["id"], m["seq"]) for m in history["messages"]] == [(x["id"], x["seq"]) for x in acked]
    nxt = await moved.call("chat:send", {"client_id": "after-0001", "text": "on B now"})
    assert nxt["seq"] == 4


async def test_redis_flushed_the_processes_rebuild_from_the_database(cluster: Cluster) -> None:
    """FLUSHALL: the next actions read the session again from the database; presence is re-registered."""
    a, b = cluster.nodes
    sid, people = await cluster.klass(2)
    dashboard = await cluster.connect(b, cluster.admin, sid)
    p0 = await cluster.connect(a, people[0]["token"])
    assert (await p0.call("attendance:checkin", {}))["ok"] is True
    assert (await p0.call("chat:send", {"client_id": "beforeflush", "text": "one"}))["seq"] == 1
    cluster.redis.flush()
    assert (await p0.call("chat:send", {"client_id": "afterflush1", "text": "two"}))["seq"] == 2
    again = await p0.call("chat:send", {"client_id": "beforeflush", "text": "one"})
    assert again["seq"] == 1
    state = await dashboard.call("session:state", {})
    assert {p["participant_id"]: p["status"] for p in state["participants"]}[people[0]["id"]] == "present"
    # Each process re-registers its sockets on its next refresh (every 8 s).
    for _ in range(120):
        state = await dashboard.call("session:state", {})
        if state["counts"]["connected"] == 1:
            break
        await asyncio.sleep(0.25)
    assert state["counts"]["connected"] == 1


async def test_redis_restarts_the_processes_reconnect(cluster: Cluster) -> None:
    """Redis stops: changes answer unavailable and /healthz says 503; when it is back, all works again."""
    a, _ = cluster.nodes
    _sid, people = await cluster.klass(1)
    p0 = await cluster.connect(a, people[0]["token"])
    cluster.redis.stop()
    ack = await p0.call("chat:send", {"client_id": "whileredisdown", "text": "lost?"})
    assert ack["ok"] is False and ack["error"]["code"] == "unavailable"
    async with cluster.http(a) as http:
        health = await http.get("/healthz")
        assert health.status_code == 503 and "redis" in health.json()["failing"]
        cluster.redis.start()
        for _ in range(100):
            if (await http.get("/healthz")).status_code == 200:
                break
            await asyncio.sleep(0.1)
        assert (await http.get("/healthz")).status_code == 200
    p1 = await cluster.connect(a, people[0]["token"])
    ok = await p1.call("chat:send", {"client_id": "whileredisdown", "text": "lost?"})
    assert ok["ok"] is True and ok["seq"] == 1


async def test_database_unreachable_answers_unavailable_and_recovers(cluster: Cluster) -> None:
    """The database cut: no false ok, /healthz 503; mended: the service recovers by itself."""
    a, _ = cluster.nodes
    sid, people = await cluster.klass(1)
    p0 = await cluster.connect(a, people[0]["token"])
    assert (await p0.call("chat:send", {"client_id": "beforecut01", "text": "one"}))["seq"] == 1
    cluster.relay.cut()
    ack = await p0.call("chat:send", {"client_id": "duringcut01", "text": "two"}, timeout=30)
    assert ack["ok"] is False and ack["error"]["code"] == "unavailable"
    async with cluster.http(a) as http:
        health = await http.get("/healthz")
        assert health.status_code == 503 and "database" in health.json()["failing"]
        cluster.relay.mend()
        for _ in range(100):
            if (await http.get("/healthz")).status_code == 200:
                break
            await asyncio.sleep(0.1)
        assert (await http.get("/healthz")).status_code == 200
        ack = await p0.call("chat:send", {"client_id": "duringcut01", "text": "two"})
        assert ack["ok"] is True and ack["seq"] == 2
        log = (await http.get(f"/api/sessions/{sid}/chat")).json()["messages"]
        assert [m["text"] for m in log] == ["one", "two"]


async def test_workers_serve_one_class_on_one_port(tmp_path: Path, postgres: Postgres) -> None:
    """`companion serve --workers 2`: two processes behind one port, one class, one chat order."""
    redis = RedisServer(tmp_path)
    redis.start()
    db = await postgres.fresh()
    cluster = Cluster(tmp_path, db, redis, relay=None)
    _, cluster.admin = await _create_token(Settings.from_env(cluster.env), "admin", "Root", None)
    node = cluster.nodes[0]
    with node.log.open("ab") as out:
        node.proc = subprocess.Popen(
            [COMPANION, "serve", "--port", str(node.port), "--workers", "2"],
            env=cluster.env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        async with httpx.AsyncClient() as http:
            for _ in range(400):
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get(f"{node.url}/healthz")).status_code == 200:
                        break
                await asyncio.sleep(0.05)
        children = subprocess.run(["pgrep", "-P", str(node.proc.pid)], capture_output=True, text=True).stdout.split()
        assert len(children) >= 2, children
        sid, people = await cluster.klass(6)
        ps = [await cluster.connect(node, p["token"]) for p in people]
        dashboard = await cluster.connect(node, cluster.admin, sid)
        acks = await asyncio.gather(
            *(p.call("chat:send", {"client_id": f"worker-{i:04d}", "text": f"m{i}"}) for i, p in enumerate(ps))
        )
        assert sorted(a["seq"] for a in acks) == list(range(1, 7))
        for _ in range(100):
            if len(dashboard.of("chat")) == 6:
                break
            await asyncio.sleep(0.05)
        assert [m["seq"] for m in dashboard.of("chat")] == list(range(1, 7))
        state = await dashboard.call("session:state", {})
        assert state["counts"]["connected"] == 6
    finally:
        for c in cluster.clients:
            await c.close()
        node.kill(signal.SIGTERM)
        redis.stop()
        await postgres.drop(db)


async def test_workers_refuse_to_start_without_redis(tmp_path: Path) -> None:
    """Several processes without shared live state would split a class: refused with a reason."""
    env = {**os.environ, "COMPANION_DATA_DIR": str(tmp_path), "COMPANION_SECRET_KEY": "x" * 40}
    env.pop("COMPANION_REDIS_URL", None)
    out = subprocess.run(
        [COMPANION, "serve", "--port", str(free_port()), "--workers", "2"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.returncode == 2 and "COMPANION_REDIS_URL" in out.stderr

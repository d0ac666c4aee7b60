"""docs/deploy/nginx.conf in front of two `companion serve` processes works as documented."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import signal
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from core.settings import Settings
from server.cli import _create_token
from tests.services import Postgres, RedisServer
from tests.support import Client, free_port
from tests.test_cluster import Cluster, Node

pytestmark = pytest.mark.slow
CONF = Path(__file__).resolve().parent.parent / "docs" / "deploy" / "nginx.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


@pytest.fixture
async def proxied(tmp_path: Path, postgres: Postgres) -> AsyncIterator[tuple[Cluster, str]]:
    if not Path(NGINX).exists():
        pytest.skip("nginx is not installed (scripts/services.sh installs it)")
    redis = RedisServer(tmp_path)
    redis.start()
    db = await postgres.fresh()
    cluster = Cluster(tmp_path, db, redis, relay=None)
    _, cluster.admin = await _create_token(Settings.from_env(cluster.env), "admin", "Root", None)
    await asyncio.gather(*(n.start() for n in cluster.nodes))
    port = free_port()
    upstreams = "\n        ".join(f"server 127.0.0.1:{n.port};" for n in cluster.nodes)
    conf = CONF.read_text().replace("{listen}", str(port)).replace("{upstreams}", upstreams)
    conf = conf.replace("{prefix}", str(tmp_path))
    (tmp_path / "nginx.conf").write_text(conf)
    nginx = subprocess.Popen(
        [
            NGINX,
            "-p",
            str(tmp_path),
            "-e",
            str(tmp_path / "error.log"),
            "-c",
            str(tmp_path / "nginx.conf"),
            "-g",
            "daemon off;",
        ],
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient() as http:
            for _ in range(100):
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get(f"{url}/healthz")).status_code == 200:
                        break
                assert nginx.poll() is None, (tmp_path / "error.log").read_text()
                await asyncio.sleep(0.05)
            else:
                raise AssertionError("nginx did not answer /healthz")
        yield cluster, url
    finally:
        for c in cluster.clients:
            await c.close()
        nginx.send_signal(signal.SIGQUIT)
        nginx.wait(timeout=10)
        assert nginx.stderr is not None
        nginx.stderr.close()
        for n in cluster.nodes:
            n.kill(signal.SIGTERM)
        redis.stop()
        await postgres.drop(db)


async def test_participants_through_nginx_share_one_class(proxied: tuple[Cluster, str]) -> None:
    """Connections spread over both processes through the proxy, and all see one chat and one roster."""
    cluster, url = proxied
    sid, people = await cluster.klass(6)
    proxy = Node(cluster.env, Path("/dev/null"))
    proxy.url = url
    dashboard = await cluster.connect(proxy, cluster.admin, sid)
    ps: list[Client] = [await cluster.connect(proxy, p["token"]) for p in people]
    for p in ps:
        assert (await p.call("attendance:checkin", {}))["ok"] is True
    acks = await asyncio.gather(
        *(p.call("chat:send", {"client_id": f"via-nginx-{i}", "text": f"m{i}"}) for i, p in enumerate(ps))
    )
    assert sorted(a["seq"] for a in acks) == list(range(1, 7))
    for client in [dashboard, *ps]:
        for _ in range(100):
            if len(client.of("chat")) == 6:
                break
            await asyncio.sleep(0.05)
        assert [m["seq"] for m in client.of("chat")] == list(range(1, 7))
    state = await dashboard.call("session:state", {})
    assert state["counts"]["checked_in"] == 6 and state["counts"]["connected"] == 6
    # least_conn spread the sockets: nginx holds established connections to both processes.
    served = [_established_to(n.port) for n in cluster.nodes]
    assert all(count > 0 for count in served), served


def _established_to(port: int) -> int:
    """Established TCP connections to a local port (from `ss`, iproute2)."""
    out = subprocess.run(
        ["ss", "-Htn", "state", "established", f"( dport = :{port} )"], capture_output=True, text=True, check=True
    ).stdout
    return len(out.splitlines())

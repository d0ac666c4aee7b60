"""The `companion` command as a user runs it: demo links that work, the address it serves on, a taken port."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx

from tests.support import running_server

COMPANION = str(Path(sys.executable).with_name("companion"))
SECRET = "test-secret-key-that-is-long-enough-0123456789"  # the one tests.support.running_server uses


async def test_demo_prints_links_that_open_a_working_class(tmp_path: Path) -> None:
    """`companion demo --seed-only` seeds a session; its dashboard, support and participant links connect."""
    env = {
        **os.environ,
        "COMPANION_DATA_DIR": str(tmp_path),
        "COMPANION_SECRET_KEY": SECRET,
        "COMPANION_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'test.db'}",
    }
    out = subprocess.run(
        [COMPANION, "demo", "--seed-only", "--minutes", "2"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    links = re.findall(r"(http://\S+/(join|dashboard|support)/(\w+)#token=(\S+))", out)
    kinds = [kind for _, kind, _, _ in links]
    assert kinds.count("dashboard") == 1 and kinds.count("support") == 1 and kinds.count("join") == 5
    async with running_server(tmp_path) as srv:  # the same database and key as the demo's
        assert srv.settings.secret_key == SECRET
        by_kind = {kind: (sid, token) for _, kind, sid, token in links}
        sid, token = by_kind["dashboard"]
        dashboard = await srv.connect(token, sid)
        state = await dashboard.call("session:state", {})
        assert state["me"]["role"] == "instructor" and state["counts"]["expected"] == 5
        support = await srv.connect(by_kind["support"][1], sid)
        assert (await support.call("session:state", {}))["me"]["role"] == "support"
        participant = await srv.connect(by_kind["join"][1])
        assert (await participant.call("attendance:checkin", {}))["status"] == "present"  # check-in is open
        page = await srv.http.get(f"/join/{sid}")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]


def cli_env(tmp_path: Path) -> dict[str, str]:
    """The embedded default under tmp_path, with no COMPANION_* configuration from outside."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPANION_")}
    return {**env, "COMPANION_DATA_DIR": str(tmp_path / "var")}


def test_a_port_in_use_is_said_plainly_and_nothing_claims_to_serve(tmp_path: Path) -> None:
    """`companion serve` on a taken port exits 1 with a message naming the port, and never says "serving on"."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "server.cli", "serve", "--port", str(port)],
            env=cli_env(tmp_path),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1, done.stderr
    assert "serving on" not in done.stdout
    assert f"companion: cannot listen on 127.0.0.1:{port}: the port is already in use" in done.stderr
    assert "--port N (make run PORT=N)" in done.stderr


def test_serve_announces_localhost_with_the_real_port_and_invitations_follow_it(tmp_path: Path) -> None:
    """`serve --port 0` prints http://localhost:<the port it got> once it answers; `staff invite` beside it
    (same data directory, no public URL configured) prints links to that port; SIGTERM stops it with 0."""
    env = cli_env(tmp_path)
    before = subprocess.run(
        [sys.executable, "-m", "server.cli", "staff", "invite", "--email", "a@example.org", "--role", "admin"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert before.stdout.splitlines()[-1].startswith("http://localhost:8000/enroll#token=")  # nothing served yet
    proc = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "serve", "--port", "0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        found = re.fullmatch(r"Companion serving on http://localhost:(\d+)\n", line)
        assert found, line
        port = int(found.group(1))
        assert port != 0
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).json() == {"status": "ok"}  # no retry
        after = subprocess.run(
            [sys.executable, "-m", "server.cli", "staff", "invite", "--email", "b@example.org", "--role", "support"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        assert after.stdout.splitlines()[-1].startswith(f"http://localhost:{port}/enroll#token=")
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
        assert proc.stdout is not None
        proc.stdout.close()


def test_a_bad_platform_catalogue_stops_serve_naming_the_key(tmp_path: Path) -> None:
    catalogue = tmp_path / "platforms.toml"
    catalogue.write_text('[platforms.zoom]\nname = "Zoom"\nfeatures = ["screen_share", "teleport"]\n', encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "server.cli", "serve", "--port", "0"],
        env={**cli_env(tmp_path), "COMPANION_PLATFORMS": str(catalogue)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert "serving on" not in done.stdout
    assert "platforms.zoom.features[1]: 'teleport' is not one of" in done.stderr

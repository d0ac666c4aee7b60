"""The `companion` command as a user runs it: demo links that work."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.support import start_server

COMPANION = str(Path(sys.executable).with_name("companion"))
SECRET = "test-secret-key-that-is-long-enough-0123456789"  # the one tests.support.start_server uses


async def test_demo_prints_links_that_open_a_working_class(tmp_path: Path) -> None:
    """`companion demo --seed-only` seeds a session; its dashboard, support and participant links connect."""
    env = {**os.environ, "COMPANION_DATA_DIR": str(tmp_path), "COMPANION_SECRET_KEY": SECRET,
           "COMPANION_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"}
    out = subprocess.run([COMPANION, "demo", "--seed-only", "--minutes", "2"], env=env, capture_output=True,
                         text=True, timeout=60, check=True).stdout
    links = re.findall(r"(http://\S+/(join|dashboard|support)/(\w+)#token=(\S+))", out)
    kinds = [kind for _, kind, _, _ in links]
    assert kinds.count("dashboard") == 1 and kinds.count("support") == 1 and kinds.count("join") == 5
    srv, uv, task = await start_server(tmp_path)  # the same database and key as the demo's
    assert srv.settings.secret_key == SECRET
    try:
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
    finally:
        for c in srv.clients:
            await c.close()
        await srv.http.aclose()
        uv.should_exit = True
        await task

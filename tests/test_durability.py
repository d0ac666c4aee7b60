"""What was acknowledged survives kill -9 of the server process; SIGTERM stops it cleanly."""

from __future__ import annotations

import asyncio
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
from tests.support import Client, free_port, iso_in

pytestmark = pytest.mark.slow
COMPANION = str(Path(sys.executable).with_name("companion"))


class Process:
    """`companion serve` as a real subprocess on a free port."""

    def __init__(self, tmp: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "COMPANION_DATA_DIR": str(tmp),
            "COMPANION_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'durable.db'}",
            "COMPANION_SECRET_KEY": "durability-secret-key-0123456789-abcdefghij",
        }
        self.log = tmp / "server.log"
        self.proc: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [COMPANION, "serve", "--port", str(self.port)], env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        async with httpx.AsyncClient() as http:
            for _ in range(300):
                try:
                    if (await http.get(f"{self.url}/healthz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                assert self.proc.poll() is None, self.log.read_text()
                await asyncio.sleep(0.05)
        raise AssertionError(f"server did not start: {self.log.read_text()}")

    def kill(self, sig: int = signal.SIGKILL) -> int:
        assert self.proc is not None
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout=20)
        self.proc = None
        return code

    def settings(self) -> Settings:
        return Settings.from_env(self.env, port=self.port)


@pytest.fixture
async def process(tmp_path: Path) -> AsyncIterator[Process]:
    p = Process(tmp_path)
    yield p
    if p.proc is not None:
        p.kill()


async def _connect(url: str, token: str, session: str | None = None) -> Client:
    auth: dict[str, Any] = {"token": token}
    if session:
        auth["session"] = session
    return await Client(url).connect(auth)


async def test_everything_acknowledged_survives_kill_9(process: Process) -> None:
    """Check-ins, marks, chat, answers, tickets and the session's start survive kill -9 and a restart."""
    _, admin = await _create_token(process.settings(), "admin", "Root", None)
    await process.start()
    h = {"authorization": f"Bearer {admin}"}
    async with httpx.AsyncClient(base_url=process.url, headers=h) as http:
        body = {"topic": "Durable", "instructor_email": "t@example.org", "starts_at": iso_in(5), "duration_minutes": 60}
        sid = (await http.post("/api/sessions", json=body)).json()["id"]
        people = (
            await http.post(
                f"/api/sessions/{sid}/participants",
                json={"participants": [{"name": f"P{i}", "email": f"p{i}@example.org"} for i in range(4)]},
            )
        ).json()["participants"]

        staff = await _connect(process.url, admin, sid)
        assert (await staff.call("session:start", {}))["session"]["status"] == "live"
        ps = [await _connect(process.url, p["token"]) for p in people]
        for p in ps[:3]:
            assert (await p.call("attendance:checkin", {}))["ok"] is True
        assert (await staff.call("attendance:mark", {"participant_id": people[3]["id"], "status": "excused"}))["ok"]
        ping = await staff.call("ping:launch", {"kind": "rating", "question": "How is it?", "seconds": 600})
        for i, p in enumerate(ps):
            assert (await p.call("ping:answer", {"ping_id": ping["ping_id"], "answer": i + 1}))["ok"] is True
        ticket = await ps[0].call("help:open", {"category": "microphone", "text": "no sound"})
        acked = []
        for i in range(12):
            ack = await ps[i % 4].call("chat:send", {"client_id": f"durable-{i:03d}", "text": f"message {i}"})
            assert ack["ok"] is True
            acked.append((ack["id"], ack["seq"], f"message {i}"))
        # The very last acknowledgement, then the crash, with nothing in between.
        process.kill(signal.SIGKILL)

        await process.start()
        log = (await http.get(f"/api/sessions/{sid}/chat")).json()["messages"]
        assert [(m["id"], m["seq"], m["text"]) for m in log] == acked
        session = (await http.get(f"/api/sessions/{sid}")).json()
        assert session["status"] == "live" and session["started_at"] is not None
        rows = {r["participant_id"]: r for r in (await http.get(f"/api/sessions/{sid}/attendance")).json()["rows"]}
        assert [rows[p["id"]]["status"] for p in people] == ["present", "present", "present", "excused"]
        assert all(rows[p["id"]]["checked_in_at"] for p in people[:3])
        assert all(rows[p["id"]]["pings_answered"] == 1 for p in people)

        staff = await _connect(process.url, admin, sid)
        state = await staff.call("session:state", {})
        assert [t["ticket_id"] for t in state["tickets"]] == [ticket["ticket_id"]]
        assert state["pings"][0]["ping_id"] == ping["ping_id"]
        assert state["pings"][0]["tally"]["mean"] == 2.5
        # Nobody is connected now: the sockets of the dead process do not stay "connected".
        assert state["counts"]["connected"] == 0
        # The chat goes on without a gap or a reused number, and a resend is still recognised.
        p0 = await _connect(process.url, people[0]["token"])
        again = await p0.call("chat:send", {"client_id": "durable-000", "text": "message 0"})
        assert (again["id"], again["seq"]) == acked[0][:2]
        nxt = await p0.call("chat:send", {"client_id": "durable-next", "text": "after the crash"})
        assert nxt["seq"] == len(acked) + 1
        close = await http.post(f"/api/sessions/{sid}/close")
        assert close.status_code == 200
        for c in (staff, p0):
            await c.close()
        process.kill(signal.SIGTERM)


async def test_sigterm_stops_cleanly_and_the_session_stays_recoverable(process: Process) -> None:
    """SIGTERM ends the process with status 0; the live session is served again after a restart."""
    _, admin = await _create_token(process.settings(), "admin", "Root", None)
    await process.start()
    h = {"authorization": f"Bearer {admin}"}
    async with httpx.AsyncClient(base_url=process.url, headers=h) as http:
        body = {"topic": "Graceful", "instructor_email": "t@x.org", "starts_at": iso_in(5), "duration_minutes": 60}
        sid = (await http.post("/api/sessions", json=body)).json()["id"]
        roster = {"participants": [{"name": "A", "email": "a@example.org"}]}
        person = (await http.post(f"/api/sessions/{sid}/participants", json=roster)).json()["participants"][0]
        p = await _connect(process.url, person["token"])
        assert (await p.call("attendance:checkin", {}))["status"] == "present"
        assert process.kill(signal.SIGTERM) == 0
        await process.start()
        p = await _connect(process.url, person["token"])
        state = await p.call("session:state", {})
        assert state["me"]["status"] == "present"
        await p.close()


async def test_a_booked_series_its_changes_cancellations_and_audit_survive_kill_9(process: Process) -> None:
    """Each answered scheduling call is on disk: the series, the moved rest of it, a cancellation with its
    audit entry, an imported roster with its zones; and a refused booking left nothing behind."""
    _, admin = await _create_token(process.settings(), "admin", "Root", None)
    await process.start()
    h = {"authorization": f"Bearer {admin}"}
    async with httpx.AsyncClient(base_url=process.url, headers=h) as http:
        body = {
            "topic": "Durable series",
            "instructor_email": "t@example.org",
            "starts_at": "2038-03-16T10:00:00+01:00",
            "duration_minutes": 60,
            "timezone": "Europe/Berlin",
            "recurrence": {"freq": "weekly", "count": 6},
        }
        made = (await http.post("/api/sessions", json=body)).json()
        ids = [s["id"] for s in made["sessions"]]
        moved = await http.patch(
            f"/api/sessions/{ids[2]}", params={"scope": "following"}, json={"starts_at": "2038-03-30T11:00:00+02:00"}
        )
        assert moved.status_code == 200, moved.text
        cancel = await http.post(f"/api/sessions/{ids[5]}/cancel", json={"reason": "holiday"})
        assert cancel.status_code == 200, cancel.text
        roster = await http.post(
            f"/api/sessions/{ids[0]}/participants.csv",
            content=b"name;email;timezone\nAda;ada@example.org;Asia/Tokyo\n",
            headers={"content-type": "text/csv"},
        )
        assert roster.status_code == 200, roster.text
        refused = await http.post("/api/sessions", json={**body, "topic": "Clash"})
        assert refused.status_code == 409
        process.kill(signal.SIGKILL)

        await process.start()
        sessions = (await http.get("/api/sessions")).json()["sessions"]
        assert [s["id"] for s in sessions] == ids
        assert [s["starts_at"] for s in sessions] == [
            "2038-03-16T09:00:00.000Z",
            "2038-03-23T09:00:00.000Z",
            "2038-03-30T09:00:00.000Z",  # 11:00 in Berlin, summer time from 28 March
            "2038-04-06T09:00:00.000Z",
            "2038-04-13T09:00:00.000Z",
            "2038-04-20T09:00:00.000Z",
        ]
        assert [s["status"] for s in sessions] == ["scheduled"] * 5 + ["cancelled"]
        assert len({s["series_id"] for s in sessions[2:]}) == 1 and sessions[2]["series_id"] != made["series_id"]
        people = (await http.get(f"/api/sessions/{ids[0]}/participants")).json()["participants"]
        assert [(p["email"], p["timezone"]) for p in people] == [("ada@example.org", "Asia/Tokyo")]
        entries = (await http.get("/api/audit")).json()["entries"]
        assert [(e["action"], e["session_id"], e["detail"]["reason"]) for e in entries] == [
            ("cancel", ids[5], "holiday")
        ]
        process.kill(signal.SIGTERM)

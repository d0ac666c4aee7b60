"""The session record at close: a class of 2,000 with 500 chat messages, and how long the record takes.

Against a real `companion serve` (SQLite, the embedded default) on loopback:

1. A session with `--participants` (2,000) on the roster, `--connected` (500) of them connected over
   Socket.IO and checked in, `--chat` (500) chat messages from `--chat` / 5 people (five each, inside the
   chat allowance), a ping every connected person answers, one file shared.
2. Close it over HTTP (the answer comes once the sheet is saved), then poll `GET /record` every 20 ms:
   the time from the close's answer to version 1 being listed, the record's size and files; then the
   zip is downloaded and every file checked against the manifest.
3. `--feedback` (2,000) participants answer the feedback form by their personal links, arriving evenly
   over `--feedback-seconds` (60): each answer's latency (p50, p99, max) and status; then the time until
   the record's version 2 (which gathers the answers) is listed.

    .venv/bin/python bench/record.py [--participants 2000] [--connected 500] [--chat 500]
                                     [--feedback 2000] [--feedback-seconds 60] [--json OUT]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import io
import json
import os
import sys
import tempfile
import time
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import socketio

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.scheduling import machine, served, session_with_roster  # the same `companion serve` harness
from core.feedback import make_token


async def connect(base: str, token: str, session: str | None = None) -> socketio.AsyncClient:
    client = socketio.AsyncClient(reconnection=False)
    auth: dict[str, Any] = {"token": token} | ({"session": session} if session else {})
    await client.connect(base, auth=auth, transports=["websocket"], wait_timeout=30)
    return client


async def ok(client: socketio.AsyncClient, event: str, data: Any) -> dict[str, Any]:
    answer = await client.call(event, data, timeout=60)
    if not (isinstance(answer, dict) and answer.get("ok") is True):
        raise RuntimeError(f"{event}: {answer}")
    return answer


def answers_for(form: dict[str, Any], n: int) -> dict[str, Any]:
    """A valid answer to every question of the form (varied by n)."""
    out: dict[str, Any] = {}
    for q in form["questions"]:
        options = q.get("options") or []
        out[q["id"]] = {
            "rating": 1 + n % 5,
            "yesno": n % 3 == 0,
            "choice": options[n % len(options)] if options else None,
            "multi": options[: 1 + n % max(1, len(options))] if options else [],
            "text": f"answer {n}: the pace was fine",
        }[q["kind"]]
    return out


async def feedback_wave(base: str, links: list[str], seconds: float) -> dict[str, Any]:
    """Every link answers once, arriving evenly over `seconds`; each answer's latency."""
    when: list[tuple[float, float]] = []  # (latency s, sent at s) of each answer
    statuses: dict[str, int] = {}
    async with aiohttp.ClientSession(base_url=base, connector=aiohttp.TCPConnector(limit=0)) as client:
        async with client.get(f"/api/feedback/{links[0]}") as r:
            form = (await r.json())["form"]
        start = time.perf_counter()

        async def one(n: int, link: str) -> None:
            await asyncio.sleep(max(0.0, start + n * seconds / len(links) - time.perf_counter()))
            t = time.perf_counter()
            async with client.post(f"/api/feedback/{link}", json={"answers": answers_for(form, n)}) as r:
                await r.read()
                statuses[str(r.status)] = statuses.get(str(r.status), 0) + 1
            when.append((time.perf_counter() - t, round(t - start, 2)))

        await asyncio.gather(*(one(n, link) for n, link in enumerate(links)))
        took = time.perf_counter() - start
    ms = sorted(round(latency * 1000, 1) for latency, _ in when)
    return {
        "n": len(links),
        "over_s": round(took, 1),
        "statuses": statuses,
        "p50_ms": ms[len(ms) // 2],
        "p99_ms": ms[min(len(ms) - 1, int(len(ms) * 0.99))],
        "max_ms": ms[-1],
        "slowest": [(round(latency, 3), at) for latency, at in sorted(when, reverse=True)[:15]],
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    secret = os.urandom(32).hex()
    with tempfile.TemporaryDirectory(prefix="companion-record-") as tmp:
        url_db = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        with served(url_db, Path(tmp), secret=secret) as (_proc, port, token):
            base = f"http://127.0.0.1:{port}"
            auth = {"authorization": f"Bearer {token}"}
            async with httpx.AsyncClient(base_url=base, timeout=300, headers=auth) as http:
                soon = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()  # check-in is open
                session_id, roster = await session_with_roster(http, auth, args.participants, soon)
                tokens = [p["token"] for p in roster]
                ids = [p["id"] for p in roster]
                pdf = b"%PDF-1.7\n" + os.urandom(2 * 1024 * 1024)
                r = await http.post(
                    f"/api/sessions/{session_id}/materials", files={"file": ("slides.pdf", pdf, "application/pdf")}
                )
                r.raise_for_status()

                staff = await connect(base, token, session_id)
                await ok(staff, "session:start", {})
                tabs: list[socketio.AsyncClient] = []
                gate = asyncio.Semaphore(50)

                async def join(t: str) -> None:
                    async with gate:
                        c = await connect(base, t)
                        await ok(c, "attendance:checkin", {})
                        tabs.append(c)

                await asyncio.gather(*(join(t) for t in tokens[: args.connected]))
                ping = await ok(staff, "ping:launch", {"kind": "rating", "question": "How is it?", "seconds": 600})
                await asyncio.gather(
                    *(
                        ok(c, "ping:answer", {"ping_id": ping["ping_id"], "answer": 1 + n % 5})
                        for n, c in enumerate(tabs)
                    )
                )
                senders = tabs[: max(1, args.chat // 5)]
                await asyncio.gather(
                    *(
                        ok(c, "chat:send", {"client_id": f"bench-{n:04d}-{k}", "text": f"message {k} from {n}"})
                        for n, c in enumerate(senders)
                        for k in range(5)
                    )
                )

                started = time.perf_counter()
                r = await http.post(f"/api/sessions/{session_id}/close")
                r.raise_for_status()
                closed = time.perf_counter()
                while True:
                    versions = (await http.get(f"/api/sessions/{session_id}/record")).json()["versions"]
                    if versions:
                        break
                    if time.perf_counter() - closed > 300:
                        raise RuntimeError("no record within 5 minutes")
                    await asyncio.sleep(0.02)
                built = time.perf_counter()
                z = await http.get(f"/api/sessions/{session_id}/record.zip")
                z.raise_for_status()
                archive = zipfile.ZipFile(io.BytesIO(z.content))
                manifest = json.loads(archive.read("manifest.json"))
                sums_ok = all(
                    hashlib.sha256(archive.read(f["name"])).hexdigest() == f["sha256"] for f in manifest["files"]
                )
                chat = len(json.loads(archive.read("chat.json"))["messages"])
                rows = archive.read("attendance.csv").decode().count("\r\n") - 1
                for c in [staff, *tabs]:
                    await c.disconnect()
                wave = None
                second = None
                if args.feedback:
                    links = [make_token(secret, session_id, pid) for pid in ids[: args.feedback]]
                    wave = await feedback_wave(base, links, args.feedback_seconds)
                    answered = time.perf_counter()
                    while (
                        len(versions := (await http.get(f"/api/sessions/{session_id}/record")).json()["versions"]) < 2
                    ):
                        if time.perf_counter() - answered > 300:
                            raise RuntimeError("no version 2 within 5 minutes")
                        await asyncio.sleep(0.05)
                    second = round(time.perf_counter() - answered, 1)
    return {
        "machine": machine(),
        "class": {"participants": args.participants, "connected": args.connected, "chat": chat, "sheet_rows": rows},
        "close_s": round(closed - started, 3),
        "record_after_close_s": round(built - closed, 3),
        "record_bytes": versions[0]["size"],
        "files": len(manifest["files"]) + 1,
        "sums_ok": sums_ok,
        "feedback": wave,
        "version_2_after_last_answer_s": second,  # includes the 30 s the rebuild waits to gather answers
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--participants", type=int, default=2000)
    parser.add_argument("--connected", type=int, default=500)
    parser.add_argument("--chat", type=int, default=500)
    parser.add_argument("--feedback", type=int, default=2000, help="answers to the feedback form (0: none)")
    parser.add_argument("--feedback-seconds", type=float, default=60.0)
    parser.add_argument("--json", type=Path, default=None, help="write the report here too")
    args = parser.parse_args(argv)
    report = asyncio.run(run(args))
    text = json.dumps(report, indent=2)
    print(text)
    if args.json is not None:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()

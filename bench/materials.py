"""Materials under load: a 50 MB upload's server memory and throughput, and 2,000 tabs listing materials at once.

Against a real `companion serve` (SQLite, the embedded default) on loopback:

1. Upload `--upload-mb` (50) MB as one multipart request, streamed by the client from a generator (so
   the client holds little too). The server's peak RSS (VmHWM from /proc) before and after says whether
   the upload was held in memory; the bytes on disk are checked against their SHA-256.
2. `--participants` (2,000) participants, each with their own token, GET the session's materials at
   once (`--concurrency` connections in flight); the listing's p50/p99/max, and every answer 200.

    .venv/bin/python bench/materials.py [--upload-mb 50] [--participants 2000] [--json OUT]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.scheduling import machine, served, session_with_roster  # the same `companion serve` harness

BLOCK = 1024 * 1024


def peak_rss_mb(pid: int) -> tuple[float, float]:
    """(current RSS, peak RSS) of a process in MB, from /proc/PID/status."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


async def upload(client: httpx.AsyncClient, token: str, session_id: str, mb: int) -> dict[str, Any]:
    """One upload of `mb` MB of a PDF, streamed; answers the time, the throughput and the server's answer."""
    boundary = "benchboundary"
    digest = hashlib.sha256()
    head = b"%PDF-1.7\n"

    async def body() -> AsyncIterator[bytes]:
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        block = head + os.urandom(BLOCK - len(head))
        for n in range(mb):
            chunk = block if n == 0 else os.urandom(BLOCK)
            digest.update(chunk)
            yield chunk
        yield f"\r\n--{boundary}--\r\n".encode()

    size = mb * BLOCK
    started = time.perf_counter()
    r = await client.post(
        f"/api/sessions/{session_id}/materials",
        content=body(),
        headers={
            "authorization": f"Bearer {token}",
            "content-type": f"multipart/form-data; boundary={boundary}",
        },
        timeout=600,
    )
    took = time.perf_counter() - started
    answer = r.json()
    return {
        "status": r.status_code,
        "seconds": round(took, 3),
        "mb_per_s": round(size / BLOCK / took, 1),
        "size": size,
        "sha256_ok": answer.get("sha256") == digest.hexdigest(),
        "answer": {k: answer.get(k) for k in ("size", "sha256", "content_type")},
    }


async def listing(url: str, tokens: list[str], session_id: str, concurrency: int) -> dict[str, Any]:
    """Every participant GETs the materials at once; latencies in ms.

    The client is aiohttp: httpx spent ~9 ms of the bench's own CPU a request and was the bottleneck.
    """
    gate = asyncio.Semaphore(concurrency)
    samples: list[float] = []
    statuses: dict[int, int] = {}
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(base_url=url, connector=connector) as client:

        async def one(token: str) -> None:
            async with gate:
                t0 = time.perf_counter()
                async with client.get(
                    f"/api/sessions/{session_id}/materials", headers={"authorization": f"Bearer {token}"}
                ) as r:
                    await r.read()
                samples.append((time.perf_counter() - t0) * 1000)
                statuses[r.status] = statuses.get(r.status, 0) + 1

        started = time.perf_counter()
        await asyncio.gather(*(one(t) for t in tokens))
        wall = time.perf_counter() - started
    ordered = sorted(samples)

    def q(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))], 2)

    return {
        "n": len(samples),
        "concurrency": concurrency,
        "statuses": statuses,
        "p50_ms": q(0.50),
        "p99_ms": q(0.99),
        "max_ms": round(ordered[-1], 2),
        "mean_ms": round(statistics.fmean(ordered), 2),
        "wall_s": round(wall, 2),
        "per_s": round(len(samples) / wall, 1),
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="companion-materials-") as tmp:
        url_db = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        with served(url_db, Path(tmp)) as (proc, port, token):
            base = f"http://127.0.0.1:{port}"
            async with httpx.AsyncClient(base_url=base, timeout=120) as client:
                auth = {"authorization": f"Bearer {token}"}
                session_id, roster = await session_with_roster(client, auth, args.participants, "2030-01-07T09:00:00Z")
                tokens = [p["token"] for p in roster]
                for n in range(args.materials - 1):
                    r = await client.post(
                        f"/api/sessions/{session_id}/materials",
                        json={"title": f"Reading {n}", "url": f"https://library.example.edu/r/{n}"},
                        headers=auth,
                    )
                    r.raise_for_status()
                rss_before, peak_before = peak_rss_mb(proc.pid)
                up = await upload(client, token, session_id, args.upload_mb)
                rss_after, peak_after = peak_rss_mb(proc.pid)
            up |= {
                "server_rss_before_mb": round(rss_before, 1),
                "server_peak_before_mb": round(peak_before, 1),
                "server_rss_after_mb": round(rss_after, 1),
                "server_peak_after_mb": round(peak_after, 1),
                "peak_growth_mb": round(peak_after - peak_before, 1),
            }
            try:
                lists = await listing(base, tokens, session_id, args.concurrency)
            except (httpx.HTTPError, aiohttp.ClientError):
                print((Path(tmp) / "server.log").read_text()[-3000:], file=sys.stderr)
                raise
            lists["materials"] = args.materials
    return {"machine": machine(), "upload": up, "listing": lists}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--upload-mb", type=int, default=50)
    parser.add_argument("--participants", type=int, default=2000)
    parser.add_argument("--materials", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=200, help="requests in flight at once")
    parser.add_argument("--json", type=Path, default=None, help="write the report here too")
    args = parser.parse_args(argv)
    report = asyncio.run(run(args))
    text = json.dumps(report, indent=2)
    print(text)
    if args.json is not None:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()

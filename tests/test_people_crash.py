"""kill -9 during an erasure: before its one transaction commits nothing is erased and every record version
still points at a whole zip; after a restart the erasure runs whole. A real `companion serve` process."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import json
import os
import signal
import zipfile
from pathlib import Path

import httpx
import pytest

from server.cli import _create_token
from tests.support import iso_in
from tests.test_durability import Process
from tests.test_session_record_crash import _zip_of

pytestmark = pytest.mark.slow
ADA, ADA_EMAIL = "Ada Lovelace", "ada@example.org"


async def _whole(http: httpx.AsyncClient, sid: str) -> list[tuple[dict[str, object], str]]:
    """Each version with its zip's text, once the zip's sum is the row's and every file the manifest's."""
    out = []
    for v in (await http.get(f"/api/sessions/{sid}/record")).json()["versions"]:
        z = await http.get(f"/api/sessions/{sid}/record.zip?version={v['version']}")
        assert z.status_code == 200, z.text
        assert hashlib.sha256(z.content).hexdigest() == v["sha256"]
        archive = zipfile.ZipFile(io.BytesIO(z.content))
        manifest = json.loads(archive.read("manifest.json"))
        for f in manifest["files"]:
            assert hashlib.sha256(archive.read(f["name"])).hexdigest() == f["sha256"], f["name"]
        text = "".join(
            archive.read(f["name"]).decode() for f in manifest["files"] if f["name"].endswith((".json", ".csv"))
        )
        out.append((v, text))
    return out


async def test_kill_9_mid_erasure_erases_nothing_and_the_erasure_after_the_restart_is_whole(tmp_path: Path) -> None:
    process = Process(tmp_path)
    # This tree's code, whichever tree the installed `companion` script was installed from.
    root = str(Path(__file__).resolve().parent.parent)
    process.env.update({"COMPANION_JOBS_EVERY_S": "0.1", "PYTHONPATH": root})
    _, admin = await _create_token(process.settings(), "admin", "Root", None)
    parts = process.settings().files_dir / "tmp"
    big = os.urandom(40 * 1024 * 1024)  # enough bytes that rewriting the record's zip takes a while
    await process.start()
    try:
        async with httpx.AsyncClient(
            base_url=process.url, headers={"authorization": f"Bearer {admin}"}, timeout=60
        ) as http:
            body = {
                "topic": "Crash",
                "instructor_email": "t@example.org",
                "starts_at": iso_in(5),
                "duration_minutes": 60,
            }
            sid = (await http.post("/api/sessions", json=body)).json()["id"]
            people = [{"name": ADA, "email": ADA_EMAIL}, {"name": "Bob", "email": "bob@example.org"}]
            assert (
                await http.post(f"/api/sessions/{sid}/participants", json={"participants": people})
            ).status_code == 200
            up = await http.post(
                f"/api/sessions/{sid}/materials", files={"file": ("recording.zip", _zip_of(big), "application/zip")}
            )
            assert up.status_code == 201, up.text
            assert (await http.post(f"/api/sessions/{sid}/close")).status_code == 200
            for _ in range(600):
                if (await http.get(f"/api/sessions/{sid}/record")).json()["versions"]:
                    break
                await asyncio.sleep(0.05)
            ((before, text),) = await _whole(http, sid)
            assert ADA in text

            # Killed while the redacted zip is being written into the store, before the transaction.
            erase = asyncio.create_task(http.post(f"/api/people/{ADA_EMAIL}/erase", json={"reason": "asked"}))
            for _ in range(5000):
                if parts.is_dir() and any(parts.glob("*.part")):
                    break
                await asyncio.sleep(0.002)
            else:
                raise AssertionError("the erasure never started writing into the store")
            process.kill(signal.SIGKILL)
            with contextlib.suppress(httpx.HTTPError):
                await erase

            await process.start()
            exported = (await http.get(f"/api/people/{ADA_EMAIL}/export")).json()
            assert [r["name"] for r in exported["roster"]] == [ADA]  # nothing was erased
            ((after, text),) = await _whole(http, sid)
            assert after["sha256"] == before["sha256"] and ADA in text
            assert (await http.get("/api/audit?action=erase")).json()["entries"] == []

            r = await http.post(f"/api/people/{ADA_EMAIL}/erase", json={"reason": "asked again"})
            assert r.status_code == 200, r.text
            assert r.json()["erased"]["participants"] == 1 and r.json()["erased"]["record_versions"] == 1
            ((done, text),) = await _whole(http, sid)
            assert done["sha256"] != before["sha256"] and ADA not in text and ADA_EMAIL not in text and "Bob" in text
            sha = str(before["sha256"])
            assert not (process.settings().files_dir / sha[:2] / sha[2:4] / sha).exists()
            assert (await http.get(f"/api/people/{ADA_EMAIL}/export")).json()["roster"] == []
    finally:
        if process.proc is not None:
            process.kill()

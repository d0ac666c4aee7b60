"""kill -9 while the session record is built: a half-built record is never listed nor served, and after a
restart the job (its lease run out) builds it whole. A real `companion serve` process (tests/test_durability.py)."""

from __future__ import annotations

import asyncio
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

pytestmark = pytest.mark.slow
LEASE_S = 2


async def test_kill_9_mid_build_serves_nothing_half_built_and_the_restart_builds_it_whole(tmp_path: Path) -> None:
    process = Process(tmp_path)
    process.env.update({"COMPANION_JOBS_LEASE_S": str(LEASE_S), "COMPANION_JOBS_EVERY_S": "0.1"})
    _, admin = await _create_token(process.settings(), "admin", "Root", None)
    parts = process.settings().files_dir / "tmp"
    big = os.urandom(40 * 1024 * 1024)  # enough bytes that the build takes a while to copy
    await process.start()
    try:
        async with httpx.AsyncClient(base_url=process.url, headers={"authorization": f"Bearer {admin}"}) as http:
            body = {
                "topic": "Crash",
                "instructor_email": "t@example.org",
                "starts_at": iso_in(5),
                "duration_minutes": 60,
            }
            sid = (await http.post("/api/sessions", json=body)).json()["id"]
            up = await http.post(
                f"/api/sessions/{sid}/materials", files={"file": ("recording.zip", _zip_of(big), "application/zip")}
            )
            assert up.status_code == 201, up.text
            assert (await http.post(f"/api/sessions/{sid}/close")).status_code == 200
            # Killed once the record's zip is being written into the store, before it is kept.
            for _ in range(2000):
                if parts.is_dir() and any(parts.glob("*.part")):
                    break
                await asyncio.sleep(0.002)
            else:
                raise AssertionError("the build never started writing into the store")
            process.kill(signal.SIGKILL)
            assert any(parts.glob("*.part"))  # the half-written zip is there, on disk

            await process.start()
            r = await http.get(f"/api/sessions/{sid}/record")
            assert r.json()["versions"] == []  # nothing half-built is listed
            assert (await http.get(f"/api/sessions/{sid}/record.zip")).status_code == 409
            for _ in range(300):  # the lease runs out, the job runs again
                versions = (await http.get(f"/api/sessions/{sid}/record")).json()["versions"]
                if versions:
                    break
                await asyncio.sleep(0.05)
            assert [v["version"] for v in versions] == [1]
            z = await http.get(f"/api/sessions/{sid}/record.zip")
            assert hashlib.sha256(z.content).hexdigest() == versions[0]["sha256"]
            archive = zipfile.ZipFile(io.BytesIO(z.content))
            manifest = json.loads(archive.read("manifest.json"))
            for f in manifest["files"]:
                assert hashlib.sha256(archive.read(f["name"])).hexdigest() == f["sha256"], f["name"]
            (material,) = json.loads(archive.read("materials.json"))["materials"]
            assert hashlib.sha256(archive.read(material["file"])).hexdigest() == up.json()["sha256"]
    finally:
        if process.proc is not None:
            process.kill()


def _zip_of(data: bytes) -> bytes:
    """A real zip (the upload's type is read from its first bytes), stored, so it stays as big as `data`."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("raw.bin", data)
    return out.getvalue()

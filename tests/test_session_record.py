"""The session record (contract part 2, After the class): made at close, kept in versions, downloaded audited.

A real server on both configurations; a class runs through real Socket.IO clients (chat, a ping, a help
ticket) and real uploads, closes, and the record's job builds the zip in the file store. The tests open
the zip and check every file against the manifest's SHA-256 and against what happened in the class.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
import zipfile
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from core import record
from persistence.files import LocalFiles, Stored
from tests.clock import FakeClock
from tests.clocked import clocked_server
from tests.support import Client, Server, refused

PDF = b"%PDF-1.7\n" + b"1 0 obj << /Type /Catalog >> endobj\n" * 400 + b"%%EOF\n"
INSTRUCTOR = "teacher@example.org"
CONTRACT_FILES = {
    "attendance.csv",
    "attendance.json",
    "chat.json",
    "help.csv",
    "pings.json",
    "minutes.json",
    "feedback.json",
    "consent.csv",
    "materials.json",
    "manifest.json",
}


@pytest.fixture
async def srv(tmp_path: Path, backing: dict[str, Any], clock: FakeClock) -> AsyncIterator[Server]:
    async with clocked_server(tmp_path, clock, ticker_seconds=0.2, jobs_every_s=0.05, **backing) as s:
        yield s


async def versions(srv: Server, session_id: str, token: str | None = None) -> list[dict[str, Any]]:
    r = await srv.api("GET", f"/api/sessions/{session_id}/record", token=token)
    assert r.status_code == 200, r.text
    return list(r.json()["versions"])


async def built(srv: Server, session_id: str, n: int = 1) -> list[dict[str, Any]]:
    """The versions once there are `n` (the job runs just after the close)."""
    for _ in range(200):
        kept = await versions(srv, session_id)
        if len(kept) >= n:
            return kept
        await asyncio.sleep(0.05)
    raise AssertionError(f"no version {n} of the record of {session_id}")


async def download(
    srv: Server, session_id: str, version: int | None = None, token: str | None = None
) -> zipfile.ZipFile:
    url = f"/api/sessions/{session_id}/record.zip" + (f"?version={version}" if version else "")
    r = await srv.api("GET", url, token=token)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip"
    assert r.headers["x-record-sha256"] == hashlib.sha256(r.content).hexdigest()
    return zipfile.ZipFile(io.BytesIO(r.content))


def checked(z: zipfile.ZipFile) -> dict[str, Any]:
    """The manifest, once every file it lists is in the zip with that SHA-256 and size, and nothing else is."""
    manifest = json.loads(z.read("manifest.json"))
    listed = {f["name"]: f for f in manifest["files"]}
    assert set(z.namelist()) == {*listed, "manifest.json"}
    for name, f in listed.items():
        data = z.read(name)
        assert (hashlib.sha256(data).hexdigest(), len(data)) == (f["sha256"], f["size"]), name
    return dict(manifest)


async def run_a_class(srv: Server, clock: FakeClock) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A session that ran: two participants, chat, an answered ping, a claimed and resolved ticket, a file."""
    s = await srv.session()
    people = await srv.participants(s["id"], 2)
    up = await srv.http.post(
        f"/api/sessions/{s['id']}/materials",
        files={"file": ("slides.pdf", PDF, "application/pdf")},
        headers={"authorization": f"Bearer {srv.admin_token}"},
    )
    assert up.status_code == 201, up.text
    clock.advance(seconds=1)  # materials are listed in the order shared
    await srv.api("POST", f"/api/sessions/{s['id']}/materials", {"title": "Reading", "url": "https://example.org/r"})
    staff = await srv.connect(srv.admin_token, s["id"])
    support = await srv.connect(await srv.token("support", "Sam Support", "sam@example.org"), s["id"])
    tabs: list[Client] = [await srv.connect(p["token"]) for p in people]
    await staff.ok("session:start", {})
    await tabs[0].ok("chat:send", {"client_id": "client-0001", "text": "Hello, can you hear me?"})
    await staff.ok("chat:send", {"client_id": "client-0002", "text": "Yes, loud and clear"})
    ping = await staff.ok("ping:launch", {"kind": "poll", "question": "Pace?", "options": ["slow", "fine"]})
    await tabs[1].ok("ping:answer", {"ping_id": ping["ping_id"], "answer": 1})
    ticket = await tabs[1].ok("help:open", {"category": "audio", "text": "No sound"})
    clock.advance(seconds=30)
    await support.ok("help:claim", {"ticket_id": ticket["ticket_id"]})
    clock.advance(seconds=90)
    await support.ok("help:resolve", {"ticket_id": ticket["ticket_id"], "note": "Wrong output device"})
    clock.advance(minutes=10)
    r = await srv.api("POST", f"/api/sessions/{s['id']}/close")
    assert r.status_code == 200, r.text
    return s, people


async def test_the_record_made_at_close_holds_every_file_the_contract_lists(srv: Server, clock: FakeClock) -> None:
    s, people = await run_a_class(srv, clock)
    (v1,) = await built(srv, s["id"])
    assert v1["version"] == 1
    z = await download(srv, s["id"])
    manifest = checked(z)
    assert manifest["version"] == 1 and manifest["session_id"] == s["id"]
    names = set(z.namelist())
    assert CONTRACT_FILES <= names
    assert "platform-attendance.csv" not in names  # nothing imported
    # What happened in the class is in it.
    sheet = list(csv.DictReader(io.StringIO(z.read("attendance.csv").decode())))
    assert sorted(r["name"] for r in sheet) == sorted(p["name"] for p in people)
    assert [m["text"] for m in json.loads(z.read("chat.json"))["messages"]] == [
        "Hello, can you hear me?",
        "Yes, loud and clear",
    ]
    (ping,) = json.loads(z.read("pings.json"))["pings"]
    assert ping["question"] == "Pace?" and [a["answer"] for a in ping["answers"]] == [1]
    (ticket,) = list(csv.DictReader(io.StringIO(z.read("help.csv").decode())))
    assert (ticket["wait_seconds"], ticket["handle_seconds"], ticket["note"]) == ("30", "90", "Wrong output device")
    materials = json.loads(z.read("materials.json"))["materials"]
    assert [m["kind"] for m in materials] == ["file", "link"]
    assert z.read(materials[0]["file"]) == PDF and materials[1]["url"] == "https://example.org/r"
    assert json.loads(z.read("attendance.json"))["session"]["status"] == "closed"


async def test_each_download_is_audited_and_only_the_conducting_roles_may(srv: Server, clock: FakeClock) -> None:
    s, people = await run_a_class(srv, clock)
    await built(srv, s["id"])
    instructor = await srv.token("instructor", "Iris Instructor", INSTRUCTOR)
    await download(srv, s["id"], token=instructor)
    await download(srv, s["id"])
    other = await srv.token("instructor", "Olga Other", "other@example.org")
    support = await srv.token("support", "Sam Support", "sam@example.org")
    for token in (other, support, people[0]["token"]):
        for path in ("record.zip", "record"):
            refused(await srv.api("GET", f"/api/sessions/{s['id']}/{path}", token=token), "forbidden", status=403)
    no_credential = await srv.http.get(f"/api/sessions/{s['id']}/record.zip")
    assert no_credential.status_code == 401
    r = await srv.api("GET", f"/api/audit?session_id={s['id']}&action=download")
    entries = r.json()["entries"]
    assert [(e["action"], e["target"], e["detail"]["version"]) for e in entries] == [
        ("download", f"record:{s['id']}", 1),
        ("download", f"record:{s['id']}", 1),
    ]
    # Named by internal id (the instructor's staff id, the admin's token), never by email.
    assert entries[0]["actor"] != entries[1]["actor"] and not any("@" in e["actor"] for e in entries)


async def test_before_the_close_there_is_no_record_and_bad_versions_are_refused(srv: Server, clock: FakeClock) -> None:
    s = await srv.session()
    refused(await srv.api("GET", f"/api/sessions/{s['id']}/record.zip"), "conflict", status=409)
    assert await versions(srv, s["id"]) == []
    for bad in ("0", "-1", "two", "1.5", "99999999999"):
        refused(await srv.api("GET", f"/api/sessions/{s['id']}/record.zip?version={bad}"), "invalid", "version")
    refused(await srv.api("GET", "/api/sessions/nosuchsession/record.zip"), "not_found", status=404)
    assert (await srv.api("POST", f"/api/sessions/{s['id']}/close")).status_code == 200
    await built(srv, s["id"])
    refused(await srv.api("GET", f"/api/sessions/{s['id']}/record.zip?version=2"), "not_found", status=404)
    r = await srv.api("GET", f"/api/audit?session_id={s['id']}&action=download")
    assert r.json()["entries"] == []  # a refused download is not one


async def test_a_rebuild_that_finds_nothing_changed_adds_no_version_and_a_change_adds_one(
    srv: Server, clock: FakeClock
) -> None:
    s = await srv.session()
    await srv.participants(s["id"], 1)
    await srv.api("POST", f"/api/sessions/{s['id']}/close")
    (first,) = await built(srv, s["id"])
    records = srv.service.session_record
    assert await records.build_now(s["id"]) is None
    # Something the record holds changes after close (here the saved sheet, as a platform import would).
    from persistence.repos import attendance

    async def changed(db: Any) -> None:
        rows = await attendance.saved_attendance(db, session_id=s["id"])
        rows[0]["minutes_present"] = 42
        await attendance.save_attendance(db, session_id=s["id"], rows=rows)

    await srv.service.unit.submit(changed)
    clock.advance(seconds=5)
    second = await records.build_now(s["id"])
    assert second is not None and second.version == 2
    kept = await versions(srv, s["id"])
    assert [v["version"] for v in kept] == [1, 2] and kept[0] == first
    old, new = await download(srv, s["id"], version=1), await download(srv, s["id"])
    assert checked(old)["version"] == 1 and checked(new)["version"] == 2

    def minutes_present(z: zipfile.ZipFile) -> list[str]:
        return [r["minutes_present"] for r in csv.DictReader(io.StringIO(z.read("attendance.csv").decode()))]

    assert (minutes_present(old), minutes_present(new)) == (["0.0"], ["42"])


async def test_changes_after_close_are_gathered_into_one_new_version(srv: Server, clock: FakeClock) -> None:
    from persistence.repos import session_record

    s = await srv.session()
    await srv.participants(s["id"], 1)
    unit = srv.service.unit
    # Before the close nothing is queued: the close makes the first version.
    assert not await unit.submit(lambda db: session_record.stale(db, session_id=s["id"], now=clock.now()))
    await srv.api("POST", f"/api/sessions/{s['id']}/close")
    await built(srv, s["id"])
    from persistence.repos import attendance

    async def change(db: Any) -> bool:
        rows = await attendance.saved_attendance(db, session_id=s["id"])
        rows[0]["minutes_present"] = rows[0].get("minutes_present", 0) + 1
        await attendance.save_attendance(db, session_id=s["id"], rows=rows)
        return await session_record.stale(db, session_id=s["id"], now=clock.now())

    assert [await unit.submit(change) for _ in range(3)] == [True, False, False]  # one rebuild for the burst
    await asyncio.sleep(0.3)
    assert len(await versions(srv, s["id"])) == 1  # not before the gathering time
    clock.advance(seconds=31)
    kept = await built(srv, s["id"], 2)
    assert [v["version"] for v in kept] == [1, 2]


class FailingCommit(LocalFiles):
    """The store failing at the last step of the first write (a full disk), as a crash mid-build would."""

    failures = 1

    async def begin(self, *, limit: int, head: int) -> Any:
        writing = await super().begin(limit=limit, head=head)
        store = self
        real_commit = writing.commit

        async def commit() -> Stored:
            if store.failures:
                store.failures -= 1
                raise OSError(28, "No space left on device")
            return await real_commit()

        writing.commit = commit
        return writing


async def test_a_build_that_fails_midway_serves_nothing_and_leaves_nothing_then_runs_again(
    srv: Server, clock: FakeClock
) -> None:
    records = srv.service.session_record
    records._files = FailingCommit(srv.settings.files_dir)
    s = await srv.session()
    await srv.participants(s["id"], 1)
    await srv.api("POST", f"/api/sessions/{s['id']}/close")
    for _ in range(100):
        if records._files.failures == 0:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.2)
    assert await versions(srv, s["id"]) == []
    refused(await srv.api("GET", f"/api/sessions/{s['id']}/record.zip"), "conflict", status=409)
    tmp = srv.settings.files_dir / "tmp"
    assert not tmp.exists() or list(tmp.iterdir()) == []  # the aborted write is gone
    clock.advance(minutes=10)  # past the job's back-off
    (v1,) = await built(srv, s["id"])
    checked(await download(srv, s["id"]))
    assert v1["version"] == 1


def test_help_rows_count_waiting_and_handling_and_a_ticket_never_claimed_waited_until_it_ended() -> None:
    from datetime import UTC, datetime

    t0 = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)
    base = {"participant_id": "p", "name": "Ana", "category": "audio", "text": "x", "claimed_by": None, "note": None}
    rows = record.help_rows(
        [
            record.HelpRow(
                ticket_id="b",
                state="resolved",
                created_at=t0 + timedelta(minutes=1),
                claimed_at=None,
                resolved_at=t0 + timedelta(minutes=3),
                **base,
            ),
            record.HelpRow(
                ticket_id="a",
                state="claimed",
                created_at=t0,
                claimed_at=t0 + timedelta(seconds=45),
                resolved_at=None,
                **base,
            ),
        ]
    )
    assert [(r["ticket_id"], r["wait_seconds"], r["handle_seconds"]) for r in rows] == [
        ("a", 45, None),
        ("b", 120, None),
    ]


def test_the_digest_is_the_files_not_the_time_of_building() -> None:
    a = [record.entry("x.json", b"1"), record.entry("y.csv", b"2")]
    assert record.digest(a) == record.digest(list(reversed(a)))
    assert record.digest(a) != record.digest([record.entry("x.json", b"1"), record.entry("y.csv", b"3")])
    assert record.material_path(_material("../../etc/passwd")) == "materials/m1-passwd"
    assert record.material_path(_material("=cmd|' x.pdf")) == "materials/m1-cmd_ x.pdf"
    assert record.material_path(_material(None)) == "materials/m1-file"


def _material(filename: str | None) -> Any:
    from datetime import UTC, datetime

    from core.materials import Material

    return Material(
        id="m1",
        session_id="s",
        title="t",
        created_at=datetime(2030, 1, 1, tzinfo=UTC),
        created_by="a",
        filename=filename,
        sha256="0" * 64,
        size=1,
    )


async def test_a_session_the_server_closes_by_itself_gets_its_record_too(
    tmp_path: Path, backing: dict[str, Any], clock: FakeClock
) -> None:
    async with clocked_server(
        tmp_path, clock, ticker_seconds=0.2, auto_close_grace_minutes=0, auto_close_every_s=0.2,
        jobs_every_s=0.05, **backing,
    ) as srv:  # fmt: skip
        s = await srv.session(starts_at=clock.now().isoformat(), duration_minutes=1)
        await srv.participants(s["id"], 2)
        for _ in range(200):  # the ticker starts it
            if (await srv.api("GET", f"/api/sessions/{s['id']}")).json()["status"] == "live":
                break
            await asyncio.sleep(0.05)
        clock.advance(minutes=1, seconds=1)
        (v1,) = await built(srv, s["id"])
        z = await download(srv, s["id"])
        assert checked(z)["version"] == v1["version"] == 1
        assert json.loads(z.read("attendance.json"))["session"]["status"] == "closed"


async def test_minutes_feedback_consent_and_platform_attendance_are_in_the_record_and_later_changes_version_it(
    srv: Server, clock: FakeClock
) -> None:
    from tests.test_platform_attendance import zoom_csv

    s = await srv.session()
    (ana, ben) = await srv.participants(s["id"], 2)
    staff = await srv.connect(srv.admin_token, s["id"])
    tabs = [await srv.connect(ana["token"]), await srv.connect(ben["token"])]
    await staff.ok("session:start", {})
    started = clock.now()
    request = await staff.ok("consent:request", {"purpose": "recording"})
    await tabs[0].ok("consent:answer", {"request_id": request["request_id"], "consent": True})
    await tabs[1].ok("consent:answer", {"request_id": request["request_id"], "consent": False})
    minutes = {"summary": "We covered consensus.", "key_points": ["Raft"], "action_items": [{"text": "Read §5"}]}
    assert (await srv.api("PUT", f"/api/sessions/{s['id']}/minutes", minutes)).status_code == 200
    clock.advance(minutes=50)
    assert (await srv.api("POST", f"/api/sessions/{s['id']}/close")).status_code == 200
    (v1,) = await built(srv, s["id"])
    z1 = await download(srv, s["id"])
    checked(z1)
    assert json.loads(z1.read("minutes.json"))["minutes"]["summary"] == "We covered consensus."
    consent_rows = list(csv.DictReader(io.StringIO(z1.read("consent.csv").decode())))
    assert sorted((r["name"], r["consent"]) for r in consent_rows) == [
        (ana["name"], "yes"),
        (ben["name"], "no"),
    ]
    assert "platform-attendance.csv" not in z1.namelist()

    # After the close: feedback arrives, the minutes are edited, Zoom's report is imported.
    link = (await tabs[0].wait_for("feedback"))["link"]
    form = (await srv.http.get(f"/api/feedback/{link.rsplit('/', 1)[-1]}")).json()["form"]
    answers = {q["id"]: 4 for q in form["questions"] if q["kind"] == "rating"}
    r = await srv.http.post(f"/api/feedback/{link.rsplit('/', 1)[-1]}", json={"answers": answers})
    assert r.status_code == 200, r.text
    edited = {**minutes, "summary": "We covered consensus and leases."}
    assert (await srv.api("PUT", f"/api/sessions/{s['id']}/minutes", edited)).status_code == 200
    report = zoom_csv(started, [(ana["name"], ana["email"], 0, 40)])
    r = await srv.api("POST", f"/api/sessions/{s['id']}/platform-attendance", content=report)
    assert r.status_code in (200, 201), r.text
    clock.advance(seconds=31)  # the rebuild gathers the changes
    kept = await built(srv, s["id"], 2)
    assert [v["version"] for v in kept] == [1, 2] and kept[0] == v1
    z2 = await download(srv, s["id"])
    checked(z2)
    assert json.loads(z2.read("minutes.json"))["minutes"]["summary"] == "We covered consensus and leases."
    assert "leases" not in z1.read("minutes.json").decode()  # version 1 is kept as it was
    participants = json.loads(z2.read("feedback.json"))["forms"]["participants"]
    assert [r["answers"] for r in participants["responses"]] == [answers]
    assert all("name" not in r for r in participants["responses"])  # the default form is anonymous
    assert json.loads(z1.read("feedback.json"))["forms"]["participants"]["responses"] == []
    sheet = {r["name"]: r for r in csv.DictReader(io.StringIO(z2.read("attendance.csv").decode()))}
    # (clipped to started_at, which has a fraction of a second the report has not)
    assert (
        abs(float(sheet[ana["name"]]["platform_minutes"]) - 40) < 0.05 and sheet[ben["name"]]["platform_minutes"] == ""
    )
    (row,) = list(csv.DictReader(io.StringIO(z2.read("platform-attendance.csv").decode())))
    assert (row["email"], row["participant_id"]) == (ana["email"], ana["id"])

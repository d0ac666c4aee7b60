"""Materials, platform run-throughs and readiness (contract part 2, Preparation) over HTTP, both configurations.

A real server; files go through real multipart bodies into the file store on disk, and the tests look
at the disk (by SHA-256) and the database to see that nothing half-stored is left after a refusal.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.clock import FakeClock
from tests.clocked import clocked_server
from tests.fakes.smtp import FakeSmtp
from tests.support import Server, iso_in, refused, running_server

PDF = b"%PDF-1.7\n" + b"1 0 obj << /Type /Catalog >> endobj\n" * 400 + b"%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40
INSTRUCTOR = "teacher@example.org"


@pytest.fixture
async def srv(tmp_path: Path, backing: dict[str, Any], clock: FakeClock) -> AsyncIterator[Server]:
    async with clocked_server(tmp_path, clock, ticker_seconds=0.2, jobs_every_s=0.05, **backing) as s:
        yield s


async def instructor(srv: Server) -> str:
    return await srv.token("instructor", "Iris Instructor", INSTRUCTOR)


async def upload(
    srv: Server, session_id: str, name: str, data: bytes, token: str | None = None, title: str | None = None
) -> httpx.Response:
    files = {"file": (name, data, "application/octet-stream")}
    form = {"title": title} if title is not None else None
    return await srv.http.post(
        f"/api/sessions/{session_id}/materials",
        files=files,
        data=form,
        headers={"authorization": f"Bearer {token or srv.admin_token}"},
    )


async def raw_upload(srv: Server, session_id: str, filename: bytes, data: bytes) -> httpx.Response:
    """An upload whose part header carries `filename` as these very bytes (httpx would percent-encode them)."""
    body = (
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="' + filename + b'"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n" + data + b"\r\n--b--\r\n"
    )
    return await srv.http.post(
        f"/api/sessions/{session_id}/materials",
        content=body,
        headers={"authorization": f"Bearer {srv.admin_token}", "content-type": "multipart/form-data; boundary=b"},
    )


def stored(srv: Server) -> list[Path]:
    """The files the store keeps (by hash), and any write left behind in tmp/."""
    root = srv.settings.files_dir
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


async def listed(srv: Server, session_id: str, token: str | None = None) -> list[dict[str, Any]]:
    r = await srv.api("GET", f"/api/sessions/{session_id}/materials", token=token)
    assert r.status_code == 200, r.text
    return list(r.json()["materials"])


# ---------------------------------------------------------------- files and links


async def test_a_file_is_kept_by_its_hash_and_each_participant_gets_a_personal_link(srv: Server) -> None:
    s = await srv.session()
    ana, ben = await srv.participants(s["id"], 2)
    r = await upload(srv, s["id"], "Week 1 slides.pdf", PDF, token=await instructor(srv))
    assert r.status_code == 201, r.text
    m = r.json()
    sha = hashlib.sha256(PDF).hexdigest()
    assert (m["title"], m["filename"], m["size"], m["sha256"], m["kind"]) == (
        "Week 1 slides.pdf",
        "Week 1 slides.pdf",
        len(PDF),
        sha,
        "file",
    )
    assert stored(srv) == [srv.settings.files_dir / sha[:2] / sha[2:4] / sha]
    assert stored(srv)[0].read_bytes() == PDF

    # Staff get the API link; each participant a personal signed one, which works without a header.
    (staff_view,) = await listed(srv, s["id"])
    assert staff_view["url"].endswith(f"/api/sessions/{s['id']}/materials/{m['id']}/file")
    (ana_view,) = await listed(srv, s["id"], token=ana["token"])
    (ben_view,) = await listed(srv, s["id"], token=ben["token"])
    assert "/files/mat." in ana_view["url"] and ana_view["url"] != ben_view["url"]
    got = await srv.http.get(ana_view["url"].removeprefix(srv.url))
    assert got.status_code == 200 and got.content == PDF
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["content-disposition"].startswith('attachment; filename="Week 1 slides.pdf"')
    assert got.headers["x-content-type-options"] == "nosniff"
    by_api = await srv.api("GET", f"/api/sessions/{s['id']}/materials/{m['id']}/file", token=ben["token"])
    assert by_api.status_code == 200 and by_api.content == PDF
    # A forged or altered link finds nothing.
    assert (await srv.http.get(ana_view["url"].removeprefix(srv.url)[:-2] + "xx")).status_code == 404

    # Taken off the roster: Ana's link stops working.
    r = await srv.api("DELETE", f"/api/sessions/{s['id']}/participants/{ana['id']}")
    assert r.status_code == 204, r.text
    assert (await srv.http.get(ana_view["url"].removeprefix(srv.url))).status_code == 404


async def test_who_may_share_list_and_download(srv: Server) -> None:
    s = await srv.session()
    other = await srv.session(topic="Another class")
    (p,) = await srv.participants(s["id"], 1)
    (stranger,) = await srv.participants(other["id"], 1, prefix="q")
    support = await srv.token("support", "Sam Support", "sam@example.org")
    someone_else = await srv.token("instructor", "Other Instructor", "other@example.org")
    refused(await upload(srv, s["id"], "a.pdf", PDF, token=p["token"]), "forbidden", status=403)
    refused(await upload(srv, s["id"], "a.pdf", PDF, token=support), "forbidden", status=403)
    refused(await upload(srv, s["id"], "a.pdf", PDF, token=someone_else), "forbidden", status=403)
    assert stored(srv) == []
    r = await upload(srv, s["id"], "a.pdf", PDF)  # the admin
    assert r.status_code == 201, r.text
    mid = r.json()["id"]
    assert len(await listed(srv, s["id"], token=support)) == 1
    r = await srv.api("GET", f"/api/sessions/{s['id']}/materials", token=stranger["token"])
    refused(r, "forbidden", status=403)
    r = await srv.api("GET", f"/api/sessions/{s['id']}/materials/{mid}/file", token=stranger["token"])
    refused(r, "forbidden", status=403)
    r = await srv.http.get(f"/api/sessions/{s['id']}/materials")
    refused(r, "unauthorized", status=401)
    r = await srv.api("DELETE", f"/api/sessions/{s['id']}/materials/{mid}", token=support)
    refused(r, "forbidden", status=403)
    # Another session's material is not found through this one.
    r = await srv.api("GET", f"/api/sessions/{other['id']}/materials/{mid}/file")
    refused(r, "not_found", status=404)


async def test_a_link_is_shared_with_a_title_and_only_http_links_are(srv: Server) -> None:
    s = await srv.session()
    url = f"/api/sessions/{s['id']}/materials"
    r = await srv.api("POST", url, {"title": "Reading list", "url": "https://library.example.edu/list?id=7"})
    assert r.status_code == 201, r.text
    assert r.json()["kind"] == "link" and r.json()["url"] == "https://library.example.edu/list?id=7"
    for bad, field in (
        ({"title": "x", "url": "javascript:alert(1)"}, "url"),
        ({"title": "x", "url": "data:text/html,<b>hi</b>"}, "url"),
        ({"title": "x", "url": "https://user:pw@example.org/"}, "url"),
        ({"title": "x", "url": "https:///nohost"}, "url"),
        ({"title": "  ", "url": "https://example.org/"}, "title"),
        ({"title": "x"}, "url"),
    ):
        assert refused(await srv.api("POST", url, bad), "invalid")["error"]["message"].startswith(field), bad
    assert [m["title"] for m in await listed(srv, s["id"])] == ["Reading list"]


async def test_bad_files_are_refused_and_nothing_is_half_stored(srv: Server) -> None:
    s = await srv.session()
    for name, data, says in (
        ("empty.pdf", b"", "file: the file is empty"),
        ("slides.pdf", PNG, "file: the content is a PNG image, but its name ends in .pdf"),
        ("program.pdf", b"\x7fELF\x02\x01\x01" + bytes(5000), "file: this type of file is not accepted"),
        ("notes", PDF, "file: the content is a PDF document, but its name has no ending"),
        ("...", PDF, "file: the file needs a name"),
    ):
        error = refused(await upload(srv, s["id"], name, data), "invalid")
        assert error["error"]["message"].startswith(says), (name, error)
    # Not multipart at all, a form without a file, a broken body.
    url = f"/api/sessions/{s['id']}/materials"
    auth = {"authorization": f"Bearer {srv.admin_token}"}
    r = await srv.http.post(url, content=PDF, headers={**auth, "content-type": "application/pdf"})
    assert refused(r, "invalid")["error"]["message"].startswith("body: multipart/form-data")
    r = await srv.http.post(url, data={"title": "no file"}, files={"other": ("x.txt", b"hi")}, headers=auth)
    assert refused(r, "invalid")["error"]["message"] == "file: the upload has no file part"
    r = await srv.http.post(
        url, content=b"--b\r\nnonsense", headers={**auth, "content-type": "multipart/form-data; boundary=b"}
    )
    refused(r, "invalid")
    assert stored(srv) == [] and await listed(srv, s["id"]) == []
    # Names are made safe: no folders, no control characters.
    r = await raw_upload(srv, s["id"], b"../../etc/\x07pass\x1bwd.txt", b"plain text\n")
    assert r.status_code == 201, r.text
    assert r.json()["filename"] == "passwd.txt"
    r = await raw_upload(srv, s["id"], "C:\\Users\\me\\Übung 1.md".encode(), "# Übung\n".encode())
    assert r.json()["filename"] == "Übung 1.md" and r.json()["content_type"] == "text/plain; charset=utf-8"
    got = await srv.api("GET", f"/api/sessions/{s['id']}/materials/{r.json()['id']}/file")
    assert "filename*=UTF-8''%C3%9Cbung%201.md" in got.headers["content-disposition"]
    # The session is the right one, still open.
    cancelled = await srv.session(topic="Gone")
    await srv.api("POST", f"/api/sessions/{cancelled['id']}/cancel", {"reason": "ill"})
    refused(await upload(srv, cancelled["id"], "a.pdf", PDF), "conflict", status=409)


async def test_an_upload_over_the_limit_is_refused_before_it_is_all_read(tmp_path: Path) -> None:
    async with running_server(tmp_path, max_upload_bytes=1024 * 1024) as srv:
        s = await srv.session()
        big = PDF + bytes(2 * 1024 * 1024)
        r = await upload(srv, s["id"], "big.pdf", big)
        assert refused(r, "too_large", status=413)["error"]["message"] == "file: larger than the 1 MB allowed"

        # Without a Content-Length the body streams in: refused once past the limit, the partial file gone.
        sent = 0

        async def chunks() -> AsyncIterator[bytes]:
            nonlocal sent
            head = b'--b\r\nContent-Disposition: form-data; name="file"; filename="big.pdf"\r\n\r\n' + PDF
            yield head
            for _ in range(400):
                sent += 64 * 1024
                yield bytes(64 * 1024)
                await asyncio.sleep(0)
            yield b"\r\n--b--\r\n"

        r = await srv.http.post(
            f"/api/sessions/{s['id']}/materials",
            content=chunks(),
            headers={"authorization": f"Bearer {srv.admin_token}", "content-type": "multipart/form-data; boundary=b"},
        )
        refused(r, "too_large", status=413)
        assert stored(srv) == [] and await listed(srv, s["id"]) == []


async def test_a_wrong_type_is_refused_from_its_first_bytes(tmp_path: Path) -> None:
    async with running_server(tmp_path, max_upload_bytes=1024 * 1024) as srv:
        s = await srv.session()
        # A PNG named .pdf, over the limit: the type is what refuses it (it is read no further).
        r = await upload(srv, s["id"], "huge.pdf", PNG + bytes(900 * 1024))
        assert refused(r, "invalid")["error"]["message"].startswith("file: the content is a PNG image")
        assert stored(srv) == []


async def test_deleting_a_material_takes_it_away_and_its_bytes_go_once_nothing_shares_them(
    srv: Server, clock: FakeClock
) -> None:
    s = await srv.session()
    other = await srv.session(topic="Another class")
    (p,) = await srv.participants(s["id"], 1)
    tab = await srv.connect(p["token"])
    first = (await upload(srv, s["id"], "a.pdf", PDF)).json()
    await tab.wait_for("materials", lambda e: e["session_id"] == s["id"])
    again = (await upload(srv, other["id"], "same bytes.pdf", PDF)).json()  # the same bytes, kept once
    png = (await upload(srv, s["id"], "figure.png", PNG)).json()
    assert len(stored(srv)) == 2
    (ana_pdf, _) = await listed(srv, s["id"], token=p["token"])
    before = len(tab.of("materials"))
    for m in (first, png):
        r = await srv.api("DELETE", f"/api/sessions/{s['id']}/materials/{m['id']}")
        assert r.status_code == 204, r.text
    await tab.wait_for("materials", lambda _: len(tab.of("materials")) >= before + 2)
    assert await listed(srv, s["id"], token=p["token"]) == []
    assert (await srv.http.get(ana_pdf["url"].removeprefix(srv.url))).status_code == 404
    refused(await srv.api("DELETE", f"/api/sessions/{s['id']}/materials/{first['id']}"), "not_found", status=404)
    # The bytes go later (a files-gc job), and only those nothing else shares.
    assert len(stored(srv)) == 2
    clock.advance(seconds=11 * 60)
    for _ in range(100):
        if len(stored(srv)) == 1:
            break
        await asyncio.sleep(0.05)
    sha = hashlib.sha256(PDF).hexdigest()
    assert [f.name for f in stored(srv)] == [sha]
    assert (await srv.api("GET", f"/api/sessions/{other['id']}/materials/{again['id']}/file")).content == PDF


async def test_the_tab_snapshot_lists_the_materials_with_personal_links(srv: Server, clock: FakeClock) -> None:
    s = await srv.session()
    (p,) = await srv.participants(s["id"], 1)
    await srv.api("POST", f"/api/sessions/{s['id']}/materials", {"title": "Syllabus", "url": "https://example.org/s"})
    clock.advance(seconds=1)  # listed in the order shared
    await upload(srv, s["id"], "a.pdf", PDF)
    tab = await srv.connect(p["token"])
    state = await tab.call("session:state", {})
    assert [m["title"] for m in state["materials"]] == ["Syllabus", "a.pdf"]
    assert "/files/mat." in state["materials"][1]["url"]


# ---------------------------------------------------------------- the run-through and readiness


async def test_a_platform_check_is_recorded_with_who_and_when(srv: Server, clock: FakeClock) -> None:
    s = await srv.session()
    (p,) = await srv.participants(s["id"], 1)
    url = f"/api/sessions/{s['id']}/platform-check"
    good = {"audio": "ok", "video": "ok", "screen_share": "failed", "breakout_rooms": "n/a", "recording": "ok"}
    for token in (await srv.token("support", "Sam Support", "sam@example.org"), await instructor(srv)):
        r = await srv.api("POST", url, {"checks": good, "notes": "screen share froze"}, token=token)
        assert r.status_code == 201, r.text
        clock.advance(seconds=60)
    assert r.json()["by"] == {"name": "Iris Instructor", "role": "instructor"} and r.json()["checks"] == good
    refused(await srv.api("POST", url, {"checks": good}, token=p["token"]), "forbidden", status=403)
    for bad in (
        {"checks": {**good, "audio": "fine"}},
        {"checks": {k: v for k, v in good.items() if k != "video"}},
        {"checks": good, "notes": "x" * 2001},
        {"checks": "all ok"},
    ):
        refused(await srv.api("POST", url, bad), "invalid")
    runs = (await srv.api("GET", url)).json()["platform_checks"]
    assert [r["by"]["role"] for r in runs] == ["instructor", "support"]


async def test_readiness_names_what_is_missing_until_everything_is_done(srv: Server, clock: FakeClock) -> None:
    s = await srv.session(starts_at=(clock.now() + timedelta(days=10)).isoformat())
    url = f"/api/sessions/{s['id']}/readiness"
    got = (await srv.api("GET", url)).json()
    assert got["ready"] is False and got["flagged"] is False
    assert {c["name"]: c["ok"] for c in got["checks"]} == {
        "roster": False,
        "invitations": False,
        "reminders": True,
        "materials": False,
        "platform_check": False,
    }
    assert got["checks"][0]["detail"] == "nobody on the roster"
    await srv.participants(s["id"], 2)
    assert (await srv.api("POST", f"/api/sessions/{s['id']}/invitations", {})).status_code == 200
    await upload(srv, s["id"], "a.pdf", PDF)
    checks = {"audio": "ok", "video": "ok", "screen_share": "failed", "breakout_rooms": "n/a", "recording": "ok"}
    await srv.api("POST", f"/api/sessions/{s['id']}/platform-check", {"checks": checks})
    clock.advance(seconds=60)  # the run-through again, a minute later
    got = (await srv.api("GET", url)).json()
    assert [c["name"] for c in got["checks"] if not c["ok"]] == ["platform_check"]
    assert "screen sharing failed" in got["checks"][4]["detail"]
    await srv.api("POST", f"/api/sessions/{s['id']}/platform-check", {"checks": {**checks, "screen_share": "ok"}})
    got = (await srv.api("GET", url)).json()
    assert got["ready"] is True, got
    assert got["checks"][0]["detail"] == "2 participants on the roster"
    assert got["checks"][1]["detail"].startswith("sent ")
    refused(
        await srv.api("GET", url, token=(await srv.participants(s["id"], 1, "z"))[0]["token"]), "forbidden", status=403
    )


async def test_a_session_due_within_a_day_and_not_ready_is_flagged(srv: Server, clock: FakeClock) -> None:
    s = await srv.session(starts_at=iso_in(20 * 60))
    got = (await srv.api("GET", f"/api/sessions/{s['id']}/readiness")).json()
    assert got["ready"] is False and got["flagged"] is True


async def test_invitations_list_the_materials_each_with_the_recipients_own_link(
    tmp_path: Path, smtp_server: FakeSmtp
) -> None:
    async with running_server(tmp_path, smtp_url=f"smtp://127.0.0.1:{smtp_server.port}", jobs_every_s=0.05) as srv:
        s = await srv.session(starts_at=iso_in(10 * 24 * 60))
        (ana,) = await srv.participants(s["id"], 1)
        await upload(srv, s["id"], "syllabus.pdf", PDF, title="Syllabus")
        await srv.api(
            "POST", f"/api/sessions/{s['id']}/materials", {"title": "Map", "url": "https://maps.example.org/"}
        )
        assert (await srv.api("POST", f"/api/sessions/{s['id']}/invitations", {})).status_code == 200
        arrived = await asyncio.to_thread(smtp_server.wait_for, 2, 30)
        assert len(arrived) == 2, [m["Subject"] for m in arrived]
        got = {str(m["To"].addresses[0].addr_spec): m for m in arrived}
        ana_file = next(m for m in await listed(srv, s["id"], token=ana["token"]) if m["kind"] == "file")
        text = str(got[ana["email"]].get_body(("plain",)).get_content())  # type: ignore[union-attr]
        assert "Syllabus" in text and ana_file["url"] in text
        assert "https://maps.example.org/" in text
        calendar = next(p for p in got[ana["email"]].walk() if p.get_content_type() == "text/calendar")
        assert ana_file["url"].encode() in calendar.get_payload(decode=True).replace(b"\r\n ", b"")
        teacher = str(got["teacher@example.org"].get_body(("plain",)).get_content())  # type: ignore[union-attr]
        link = next(w for w in teacher.split() if "/files/mat." in w)
        assert link != ana_file["url"]
        assert (await srv.http.get(link.removeprefix(srv.url))).content == PDF  # the instructor's own link works


async def test_a_session_not_ready_a_day_ahead_is_mailed_about_once(
    tmp_path: Path, clock: FakeClock, smtp_server: FakeSmtp
) -> None:
    async with clocked_server(
        tmp_path, clock, smtp_url=f"smtp://127.0.0.1:{smtp_server.port}", jobs_every_s=0.05, reminders=()
    ) as srv:
        lacking = await srv.session(starts_at=(clock.now() + timedelta(days=3)).isoformat(), topic="Lacking")
        ready = await srv.session(starts_at=(clock.now() + timedelta(days=3)).isoformat(), topic="Ready")
        await srv.participants(ready["id"], 1)
        assert (await srv.api("POST", f"/api/sessions/{ready['id']}/invitations", {})).status_code == 200
        await upload(srv, ready["id"], "a.pdf", PDF)
        checks = dict.fromkeys(("audio", "video", "screen_share", "breakout_rooms", "recording"), "ok")
        await srv.api("POST", f"/api/sessions/{ready['id']}/platform-check", {"checks": checks})
        invitations = await asyncio.to_thread(smtp_server.wait_for, 2, 15)  # the ready one's two invitations
        clock.advance(seconds=49 * 3600)  # 23 hours before both
        got = await asyncio.to_thread(smtp_server.wait_for, len(invitations) + 1, 15)
        (flag,) = got[len(invitations) :]
        assert flag["Subject"].startswith("Not ready: Lacking starts ")
        assert flag["To"] == "teacher@example.org"
        text = str(flag.get_content())
        assert "- Roster: nobody on the roster" in text and f"/dashboard/{lacking['id']}" in text
        clock.advance(seconds=12 * 3600)
        await asyncio.sleep(0.5)
        assert len(smtp_server.messages()) == len(got), "once, and nothing about the ready session"

"""A person's data (contract part 2, Records management; GDPR articles 15, 17, 20): the export and the erasure.

A real server on both configurations. Ada and Bob sit in the same class: Ada chats, answers a ping, asks for
help, answers the consent request, gives feedback (anonymous form: found by her link's digest), appears in
the platform's report; the class closes and its record is built in two versions. Ada is also on a second
session that is live when she is erased. The tests look for her old name and address in the whole export
and in every record zip, and try each of her old links.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from core import feedback as feedback_rules
from persistence.identity import calendar_token, material_token, rsvp_token
from persistence.repos import mail
from tests import test_platform_attendance as zoom
from tests.clock import FakeClock
from tests.clocked import clocked_server
from tests.support import Client, Server, ok, refused

ADA, ADA_EMAIL = "Ada Lovelace", "Ada.Lovelace@Example.org"
BOB, BOB_EMAIL = "Bob Babbage", "bob@example.org"
CY = "cy@example.org"
ADA_CHAT = "Ada here: my phone is 555-0199"
BOB_CHAT = "Bob says the slides are great"
ADA_FEEDBACK = "Ada liked the pace"
BOB_FEEDBACK = "Bob wants more examples"


@pytest.fixture
async def srv(tmp_path: Path, backing: dict[str, Any], clock: FakeClock) -> AsyncIterator[Server]:
    clock.set(clock.now().replace(microsecond=0))
    async with clocked_server(tmp_path, clock, ticker_seconds=0.2, jobs_every_s=0.05, **backing) as s:
        yield s


@dataclass
class Scene:
    closed: dict[str, Any]  # the class that ran and closed
    live: dict[str, Any]  # Ada's other session, live now
    ada: dict[str, Any]  # her roster entry in the closed class
    bob: dict[str, Any]
    ada_live: dict[str, Any]  # her entry in the live one
    ada_tab: Client  # her tab in the live session
    material_id: str


def zoom_csv(t0: Any, rows: list[tuple[str, str, int, int]]) -> bytes:
    def when(m: int) -> str:
        return (t0 + timedelta(minutes=m)).strftime("%m/%d/%Y %I:%M:%S %p")

    lines = [
        "Meeting ID,Topic,Start Time,End Time,User Email,Duration (Minutes),Participants",
        f"857 4606 5432,Distributed systems,{when(0)},{when(60)},teacher@example.org,60,{len(rows)}",
        "",
        "Name (Original Name),User Email,Join Time,Leave Time,Duration (Minutes),Guest,Recording Consent,"
        "In Waiting Room",
    ]
    lines += [f"{n},{e},{when(a)},{when(b)},{b - a},No,Y,No" for n, e, a, b in rows]
    return ("\r\n".join(lines) + "\r\n").encode()


async def versions(srv: Server, sid: str) -> list[dict[str, Any]]:
    return list(ok(await srv.api("GET", f"/api/sessions/{sid}/record"))["versions"])


async def built(srv: Server, sid: str, n: int) -> list[dict[str, Any]]:
    for _ in range(300):
        kept = await versions(srv, sid)
        if len(kept) >= n:
            return kept
        await asyncio.sleep(0.05)
    raise AssertionError(f"no version {n} of the record of {sid}")


async def zips(srv: Server, sid: str) -> list[tuple[dict[str, Any], bytes]]:
    out = []
    for v in await versions(srv, sid):
        r = await srv.api("GET", f"/api/sessions/{sid}/record.zip?version={v['version']}")
        assert r.status_code == 200, r.text
        out.append((v, r.content))
    return out


async def scene(srv: Server, clock: FakeClock) -> Scene:
    s = await srv.session()
    people = [{"name": ADA, "email": ADA_EMAIL}, {"name": BOB, "email": BOB_EMAIL}, {"name": "Cy", "email": CY}]
    ada, bob, cy = ok(await srv.api("POST", f"/api/sessions/{s['id']}/participants", {"participants": people}))[
        "participants"
    ]
    ok(await srv.api("POST", f"/api/sessions/{s['id']}/invitations", {"short_notice_reason": "tests"}))
    up = await srv.http.post(
        f"/api/sessions/{s['id']}/materials",
        files={"file": ("slides.pdf", b"%PDF-1.7\n%%EOF\n", "application/pdf")},
        headers={"authorization": f"Bearer {srv.admin_token}"},
    )
    assert up.status_code == 201, up.text
    staff = await srv.connect(srv.admin_token, s["id"])
    a_tab, b_tab = await srv.connect(ada["token"]), await srv.connect(bob["token"])
    await staff.ok("session:start", {})
    t0 = clock.now()
    await a_tab.ok("chat:send", {"client_id": "ada-0001", "text": ADA_CHAT})
    await b_tab.ok("chat:send", {"client_id": "bob-0001", "text": BOB_CHAT})
    ping = await staff.ok("ping:launch", {"kind": "poll", "question": "Pace?", "options": ["slow", "fine"]})
    await a_tab.ok("ping:answer", {"ping_id": ping["ping_id"], "answer": 1})
    await a_tab.ok("help:open", {"category": "audio", "text": "Ada cannot hear anything"})
    request = await staff.ok("consent:request", {"purpose": "recording"})
    await a_tab.ok("consent:answer", {"request_id": request["request_id"], "consent": True})
    clock.advance(minutes=60)
    ok(await srv.api("POST", f"/api/sessions/{s['id']}/close"))
    await built(srv, s["id"], 1)
    raw = zoom_csv(t0, [(ADA, ADA_EMAIL.lower(), 0, 50), (BOB, BOB_EMAIL, 0, 60)])
    r = await srv.http.post(
        f"/api/sessions/{s['id']}/platform-attendance",
        content=raw,
        headers={"authorization": f"Bearer {srv.admin_token}", "content-type": "text/csv"},
    )
    assert r.status_code == 200, r.text
    key = srv.settings.secret_key
    # Three answers: an anonymous form shows no results below three.
    for person, text, rating in ((ada, ADA_FEEDBACK, 4), (bob, BOB_FEEDBACK, 2), (cy, "Fine", 5)):
        token = feedback_rules.make_token(key, s["id"], person["id"])
        answers = {"overall": rating, "worked": text, "technical": False}
        ok(await srv.http.post(f"/api/feedback/{token}", json={"answers": answers}))
    clock.advance(seconds=31)  # the record's rebuild gathers changes for 30 s
    await built(srv, s["id"], 2)

    # The outbox keeps what the staff mailer sent (server/mail.py): one to each of them.
    for i, (name, email) in enumerate(((ADA, ADA_EMAIL), (BOB, BOB_EMAIL))):
        body = f"Dear {name}, your link is {srv.url}/join/x"
        await srv.service.unit.submit(
            lambda db, i=i, name=name, email=email, body=body: mail.add_mail(
                db, mail_id=f"mail-{i}", recipient=email, subject=f"For {name}", body=body, now=clock.now()
            )
        )
    live = await srv.session(topic="Second class")
    (ada_live,) = ok(
        await srv.api(
            "POST", f"/api/sessions/{live['id']}/participants", {"participants": [{"name": ADA, "email": ADA_EMAIL}]}
        )
    )["participants"]
    live_staff = await srv.connect(srv.admin_token, live["id"])
    await live_staff.ok("session:start", {})
    ada_tab = await srv.connect(ada_live["token"])
    await ada_tab.ok("chat:send", {"client_id": "ada-0002", "text": "Ada in the second class"})
    return Scene(s, live, ada, bob, ada_live, ada_tab, up.json()["id"])


async def closed(tab: Client) -> None:
    for _ in range(100):
        if not tab.sio.connected:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the erased person's tab stayed open")


def export_url(email: str) -> str:
    return f"/api/people/{quote(email)}/export"


def erase_url(email: str) -> str:
    return f"/api/people/{quote(email)}/erase"


def text_of(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False).lower()


def zip_text(content: bytes) -> str:
    z = zipfile.ZipFile(io.BytesIO(content))
    return "\n".join(z.read(n).decode("utf-8", "replace") for n in z.namelist()).lower()


def check_manifest(content: bytes) -> dict[str, Any]:
    z = zipfile.ZipFile(io.BytesIO(content))
    manifest = json.loads(z.read("manifest.json"))
    for f in manifest["files"]:
        data = z.read(f["name"])
        assert (hashlib.sha256(data).hexdigest(), len(data)) == (f["sha256"], f["size"]), f["name"]
    return dict(manifest)


async def test_the_export_holds_everything_kept_about_the_person_and_nobody_elses(
    srv: Server, clock: FakeClock
) -> None:
    sc = await scene(srv, clock)
    data = ok(await srv.api("GET", export_url(ADA_EMAIL.upper())))  # emails compare case-insensitively
    assert data["email"] == ADA_EMAIL.lower()
    assert {s["id"] for s in data["sessions"]} == {sc.closed["id"], sc.live["id"]}
    assert all(s["roles"] == ["participant"] for s in data["sessions"])
    assert {r["participant_id"] for r in data["roster"]} == {sc.ada["id"], sc.ada_live["id"]}
    (sheet,) = data["attendance"]
    assert sheet["participant_id"] == sc.ada["id"] and sheet["name"] == ADA and sheet["status"] == "absent"
    assert sorted(m["text"] for m in data["chat"]) == sorted([ADA_CHAT, "Ada in the second class"])
    assert [t["text"] for t in data["help_tickets"]] == ["Ada cannot hear anything"]
    assert [(a["question"], a["answer"]) for a in data["ping_answers"]] == [("Pace?", 1)]
    (fb,) = data["feedback"]  # the anonymous form's response, found by her link's digest
    assert fb["named"] is False and fb["answers"]["worked"] == ADA_FEEDBACK and fb["answers"]["overall"] == 4
    assert [c["consent"] for c in data["consent"]] == [True]
    assert {i["session_id"] for i in data["invitations"]} == {sc.closed["id"]}
    assert [(p["name"], p["platform"]) for p in data["platform_attendance"]] == [(ADA, "zoom")]
    assert data["mails"] and all(m["to"].lower() == ADA_EMAIL.lower() for m in data["mails"])
    assert data["connections"] and data["staff"] is None
    assert data["counts"]["chat"] == 2 and data["counts"]["sessions"] == 2
    # Nobody else's data: Bob shares the class, the chat, the ping, the feedback form and the report.
    everything = text_of(data)
    for other in (BOB, BOB_EMAIL, BOB_CHAT, BOB_FEEDBACK, sc.bob["id"], sc.bob["token"]):
        assert other.lower() not in everything, other
    # Audited, naming the person by a pseudonymous id, never by the address.
    entries = ok(await srv.api("GET", "/api/audit?action=export"))["entries"]
    (entry,) = entries
    assert entry["target"].startswith("person:") and ADA_EMAIL.lower() not in text_of(entry)
    assert set(entry["detail"]["participants"]) == {sc.ada["id"], sc.ada_live["id"]}
    # Someone the server knows nothing of: an empty export, audited too.
    empty = ok(await srv.api("GET", export_url("nobody@example.org")))
    assert empty["sessions"] == [] and empty["chat"] == [] and empty["staff"] is None


async def test_only_an_admin_may_export_or_erase_and_bad_input_writes_nothing(srv: Server) -> None:
    s = await srv.session()
    (p,) = await srv.participants(s["id"], 1)
    tokens = [
        await srv.token("instructor", "Iris Instructor", "teacher@example.org"),
        await srv.token("support", "Sam Support", "sam@example.org"),
        p["token"],
    ]
    for token in tokens:
        refused(await srv.api("GET", export_url(p["email"]), token=token), "forbidden")
        refused(await srv.api("POST", erase_url(p["email"]), {"reason": "asked"}, token=token), "forbidden")
    assert (await srv.http.get(export_url(p["email"]))).status_code == 401
    assert (await srv.http.post(erase_url(p["email"]), json={"reason": "asked"})).status_code == 401
    for bad in ("not-an-email", "a@b", "two@@example.org", "x" * 400 + "@example.org"):
        refused(await srv.api("GET", export_url(bad)), "invalid", "email")
        refused(await srv.api("POST", erase_url(bad), {"reason": "asked"}), "invalid", "email")
    for body, field in (
        ({}, "reason"),
        ({"reason": "   "}, "reason"),
        ({"reason": "two\nlines"}, "reason"),
        ({"reason": 7}, "reason"),
        ({"reason": "x", "dry_run": "yes"}, "dry_run"),
    ):
        refused(await srv.api("POST", erase_url(p["email"]), body), "invalid", field)
    refused(await srv.api("POST", erase_url(p["email"]), None), "invalid", "body")
    # Nothing was written: the participant is whole, and no erasure is in the audit log.
    roster = ok(await srv.api("GET", f"/api/sessions/{s['id']}/attendance"))["rows"]
    assert [r["email"] for r in roster] == [p["email"]]
    assert ok(await srv.api("GET", "/api/audit?action=erase"))["entries"] == []
    # A staff member may be exported: their staff record and the sessions they teach, no secret of theirs.
    teacher = ok(await srv.api("GET", export_url("teacher@example.org")))
    assert teacher["staff"]["email"] == "teacher@example.org" and teacher["staff"]["role"] is None
    assert [t["role"] for t in teacher["staff"]["api_tokens"]] == ["instructor"]
    assert [(x["id"], x["roles"]) for x in teacher["sessions"]] == [(s["id"], ["instructor"])]
    assert "secret" not in text_of(teacher["staff"]) and "hash" not in text_of(teacher["staff"])
    # A staff member's address is refused (their account is disabled through /api/staff instead).
    refused(await srv.api("POST", erase_url("teacher@example.org"), {"reason": "asked"}), "conflict")
    refused(await srv.api("POST", erase_url("sam@example.org"), {"reason": "asked"}), "conflict")


async def test_erase_then_export_shows_nothing_identifying_and_the_records_are_redacted(
    srv: Server, clock: FakeClock
) -> None:
    sc = await scene(srv, clock)
    sid = sc.closed["id"]
    before = await zips(srv, sid)
    assert len(before) == 2 and all(ADA.lower() in zip_text(c) for _, c in before)
    sheet_before = ok(await srv.api("GET", f"/api/sessions/{sid}/attendance"))["rows"]
    feedback_before = ok(await srv.api("GET", f"/api/sessions/{sid}/feedback"))
    export_before = ok(await srv.api("GET", export_url(ADA_EMAIL)))

    preview = ok(await srv.api("POST", erase_url(ADA_EMAIL), {"dry_run": True}))
    assert preview["dry_run"] is True
    counts = preview["erased"]
    assert counts["participants"] == 2 and counts["chat_messages"] == 2 and counts["feedback_texts"] == 1
    assert counts["help_tickets"] == 1 and counts["record_versions"] == 2 and counts["invitations"] == 1
    assert any("chat messages emptied" in line for line in preview["summary"])
    assert ok(await srv.api("GET", export_url(ADA_EMAIL)))["chat"] == export_before["chat"]  # nothing changed

    done = ok(await srv.api("POST", erase_url(ADA_EMAIL), {"reason": "Her request of 4 December"}))
    assert done["erased"] == counts
    # Her live tab is closed, and the live roster forgets her.
    await closed(sc.ada_tab)

    after = ok(await srv.api("GET", export_url(ADA_EMAIL)))
    assert all(after[k] == [] for k in ("sessions", "roster", "chat", "feedback", "mails", "invitations"))
    # Nothing identifying anywhere: the chat, the sheet, the feedback results, every version of the record.
    chat = ok(await srv.api("GET", f"/api/sessions/{sid}/chat"))["messages"]
    ada_words = (ADA.lower(), ADA_EMAIL.lower(), ADA_CHAT.lower(), ADA_FEEDBACK.lower(), "ada cannot hear")
    for where in (
        text_of(chat),
        text_of(ok(await srv.api("GET", f"/api/sessions/{sid}/attendance"))),
        text_of(ok(await srv.api("GET", f"/api/sessions/{sid}/feedback"))),
        text_of(ok(await srv.api("GET", f"/api/sessions/{sid}/platform-attendance"))),
        text_of(ok(await srv.api("GET", f"/api/sessions/{sc.live['id']}/chat"))),
    ):
        for word in ada_words:
            assert word not in where, word
    redacted = await zips(srv, sid)
    assert [v["version"] for v, _ in redacted] == [1, 2]
    for (old, _), (new, content) in zip(before, redacted, strict=True):
        text = zip_text(content)
        for word in ada_words:
            assert word not in text, (new["version"], word)
        assert "erased person" in text and BOB.lower() in text and BOB_CHAT.lower() in text
        assert new["sha256"] != old["sha256"] and new["sha256"] == hashlib.sha256(content).hexdigest()
        manifest = check_manifest(content)
        assert manifest["version"] == new["version"] and new["files"] == manifest["files"]
        assert (srv.settings.files_dir / old["sha256"][:2] / old["sha256"][2:4] / old["sha256"]).exists() is False
    # Aggregates kept: the same rows, statuses and chat sequence; the same ratings and answer counts.
    sheet_after = ok(await srv.api("GET", f"/api/sessions/{sid}/attendance"))["rows"]
    assert [(r["participant_id"], r["status"]) for r in sheet_after] == [
        (r["participant_id"], r["status"]) for r in sheet_before
    ] or sorted((r["participant_id"], r["status"]) for r in sheet_after) == sorted(
        (r["participant_id"], r["status"]) for r in sheet_before
    )
    assert [m["seq"] for m in chat] == [1, 2] and chat[0]["text"] == "" and chat[1]["text"] == BOB_CHAT
    assert chat[0]["author"].startswith("Erased person ")
    feedback_after = ok(await srv.api("GET", f"/api/sessions/{sid}/feedback"))
    assert feedback_after["responses"] == feedback_before["responses"] == 3
    q_before = {q["id"]: q for q in feedback_before["per_question"]}
    q_after = {q["id"]: q for q in feedback_after["per_question"]}
    assert q_after["overall"]["counts"] == q_before["overall"]["counts"]
    assert q_after["worked"]["answered"] == q_before["worked"]["answered"]
    # The pseudonym is the same in both sessions; the audit trail is intact and names no address.
    erased = next(p for p in sheet_after if p["participant_id"] == sc.ada["id"])
    assert erased["name"].startswith("Erased person ") and erased["email"].endswith("@invalid")
    entries = ok(await srv.api("GET", "/api/audit?action=erase"))["entries"]
    (entry,) = entries
    assert entry["detail"]["reason"] == "Her request of 4 December" and entry["detail"]["counts"] == counts
    assert ADA_EMAIL.lower() not in text_of(entry)
    assert ok(await srv.api("GET", "/api/audit?action=export"))["entries"][0]["target"] == entry["target"]
    # Idempotent: a second erasure finds nothing identifying, answers zero counts (and is audited).
    again = ok(await srv.api("POST", erase_url(ADA_EMAIL), {"reason": "again"}))
    assert all(v == 0 for v in again["erased"].values()), again
    assert len(ok(await srv.api("GET", "/api/audit?action=erase"))["entries"]) == 2
    assert [v["sha256"] for v, _ in await zips(srv, sid)] == [v["sha256"] for v, _ in redacted]


async def test_an_erased_persons_old_links_and_tokens_stop_working(srv: Server, clock: FakeClock) -> None:
    sc = await scene(srv, clock)
    key = srv.settings.secret_key
    sid = sc.closed["id"]
    invitations = ok(await srv.api("GET", f"/api/sessions/{sid}/invitations"))["invitations"]
    ada_invitation = next(i for i in invitations if i["participant_id"] == sc.ada["id"])
    assert ada_invitation["email"] == ADA_EMAIL
    links = await srv.service.unit.read(_invitation_ids, session_id=sid, participant_id=sc.ada["id"])
    rsvp = f"/api/rsvp/{rsvp_token(key, links)}"
    calendar = f"/calendar/{calendar_token(key, ADA_EMAIL)}.ics"
    material = f"/files/{material_token(key, sc.material_id, sc.ada['id'])}"
    feedback = f"/api/feedback/{feedback_rules.make_token(key, sid, sc.ada['id'])}"
    for url in (rsvp, calendar, material, feedback):
        assert (await srv.http.get(url)).status_code == 200, url
    assert (await srv.api("GET", "/api/me", token=sc.ada_live["token"])).status_code in (200, 403)

    ok(await srv.api("POST", erase_url(ADA_EMAIL), {"reason": "asked"}))
    await closed(sc.ada_tab)
    for url in (rsvp, calendar, material, feedback):
        assert (await srv.http.get(url)).status_code == 404, url
    assert (await srv.http.post(feedback, json={"answers": {"overall": 1}})).status_code == 404
    for token, session in ((sc.ada_live["token"], sc.live["id"]), (sc.ada["token"], sid)):
        refused(await srv.api("GET", f"/api/sessions/{session}", token=token), "unauthorized")
        with pytest.raises(Exception):  # noqa: B017  refused at connect
            await srv.connect(token)
    # The live session forgot her; Bob's links still work.
    roster = ok(await srv.api("GET", f"/api/sessions/{sc.live['id']}/attendance"))["rows"]
    assert all(r["email"].endswith("@invalid") for r in roster)
    bob_feedback = f"/api/feedback/{feedback_rules.make_token(key, sid, sc.bob['id'])}"
    assert (await srv.http.get(bob_feedback)).status_code == 200
    assert (await srv.http.get(f"/calendar/{calendar_token(key, BOB_EMAIL)}.ics")).status_code == 200


async def _invitation_ids(db: Any, *, session_id: str, participant_id: str) -> str:
    from sqlalchemy import select

    from persistence.models import InvitationRecord

    found = await db.scalar(
        select(InvitationRecord.id).where(
            InvitationRecord.session_id == session_id, InvitationRecord.participant_id == participant_id
        )
    )
    assert found is not None
    return str(found)


@pytest.fixture
async def zsrv(tmp_path: Path, backing: dict[str, Any], clock: FakeClock) -> AsyncIterator[Server]:
    clock.set(clock.now().replace(microsecond=0))  # Zoom's times are whole seconds
    async with clocked_server(tmp_path, clock, ticker_seconds=0.2, zoom_webhook_secret=zoom.SECRET, **backing) as s:
        yield s


async def test_zoom_webhook_events_matched_to_the_person_are_exported_and_erased(
    zsrv: Server, clock: FakeClock
) -> None:
    s = await zoom.zoom_session(zsrv)  # Ada Lovelace (ada@example.org) and three others
    await zoom.start(zsrv, s["id"])
    for name, email in (("Ada Lovelace", "ada@example.org"), ("Grace Hopper", "grace@example.org")):
        r = await zoom.post_zoom(
            zsrv, zoom.participant_event("joined", clock.now(), name, email, user_id=name[:4]), clock.now()
        )
        assert r.status_code in (200, 204), r.text
    data = ok(await zsrv.api("GET", export_url("ada@example.org")))
    assert [(e["kind"], e["name"]) for e in data["platform_events"]] == [("joined", "Ada Lovelace")]
    assert "grace" not in text_of(data)
    done = ok(await zsrv.api("POST", erase_url("ada@example.org"), {"reason": "asked"}))["erased"]
    assert done["platform_rows"] == 1 and done["participants"] == 1
    assert ok(await zsrv.api("GET", export_url("ada@example.org")))["platform_events"] == []
    listed = text_of(ok(await zsrv.api("GET", f"/api/sessions/{s['id']}/platform-attendance")))
    listed += text_of(ok(await zsrv.api("GET", f"/api/sessions/{s['id']}/attendance")))
    assert "ada lovelace" not in listed and "ada@example.org" not in listed and "grace hopper" in listed

"""The retention purge on a real server, both configurations, with a fake clock (docs/records.md, "Retention
and the purge"): each kind goes when its retention has passed and the others stay, the counts survive, a
held session keeps everything, a dry run lists what a real run then deletes, a second run deletes nothing,
and each run that deleted something is one `purge` audit entry naming it. Mail and the audit log go by
their own time; the audit log's trigger still refuses what is younger than its retention."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import socketio
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import DBAPIError

from core import feedback as feedback_rules
from core import retention
from core.model import Actor
from persistence.models import (
    AttendanceRecord,
    AuditEntry,
    Base,
    ChatRecord,
    Connection,
    ConsentAnswer,
    ConsentRequest,
    FeedbackResponseRecord,
    HelpTicket,
    InvitationRecord,
    JobRecord,
    MaterialRecord,
    OutboxMail,
    Participant,
    PingAnswer,
    PingRecord,
    RecordingRecord,
    SessionRecordVersion,
)
from persistence.repos import audit, mail
from persistence.repos import purge as repo
from service.retention import RETENTION, next_run
from tests.clock import FakeClock
from tests.clocked import clocked_server
from tests.support import Server, ok

KEEP = "chat=1d,attendance=2d,feedback=3d,records=4d,materials=5d,mail=6d,audit=30d"
DAY = 86400
# Each session-bound kind's tables, as the test looks at them (rows of one session).
LOOK: dict[str, list[tuple[type[Base], Any]]] = {
    "chat": [(ChatRecord, ChatRecord.session_id)],
    "attendance": [(AttendanceRecord, AttendanceRecord.session_id), (Connection, Connection.session_id)],
    "feedback": [(FeedbackResponseRecord, FeedbackResponseRecord.session_id)],
    "records": [
        (SessionRecordVersion, SessionRecordVersion.session_id),
        (HelpTicket, HelpTicket.session_id),
        (PingRecord, PingRecord.session_id),
        (ConsentRequest, ConsentRequest.session_id),
        (RecordingRecord, RecordingRecord.session_id),
        (InvitationRecord, InvitationRecord.session_id),
    ],
    "materials": [(MaterialRecord, MaterialRecord.session_id)],
    "roster": [(Participant, Participant.session_id)],
}


@pytest.fixture
async def srv(tmp_path: Path, backing: dict[str, Any], clock: FakeClock) -> AsyncIterator[Server]:
    async with clocked_server(
        tmp_path, clock, ticker_seconds=0.2, jobs_every_s=0.05, retention=retention.parse(KEEP), **backing
    ) as s:
        await no_daily_job(s)
        yield s


async def no_daily_job(srv: Server) -> None:
    """The daily job would purge when the clock passes 03:00: these tests run the purge themselves."""
    for _ in range(200):
        if await rows(srv, JobRecord, JobRecord.kind, RETENTION):
            break
        await asyncio.sleep(0.02)

    async def cancel(db: Any) -> None:
        await db.execute(update(JobRecord).where(JobRecord.kind == RETENTION).values(state="cancelled"))

    await srv.service.unit.submit(cancel)


async def rows(srv: Server, model: type[Base], column: Any, value: Any) -> int:
    async def count(db: Any) -> int:
        return int(await db.scalar(select(func.count()).select_from(model).where(column == value)) or 0)

    return int(await srv.service.unit.read(count))


async def kept(srv: Server, session_id: str) -> dict[str, bool]:
    """Whether the session still has rows of each kind (every table the test looks at, for it)."""
    out = {}
    for kind, tables in LOOK.items():
        counts = [await rows(srv, model, column, session_id) for model, column in tables]
        assert all(counts) or not any(counts), (kind, counts)  # a kind goes whole
        out[kind] = all(counts)
    return out


async def ping_answers(srv: Server, session_id: str) -> int:
    async def count(db: Any) -> int:
        q = select(func.count()).select_from(PingAnswer).join(PingRecord, PingAnswer.ping_id == PingRecord.id)
        return int(await db.scalar(q.where(PingRecord.session_id == session_id)) or 0)

    return int(await srv.service.unit.read(count))


async def a_full_session(srv: Server, clock: FakeClock) -> tuple[str, list[dict[str, Any]]]:
    """A session that has every kind: chat, check-ins, a ticket, a ping, consent and a recording, a material,
    invitations, a feedback answer, its record; closed now."""
    s = await srv.session()
    sid = s["id"]
    people = await srv.participants(sid, 3)
    ok(await srv.api("POST", f"/api/sessions/{sid}/invitations", {"short_notice_reason": "a test class"}))
    staff = await srv.connect(srv.admin_token, sid)
    tabs = [await srv.connect(p["token"]) for p in people]
    await staff.ok("session:start", {})
    for tab in tabs:
        await tab.ok("attendance:checkin", {})
    await tabs[0].ok("chat:send", {"client_id": "message-1", "text": "hello"})
    await staff.ok("chat:send", {"client_id": "message-2", "text": "welcome"})
    ticket = await tabs[1].ok("help:open", {"category": "audio", "text": "no sound"})
    clock.advance(seconds=45)
    await staff.ok("help:claim", {"ticket_id": ticket["ticket_id"]})
    ping = await staff.ok("ping:launch", {"kind": "poll", "question": "Which?", "options": ["a", "b"]})
    await tabs[2].ok("ping:answer", {"ping_id": ping["ping_id"], "answer": 0})
    request = await staff.ok("consent:request", {"purpose": "recording"})
    for tab in tabs:
        await tab.ok("consent:answer", {"request_id": request["request_id"], "consent": True})
    await staff.ok("recording:status", {"recording": True})
    files = {"file": ("notes.txt", f"notes of {sid}".encode(), "text/plain")}
    r = await srv.http.post(
        f"/api/sessions/{sid}/materials", files=files, headers={"authorization": f"Bearer {srv.admin_token}"}
    )
    assert r.status_code == 201, r.text
    ok(await srv.api("POST", f"/api/sessions/{sid}/close"))
    token = feedback_rules.make_token(srv.settings.secret_key, sid, people[0]["id"])
    ok(await srv.http.post(f"/api/feedback/{token}", json={"answers": {"overall": 4}}))
    for _ in range(400):  # the record's first version is built by a job straight after the close
        if await rows(srv, SessionRecordVersion, SessionRecordVersion.session_id, sid):
            break
        await asyncio.sleep(0.05)
    for tab in [staff, *tabs]:
        await tab.close()
    return sid, people


async def shas(srv: Server, session_id: str) -> set[str]:
    async def read(db: Any) -> set[str]:
        found = set(await db.scalars(select(MaterialRecord.sha256).where(MaterialRecord.session_id == session_id)))
        q = select(SessionRecordVersion.sha256).where(SessionRecordVersion.session_id == session_id)
        return {s for s in found | set(await db.scalars(q)) if s}

    return set(await srv.service.unit.read(read))


def stored(srv: Server) -> set[Path]:
    root = srv.settings.files_dir
    return (
        {p for p in root.rglob("*") if p.is_file() and p.relative_to(root).parts[0] != "tmp"}
        if root.exists()
        else set()
    )


async def entries(srv: Server, action: str) -> list[dict[str, Any]]:
    r = await srv.api("GET", f"/api/audit?action={action}")
    assert r.status_code == 200, r.text
    return list(r.json()["entries"])


async def purge(srv: Server, *, dry_run: bool = False) -> dict[str, Any]:
    result: dict[str, Any] = await srv.service.retention.purge(dry_run=dry_run)
    return result


async def test_each_kind_goes_in_turn_the_counts_survive_and_a_held_session_keeps_everything(
    srv: Server, clock: FakeClock
) -> None:
    sid, people = await a_full_session(srv, clock)
    held, _ = await a_full_session(srv, clock)
    ok(await srv.api("POST", f"/api/sessions/{held}/legal-hold", {"hold": True, "reason": "Complaint 17"}))
    closed = clock.now()
    chat = await rows(srv, ChatRecord, ChatRecord.session_id, sid)
    await asyncio.sleep(0.5)  # a record version the feedback answer queued is built
    mine, theirs = await shas(srv, sid), await shas(srv, held)
    assert len(mine) >= 2 and len(theirs) >= 2  # each session's material and record zip
    assert {s for s in mine | theirs} <= {p.name for p in stored(srv)}
    everything = dict.fromkeys(LOOK, True)
    assert await kept(srv, sid) == everything == await kept(srv, held)
    assert await rows(srv, AuditEntry, AuditEntry.action, "purge") == 0

    # Nothing is past keeping yet.
    assert (await purge(srv, dry_run=True))["total"] == 0
    assert (await purge(srv))["total"] == 0 and await entries(srv, "purge") == []

    for day, kind in enumerate(["chat", "attendance", "feedback", "records", "materials"], start=1):
        clock.set(closed + timedelta(days=day, minutes=1))
        dry = await purge(srv, dry_run=True)
        assert dry["dry_run"] is True and dry["kinds"][kind]["sessions"] == [sid]
        assert await kept(srv, sid) == {k: k not in _gone_before(kind) for k in LOOK}, "a dry run deletes nothing"
        real = await purge(srv)
        assert real["dry_run"] is False and real["complete"] is True
        assert real["kinds"] == dry["kinds"] and real["total"] == dry["total"] > 0
        gone = {*_gone_before(kind), kind} | ({"roster"} if kind == "materials" else set())
        assert await kept(srv, sid) == {k: k not in gone for k in LOOK}, kind
        assert await kept(srv, held) == everything, "a held session loses nothing"
        assert (await purge(srv))["total"] == 0, "a second run deletes nothing"
        audited = await entries(srv, "purge")
        assert len(audited) == day, "one entry per run that deleted something"
        last = audited[-1]
        assert last["actor"] == "token:system" and last["target"] == "retention"
        assert last["detail"]["kinds"] == real["kinds"] and last["detail"]["total"] == real["total"]
        if kind == "chat":
            assert real["kinds"]["chat"]["rows"] == {"chat_messages": chat}
            assert real["kinds"]["attendance"] == {"sessions": [], "rows": {}}
        if kind == "attendance":
            got = real["kinds"]["attendance"]["rows"]
            assert got["attendance_records"] == 3 and got["participants.checkin"] == 3 and got["connections"] >= 3
            assert await rows(srv, Participant, Participant.checkin_status, "present") == 3  # the held session's
        if kind == "records":
            assert await ping_answers(srv, sid) == 0 and await ping_answers(srv, held) == 1
            assert await rows(srv, ConsentAnswer, ConsentAnswer.consent, True) == 3  # the held session's
        if kind == "materials":
            assert real["kinds"]["roster"] == {"sessions": [sid], "rows": {"participants": 3}}

    counts = await srv.service.unit.read(repo.counts_of, session_id=sid)
    assert counts is not None and counts["done_at"] is not None
    assert set(counts["purged"]) == {"chat", "attendance", "feedback", "records", "materials", "roster"}
    c = counts["counts"]
    assert c["roster"] == 3 and c["statuses"] == {"present": 3} and c["chat_messages"] == chat
    assert c["help"] == {"tickets": 1, "waits_s": [45]}
    assert c["feedback"]["responses"] == 1 and c["feedback"]["questions"]["overall"]["sum"] == 4.0
    assert await srv.service.unit.read(repo.counts_of, session_id=held) is None
    # Its participants' links stop working: the live state was read again, without its roster.
    with pytest.raises(socketio.exceptions.ConnectionError):
        await srv.connect(people[0]["token"])
    # The session itself stays (what it was, when), and its bytes go once nothing refers to them.
    assert ok(await srv.api("GET", f"/api/sessions/{sid}"))["id"] == sid
    clock.advance(minutes=11)
    for _ in range(200):
        if not mine & {p.name for p in stored(srv)}:
            break
        await asyncio.sleep(0.05)
    left = {p.name for p in stored(srv)}
    assert not mine & left, "the purged session's material and record zips are gone"
    assert theirs <= left, "the held session's stay"


def _gone_before(kind: str) -> list[str]:
    order = ["chat", "attendance", "feedback", "records", "materials"]
    return order[: order.index(kind)]


async def test_mail_and_the_audit_log_go_by_their_own_time_and_the_trigger_still_refuses_the_young(
    srv: Server, clock: FakeClock
) -> None:
    now = clock.now()
    real = datetime.now(UTC)
    someone = Actor(role="admin", name="Root", token_id="t1")

    async def seed(db: Any) -> None:
        await mail.add_mail(
            db, mail_id="old", recipient="a@example.org", subject="s", body="b", now=now - timedelta(days=7)
        )
        await mail.add_mail(
            db, mail_id="young", recipient="a@example.org", subject="s", body="b", now=now - timedelta(days=5)
        )
        for name, at in (("old", real - timedelta(days=40)), ("young", real - timedelta(days=10))):
            await audit.record(db, actor=someone, action="cancel", target=f"session:{name}", at=at)

    await srv.service.unit.submit(seed)
    dry = await purge(srv, dry_run=True)
    assert dry["kinds"]["mail"]["rows"] == {"mail_outbox": 1} and dry["kinds"]["audit"]["rows"] == {"audit_log": 1}
    # The clock runs a month ahead of the database's: still only what the trigger lets go is asked for.
    clock.advance(seconds=25 * DAY)
    report = await purge(srv)
    assert report["kinds"]["mail"]["rows"] == {"mail_outbox": 2}
    assert report["kinds"]["audit"]["rows"] == {"audit_log": 1}
    assert await rows(srv, OutboxMail, OutboxMail.id, "young") == 0
    assert await rows(srv, AuditEntry, AuditEntry.target, "session:old") == 0
    assert await rows(srv, AuditEntry, AuditEntry.target, "session:young") == 1

    async def forced(db: Any) -> None:
        await db.execute(delete(AuditEntry).where(AuditEntry.target == "session:young"))

    with pytest.raises(Exception) as refused:  # the writer hands on the database's refusal
        await srv.service.unit.submit(forced)
    assert isinstance(refused.value, DBAPIError) or "did not take" in str(refused.value)
    assert await rows(srv, AuditEntry, AuditEntry.target, "session:young") == 1
    (entry,) = await entries(srv, "purge")
    assert entry["detail"]["kinds"]["audit"]["rows"] == {"audit_log": 1}


async def test_a_cancelled_session_goes_from_its_cancellation_and_an_open_one_never(
    srv: Server, clock: FakeClock
) -> None:
    cancelled = await srv.session()
    await srv.participants(cancelled["id"], 2)
    ok(await srv.api("POST", f"/api/sessions/{cancelled['id']}/cancel", {"reason": "ill"}))
    scheduled = await srv.session()
    await srv.participants(scheduled["id"], 2)
    clock.advance(seconds=6 * DAY)
    report = await purge(srv)
    assert report["kinds"]["roster"] == {"sessions": [cancelled["id"]], "rows": {"participants": 2}}
    assert await rows(srv, Participant, Participant.session_id, scheduled["id"]) == 2


async def test_the_daily_job_is_queued_once_per_day_and_purges_when_due(
    tmp_path: Path, backing: dict[str, Any], clock: FakeClock
) -> None:
    async with clocked_server(
        tmp_path, clock, ticker_seconds=0.2, jobs_every_s=0.05, retention=retention.parse(KEEP), **backing
    ) as srv:
        s = await srv.session()
        await srv.participants(s["id"], 2)
        ok(await srv.api("POST", f"/api/sessions/{s['id']}/close"))
        for _ in range(200):
            if await rows(srv, JobRecord, JobRecord.kind, RETENTION):
                break
            await asyncio.sleep(0.02)
        await srv.service.retention.ensure_daily()  # a second process starting: no second job
        assert await rows(srv, JobRecord, JobRecord.kind, RETENTION) == 1
        assert next_run(clock.now()) - clock.now() <= timedelta(days=1)
        # Past the job queued at start (at the next 03:00), and past the materials' retention.
        clock.advance(seconds=5 * DAY + 60)
        for _ in range(400):
            if await entries(srv, "purge"):
                break
            await asyncio.sleep(0.05)
        (entry,) = await entries(srv, "purge")
        assert entry["detail"]["kinds"]["roster"]["sessions"] == [s["id"]]
        assert await rows(srv, JobRecord, JobRecord.kind, RETENTION) == 2, "and the next day's is queued"


async def test_a_run_cut_short_by_its_time_goes_on_in_the_next_which_names_both_in_one_entry(
    srv: Server, clock: FakeClock
) -> None:
    ids = []
    for _ in range(3):
        s = await srv.session()
        await srv.participants(s["id"], 2)
        ok(await srv.api("POST", f"/api/sessions/{s['id']}/close"))
        ids.append(s["id"])
    clock.advance(seconds=6 * DAY)
    srv.service.retention.purger.max_sessions = 1
    first = await srv.service.retention.purge(max_seconds=0)  # one batch, then out of time
    assert first["complete"] is False and len(first["kinds"]["roster"]["sessions"]) == 1
    assert await entries(srv, "purge") == [], "a run that did not finish is audited by the one that does"
    dry = await purge(srv, dry_run=True)
    assert sorted(dry["kinds"]["roster"]["sessions"]) == sorted(set(ids) - set(first["kinds"]["roster"]["sessions"]))
    second = await purge(srv)
    assert second["complete"] is True
    assert second["kinds"]["roster"] == {"sessions": sorted(ids), "rows": {"participants": 6}}
    (entry,) = await entries(srv, "purge")
    assert entry["detail"]["kinds"] == second["kinds"]

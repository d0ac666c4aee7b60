"""Reviews across sessions (docs/records.md): a weekly series run for real, then its report, CSV tables and the
low-attendance warning. A real server on both configurations with a fake clock, real Socket.IO tabs (check-ins,
marks, help tickets and claims), feedback answered by the personal links, and a real SMTP server catching the
one warning mail per series and person.
"""

from __future__ import annotations

import asyncio
import csv
import email.message
import io
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from core import feedback as feedback_rules
from core import retention
from core.reports import Threshold
from core.settings import Settings, SettingsError
from persistence.models import JobRecord
from service import reports
from tests.clock import FakeClock
from tests.clocked import clocked_server, when
from tests.fakes.smtp import FakeSmtp
from tests.support import Client, Server, ok, refused

INSTRUCTOR = "teacher@example.org"
PEOPLE = [
    {"name": "Ada Attends", "email": "ada@example.org"},
    {"name": "Bo Excused", "email": "bo@example.org"},
    {"name": "Cy Sometimes", "email": "Cy@Example.org"},  # the same person whatever the case of their email
    {"name": '=HYPERLINK("https://evil.example")', "email": "dee@example.org"},
]


@pytest.fixture
async def srv(
    tmp_path: Path, backing: dict[str, Any], clock: FakeClock, smtp_server: FakeSmtp
) -> AsyncIterator[Server]:
    async with clocked_server(
        tmp_path,
        clock,
        ticker_seconds=0.1,
        jobs_every_s=0.05,
        reminders=(),
        smtp_url=f"smtp://127.0.0.1:{smtp_server.port}",
        low_attendance=Threshold(rate=0.75, min_sessions=2),
        **backing,
    ) as s:
        yield s


def warnings(smtp: FakeSmtp) -> list[email.message.EmailMessage]:
    return [m for m in smtp.messages() if m["Subject"].startswith("Low attendance")]


async def wait_until(what: Any, timeout: float = 15) -> None:
    for _ in range(int(timeout / 0.05)):
        if await what():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not within {timeout} s: {what.__doc__ or what}")


async def status_of(srv: Server, session_id: str) -> str:
    r = await srv.api("GET", f"/api/sessions/{session_id}")
    assert r.status_code == 200, r.text
    return str(r.json()["status"])


async def live(srv: Server, session_id: str) -> None:
    async def started() -> bool:
        return await status_of(srv, session_id) == "live"

    await wait_until(started)


async def jobs_idle(srv: Server) -> None:
    """Until the warning jobs queued so far have run (none pending or running)."""

    async def idle() -> bool:
        async with srv.service.unit.sessions() as db:
            states = list(
                await db.scalars(select(JobRecord.state).where(JobRecord.kind.in_([reports.CHECK, reports.MAIL])))
            )
        return bool(states) and all(s not in ("pending", "running") for s in states)

    await wait_until(idle)


class Week:
    """One session of the series as it runs: tabs of its roster, a staff tab, the fake clock."""

    def __init__(self, srv: Server, clock: FakeClock, session: dict[str, Any], people: list[dict[str, Any]]) -> None:
        self.srv, self.clock, self.session, self.people = srv, clock, session, people
        self.id = str(session["id"])
        self.starts = when(session["starts_at"])
        self.staff: Client | None = None
        self.tabs: dict[str, Client] = {}

    async def open(self, who: list[int]) -> None:
        self.clock.set(self.starts - timedelta(minutes=5))
        self.staff = await self.srv.connect(self.srv.admin_token, self.id)
        for i in who:
            self.tabs[PEOPLE[i]["email"]] = await self.srv.connect(self.people[i]["token"])

    def tab(self, i: int) -> Client:
        return self.tabs[PEOPLE[i]["email"]]

    async def checkin(self, i: int, expect: str) -> None:
        ack = ok(await self.tab(i).call("attendance:checkin", {}))
        assert ack["status"] == expect, ack

    async def mark(self, i: int, status: str) -> None:
        assert self.staff is not None
        ok(await self.staff.call("attendance:mark", {"participant_id": self.people[i]["id"], "status": status}))

    async def ticket(self, i: int, wait_s: int) -> None:
        """Person i asks for help; support claims it `wait_s` later (by the fake clock)."""
        assert self.staff is not None
        opened = ok(await self.tab(i).call("help:open", {"category": "audio", "text": f"cannot hear {i}"}))
        self.clock.advance(seconds=wait_s)
        ok(await self.staff.call("help:claim", {"ticket_id": opened["ticket_id"]}))
        ok(await self.staff.call("help:resolve", {"ticket_id": opened["ticket_id"]}))

    async def close(self) -> None:
        ok(await self.srv.api("POST", f"/api/sessions/{self.id}/close"))
        for c in [*self.tabs.values(), *([self.staff] if self.staff else [])]:
            await c.close()

    async def answer(self, i: int, answers: dict[str, Any]) -> None:
        token = feedback_rules.make_token(self.srv.settings.secret_key, self.id, self.people[i]["id"])
        r = await self.srv.http.post(f"/api/feedback/{token}", json={"answers": answers})
        assert r.status_code == 200, r.text


async def series(srv: Server, clock: FakeClock) -> tuple[str, list[Week]]:
    body = {
        "topic": "Weekly lab",
        "instructor_email": INSTRUCTOR,
        "starts_at": (clock.now() + timedelta(minutes=40)).isoformat(),
        "duration_minutes": 60,
        "recurrence": {"freq": "weekly", "count": 4},
    }
    r = await srv.api("POST", "/api/sessions", body)
    assert r.status_code == 201, r.text
    made = r.json()
    weeks = []
    for s in made["sessions"]:
        people = await srv.api("POST", f"/api/sessions/{s['id']}/participants", {"participants": PEOPLE})
        assert people.status_code == 200, people.text
        weeks.append(Week(srv, clock, s, people.json()["participants"]))
    return str(made["series_id"]), weeks


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


async def test_a_series_report_counts_attendance_punctuality_help_and_feedback_and_warns_once(
    srv: Server, clock: FakeClock, smtp_server: FakeSmtp
) -> None:
    series_id, (w1, w2, w3, w4) = await series(srv, clock)

    # Week 1: started by the ticker two minutes late; Ada and Bo on time, Cy late, Dee never comes.
    await w1.open([0, 1, 2])
    await w1.checkin(0, "present")
    await w1.checkin(1, "present")
    clock.set(w1.starts + timedelta(minutes=2))
    await live(srv, w1.id)
    clock.advance(minutes=6)
    await w1.checkin(2, "late")
    await w1.ticket(0, 60)
    await w1.ticket(1, 180)
    await w1.ticket(2, 30)
    await w1.close()
    await w1.answer(0, {"overall": 4, "technical": True})
    await w1.answer(1, {"overall": 5, "technical": False})
    await w1.answer(2, {"overall": 3, "technical": False})

    # Week 2: started a minute early by hand; Ada present, Bo excused, Cy and Dee absent.
    await w2.open([0])
    clock.set(w2.starts - timedelta(minutes=1))
    assert w2.staff is not None
    ok(await w2.staff.call("session:start", {}))
    await w2.checkin(0, "present")
    await w2.mark(1, "excused")
    await w2.ticket(0, 90)
    await w2.close()
    await w2.answer(0, {"overall": 2})  # one response: not shown (the default form is anonymous)
    await jobs_idle(srv)
    got = warnings(smtp_server)
    assert [str(m["To"]) for m in got] == [INSTRUCTOR, INSTRUCTOR]
    texts = [str(m.get_content()) for m in got]
    assert any("Cy Sometimes <Cy@Example.org> has attended 1 of 2 sessions of “Weekly lab” (50%)" in t for t in texts)
    assert any("<dee@example.org> has attended 0 of 2 sessions" in t for t in texts)
    assert all(f"/reports?series={series_id}" in t for t in texts)
    assert not any("bo@example.org" in t for t in texts), "Bo's excused absence is not held against him"

    # Week 3 is cancelled (it never counts); week 4: Ada and Cy present, Dee absent again.
    r = await srv.api("POST", f"/api/sessions/{w3.id}/cancel", {"reason": "Holiday"})
    assert r.status_code == 200, r.text
    await w4.open([0, 2])
    clock.set(w4.starts + timedelta(seconds=30))
    await live(srv, w4.id)
    await w4.checkin(0, "present")
    await w4.checkin(2, "present")
    await w4.close()
    await jobs_idle(srv)
    got = warnings(smtp_server)
    assert len(got) == 3, "Cy and Dee are warned about once per series, however many closes; Bo now too"
    assert "Bo Excused <bo@example.org> has attended 1 of 2 sessions" in str(got[2].get_content())
    assert "1 excused absence(s) are not counted" in str(got[2].get_content())
    async with srv.service.unit.sessions() as db:
        kept = [
            f"{j.key} {j.payload}".lower()
            for j in await db.scalars(select(JobRecord).where(JobRecord.kind == reports.MAIL))
        ]
    assert len(kept) == 3 and not any(
        p["email"].lower() in k or p["name"].lower() in k for p in PEOPLE for k in kept
    ), "the jobs table names nobody it warned about"

    r = await srv.api("GET", f"/api/reports/series/{series_id}")
    assert r.status_code == 200, r.text
    rep = r.json()
    assert rep["scope"] == {
        "kind": "series",
        "series_id": series_id,
        "topic": "Weekly lab",
        "instructor_email": INSTRUCTOR,
        "from": None,
        "to": None,
    }
    assert rep["threshold"] == {"rate": 0.75, "min_sessions": 2}
    assert [(s["id"], s["status"], s["counted"]) for s in rep["sessions"]] == [
        (w1.id, "closed", True),
        (w2.id, "closed", True),
        (w3.id, "cancelled", False),
        (w4.id, "closed", True),
    ]
    first = rep["sessions"][0]["attendance"]
    assert first == {"roster": 4, "present": 2, "late": 1, "absent": 1, "excused": 0, "rate": 0.75}
    assert rep["sessions"][0]["source"] == {"attendance": "live", "help": "live", "feedback": "live"}

    by = {a["participant"]: a for a in rep["attendance"]}
    assert set(by) == {"ada@example.org", "bo@example.org", "cy@example.org", "dee@example.org"}
    ada, bo, cy, dee = (by[k] for k in ("ada@example.org", "bo@example.org", "cy@example.org", "dee@example.org"))
    assert (ada["sessions"], ada["attended"], ada["rate"], ada["low"], ada["warned_at"]) == (3, 3, 1.0, False, None)
    # An excused absence counts neither way: Bo attended 1 of the 2 sessions that count for him.
    assert (bo["attended"], bo["absent"], bo["excused"], bo["rate"], bo["low"]) == (1, 1, 1, 0.5, True)
    assert bo["warned_at"] is not None and bo["warning"] == "done"
    assert (cy["attended"], cy["late"], cy["rate"], cy["low"], cy["warning"]) == (2, 1, 0.6667, True, "done")
    assert cy["warned_at"] is not None and cy["email"] == "Cy@Example.org"
    assert (dee["attended"], dee["absent"], dee["rate"], dee["low"]) == (0, 3, 0.0, True)
    assert dee["warned_at"] is not None

    assert [(p["session_id"], p["late_by_s"]) for p in rep["punctuality"]] == [(w1.id, 120), (w2.id, -60), (w4.id, 30)]
    assert rep["punctuality"][0]["scheduled"] == w1.session["starts_at"]

    help_ = {h["session_id"]: h for h in rep["help"]}
    assert help_[w1.id] == {
        "session_id": w1.id,
        "starts_at": w1.session["starts_at"],
        "tickets": 3,
        "claimed": 3,
        "median_wait_s": 60.0,
        "p90_wait_s": 156.0,  # 60 + (180 - 60) * 0.8
        "max_wait_s": 180,
    }
    assert (help_[w2.id]["tickets"], help_[w2.id]["median_wait_s"]) == (1, 90.0)
    assert (help_[w4.id]["tickets"], help_[w4.id]["median_wait_s"], help_[w4.id]["max_wait_s"]) == (0, None, None)

    fb = {f["session_id"]: f for f in rep["feedback"]}
    assert fb[w1.id]["responses"] == 3 and fb[w1.id]["hidden"] is False
    assert fb[w1.id]["questions"]["overall"]["mean"] == 4.0 and fb[w1.id]["questions"]["overall"]["n"] == 3
    assert fb[w1.id]["questions"]["technical"]["mean"] == 0.33
    assert "worked" not in fb[w1.id]["questions"], "text questions have no mean"
    assert fb[w2.id]["responses"] == 1 and fb[w2.id]["hidden"] is True
    assert fb[w2.id]["questions"]["overall"]["mean"] is None, "below 3 responses an anonymous form shows no mean"

    # The CSV tables: the same figures, a formula neutralised.
    r = await srv.api("GET", f"/api/reports/series/{series_id}/attendance.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert f'filename="series-{series_id}-attendance.csv"' in r.headers["content-disposition"]
    table = {row["participant"]: row for row in rows(r.text)}
    assert table["dee@example.org"]["name"] == '\'=HYPERLINK("https://evil.example")'
    assert (table["cy@example.org"]["rate"], table["cy@example.org"]["low"]) == ("0.6667", "true")
    r = await srv.api("GET", f"/api/reports/series/{series_id}/help.csv")
    assert rows(r.text)[0]["p90_wait_s"] == "156.0"
    r = await srv.api("GET", f"/api/reports/series/{series_id}/feedback.csv")
    overall = [row for row in rows(r.text) if row["question_id"] == "overall"]
    assert [(row["session_id"], row["mean"]) for row in overall] == [(w1.id, "4.0"), (w2.id, ""), (w4.id, "")]
    r = await srv.api("GET", f"/api/reports/series/{series_id}/punctuality.csv")
    assert [row["late_by_s"] for row in rows(r.text)] == ["120", "-60", "30"]
    r = await srv.api("GET", f"/api/reports/series/{series_id}/sessions.csv")
    assert [row["status"] for row in rows(r.text)] == ["closed", "closed", "cancelled", "closed"]
    refused(await srv.api("GET", f"/api/reports/series/{series_id}/chat.csv"), "not_found", status=404)

    # A range: only the sessions starting in it.
    start = (w2.starts - timedelta(minutes=1)).isoformat()
    r = await srv.api("GET", f"/api/reports/series/{series_id}", params={"from": start})
    assert [s["id"] for s in r.json()["sessions"]] == [w2.id, w3.id, w4.id]
    assert r.json()["scope"]["from"] is not None

    # The instructor's report spans their sessions; here the same ones.
    r = await srv.api("GET", f"/api/reports/instructors/{INSTRUCTOR}")
    assert r.status_code == 200, r.text
    mine = r.json()
    assert mine["scope"]["kind"] == "instructor" and len(mine["sessions"]) == 4
    assert {a["participant"]: a["warned_at"] is not None for a in mine["attendance"]} == {
        "ada@example.org": False,
        "bo@example.org": True,
        "cy@example.org": True,
        "dee@example.org": True,
    }
    r = await srv.api("GET", f"/api/reports/instructors/{INSTRUCTOR}/attendance.csv")
    assert r.status_code == 200 and len(rows(r.text)) == 4

    # Each CSV is a download of personal data: audited, the instructor named by internal id only.
    r = await srv.api("GET", "/api/audit", params={"action": "download", "limit": 1000})
    downloads = [(e["target"], e["detail"]) for e in r.json()["entries"] if e["target"].startswith("report:")]
    assert [t for t, d in downloads if t == f"report:series:{series_id}"] == [f"report:series:{series_id}"] * 5
    assert sorted(d["table"] for t, d in downloads if t.startswith("report:series:")) == [
        "attendance", "feedback", "help", "punctuality", "sessions"
    ]  # fmt: skip
    (instructor,) = [d for t, d in downloads if t == "report:instructor"]
    assert instructor["table"] == "attendance" and INSTRUCTOR not in str(instructor)

    # The listing names the series.
    r = await srv.api("GET", "/api/reports")
    listed = r.json()
    assert [(s["series_id"], s["sessions"], s["closed"]) for s in listed["series"]] == [(series_id, 4, 3)]
    assert [i["email"] for i in listed["instructors"]] == [INSTRUCTOR]


async def test_who_may_read_which_report_and_bad_input(srv: Server, clock: FakeClock) -> None:
    series_id, weeks = await series(srv, clock)
    await weeks[0].close()
    other = await srv.api(
        "POST",
        "/api/sessions",
        {
            "topic": "Someone else's",
            "instructor_email": "other@example.org",
            "starts_at": (clock.now() + timedelta(days=1)).isoformat(),
            "duration_minutes": 30,
            "recurrence": {"freq": "weekly", "count": 2},
        },
    )
    assert other.status_code == 201, other.text
    other_series = other.json()["series_id"]
    teacher = await srv.token("instructor", "Iris Instructor", INSTRUCTOR)
    stranger = await srv.token("instructor", "Olga Other", "other@example.org")
    support = await srv.token("support", "Sam Support", "sam@example.org")
    participant = weeks[0].people[0]["token"]
    mine = f"/api/reports/series/{series_id}"
    for token in (srv.admin_token, support, teacher):
        for path in (mine, f"{mine}/attendance.csv", f"/api/reports/instructors/{INSTRUCTOR}"):
            r = await srv.api("GET", path, token=token)
            assert r.status_code == 200, (path, r.text)
    for path in (
        mine,
        f"{mine}/help.csv",
        f"/api/reports/instructors/{INSTRUCTOR}",
        f"/api/reports/instructors/{INSTRUCTOR}/feedback.csv",
    ):
        refused(await srv.api("GET", path, token=stranger), "forbidden", status=403)
        refused(await srv.api("GET", path, token=participant), "forbidden", status=403)
        assert (await srv.http.get(path)).status_code == 401
    # Unknown: 404 for everyone, the instructor included (before their 403).
    for token in (srv.admin_token, stranger):
        refused(await srv.api("GET", "/api/reports/series/" + "f" * 32, token=token), "not_found", status=404)
        refused(
            await srv.api("GET", "/api/reports/instructors/nobody@example.org", token=token), "not_found", status=404
        )
    # An instructor lists only their own series and themselves.
    listed = (await srv.api("GET", "/api/reports", token=stranger)).json()
    assert [s["series_id"] for s in listed["series"]] == [other_series]
    assert [i["email"] for i in listed["instructors"]] == ["other@example.org"]
    assert len((await srv.api("GET", "/api/reports")).json()["series"]) == 2
    # Bad ranges: 400 naming the parameter.
    for params, field in (
        ({"from": "yesterday"}, "from"),
        ({"to": "2030-01-01"}, "to"),
        ({"from": "2030-02-01T00:00:00Z", "to": "2030-01-01T00:00:00Z"}, "to"),
    ):
        refused(await srv.api("GET", mine, params=params), "invalid", field)
        refused(await srv.api("GET", f"{mine}/attendance.csv", params=params), "invalid", field)


def test_the_low_attendance_threshold_is_read_at_start_and_a_bad_one_stops_it() -> None:
    base = {"COMPANION_DATABASE_URL": "sqlite+aiosqlite:///x.db", "COMPANION_SECRET_KEY": "k" * 40}
    assert Settings.from_env(base).low_attendance == Threshold(0.75, 3)
    got = Settings.from_env({**base, "COMPANION_LOW_ATTENDANCE": "60%", "COMPANION_LOW_ATTENDANCE_MIN": "4"})
    assert got.low_attendance == Threshold(0.6, 4)
    for name, value in (
        ("COMPANION_LOW_ATTENDANCE", "high"),
        ("COMPANION_LOW_ATTENDANCE", "1.5"),
        ("COMPANION_LOW_ATTENDANCE", "-0.1"),
        ("COMPANION_LOW_ATTENDANCE_MIN", "0"),
        ("COMPANION_LOW_ATTENDANCE_MIN", "two"),
    ):
        with pytest.raises(SettingsError, match=name):
            Settings.from_env({**base, name: value})


async def test_a_purged_sessions_figures_come_from_the_counts_the_purge_kept(
    tmp_path: Path, backing: dict[str, Any], clock: FakeClock
) -> None:
    # Longer than the week between the two sessions: nothing is purged until the clock moves on past it.
    keep = retention.parse("chat=8d,attendance=8d,feedback=8d,records=8d,materials=8d")
    async with clocked_server(
        tmp_path, clock, ticker_seconds=0.1, jobs_every_s=0.05, reminders=(), retention=keep, **backing
    ) as srv:
        series_id, weeks = await series(srv, clock)
        w1, w2 = weeks[0], weeks[1]
        await w1.open([0, 1, 2])
        await w1.checkin(0, "present")
        await w1.checkin(1, "present")
        await w1.mark(2, "excused")
        clock.set(w1.starts + timedelta(minutes=1))
        await live(srv, w1.id)
        await w1.ticket(0, 40)
        await w1.ticket(1, 100)
        await w1.close()
        for i, rating in enumerate((5, 4, 2)):
            await w1.answer(i, {"overall": rating, "technical": i == 2})
        await w2.open([0])
        await w2.mark(0, "late")
        await w2.close()
        for w in weeks[2:]:  # so that the ticker starts nothing when the clock moves on
            assert (await srv.api("POST", f"/api/sessions/{w.id}/cancel", {"reason": "Term ended"})).status_code == 200
        url = f"/api/reports/series/{series_id}"
        before = (await srv.api("GET", url)).json()
        assert before["sessions"][0]["source"] == {"attendance": "live", "help": "live", "feedback": "live"}

        clock.advance(minutes=60 * 24 * 10)
        done = await srv.service.retention.purge()
        assert done["complete"], done
        after = (await srv.api("GET", url)).json()
        assert [s["source"] for s in after["sessions"][:2]] == [
            {"attendance": "counts", "help": "counts", "feedback": "counts"}
        ] * 2
        assert [s["attendance"] for s in after["sessions"]] == [s["attendance"] for s in before["sessions"]]
        assert after["sessions"][0]["attendance"] == {
            "roster": 4,
            "present": 2,
            "late": 0,
            "absent": 1,
            "excused": 1,
            "rate": 0.6667,
        }
        assert after["help"] == before["help"]
        assert after["help"][0]["median_wait_s"] == 70.0
        assert after["punctuality"] == before["punctuality"]
        assert [f["responses"] for f in after["feedback"]] == [3, 0]
        assert after["feedback"][0]["questions"]["overall"] == before["feedback"][0]["questions"]["overall"]
        assert after["feedback"][0]["questions"]["overall"]["mean"] == 3.67
        assert after["attendance"] == [], "no row per participant once the rosters are purged"
        r = await srv.api("GET", f"{url}/help.csv")
        assert rows(r.text)[0]["median_wait_s"] == "70.0"

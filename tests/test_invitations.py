"""Invitations, updates, cancellations and RSVPs end to end: a real server, its job runner, a real SMTP server.

Every mail is parsed with Python's email package, and every calendar part with icalendar and with
recurring-ical-events (a second reader, which expands a series as a calendar app does). The server's
clock is a FakeClock: the tests move it, they do not sleep through lead times or back-offs.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import recurring_ical_events
from icalendar import Calendar

from core.settings import parse_offsets
from tests.clock import FakeClock
from tests.clocked import clock_at_now, clocked_server
from tests.fakes.smtp import FakeSmtp
from tests.support import Server


@pytest.fixture
async def clock() -> FakeClock:
    return clock_at_now()


@pytest.fixture
async def srv(
    tmp_path: Path, backing: dict[str, Any], clock: FakeClock, smtp_server: FakeSmtp
) -> AsyncIterator[Server]:
    async with clocked_server(
        tmp_path,
        clock,
        ticker_seconds=0.2,
        smtp_url=f"smtp://127.0.0.1:{smtp_server.port}",
        jobs_every_s=0.05,
        **backing,
    ) as s:
        yield s


def at(clock: FakeClock, **delta: float) -> str:
    return (clock.now() + timedelta(**delta)).replace(microsecond=0).isoformat()


async def booked(srv: Server, clock: FakeClock, **fields: Any) -> dict[str, Any]:
    return await srv.session(starts_at=at(clock, days=10), **fields)


async def roster(srv: Server, session_id: str, people: list[tuple[str, str, str | None]]) -> list[dict[str, Any]]:
    body = {"participants": [{"name": n, "email": e, **({"timezone": tz} if tz else {})} for n, e, tz in people]}
    r = await srv.api("POST", f"/api/sessions/{session_id}/participants", body)
    assert r.status_code == 200, r.text
    return list(r.json()["participants"])


async def invite(srv: Server, session_id: str, **body: Any) -> dict[str, Any]:
    scope = body.pop("scope", None)
    path = f"/api/sessions/{session_id}/invitations" + (f"?scope={scope}" if scope else "")
    r = await srv.api("POST", path, body)
    assert r.status_code == 200, r.text
    return dict(r.json())


def calendar_of(message: EmailMessage) -> Calendar:
    """The iTIP part (text/calendar in the alternative), checked against the attachment."""
    parts = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1
    ics = parts[0].get_payload(decode=True)
    attached = [p for p in message.walk() if p.get_filename() == "invite.ics"]
    assert len(attached) == 1 and attached[0].get_payload(decode=True) == ics
    return Calendar.from_ical(ics)


def the_event(cal: Calendar) -> Any:
    events = cal.walk("VEVENT")
    assert len(events) == 1
    return events[0]


def to(message: EmailMessage) -> str:
    return str(message["To"].addresses[0].addr_spec)


def text_of(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def assert_method_in_both(message: EmailMessage, method: str) -> None:
    """Outlook and Gmail show Accept/Decline only when the VCALENDAR and the part's Content-Type both say it."""
    part = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
    assert part.get_param("method") == method, part["Content-Type"]  # in capitals (the raw form: tests/core)
    assert str(calendar_of(message)["METHOD"]) == method


def sent(smtp: FakeSmtp) -> list[EmailMessage]:
    """The invitations and reminders received (Preparation's "Not ready" mail, a day before, is its own test's)."""
    return [m for m in smtp.messages() if not str(m["Subject"]).startswith("Not ready:")]


async def mails(smtp: FakeSmtp, n: int) -> list[EmailMessage]:
    """Wait until `n` invitations and reminders have arrived; answers them."""
    for _ in range(300):
        got = sent(smtp)
        if len(got) >= n:
            break
        await asyncio.sleep(0.05)
    assert len(got) == n, [m["Subject"] for m in got]
    return got


# ---------------------------------------------------------------- invitations


async def test_an_invitation_reaches_each_invitee_with_every_property_the_contract_names(
    srv: Server, clock: FakeClock, smtp_server: FakeSmtp
) -> None:
    s = await booked(srv, clock, agenda="Clocks\nConsensus", join_url="https://meet.example.org/abc")
    await roster(srv, s["id"], [("Ana", "ana@example.org", "America/New_York"), ("Ben", "ben@example.org", None)])
    assert await invite(srv, s["id"]) == {"sent": 3, "skipped": 0}
    got = {to(m): m for m in await mails(smtp_server, 3)}
    assert set(got) == {"teacher@example.org", "ana@example.org", "ben@example.org"}
    uids = set()
    for address, m in got.items():
        assert m.get_content_type() == "multipart/mixed"
        assert m["Message-ID"] and m["From"].addresses[0].addr_spec == "companion@localhost"
        assert_method_in_both(m, "REQUEST")
        e = the_event(calendar_of(m))
        uids.add(str(e["UID"]))
        assert int(e["SEQUENCE"]) == 0
        assert str(e["SUMMARY"]) == "Distributed systems"
        assert str(e["LOCATION"]) == "https://meet.example.org/abc"
        assert e.decoded("DTSTART") == datetime.fromisoformat(s["starts_at"])
        attendees = e.get("ATTENDEE")
        assert not isinstance(attendees, list), "each mail names its own recipient only"
        assert str(attendees) == f"mailto:{address}"
        assert attendees.params["PARTSTAT"] == "NEEDS-ACTION" and attendees.params["RSVP"] == "TRUE"
        assert "Clocks" in str(e["DESCRIPTION"]) and "/rsvp/" in text_of(m)
        # The second reader expands it to the one session.
        (occurrence,) = recurring_ical_events.of(calendar_of(m)).between(
            datetime.now(UTC), datetime.now(UTC) + timedelta(days=30)
        )
        assert occurrence.decoded("DTSTART") == datetime.fromisoformat(s["starts_at"])
    assert len(uids) == 1, "one UID for the session, whoever receives it"
    # Each reads the time in their own zone.
    ny = datetime.fromisoformat(s["starts_at"]).astimezone(__import__("zoneinfo").ZoneInfo("America/New_York"))
    assert f"{ny:%H:%M} (America/New_York)" in text_of(got["ana@example.org"])
    # Participants get their setup check (the tab's token); the instructor's mail has none.
    assert f"/setup/{s['id']}#token=" in text_of(got["ana@example.org"])
    assert "/setup/" not in text_of(got["teacher@example.org"])
    # Inviting again sends nothing: everyone is invited at this version.
    assert await invite(srv, s["id"]) == {"sent": 0, "skipped": 3}
    listed = (await srv.api("GET", f"/api/sessions/{s['id']}/invitations")).json()["invitations"]
    assert [i["role"] for i in listed] == ["instructor", "participant", "participant"]
    assert listed[0]["participant_id"] is None
    assert all(i["rsvp"] == "needs-action" and i["sequence"] == 0 for i in listed)
    await asyncio.sleep(0.3)  # the marks follow the sends
    listed = (await srv.api("GET", f"/api/sessions/{s['id']}/invitations")).json()["invitations"]
    assert all(i["mail"] == "sent" for i in listed), listed


async def test_short_notice_needs_a_reason_which_the_session_then_shows(srv: Server, clock: FakeClock) -> None:
    s = await srv.session(starts_at=at(clock, days=1))
    assert (await srv.api("GET", f"/api/sessions/{s['id']}")).json()["not_ready"] == ["not_invited"]
    r = await srv.api("POST", f"/api/sessions/{s['id']}/invitations", {})
    assert r.status_code == 409, r.text
    assert r.json()["error"]["reason"] == "short_notice" and r.json()["error"]["lead"] == "3d"
    assert (await srv.api("GET", f"/api/sessions/{s['id']}")).json()["invitations_sent_at"] is None
    assert await invite(srv, s["id"], short_notice_reason="the room changed") == {"sent": 1, "skipped": 0}
    got = (await srv.api("GET", f"/api/sessions/{s['id']}")).json()
    assert got["short_notice_reason"] == "the room changed" and got["invitations_sent_at"] is not None
    assert got["ready"] is True and got["not_ready"] == []
    audit = (await srv.api("GET", f"/api/audit?session_id={s['id']}&action=invite")).json()
    assert audit["entries"][0]["detail"]["short_notice_reason"] == "the room changed"
    # Well ahead, no reason is needed, and one given is not kept.
    far = await booked(srv, clock)
    assert (await srv.api("GET", f"/api/sessions/{far['id']}")).json()["ready"] is True
    await invite(srv, far["id"], short_notice_reason="not needed")
    assert (await srv.api("GET", f"/api/sessions/{far['id']}")).json()["short_notice_reason"] is None


async def test_only_admins_invite_and_staff_read(srv: Server, clock: FakeClock) -> None:
    s = await booked(srv, clock)
    people = await roster(srv, s["id"], [("Ana", "ana@example.org", None)])
    for role in ("instructor", "support"):
        token = await srv.token(role, "Staff", "teacher@example.org")
        r = await srv.api("POST", f"/api/sessions/{s['id']}/invitations", {}, token=token)
        assert r.status_code == 403, r.text
        assert (await srv.api("GET", f"/api/sessions/{s['id']}/invitations", token=token)).status_code == 200
        assert (await srv.api("GET", f"/api/sessions/{s['id']}/reminders", token=token)).status_code == 200
    r = await srv.api("POST", f"/api/sessions/{s['id']}/invitations", {}, token=people[0]["token"])
    assert r.status_code == 403, r.text
    r = await srv.api("POST", f"/api/sessions/{s['id']}/invitations", {"short_notice_reason": 5})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid"
    r = await srv.api("POST", f"/api/sessions/{s['id']}/invitations?scope=series", {})
    assert r.status_code == 400, "not a series"
    assert (await srv.api("GET", f"/api/sessions/{s['id']}/invitations")).json()["invitations"] == []
    assert await invite(srv, s["id"]) == {"sent": 2, "skipped": 0}, "the refusals left nothing half-written"


# ---------------------------------------------------------------- updates and cancellations


async def test_a_change_mails_an_update_and_a_cancellation_a_cancel(
    srv: Server, clock: FakeClock, smtp_server: FakeSmtp
) -> None:
    s = await booked(srv, clock)
    await roster(srv, s["id"], [("Ana", "ana@example.org", None)])
    await invite(srv, s["id"])
    first = await mails(smtp_server, 2)
    uid = str(the_event(calendar_of(first[0]))["UID"])
    # What a calendar does not show mails nothing.
    r = await srv.api("PATCH", f"/api/sessions/{s['id']}", {"capacity": 40})
    assert r.status_code == 200, r.text
    later = (clock.now() + timedelta(days=11)).replace(microsecond=0)
    r = await srv.api("PATCH", f"/api/sessions/{s['id']}", {"starts_at": later.isoformat()})
    assert r.status_code == 200, r.text
    updates = (await mails(smtp_server, 4))[2:]
    for m in updates:
        assert_method_in_both(m, "REQUEST")
        e = the_event(calendar_of(m))
        assert str(e["UID"]) == uid and int(e["SEQUENCE"]) == 1, "same UID, SEQUENCE one higher"
        assert e.decoded("DTSTART") == later
        assert m["Subject"].startswith("Updated:")
    r = await srv.api("POST", f"/api/sessions/{s['id']}/cancel", {"reason": "ill"})
    assert r.status_code == 200, r.text
    cancels = (await mails(smtp_server, 6))[4:]
    for m in cancels:
        assert_method_in_both(m, "CANCEL")
        e = the_event(calendar_of(m))
        assert str(e["UID"]) == uid and int(e["SEQUENCE"]) == 2
        assert str(e["STATUS"]) == "CANCELLED", "a CANCEL of the whole event says so"
    r = await srv.api("POST", f"/api/sessions/{s['id']}/invitations", {})
    assert r.status_code == 409, "a cancelled session invites no one"


async def test_taken_off_the_roster_gets_a_cancel_and_added_late_an_invitation(
    srv: Server, clock: FakeClock, smtp_server: FakeSmtp
) -> None:
    s = await booked(srv, clock)
    ana, _ = await roster(srv, s["id"], [("Ana", "ana@example.org", None), ("Ben", "ben@example.org", None)])
    await invite(srv, s["id"])
    await mails(smtp_server, 3)
    r = await srv.api("DELETE", f"/api/sessions/{s['id']}/participants/{ana['id']}")
    assert r.status_code == 204, r.text
    (cancel,) = (await mails(smtp_server, 4))[3:]
    assert to(cancel) == "ana@example.org"
    assert_method_in_both(cancel, "CANCEL")
    e = the_event(calendar_of(cancel))
    assert "STATUS" not in e, "uninviting one person: the event goes on (RFC 5546 3.2.5)"
    await roster(srv, s["id"], [("Cara", "cara@example.org", None)])
    (late,) = (await mails(smtp_server, 5))[4:]
    assert to(late) == "cara@example.org" and late["Subject"].startswith("Invitation:")
    listed = (await srv.api("GET", f"/api/sessions/{s['id']}/invitations")).json()["invitations"]
    assert {i["email"]: i["late"] for i in listed} == {
        "teacher@example.org": False,
        "ben@example.org": False,
        "cara@example.org": True,
    }


# ---------------------------------------------------------------- RSVP


async def test_rsvp_by_the_personal_link_and_staff_see_it_live(
    srv: Server, clock: FakeClock, smtp_server: FakeSmtp
) -> None:
    s = await booked(srv, clock)
    await roster(srv, s["id"], [("Ana", "ana@example.org", "Asia/Tokyo")])
    await invite(srv, s["id"])
    got = {to(m): m for m in await mails(smtp_server, 2)}
    link = re.search(r"http://\S+/rsvp/(\S+)", text_of(got["ana@example.org"]))
    assert link is not None
    token = link.group(1)
    page = await srv.http.get(f"/rsvp/{token}")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    view = (await srv.http.get(f"/api/rsvp/{token}")).json()
    assert view["timezone"] == "Asia/Tokyo" and view["rsvp"] == "needs-action" and view["topic"] == s["topic"]
    assert view["calendar_url"].endswith(".ics")
    staff = await srv.connect(srv.admin_token, s["id"])
    r = await srv.http.post(f"/rsvp/{token}", json={"answer": "declined"})
    assert r.status_code == 200 and r.json() == {"rsvp": "declined"}
    event = await staff.wait_for("rsvp")
    assert event["session_id"] == s["id"] and event["rsvp"] == "declined" and event["participant_id"]
    # GETs change nothing (mail scanners follow links).
    await srv.http.get(f"/rsvp/{token}")
    await srv.http.get(f"/api/rsvp/{token}")
    assert (await srv.http.get(f"/api/rsvp/{token}")).json()["rsvp"] == "declined"
    got_session = (await srv.api("GET", f"/api/sessions/{s['id']}")).json()
    assert got_session["rsvp"] == {"accepted": 0, "tentative": 0, "declined": 1, "needs_action": 0}
    # Bad input: a clear error, and nothing changed.
    assert (await srv.http.post(f"/rsvp/{token}", json={"answer": "maybe"})).status_code == 400
    assert (await srv.http.post(f"/rsvp/{token}x", json={"answer": "accepted"})).status_code == 404
    assert (await srv.http.get("/api/rsvp/rsv_nobody_x")).status_code == 404
    assert (await srv.http.get(f"/api/rsvp/{token}")).json()["rsvp"] == "declined"


async def test_the_calendar_feed_lists_a_persons_sessions(srv: Server, clock: FakeClock) -> None:
    one = await booked(srv, clock, topic="Clocks")
    two = await srv.session(starts_at=at(clock, days=12), topic="Consensus")
    await srv.session(starts_at=at(clock, days=13), topic="Not hers")
    (p1,) = await roster(srv, one["id"], [("Ana", "ana@example.org", None)])
    await roster(srv, two["id"], [("Ana", "ANA@example.org", None)])
    await invite(srv, one["id"])
    await asyncio.sleep(0.3)
    client = await srv.connect(p1["token"])
    state = await client.call("session:state", {})
    url = state["me"]["calendar_url"]
    r = await srv.http.get(url.split(str(srv.settings.public_url), 1)[-1])
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/calendar")
    cal = Calendar.from_ical(r.content)
    assert str(cal["METHOD"]) == "PUBLISH"
    assert sorted(str(e["SUMMARY"]) for e in cal.walk("VEVENT")) == ["Clocks", "Consensus"]
    assert (await srv.http.get("/calendar/cal.bm9ib2R5.xxxx.ics")).status_code == 404


# ---------------------------------------------------------------- a series invited as one event


async def weekly(srv: Server, start: datetime) -> list[dict[str, Any]]:
    """Four weekly sessions in Berlin from `start`."""
    body = {
        "topic": "Weekly",
        "instructor_email": "teacher@example.org",
        "starts_at": start.isoformat(),
        "duration_minutes": 60,
        "timezone": "Europe/Berlin",
        "recurrence": {"freq": "weekly", "count": 4},
    }
    r = await srv.api("POST", "/api/sessions", body)
    assert r.status_code == 201, r.text
    return list(r.json()["sessions"])


async def test_a_series_is_one_vevent_and_one_occurrence_changes_by_an_override(
    srv: Server, clock: FakeClock, smtp_server: FakeSmtp
) -> None:
    start = datetime(2038, 3, 16, 9, 0, tzinfo=UTC)  # Berlin changes its clocks on the 28th
    clock.set(start - timedelta(days=20))
    occurrences = await weekly(srv, start)
    for o in occurrences:
        await roster(srv, o["id"], [("Ana", "ana@example.org", None)])
    assert (await invite(srv, occurrences[0]["id"], scope="series"))["sent"] == 2
    got = {to(m): m for m in await mails(smtp_server, 2)}
    cal = calendar_of(got["ana@example.org"])
    e = the_event(cal)
    assert "RRULE" in e and cal.walk("VTIMEZONE"), "a series: one VEVENT with an RRULE, and its VTIMEZONE"
    expanded = recurring_ical_events.of(cal).between(start - timedelta(days=1), start + timedelta(days=40))
    assert [o.decoded("DTSTART").astimezone(UTC) for o in expanded] == [
        datetime.fromisoformat(o["starts_at"]) for o in occurrences
    ]
    uid = str(e["UID"])
    # One occurrence moves an hour: an override with its RECURRENCE-ID.
    third = occurrences[2]
    moved = datetime.fromisoformat(third["starts_at"]) + timedelta(hours=1)
    r = await srv.api("PATCH", f"/api/sessions/{third['id']}", {"starts_at": moved.isoformat()})
    assert r.status_code == 200, r.text
    overrides = (await mails(smtp_server, 4))[2:]
    for m in overrides:
        o = the_event(calendar_of(m))
        assert str(o["UID"]) == uid and "RRULE" not in o
        assert o.decoded("RECURRENCE-ID").astimezone(UTC) == datetime.fromisoformat(third["starts_at"])
        assert o.decoded("DTSTART").astimezone(UTC) == moved
    # One answer for the series answers for each occurrence.
    token = re.search(r"/rsvp/(\S+)", text_of(got["ana@example.org"]))
    assert token is not None
    assert (await srv.http.post(f"/rsvp/{token.group(1)}", json={"answer": "accepted"})).status_code == 200
    for o in occurrences:
        listed = (await srv.api("GET", f"/api/sessions/{o['id']}/invitations")).json()["invitations"]
        assert [i["rsvp"] for i in listed if i["role"] == "participant"] == ["accepted"], o["id"]


async def test_scope_following_ends_the_old_rrule_and_invites_the_new_series(
    srv: Server, clock: FakeClock, smtp_server: FakeSmtp
) -> None:
    start = datetime(2038, 5, 4, 9, 0, tzinfo=UTC)
    clock.set(start - timedelta(days=20))
    occurrences = await weekly(srv, start)
    await invite(srv, occurrences[0]["id"], scope="series")
    (first,) = await mails(smtp_server, 1)
    old_uid = str(the_event(calendar_of(first))["UID"])
    third = occurrences[2]
    moved = datetime.fromisoformat(third["starts_at"]) + timedelta(hours=2)
    r = await srv.api("PATCH", f"/api/sessions/{third['id']}?scope=following", {"starts_at": moved.isoformat()})
    assert r.status_code == 200, r.text
    ended, new = sorted((await mails(smtp_server, 3))[1:], key=lambda m: the_event(calendar_of(m))["UID"] != old_uid)
    e = the_event(calendar_of(ended))
    assert str(e["UID"]) == old_uid and int(e["SEQUENCE"]) == 1
    until = e["RRULE"]["UNTIL"][0]
    assert datetime.fromisoformat(occurrences[1]["starts_at"]) <= until < datetime.fromisoformat(third["starts_at"])
    n = the_event(calendar_of(new))
    assert str(n["UID"]) != old_uid and int(n["SEQUENCE"]) == 0 and n.decoded("DTSTART").astimezone(UTC) == moved
    assert len(recurring_ical_events.of(calendar_of(new)).between(moved, moved + timedelta(days=30))) == 2


# ---------------------------------------------------------------- mail that fails


async def test_a_refusing_mail_server_is_retried_with_back_off_and_given_up_visibly(
    srv: Server, clock: FakeClock, smtp_server: FakeSmtp
) -> None:
    s = await booked(srv, clock)
    smtp_server.fail_next(1, "refuse_transient")
    await invite(srv, s["id"])  # the instructor alone: one mail, refused once
    await asyncio.sleep(0.5)
    (row,) = (await srv.api("GET", f"/api/sessions/{s['id']}/invitations")).json()["invitations"]
    assert row["mail"] == "queued" and row["mail_error"], row
    assert sent(smtp_server) == []
    clock.advance(seconds=31)  # past the first back-off
    await mails(smtp_server, 1)
    # A server that refuses every time: eight attempts, then failed, shown on the session.
    other = await booked(srv, clock, topic="Doomed")
    smtp_server.behaviour = "refuse_permanent"
    await invite(srv, other["id"])
    for _ in range(9):
        await asyncio.sleep(0.3)
        clock.advance(seconds=3600)
    await asyncio.sleep(0.5)
    (row,) = (await srv.api("GET", f"/api/sessions/{other['id']}/invitations")).json()["invitations"]
    assert row["mail"] == "failed" and row["mail_error"], row
    assert (await srv.api("GET", f"/api/sessions/{other['id']}")).json()["mail_failed"] == 1


async def test_a_permanent_refusal_fails_the_mail_at_once_without_retrying(
    srv: Server, clock: FakeClock, smtp_server: FakeSmtp
) -> None:
    s = await booked(srv, clock)
    smtp_server.behaviour = "refuse_permanent"  # 550: no retry can make it go
    await invite(srv, s["id"])
    for _ in range(100):
        (row,) = (await srv.api("GET", f"/api/sessions/{s['id']}/invitations")).json()["invitations"]
        if row["mail"] != "queued":
            break
        await asyncio.sleep(0.05)
    assert row["mail"] == "failed" and "550" in row["mail_error"], row
    clock.advance(seconds=3600)  # far past any back-off: nothing is tried again
    await asyncio.sleep(0.5)
    assert smtp_server.refusals == 1
    assert (await srv.api("GET", f"/api/sessions/{s['id']}")).json()["mail_failed"] == 1


# ---------------------------------------------------------------- reminders (the clock is moved, not slept through)


async def reminders_of(srv: Server, session_id: str) -> dict[str, dict[str, Any]]:
    r = await srv.api("GET", f"/api/sessions/{session_id}/reminders")
    assert r.status_code == 200, r.text
    return {x["offset"]: x for x in r.json()["reminders"]}


async def test_reminders_go_once_to_everyone_who_has_not_declined(
    srv: Server, clock: FakeClock, smtp_server: FakeSmtp
) -> None:
    s = await srv.session(starts_at=at(clock, days=2))
    ana, _ = await roster(srv, s["id"], [("Ana", "ana@example.org", None), ("Ben", "ben@example.org", None)])
    await invite(srv, s["id"], short_notice_reason="booked late")
    invited = await mails(smtp_server, 3)
    ben_mail = next(m for m in invited if to(m) == "ben@example.org")
    token = re.search(r"/rsvp/(\S+)", text_of(ben_mail))
    assert token is not None
    assert (await srv.http.post(f"/rsvp/{token.group(1)}", json={"answer": "declined"})).status_code == 200
    due = await reminders_of(srv, s["id"])
    assert {k: v["state"] for k, v in due.items()} == {"24h": "pending", "1h": "pending"}
    starts = datetime.fromisoformat(s["starts_at"])
    assert datetime.fromisoformat(due["24h"]["due_at"]) == starts - timedelta(hours=24)
    tab = await srv.connect(ana["token"])
    clock.set(starts - timedelta(hours=24))
    reminded = (await mails(smtp_server, 5))[3:]
    assert sorted(to(m) for m in reminded) == ["ana@example.org", "teacher@example.org"], "Ben declined"
    assert all(m["Subject"].startswith("Reminder:") and "24 hours" in m["Subject"] for m in reminded)
    assert not [p for m in reminded for p in m.walk() if p.get_content_type() == "text/calendar"]
    event = await tab.wait_for("reminder")
    assert event == {"session_id": s["id"], "starts_at": s["starts_at"]}
    await asyncio.sleep(0.5)
    assert (await reminders_of(srv, s["id"]))["24h"] | {"due_at": None} == {
        "offset": "24h",
        "due_at": None,
        "state": "sent",
        "sent": 2,
    }
    clock.advance(seconds=60)
    await asyncio.sleep(0.5)
    assert len(sent(smtp_server)) == 5, "sent once"


async def test_after_downtime_only_the_latest_due_reminder_goes_and_none_after_the_start(
    srv: Server, clock: FakeClock, smtp_server: FakeSmtp
) -> None:
    s = await srv.session(starts_at=at(clock, days=2))
    late = await srv.session(starts_at=at(clock, days=2, hours=3), topic="Late")
    starts = datetime.fromisoformat(s["starts_at"])
    clock.set(starts - timedelta(minutes=30))  # both of s's are due; of late's, the 24h one only
    await mails(smtp_server, 2)
    await asyncio.sleep(0.5)
    got = await reminders_of(srv, s["id"])
    assert (got["24h"]["state"], got["1h"]["state"]) == ("skipped", "sent")
    assert (await reminders_of(srv, late["id"]))["24h"]["state"] == "sent"
    clock.set(datetime.fromisoformat(late["starts_at"]) + timedelta(minutes=1))
    await asyncio.sleep(0.8)
    assert (await reminders_of(srv, late["id"]))["1h"]["state"] == "skipped", "never after the start"
    assert len(sent(smtp_server)) == 2


async def test_rescheduling_moves_the_reminders_and_cancelling_cancels_them(
    srv: Server, clock: FakeClock, smtp_server: FakeSmtp
) -> None:
    s = await srv.session(starts_at=at(clock, days=2))
    later = datetime.fromisoformat(s["starts_at"]) + timedelta(days=1)
    r = await srv.api("PATCH", f"/api/sessions/{s['id']}", {"starts_at": later.isoformat()})
    assert r.status_code == 200, r.text
    got = await reminders_of(srv, s["id"])
    assert datetime.fromisoformat(got["24h"]["due_at"]) == later - timedelta(hours=24)
    assert got["24h"]["state"] == "pending"
    clock.set(later - timedelta(days=2))  # where the old 24h reminder was due: nothing
    await asyncio.sleep(0.5)
    assert sent(smtp_server) == []
    r = await srv.api("POST", f"/api/sessions/{s['id']}/cancel", {"reason": "ill"})
    assert r.status_code == 200, r.text
    assert {v["state"] for v in (await reminders_of(srv, s["id"])).values()} == {"cancelled"}
    clock.set(later - timedelta(minutes=30))
    await asyncio.sleep(0.5)
    assert sent(smtp_server) == []


async def test_a_restart_gives_upcoming_sessions_the_reminders_configured_now(
    tmp_path: Path, backing: dict[str, Any], clock: FakeClock, smtp_server: FakeSmtp
) -> None:
    """Sessions booked before reminders existed, or before COMPANION_REMINDERS changed, get them at start."""
    common: dict[str, Any] = {
        "ticker_seconds": 0.2,
        "smtp_url": f"smtp://127.0.0.1:{smtp_server.port}",
        "jobs_every_s": 0.05,
        **backing,
    }
    async with clocked_server(tmp_path, clock, reminders=parse_offsets("24h"), **common) as first:
        s = await first.session(starts_at=at(clock, days=2))
        assert set(await reminders_of(first, s["id"])) == {"24h"}
    async with clocked_server(tmp_path, clock, reminders=parse_offsets("24h,2h"), **common) as second:
        for _ in range(100):
            got = await reminders_of(second, s["id"])
            if got["2h"]["state"] == "pending":
                break
            await asyncio.sleep(0.05)
        assert {k: v["state"] for k, v in got.items()} == {"24h": "pending", "2h": "pending"}
        clock.set(datetime.fromisoformat(s["starts_at"]) - timedelta(minutes=90))
        (mail,) = await mails(smtp_server, 1)  # the 2h one to the instructor; the 24h one is skipped
        assert to(mail) == "teacher@example.org"
        await asyncio.sleep(0.3)
        got = await reminders_of(second, s["id"])
        assert {k: v["state"] for k, v in got.items()} == {"24h": "skipped", "2h": "sent"}

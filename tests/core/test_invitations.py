"""core.ical, core.invitemail, core.vtimezone: invitation mails and their calendar parts, as clients read them.

Gmail, Outlook and Apple Calendar cannot run here, so each of their known ways of misreading an
invitation is a named test, and every calendar part is read by two parsers that share no code path
for recurrences: icalendar, and recurring-ical-events (which expands RRULEs and overrides the way a
calendar shows them). The VTIMEZONE is also read the way Outlook reads it: with its TZID renamed, so
no reader can look the IANA name up and each must follow the definition written.
"""

from __future__ import annotations

import dataclasses
import email
import email.policy
import html.parser
import re
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from itertools import islice
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import recurring_ical_events
from dateutil import rrule
from dateutil import tz as dateutil_tz
from icalendar import Calendar, Component, Timezone

from core import schedule
from core.ical import EventFacts, Invitee, SeriesRule, calendar
from core.invitemail import invitation_mail, local_time_text, reminder_mail
from core.schedule import Recurrence
from core.vtimezone import vtimezone

BERLIN = "Europe/Berlin"  # 2027: summer time from Sunday 28 March to Sunday 31 October
ORGANIZER = "Companion <companion@localhost>"
NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
TUESDAY_10_BERLIN = datetime(2027, 3, 16, 9, 0, tzinfo=UTC)  # 10:00 CET, a Tuesday
ICS_LINE_OCTETS = 75  # RFC 5545 3.1, without the CRLF


def facts(**fields: Any) -> EventFacts:
    base: dict[str, Any] = {
        "uid": "session-1@companion.test",
        "sequence": 0,
        "topic": "Statistics 101",
        "starts_at": TUESDAY_10_BERLIN,
        "duration_minutes": 90,
        "timezone": BERLIN,
        "join_url": "https://zoom.example/j/123",
        "agenda": "1. Means\n2. Variance",
        "materials": [("Slides", "https://files.example/slides.pdf")],
    }
    return EventFacts(**{**base, **fields})


def series(**fields: Any) -> EventFacts:
    """Six Tuesdays at 10:00 in Berlin, 16 March to 20 April 2027: across the change to summer time."""
    return facts(**{"uid": "series-1@companion.test", "rrule": SeriesRule(("TU",), count=6), **fields})


def invitee(**fields: Any) -> Invitee:
    base: dict[str, Any] = {
        "email": "ada@example.org",
        "name": "Ada Lovelace",
        "timezone": None,
        "rsvp_url": "https://companion.example/rsvp/tok-ada",
        "tab_url": "https://companion.example/s/session-1?k=tab-ada",
    }
    return Invitee(**{**base, **fields})


def mail(kind: str = "invite", f: EventFacts | None = None, who: Invitee | None = None) -> EmailMessage:
    """The mail as it arrives: flattened to bytes and parsed again."""
    built = invitation_mail(
        kind,  # type: ignore[arg-type]
        f or facts(),
        who or invitee(),
        organizer=ORGANIZER,
        now=NOW,
        message_id="<inv-1@companion.test>",
    )
    received = email.message_from_bytes(built.as_bytes(), policy=email.policy.default)
    assert isinstance(received, EmailMessage)
    return received


def parts(message: EmailMessage) -> list[EmailMessage]:
    return [p for p in message.walk() if isinstance(p, EmailMessage)]


def calendar_parts(message: EmailMessage) -> tuple[EmailMessage, EmailMessage]:
    """The inline text/calendar part and the invite.ics attachment."""
    inline = [p for p in parts(message) if p.get_content_type() == "text/calendar"]
    attached = [p for p in parts(message) if p.get_filename() == "invite.ics"]
    assert len(inline) == 1 and len(attached) == 1
    return inline[0], attached[0]


def body(message: EmailMessage, subtype: str) -> str:
    part = message.get_body((subtype,))
    assert part is not None
    content = part.get_content()
    assert isinstance(content, str)
    return content


def read(ics: bytes) -> tuple[Calendar, list[Component]]:
    """The calendar as icalendar parses it, and its events as recurring-ical-events expands them.

    The two must agree on every event the calendar holds: the first occurrence of each is its VEVENT.
    """
    cal = Calendar.from_ical(ics)
    events = cal.walk("VEVENT")
    assert events
    occurrences = list(recurring_ical_events.of(cal).between(datetime(2020, 1, 1, tzinfo=UTC), timedelta(days=5000)))
    assert occurrences
    firsts = {e.decoded("DTSTART") for e in events}
    assert firsts <= {o.decoded("DTSTART") for o in occurrences}
    return cal, occurrences


def received_calendar(message: EmailMessage) -> tuple[Calendar, list[Component]]:
    """The calendar a mail carries, read by both parsers; the inline part and the attachment are one."""
    inline, attached = calendar_parts(message)
    ics = inline.get_content()
    assert isinstance(ics, bytes | str)
    raw = ics.encode() if isinstance(ics, str) else ics
    assert raw == attached.get_content()
    return read(raw)


def ics_of(message: EmailMessage) -> bytes:
    content = calendar_parts(message)[1].get_content()
    assert isinstance(content, bytes)
    return content


def event(message: EmailMessage) -> Component:
    cal, _ = received_calendar(message)
    (vevent,) = cal.walk("VEVENT")
    return vevent


def utc_starts(occurrences: list[Component]) -> list[datetime]:
    return sorted(o.decoded("DTSTART").astimezone(UTC) for o in occurrences)


# The quirks, each by name


def test_method_is_in_the_vcalendar_and_the_content_type_in_capitals() -> None:
    for kind, method in [("invite", "REQUEST"), ("update", "REQUEST"), ("cancel", "CANCEL")]:
        f = facts(sequence=1, status="CANCELLED" if kind == "cancel" else "CONFIRMED")
        message = mail(kind, f)
        inline, attached = calendar_parts(message)
        # Outlook and Gmail show Accept/Decline only when both say it; the header is as Google writes it.
        assert dict(inline.raw_items())["Content-Type"] == f"text/calendar; charset=UTF-8; method={method}"
        assert inline.get_param("method") == method
        cal, _ = received_calendar(message)
        assert str(cal["METHOD"]) == method
        assert f"\r\nMETHOD:{method}\r\n".encode() in ics_of(message)
        assert attached.get_content_type() == "application/ics"
        assert method.lower() not in ics_of(message).decode()


def test_sequence_rises_with_each_update_and_never_falls() -> None:
    invited = facts()
    moved = dataclasses.replace(invited, sequence=1, starts_at=invited.starts_at + timedelta(hours=2))
    renamed = dataclasses.replace(moved, sequence=2, topic="Statistics 101 (room change)")
    cancelled = dataclasses.replace(renamed, sequence=3, status="CANCELLED")
    sent = [mail("invite", invited), mail("update", moved), mail("update", renamed), mail("cancel", cancelled)]
    events = [event(m) for m in sent]
    assert [e.decoded("SEQUENCE") for e in events] == [0, 1, 2, 3]  # a client ignores one at or below its own
    assert {str(e["UID"]) for e in events} == {invited.uid}
    assert events[1].decoded("DTSTART").astimezone(UTC) == invited.starts_at + timedelta(hours=2)
    # An update at SEQUENCE 0 cannot be above the invitation it changes: refused, not sent to be ignored.
    with pytest.raises(ValueError, match="SEQUENCE"):
        invitation_mail("update", invited, invitee(), organizer=ORGANIZER, now=NOW, message_id="<u@t>")
    with pytest.raises(ValueError, match="SEQUENCE"):
        facts(sequence=-1)


def test_cancel_says_method_cancel_not_request_with_a_status() -> None:
    cancelled = facts(sequence=1, status="CANCELLED")
    message = mail("cancel", cancelled)
    vevent = event(message)
    cal, _ = received_calendar(message)
    assert str(cal["METHOD"]) == "CANCEL"
    assert str(vevent["STATUS"]) == "CANCELLED"
    assert b"REQUEST" not in ics_of(message)
    # A cancellation asks for no answer.
    assert "RSVP" not in vevent["ATTENDEE"].params and "PARTSTAT" not in vevent["ATTENDEE"].params
    assert message["Subject"].startswith("Cancelled: Statistics 101")
    # Gmail and Outlook keep an event that a REQUEST says is cancelled: that is never written.
    with pytest.raises(ValueError, match="METHOD:CANCEL"):
        calendar("REQUEST", cancelled, invitee(), ORGANIZER, NOW)
    with pytest.raises(ValueError, match="METHOD:CANCEL"):
        invitation_mail("update", cancelled, invitee(), organizer=ORGANIZER, now=NOW, message_id="<c@t>")


def test_taking_one_person_off_the_roster_is_a_cancel_without_status() -> None:
    # RFC 5546 3.2.5: STATUS "MUST NOT be included" when uninviting; the event goes on for the others.
    message = mail("cancel", facts(sequence=1))
    vevent = event(message)
    assert str(received_calendar(message)[0]["METHOD"]) == "CANCEL"
    assert "STATUS" not in vevent
    assert [str(a) for a in _all(vevent, "ATTENDEE")] == ["mailto:ada@example.org"]
    assert "no longer on the roster" in body(message, "plain")
    assert "https://zoom.example/j/123" not in body(message, "plain")


def test_a_series_is_one_vevent_with_rrule_and_a_vtimezone() -> None:
    message = mail("invite", series())
    cal, occurrences = received_calendar(message)
    (vevent,) = cal.walk("VEVENT")
    (vtz,) = cal.walk("VTIMEZONE")
    assert str(vtz["TZID"]) == BERLIN
    assert cal.subcomponents.index(vtz) < cal.subcomponents.index(vevent)  # defined before it is used
    assert cal.get_missing_tzids() == set()
    ics = ics_of(message)
    assert b"\r\nDTSTART;TZID=Europe/Berlin:20270316T100000\r\n" in ics
    assert b"\r\nDTEND;TZID=Europe/Berlin:20270316T113000\r\n" in ics
    assert b"\r\nRRULE:FREQ=WEEKLY;COUNT=6;BYDAY=TU\r\n" in ics
    assert len(occurrences) == 6
    # The VTIMEZONE holds over the series' span, the night of 28 March included, in Outlook's shape.
    assert _checked_offsets(vtz, BERLIN, datetime(2027, 3, 15, tzinfo=UTC), datetime(2027, 4, 21, tzinfo=UTC))
    assert all("RRULE" in sub and "RDATE" not in sub for sub in vtz.subcomponents)


def test_until_is_utc_when_dtstart_has_a_tzid() -> None:
    by_date = series(rrule=SeriesRule(("TU",), until=date(2027, 4, 6)))
    ics = ics_of(mail("invite", by_date))
    # The whole of 6 April in Berlin (summer time), inclusive: 23:59:59 CEST.
    assert b"RRULE:FREQ=WEEKLY;UNTIL=20270406T215959Z;BYDAY=TU\r\n" in ics
    for line in re.findall(rb"RRULE:FREQ=WEEKLY[^\r]*", ics):
        assert re.search(rb"UNTIL=\d{8}T\d{6}Z(;|$)", line)
    _, occurrences = read(ics)
    assert utc_starts(occurrences)[-1] == datetime(2027, 4, 6, 8, 0, tzinfo=UTC)
    assert len(occurrences) == 4


def test_an_occurrence_override_carries_recurrence_id() -> None:
    whole = series()
    original = datetime(2027, 3, 30, 8, 0, tzinfo=UTC)  # the third Tuesday, 10:00 CEST
    moved = dataclasses.replace(
        whole, sequence=1, rrule=None, recurrence_id=original, starts_at=original + timedelta(hours=1)
    )
    message = mail("update", moved)
    ics = ics_of(message)
    assert b"\r\nRECURRENCE-ID;TZID=Europe/Berlin:20270330T100000\r\n" in ics
    assert b"\r\nDTSTART;TZID=Europe/Berlin:20270330T110000\r\n" in ics
    vevent = event(message)
    assert str(vevent["UID"]) == whole.uid and "RRULE" not in vevent
    assert "One session of “Statistics 101” has changed: the one of Tuesday 30 March 2027, 10:00" in body(
        message, "plain"
    )
    # A calendar holding the series and then the override shows that one occurrence moved, the rest not.
    held = Calendar.from_ical(ics_of(mail("invite", whole)))
    held.add_component(vevent)
    starts = utc_starts(list(recurring_ical_events.of(held).between(date(2027, 3, 1), date(2027, 5, 1))))
    expected = schedule.occurrences(whole.starts_at, BERLIN, Recurrence(byday=("TU",), count=6))
    assert starts == sorted([s for s in expected if s != original] + [original + timedelta(hours=1)])
    # Cancelling one occurrence: a CANCEL with its RECURRENCE-ID, and the series goes on without it.
    dropped = dataclasses.replace(moved, starts_at=original, status="CANCELLED", sequence=2)
    cancel = mail("cancel", dropped)
    assert b"\r\nRECURRENCE-ID;TZID=Europe/Berlin:20270330T100000\r\n" in ics_of(cancel)
    assert str(event(cancel)["STATUS"]) == "CANCELLED"
    assert "One session of “Statistics 101” is cancelled" in body(cancel, "plain")


def test_scope_following_ends_the_old_rrule_with_until_and_the_new_series_has_its_own_uid() -> None:
    whole = series()
    split = datetime(2027, 4, 6, 8, 0, tzinfo=UTC)  # from the fourth Tuesday on, a new series
    ended = dataclasses.replace(whole, sequence=1, rrule=SeriesRule(("TU",), until=split - timedelta(seconds=1)))
    ics = ics_of(mail("update", ended))
    assert b"RRULE:FREQ=WEEKLY;UNTIL=20270406T075959Z;BYDAY=TU\r\n" in ics
    _, occurrences = read(ics)
    assert utc_starts(occurrences) == schedule.occurrences(whole.starts_at, BERLIN, Recurrence(("TU",), count=3))
    following = series(uid="series-2@companion.test", starts_at=split + timedelta(hours=1))
    assert str(event(mail("invite", following))["UID"]) != str(event(mail("update", ended))["UID"])
    assert "3 sessions, the last on Tuesday 30 March 2027, 10:00 (Europe/Berlin)" in body(
        mail("update", ended), "plain"
    )
    none_left = dataclasses.replace(ended, rrule=SeriesRule(("TU",), until=whole.starts_at - timedelta(seconds=1)))
    with pytest.raises(ValueError, match="before its first occurrence"):
        calendar("REQUEST", none_left, invitee(), ORGANIZER, NOW)


# The zone: the series as both parsers expand it, and the VTIMEZONE as Outlook reads it


def test_a_berlin_series_across_the_march_change_expands_exactly_as_core_schedule_does() -> None:
    f = series(rrule=SeriesRule(("TU", "TH"), count=8))  # 16 March to 8 April: CET, then CEST from 28 March
    expected = schedule.occurrences(f.starts_at, BERLIN, Recurrence(byday=("TU", "TH"), count=8))
    assert expected[4:6] == [datetime(2027, 3, 30, 8, tzinfo=UTC), datetime(2027, 4, 1, 8, tzinfo=UTC)]
    ics = ics_of(mail("invite", f))
    # As Google and Apple read it (their own copy of Europe/Berlin), and as Outlook does (only the
    # VTIMEZONE written: under a TZID no reader knows).
    for text in (ics, ics.replace(b"Europe/Berlin", b"Companion-Written/Berlin")):
        _, occurrences = read(text)
        assert utc_starts(occurrences) == expected
        for o in occurrences:
            assert o.decoded("DTEND") - o.decoded("DTSTART") == timedelta(minutes=90)
            assert o.decoded("DTSTART").replace(tzinfo=None).time().isoformat() == "10:00:00"


def _onsets_as_rfc_5545_reads(vtz: Component) -> list[tuple[datetime, timedelta]]:
    """When each observance of the VTIMEZONE begins (UTC) and the offset it brings, read as RFC 5545
    3.8.2.4 says: DTSTART, its RRULE and RDATE are local times in TZOFFSETFROM."""
    onsets: list[tuple[datetime, timedelta]] = []
    for sub in vtz.walk():
        if sub.name not in ("STANDARD", "DAYLIGHT"):
            continue
        walls = [sub.decoded("DTSTART")]
        if "RRULE" in sub:
            rule = rrule.rrulestr(_ical_text(sub["RRULE"]), dtstart=walls[0])
            walls = list(islice(rule, 30))
        for rdates in _all(sub, "RDATE"):
            walls += [leaf.dt for leaf in rdates.dts]
        offset_from, offset_to = sub.decoded("TZOFFSETFROM"), sub.decoded("TZOFFSETTO")
        onsets += [((w - offset_from).replace(tzinfo=UTC), offset_to) for w in walls]
    return sorted(onsets)


ZONES = [
    BERLIN,
    "America/New_York",
    "Australia/Sydney",  # southern: summer time over the new year
    "Asia/Tokyo",  # no changes
    "Asia/Kolkata",  # +05:30, no changes
    "Australia/Lord_Howe",  # a half-hour change
    "Pacific/Chatham",  # +12:45 / +13:45
    "Europe/Dublin",  # the database's negative daylight saving in winter
    "Africa/Casablanca",  # changes around Ramadan: no yearly rule
    "America/Santiago",
]


@pytest.mark.parametrize("tzid", ZONES)
def test_the_vtimezone_gives_the_zones_offset_at_every_moment_of_the_span(tzid: str) -> None:
    first, last = datetime(2027, 1, 10, tzinfo=UTC), datetime(2028, 12, 20, tzinfo=UTC)
    assert _checked_offsets(vtimezone(tzid, first, last), tzid, first, last) > 30_000


def _checked_offsets(vtz: Component, tzid: str, first: datetime, last: datetime) -> int:
    """Checks the VTIMEZONE against the zone every half hour from `first` to `last`; how many moments."""
    zi = ZoneInfo(tzid)
    parsed = Timezone.from_ical(vtz.to_ical())
    assert isinstance(parsed, Timezone)
    by_icalendar = parsed.to_tz(lookup_tzid=False)  # from the text, not the name
    onsets = _onsets_as_rfc_5545_reads(vtz)
    assert onsets[0][0] <= first, "the VTIMEZONE begins before the first time it must give"
    at, checked, i = first, 0, 0
    while at <= last:
        while i + 1 < len(onsets) and onsets[i + 1][0] <= at:
            i += 1
        local = at.astimezone(zi)
        assert onsets[i][1] == local.utcoffset(), at
        # A local wall time (the first of two when the clocks go back), as a TZID'd DTSTART gives it.
        wall = dateutil_tz.enfold(local.replace(tzinfo=by_icalendar), fold=local.fold)
        assert wall.utcoffset() == local.utcoffset(), local
        at += timedelta(minutes=30)
        checked += 1
    return checked


@pytest.mark.parametrize(
    ("tzid", "daylight", "standard"),
    [
        (
            BERLIN,
            ("20260329T020000", "FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3"),
            ("20261025T030000", "FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10"),
        ),
        (
            "America/New_York",
            ("20270314T020000", "FREQ=YEARLY;BYDAY=2SU;BYMONTH=3"),
            ("20261101T020000", "FREQ=YEARLY;BYDAY=1SU;BYMONTH=11"),
        ),
    ],
)
def test_the_vtimezone_has_one_yearly_rule_per_observance_as_outlook_reads_it(
    tzid: str, daylight: tuple[str, str], standard: tuple[str, str]
) -> None:
    # Outlook reads only DTSTART, RRULE, TZOFFSETFROM and TZOFFSETTO, as one yearly change each way
    # ([MS-STANOICAL] 2.2.47); DTSTART is the local time before the change (02:00 in Berlin, not 03:00).
    vtz = vtimezone(tzid, datetime(2027, 3, 16, tzinfo=UTC), datetime(2027, 6, 1, tzinfo=UTC))
    subs = {sub.name: sub for sub in vtz.subcomponents}
    assert sorted(sub.name for sub in vtz.subcomponents) == ["DAYLIGHT", "STANDARD"]
    for name, (dtstart, rule) in [("DAYLIGHT", daylight), ("STANDARD", standard)]:
        assert _ical_text(subs[name]["DTSTART"]) == dtstart
        assert _ical_text(subs[name]["RRULE"]) == rule
        assert "RDATE" not in subs[name]


def test_a_zone_without_a_yearly_rule_lists_each_change_and_one_without_changes_has_one_observance() -> None:
    casablanca = vtimezone("Africa/Casablanca", datetime(2027, 3, 1, tzinfo=UTC), datetime(2027, 6, 1, tzinfo=UTC))
    assert not any("RRULE" in sub for sub in casablanca.subcomponents)
    assert any("RDATE" in sub for sub in casablanca.subcomponents)
    tokyo = vtimezone("Asia/Tokyo", datetime(2027, 3, 1, tzinfo=UTC), datetime(2027, 6, 1, tzinfo=UTC))
    (only,) = tokyo.subcomponents
    assert only.name == "STANDARD"
    assert only.decoded("TZOFFSETFROM") == only.decoded("TZOFFSETTO") == timedelta(hours=9)


def test_a_session_in_utc_is_written_with_z_and_no_vtimezone() -> None:
    message = mail("invite", series(timezone="UTC", rrule=SeriesRule(("TU",), until=date(2027, 3, 30))))
    ics = ics_of(message)
    assert b"\r\nDTSTART:20270316T090000Z\r\n" in ics
    assert b"UNTIL=20270330T235959Z" in ics
    cal, occurrences = received_calendar(message)
    assert cal.walk("VTIMEZONE") == [] and len(occurrences) == 3


# The calendar's properties


def test_the_vevent_names_everything_the_contract_lists() -> None:
    message = mail("invite")
    cal, _ = received_calendar(message)
    vevent = event(message)
    assert str(cal["VERSION"]) == "2.0" and str(cal["PRODID"]).startswith("-//Companion//")
    assert vevent.decoded("DTSTAMP") == NOW
    assert vevent.decoded("DTSTART").astimezone(UTC) == TUESDAY_10_BERLIN
    assert vevent.decoded("DTEND").astimezone(UTC) == TUESDAY_10_BERLIN + timedelta(minutes=90)
    assert str(vevent["SUMMARY"]) == "Statistics 101"
    assert str(vevent["LOCATION"]) == "https://zoom.example/j/123"
    assert str(vevent["STATUS"]) == "CONFIRMED"
    description = str(vevent["DESCRIPTION"])
    for needed in (
        "1. Means\n2. Variance",
        "Slides: https://files.example/slides.pdf",
        "Join: https://zoom.example/j/123",
        "Your companion tab: https://companion.example/s/session-1?k=tab-ada",
        "https://companion.example/rsvp/tok-ada",
        "Replies sent from a calendar are not read.",
    ):
        assert needed in description
    organizer = vevent["ORGANIZER"]
    assert str(organizer) == "mailto:companion@localhost" and organizer.params["CN"] == "Companion"
    (attendee,) = _all(vevent, "ATTENDEE")  # the recipient only: no one sees the roster's addresses
    assert str(attendee) == "mailto:ada@example.org"
    assert dict(attendee.params) == {
        "CN": "Ada Lovelace",
        "CUTYPE": "INDIVIDUAL",
        "ROLE": "REQ-PARTICIPANT",
        "PARTSTAT": "NEEDS-ACTION",
        "RSVP": "TRUE",
    }
    assert b'ATTENDEE;CN="Ada Lovelace";CUTYPE=INDIVIDUAL;PARTSTAT=NEEDS-ACTION;ROLE=REQ-PARTICIPANT;RSVP=TRUE' in (
        ics_of(message).replace(b"\r\n ", b"")
    )


def test_the_instructor_is_the_chair_and_is_told_so() -> None:
    message = mail("invite", who=invitee(role="instructor", email="teacher@example.org"))
    assert event(message)["ATTENDEE"].params["ROLE"] == "CHAIR"
    assert "You are invited to “Statistics 101” as its instructor." in body(message, "plain")


def test_a_name_keeps_its_letters_but_not_a_double_quote_in_a_parameter() -> None:
    # RFC 5545 has no escape for DQUOTE in a parameter value; RFC 6868's ^' is not read everywhere.
    message = mail("invite", who=invitee(name='Zoë "Zo" Ångström, PhD'))
    assert event(message)["ATTENDEE"].params["CN"] == "Zoë 'Zo' Ångström, PhD"
    assert b"^'" not in ics_of(message)


def test_long_lines_fold_at_75_octets_without_splitting_a_character() -> None:
    agenda = "Grüße aus München — 日本語の説明 — " * 20 + "\nZweite Zeile; mit, Zeichen\\"
    message = mail("invite", facts(agenda=agenda, topic="Ünïcödé " * 12))
    ics = ics_of(message)
    assert ics.endswith(b"\r\n") and b"\n" not in ics.replace(b"\r\n", b"")
    lines = ics.split(b"\r\n")[:-1]
    assert max(len(line) for line in lines) <= ICS_LINE_OCTETS
    assert sum(line.startswith(b" ") for line in lines) >= 20  # it did fold
    for line in lines:
        line.decode("utf-8")  # no line ends inside a character
    vevent = event(message)
    assert agenda in str(vevent["DESCRIPTION"])
    assert str(vevent["SUMMARY"]) == "Ünïcödé " * 12


# The mail


def test_the_mime_structure_part_by_part() -> None:
    message = mail("invite")
    shape = [(p.get_content_type(), p.get_content_disposition()) for p in parts(message)]
    assert shape == [
        ("multipart/mixed", None),
        ("multipart/alternative", None),
        ("text/plain", None),
        ("text/html", None),
        ("text/calendar", None),
        ("application/ics", "attachment"),
    ]
    inline, attached = calendar_parts(message)
    assert inline["Content-Transfer-Encoding"] == attached["Content-Transfer-Encoding"] == "base64"
    assert attached.get_filename() == "invite.ics" and attached.get_param("name") == "invite.ics"
    assert inline.get_content_charset() == "utf-8"
    assert message["From"] == ORGANIZER
    assert message["To"] == "Ada Lovelace <ada@example.org>"
    assert message["Message-ID"] == "<inv-1@companion.test>"
    assert parsedate_to_datetime(message["Date"]) == NOW
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Subject"] == "Invitation: Statistics 101 — Tuesday 16 March 2027, 10:00 (Europe/Berlin)"
    assert mail("update", facts(sequence=1))["Subject"].startswith("Updated: Statistics 101 — ")
    assert mail("invite", series())["Subject"].startswith("Invitation: Statistics 101 — weekly from Tuesday")


def test_a_resend_after_a_crash_repeats_the_message_id() -> None:
    first, again = mail("invite"), mail("invite")
    assert first["Message-ID"] == again["Message-ID"] == "<inv-1@companion.test>"
    assert ics_of(first) == ics_of(again)


def test_text_and_html_show_the_session_and_the_personal_links() -> None:
    message = mail("invite")
    text, page = body(message, "plain"), body(message, "html")
    for needed in (
        "When: Tuesday 16 March 2027, 10:00 (Europe/Berlin), 90 minutes",
        "https://zoom.example/j/123",
        "https://companion.example/s/session-1?k=tab-ada",
        "1. Means",
        "Slides",
        "https://files.example/slides.pdf",
        "https://companion.example/rsvp/tok-ada",
        "Replies sent from a calendar are not read.",
    ):
        assert needed in text
        assert needed.replace("&", "&amp;") in page
    assert '<a href="https://companion.example/rsvp/tok-ada">' in page
    assert "Please answer with your personal link" in text


def test_each_recipient_reads_the_times_in_their_own_zone() -> None:
    one_session = facts()  # Tuesday 16 March 2027, 10:00 in Berlin (CET); New York is on daylight time
    tokyo = mail("invite", one_session, invitee(timezone="Asia/Tokyo"))
    new_york = mail("invite", one_session, invitee(timezone="America/New_York"))
    for message, when in [
        (tokyo, "Tuesday 16 March 2027, 18:00 (Asia/Tokyo)"),
        (new_york, "Tuesday 16 March 2027, 05:00 (America/New_York)"),
    ]:
        assert when in message["Subject"]
        assert f"When: {when}, 90 minutes" in body(message, "plain")
        assert when in body(message, "html")
        assert "(Europe/Berlin)" not in body(message, "plain")
    assert ics_of(tokyo).replace(b"\r\n ", b"").count(b"TZID=Europe/Berlin") == 2  # the calendar converts itself
    # A Berlin series seen from Tokyo (no daylight saving): 18:00 in March, 17:00 after Berlin's change.
    text = body(mail("invite", series(), invitee(timezone="Asia/Tokyo")), "plain")
    assert (
        "every Tuesday at 10:00 (Europe/Berlin), 6 sessions, the last on Tuesday 20 April 2027, 17:00 (Asia/Tokyo)"
        in text
    )
    assert "may move" in text


def test_local_time_text_names_the_day_as_the_person_lives_it() -> None:
    late = datetime(2027, 3, 16, 0, 30, tzinfo=UTC)
    assert local_time_text(late, BERLIN) == "Tuesday 16 March 2027, 01:30 (Europe/Berlin)"
    assert local_time_text(late, "America/New_York") == "Monday 15 March 2027, 20:30 (America/New_York)"
    assert local_time_text(late, "Pacific/Chatham") == "Tuesday 16 March 2027, 14:15 (Pacific/Chatham)"


class _Tags(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.hrefs += [v or "" for k, v in attrs if k == "href"]


def test_html_is_escaped_so_no_text_becomes_markup() -> None:
    hostile = facts(
        topic="<script>alert(1)</script>",
        agenda='<img src=x onerror="alert(2)">\n& more',
        materials=[('Notes "<b>"', "javascript:alert(3)"), ("Fine", 'https://x.example/?a=1&b="2"')],
    )
    page = body(mail("invite", hostile, invitee(name="<i>Eve</i>")), "html")
    parser = _Tags()
    parser.feed(page)
    assert parser.tags <= {"html", "head", "meta", "title", "body", "p", "br", "a"}
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=&quot;alert(2)&quot;&gt;<br>\n&amp; more" in page
    assert not any(h.startswith("javascript:") for h in parser.hrefs)  # shown as text, not a link
    assert 'https://x.example/?a=1&b="2"' in parser.hrefs


def test_non_ascii_names_and_topics_travel_as_utf_8_in_encoded_headers() -> None:
    who = invitee(name="Jürgen Weiß, Dr.", email="jw@example.org", timezone="Asia/Tokyo")
    built = invitation_mail(
        "invite", facts(topic="Qualität — 品質"), who, organizer="Compañía <c@example.org>", now=NOW, message_id="<n@t>"
    )
    raw = built.as_bytes()
    head = raw.split(b"\n\n", 1)[0]
    head.decode("ascii")  # headers are 7-bit: encoded words (RFC 2047)
    received = email.message_from_bytes(raw, policy=email.policy.default)
    assert received["Subject"].startswith("Invitation: Qualität — 品質 — ")
    assert received["To"].addresses[0].display_name == "Jürgen Weiß, Dr."
    assert received["From"].addresses[0].display_name == "Compañía"
    assert isinstance(received, EmailMessage)
    assert "Qualität — 品質" in body(received, "plain")
    vevent = event(received)
    assert str(vevent["SUMMARY"]) == "Qualität — 品質"
    assert vevent["ATTENDEE"].params["CN"] == "Jürgen Weiß, Dr."
    assert vevent["ORGANIZER"].params["CN"] == "Compañía"


def test_a_topic_with_a_line_break_cannot_break_the_headers() -> None:
    message = mail("invite", facts(topic="Statistics\r\nBcc: everyone@example.org"))
    assert message["Bcc"] is None
    assert message["Subject"].startswith("Invitation: Statistics Bcc: everyone@example.org — ")


# Reminders


def test_a_reminder_is_text_and_html_in_the_recipients_zone_with_no_calendar() -> None:
    built = reminder_mail(
        facts(),
        invitee(timezone="Asia/Tokyo"),
        offset_text="24 hours",
        organizer=ORGANIZER,
        now=NOW,
        message_id="<r@t>",
    )
    message = email.message_from_bytes(built.as_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    assert [p.get_content_type() for p in parts(message)] == ["multipart/alternative", "text/plain", "text/html"]
    assert message["Subject"] == "Reminder: Statistics 101 in 24 hours"
    assert message["Message-ID"] == "<r@t>" and parsedate_to_datetime(message["Date"]) == NOW
    assert message["To"] == "Ada Lovelace <ada@example.org>"
    text = body(message, "plain")
    assert "When: Tuesday 16 March 2027, 18:00 (Asia/Tokyo), 90 minutes" in text
    for link in ("https://zoom.example/j/123", "https://companion.example/s/session-1?k=tab-ada", "tok-ada"):
        assert link in text and link in body(message, "html")


def _all(component: Component, name: str) -> list[Any]:
    """Every value of a property that may occur once or more."""
    values = component.get(name, [])
    return values if isinstance(values, list) else [values]


def _ical_text(value: Any) -> str:
    """A property's value as the calendar text writes it."""
    text = value.to_ical()
    return text.decode() if isinstance(text, bytes) else str(text)

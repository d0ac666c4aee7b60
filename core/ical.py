"""The iCalendar part of an invitation, update or cancellation: one VCALENDAR per recipient (RFC 5545, 5546).

What the mail clients need, each from a known way of getting it wrong:

- METHOD is in the VCALENDAR and (core.invitemail) in the part's Content-Type, in capitals: Outlook
  and Gmail show Accept/Decline only when both say it, and Outlook refuses a mismatch.
- An update keeps the UID and raises SEQUENCE; a client ignores a REQUEST whose SEQUENCE is below
  the one it holds, so the caller counts, and an update at SEQUENCE 0 cannot be one.
- A cancellation is METHOD:CANCEL. A REQUEST with STATUS:CANCELLED is not a cancellation to Gmail or
  Outlook (they keep the event), so this module refuses to write one. CANCEL with STATUS:CANCELLED
  cancels the event; a CANCEL without STATUS takes only its ATTENDEE off an event that goes on
  (RFC 5546 3.2.5: STATUS "MUST NOT be included" when uninviting).
- A series is one VEVENT with an RRULE; its times carry the series' TZID, with a VTIMEZONE
  (core.vtimezone), so each occurrence keeps its local wall-clock time across daylight saving, as
  core.schedule expands it. UNTIL is in UTC, as RFC 5545 requires when DTSTART has a TZID.
- A change to one occurrence is a VEVENT with the series' UID and a RECURRENCE-ID (with TZID): the
  original start of that occurrence.

Every time is written in the session's zone with its TZID (UTC ones with Z and no VTIMEZONE), one-off
sessions included: a calendar then shows the session in the zone it was planned in. Each VCALENDAR
names one ATTENDEE, its recipient: no one sees the rest of the roster's addresses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from email.utils import parseaddr
from typing import Literal
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vCalAddress

from core.schedule import WEEKDAYS, Recurrence, occurrences, zone
from core.vtimezone import vtimezone

Method = Literal["REQUEST", "CANCEL"]
Status = Literal["CONFIRMED", "CANCELLED"]
Role = Literal["participant", "instructor"]

PRODID = "-//Companion//Companion invitations//EN"


@dataclass(frozen=True, slots=True)
class Invitee:
    """One recipient: who they are, the zone their mail shows times in, and their personal links."""

    email: str
    name: str
    timezone: str | None  # None: the session's zone
    rsvp_url: str
    tab_url: str | None = None
    role: Role = "participant"
    setup_url: str | None = None  # a participant's setup check (microphone, camera, connection)


@dataclass(frozen=True, slots=True)
class SeriesRule:
    """A weekly series as its RRULE says it: `count` occurrences, or every one up to `until`.

    `until` is a local date (inclusive, as the API takes it) or an aware instant: a series ended by
    `?scope=following` keeps every occurrence that starts at or before it (RFC 5545: UNTIL is inclusive).
    """

    byday: tuple[str, ...]
    count: int | None = None
    until: date | datetime | None = None

    def __post_init__(self) -> None:
        if (self.count is None) == (self.until is None):
            raise ValueError("a series has exactly one of count and until")
        if isinstance(self.until, datetime) and self.until.utcoffset() is None:
            raise ValueError("an until instant must be aware")
        if not self.byday or any(d not in WEEKDAYS for d in self.byday):
            raise ValueError(f"byday: days from {', '.join(WEEKDAYS)}, not {self.byday!r}")

    @classmethod
    def of(cls, rec: Recurrence) -> SeriesRule:
        """The rule of a series as core.schedule describes it."""
        return cls(byday=rec.byday, count=rec.count, until=rec.until)


@dataclass(frozen=True, slots=True)
class EventFacts:
    """What an invitation says about one session, one occurrence of a series, or a whole series."""

    uid: str  # stable per session; per series when the series is invited as a whole
    sequence: int
    topic: str
    starts_at: datetime  # aware; for a series its first occurrence; for an override the new start
    duration_minutes: int
    timezone: str  # the session's (the series') IANA zone
    join_url: str | None = None
    agenda: str | None = None
    materials: Sequence[tuple[str, str]] = field(default=())  # (title, url)
    rrule: SeriesRule | None = None
    recurrence_id: datetime | None = None  # an override: the original start of the occurrence it changes
    status: Status = "CONFIRMED"

    def __post_init__(self) -> None:
        if self.starts_at.utcoffset() is None or (self.recurrence_id and self.recurrence_id.utcoffset() is None):
            raise ValueError("starts_at and recurrence_id are aware datetimes")
        if self.sequence < 0:
            raise ValueError("SEQUENCE starts at 0")
        if self.duration_minutes < 1:
            raise ValueError("a session lasts at least a minute")
        if self.rrule is not None and self.recurrence_id is not None:
            raise ValueError("an override of one occurrence has a RECURRENCE-ID and no RRULE")


def calendar(method: Method, facts: EventFacts, invitee: Invitee, organizer: str, now: datetime) -> bytes:
    """The .ics text of `facts` for `invitee`, from `organizer` ("Name <address>"), stamped `now`."""
    if method == "REQUEST" and facts.status == "CANCELLED":
        raise ValueError("a cancellation is METHOD:CANCEL; clients keep an event a REQUEST says is cancelled")
    tz = zone(facts.timezone)  # UTC and its aliases are written with Z and need no VTIMEZONE
    cal = Calendar()
    cal.add("PRODID", PRODID)
    cal.add("VERSION", "2.0")
    cal.add("CALSCALE", "GREGORIAN")
    cal.add("METHOD", method)
    event = Event()
    event.add("UID", facts.uid)
    event.add("SEQUENCE", facts.sequence)
    event.add("DTSTAMP", _whole(now.astimezone(UTC)))
    start = _whole(facts.starts_at)
    event.add("DTSTART", start.astimezone(tz))
    event.add("DTEND", (start + timedelta(minutes=facts.duration_minutes)).astimezone(tz))
    if facts.rrule is not None:
        event.add("RRULE", _rrule(facts.rrule, tz))
    if facts.recurrence_id is not None:
        event.add("RECURRENCE-ID", _whole(facts.recurrence_id).astimezone(tz))
    event.add("SUMMARY", facts.topic)
    if facts.join_url:
        event.add("LOCATION", facts.join_url)
    event.add("DESCRIPTION", description(facts, invitee, method=method))
    event.add("ORGANIZER", _organizer(organizer))
    event.add("ATTENDEE", _attendee(invitee, method))
    if method == "REQUEST":
        event.add("STATUS", "CONFIRMED")
        event.add("TRANSP", "OPAQUE")
    elif facts.status == "CANCELLED":
        event.add("STATUS", "CANCELLED")
    cal.add_component(event)
    first, last = span(facts)
    # Each TZID the event names (icalendar writes UTC as Z), defined before the event that uses it.
    for i, tzid in enumerate(sorted(cal.get_missing_tzids())):
        cal.subcomponents.insert(i, vtimezone(tzid, first, last))
    return bytes(cal.to_ical())


def description(facts: EventFacts, invitee: Invitee, *, method: Method) -> str:
    """The event's DESCRIPTION: agenda, materials, join link and the recipient's companion tab."""
    parts = []
    if facts.agenda:
        parts.append(f"Agenda:\n{facts.agenda}")
    if facts.materials:
        parts.append("Materials:\n" + "\n".join(f"- {title}: {url}" for title, url in facts.materials))
    links = []
    if facts.join_url:
        links.append(f"Join: {facts.join_url}")
    if invitee.tab_url:
        links.append(f"Your companion tab: {invitee.tab_url}")
    if links:
        parts.append("\n".join(links))
    if method == "REQUEST":
        parts.append(
            f"Will you come? Please answer with your personal link: {invitee.rsvp_url}\n"
            "Replies sent from a calendar are not read."
        )
    return "\n\n".join(parts)


def series_starts(facts: EventFacts) -> list[datetime]:
    """The start of each occurrence the event's RRULE gives (UTC), as core.schedule expands it."""
    rule = facts.rrule
    if rule is None:
        return [facts.starts_at.astimezone(UTC)]
    if isinstance(rule.until, datetime):
        end = rule.until.astimezone(UTC)
        if end < _whole(facts.starts_at):
            raise ValueError("the series ends before its first occurrence: cancel it instead")
        # Every occurrence up to the instant's local date, then those that start by the instant itself.
        rec = Recurrence(byday=rule.byday, until=end.astimezone(zone(facts.timezone)).date())
        return [s for s in occurrences(facts.starts_at, facts.timezone, rec) if _whole(s) <= end]
    return occurrences(
        facts.starts_at, facts.timezone, Recurrence(byday=rule.byday, count=rule.count, until=rule.until)
    )


def span(facts: EventFacts) -> tuple[datetime, datetime]:
    """The first instant and the last the event names: its VTIMEZONE must hold between them."""
    starts = series_starts(facts)
    first = min(starts[0], facts.recurrence_id or starts[0])
    return first, max(starts[-1], facts.recurrence_id or starts[-1]) + timedelta(minutes=facts.duration_minutes)


def _rrule(rule: SeriesRule, tz: ZoneInfo) -> dict[str, object]:
    parts: dict[str, object] = {"FREQ": "WEEKLY", "BYDAY": list(rule.byday)}
    if rule.count is not None:
        parts["COUNT"] = rule.count
    elif isinstance(rule.until, datetime):
        parts["UNTIL"] = _whole(rule.until.astimezone(UTC))
    else:
        assert rule.until is not None  # exactly one of the two, by construction
        # The whole local day, inclusive, written in UTC (RFC 5545 3.3.10: DTSTART has a TZID).
        parts["UNTIL"] = datetime.combine(rule.until, time(23, 59, 59), tzinfo=tz).astimezone(UTC)
    return parts


def _organizer(organizer: str) -> vCalAddress:
    name, address = parseaddr(organizer)
    if not address:
        raise ValueError(f"organizer: 'Name <address>', not {organizer!r}")
    value = vCalAddress(f"mailto:{address}")
    if name:
        value.params["CN"] = _parameter_text(name)
    return value


def _attendee(invitee: Invitee, method: Method) -> vCalAddress:
    value = vCalAddress(f"mailto:{invitee.email}")
    value.params["CUTYPE"] = "INDIVIDUAL"
    # The instructor leads the session (RFC 5545 3.2.16: CHAIR); everyone else is expected to take part.
    value.params["ROLE"] = "CHAIR" if invitee.role == "instructor" else "REQ-PARTICIPANT"
    if method == "REQUEST":
        value.params["PARTSTAT"] = "NEEDS-ACTION"
        value.params["RSVP"] = "TRUE"
    if invitee.name:
        value.params["CN"] = _parameter_text(invitee.name)
    return value


def _parameter_text(text: str) -> str:
    """A name as a parameter value holds it: one line, and no DQUOTE (RFC 5545 3.2 has no escape for one;
    RFC 6868's ^' is not read by every client)."""
    return " ".join(text.replace('"', "'").split())


def _whole(instant: datetime) -> datetime:
    """iCalendar times are whole seconds."""
    return instant.replace(microsecond=0)


def feed(events: Sequence[EventFacts], *, name: str, organizer: str, now: datetime) -> bytes:
    """A person's calendar feed (a subscription, RFC 5545 with METHOD:PUBLISH): one VEVENT per session,
    cancelled ones kept with STATUS:CANCELLED so a subscribed calendar takes them out."""
    cal = Calendar()
    cal.add("PRODID", PRODID)
    cal.add("VERSION", "2.0")
    cal.add("CALSCALE", "GREGORIAN")
    cal.add("METHOD", "PUBLISH")
    cal.add("X-WR-CALNAME", name)
    for facts in events:
        tz = zone(facts.timezone)
        event = Event()
        event.add("UID", facts.uid)
        event.add("SEQUENCE", facts.sequence)
        event.add("DTSTAMP", _whole(now.astimezone(UTC)))
        start = _whole(facts.starts_at)
        event.add("DTSTART", start.astimezone(tz))
        event.add("DTEND", (start + timedelta(minutes=facts.duration_minutes)).astimezone(tz))
        event.add("SUMMARY", facts.topic)
        if facts.join_url:
            event.add("LOCATION", facts.join_url)
        text = description(facts, Invitee(email="", name="", timezone=None, rsvp_url=""), method="CANCEL")
        if text:
            event.add("DESCRIPTION", text)
        event.add("ORGANIZER", _organizer(organizer))
        event.add("STATUS", facts.status)
        cal.add_component(event)
    if events:
        first = min(f.starts_at for f in events)
        last = max(f.starts_at + timedelta(minutes=f.duration_minutes) for f in events)
        for i, tzid in enumerate(sorted(cal.get_missing_tzids())):
            cal.subcomponents.insert(i, vtimezone(tzid, first, last))
    return bytes(cal.to_ical())

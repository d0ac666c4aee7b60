"""Weekly series and clashes: when each occurrence starts, and what it overlaps (no clock, no I/O).

A series keeps its local wall-clock time in its own zone (contract: "Times"): a class at 10:00 in
Europe/Berlin is at 10:00 there in January and in July, so at 09:00 UTC in winter and 08:00 UTC in
summer. The series is therefore expanded over local wall times by `dateutil.rrule`, the same rule an
iCalendar client applies to an invitation's RRULE with a TZID, and each wall time is turned into an
instant only at the end.

Two local times need a choice, and both follow RFC 5545 (3.3.5), so the times here agree with the
ones a calendar shows for the invitation of the same series:

- A time that does not exist that day (02:30 on the last Sunday of March in Europe/Berlin, skipped
  when the clocks go from 02:00 to 03:00) is read with the offset before the gap, which is what
  `zoneinfo` gives with fold=0; normalised through UTC it is the wall time moved on by the gap's
  length, after the gap: 03:30 local that day. The class moves by an hour for one week rather than vanishing.
- A time that happens twice (02:30 on the last Sunday of October in Europe/Berlin) is the first of
  the two (fold=0, still summer time).

The first occurrence is always `starts_at` itself, exactly as given: the series starts where the
admin put it, even at the second 02:30 of a night in October.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import islice, pairwise
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil import rrule

from core.errors import Invalid
from core.model import iso

# At most this many occurrences in one series (contract): a whole year of weekly classes, twice
# over, and a bound on the sessions, invitations and reminders one request can create.
MAX_OCCURRENCES = 200
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")  # date.weekday() order, as rrule counts them

# Files in the zone directory that are not IANA zone names: the machine's own zone, the POSIX
# default rules, and the variants that count leap seconds (their UTC is not everyone else's).
_NOT_ZONES = frozenset({"localtime", "posixrules"})
_NOT_ZONE_TREES = ("posix/", "right/")


def zone(name: str) -> ZoneInfo:
    """The IANA time zone of this name, or Invalid naming it (also for paths such as '../etc')."""
    if name in _NOT_ZONES or name.startswith(_NOT_ZONE_TREES):
        raise Invalid(f"timezone: unknown time zone {name!r}; an IANA name such as 'Europe/Berlin'")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise Invalid(f"timezone: unknown time zone {name!r}; an IANA name such as 'Europe/Berlin'") from None


@dataclass(frozen=True, slots=True)
class Recurrence:
    """A weekly series: `count` occurrences, or every one up to `until` (a local date, inclusive)."""

    byday: tuple[str, ...]  # in WEEKDAYS order
    count: int | None = None
    until: date | None = None
    freq: str = "weekly"


def recurrence(
    starts_at: datetime,
    tz: str,
    *,
    freq: str = "weekly",
    count: int | None = None,
    until: date | None = None,
    byday: list[str] | None = None,
) -> Recurrence:
    """The series a request describes, checked field by field against its first start; or Invalid."""
    if freq != "weekly":
        raise Invalid(f"recurrence.freq: only 'weekly' is supported, not {freq!r}")
    if (count is None) == (until is None):
        raise Invalid("recurrence: exactly one of count and until")
    if count is not None:
        if type(count) is not int or count < 1:
            raise Invalid("recurrence.count: a whole number of occurrences, at least 1")
        if count > MAX_OCCURRENCES:
            raise Invalid(f"recurrence: at most {MAX_OCCURRENCES} occurrences in a series, not {count}")
    if until is not None and (not isinstance(until, date) or isinstance(until, datetime)):
        raise Invalid("recurrence.until: a local date (YYYY-MM-DD)")
    local = _local(starts_at, zone(tz))
    if byday is None:
        days: tuple[str, ...] = (WEEKDAYS[local.weekday()],)
    else:
        if not byday or not all(isinstance(d, str) for d in byday):
            raise Invalid(f"recurrence.byday: a list of days from {', '.join(WEEKDAYS)}")
        unknown = [d for d in byday if d not in WEEKDAYS]
        if unknown:
            raise Invalid(f"recurrence.byday: {unknown[0]!r} is not one of {', '.join(WEEKDAYS)}")
        if len(set(byday)) != len(byday):
            raise Invalid("recurrence.byday: a day is listed twice")
        days = tuple(d for d in WEEKDAYS if d in byday)
    rec = Recurrence(byday=days, count=count, until=until, freq=freq)
    occurrences(starts_at, tz, rec)  # the checks that need the first start: byday, until, the bound
    return rec


def occurrences(first_start_utc: datetime, tz: str, rec: Recurrence) -> list[datetime]:
    """Each occurrence's start in UTC, at the first start's local wall-clock time in `tz`; or Invalid."""
    local = _local(first_start_utc, zone(tz))
    if WEEKDAYS[local.weekday()] not in rec.byday:
        raise Invalid(f"starts_at: falls on a day not in byday ({WEEKDAYS[local.weekday()]}, {local.date()} in {tz})")
    if rec.until is not None and rec.until < local.date():
        raise Invalid(f"recurrence.until: before the first start ({local.date()} in {tz})")
    wall = local.replace(tzinfo=None, fold=0)
    rule_args: dict[str, Any] = {"dtstart": wall, "byweekday": [WEEKDAYS.index(d) for d in rec.byday]}
    if rec.count is not None:
        rule_args["count"] = rec.count
    else:
        assert rec.until is not None  # exactly one of the two, by construction
        rule_args["until"] = datetime.combine(rec.until, time.max)  # the whole local day: inclusive
    # The rule is lazy: take one more than the bound, so a ten-year `until` costs 201 steps, not 520.
    walls: list[datetime] = list(islice(rrule.rrule(rrule.WEEKLY, **rule_args), MAX_OCCURRENCES + 1))
    if len(walls) > MAX_OCCURRENCES:
        raise Invalid(f"recurrence: at most {MAX_OCCURRENCES} occurrences in a series; until {rec.until} gives more")
    # rrule drops microseconds (it counts in whole seconds): they come back from the first start.
    # fold=0 on every later wall time: in a gap, the offset before it; twice over, the first (see above).
    later = [w.replace(microsecond=wall.microsecond, tzinfo=local.tzinfo).astimezone(UTC) for w in walls[1:]]
    return [first_start_utc.astimezone(UTC), *later]


@dataclass(frozen=True, slots=True)
class Booking:
    """An existing session of the instructor's, as a clash names it."""

    session_id: str
    topic: str
    starts_at: datetime
    duration_minutes: int

    def view(self) -> dict[str, Any]:
        """One entry of a conflict error's `conflicts` (contract)."""
        return {"session_id": self.session_id, "topic": self.topic, "starts_at": iso(self.starts_at)}


@dataclass(frozen=True, slots=True)
class Clash:
    """One planned occurrence and an existing session it overlaps."""

    starts_at: datetime
    booking: Booking


def overlaps(a_start: datetime, a_minutes: int, b_start: datetime, b_minutes: int) -> bool:
    """Whether two sessions share a moment; one ending as the other starts does not."""
    return a_start < b_start + timedelta(minutes=b_minutes) and b_start < a_start + timedelta(minutes=a_minutes)


def conflicts(candidates: list[tuple[datetime, int]], existing: list[Booking]) -> list[Clash]:
    """For every planned (start, minutes), the existing sessions it overlaps, in start order.

    `existing` is the instructor's other sessions that still take place (not cancelled, and not the
    ones being moved); the caller picks them, around the series' first start and last end.
    """
    booked = sorted(existing, key=lambda b: (b.starts_at, b.session_id))
    starts = [b.starts_at for b in booked]
    # A booking that overlaps [start, end) starts before `end`, and no earlier than `start` less the
    # longest booking: only that window of the sorted list is compared (200 occurrences against 400
    # bookings, the largest case the contract allows: about 1 ms instead of 100 ms by every pair).
    longest = timedelta(minutes=max((b.duration_minutes for b in booked), default=0))
    clashes = []
    for start, minutes in sorted(candidates):
        first = bisect_left(starts, start - longest)
        last = bisect_left(starts, start + timedelta(minutes=minutes))
        clashes += [
            Clash(start, b) for b in booked[first:last] if overlaps(start, minutes, b.starts_at, b.duration_minutes)
        ]
    return clashes


def self_overlaps(starts: list[datetime], duration_minutes: int) -> list[tuple[datetime, datetime]]:
    """The pairs of one series' occurrences that overlap each other (a class longer than its gap).

    All occurrences last the same, so if any two overlap, two neighbours in start order do: checking
    neighbours finds every clash without comparing every pair.
    """
    ordered = sorted(starts)
    return [(a, b) for a, b in pairwise(ordered) if overlaps(a, duration_minutes, b, duration_minutes)]


def series(first_start_utc: datetime, tz: str, rec: Recurrence, duration_minutes: int) -> list[datetime]:
    """The occurrences of a series whose sessions do not overlap one another; or Invalid."""
    starts = occurrences(first_start_utc, tz, rec)
    clash = self_overlaps(starts, duration_minutes)
    if clash:
        a, b = clash[0]
        raise Invalid(
            f"duration_minutes: the occurrences at {iso(a)} and {iso(b)} would overlap; "
            f"a session of {duration_minutes} minutes is longer than the gap between them"
        )
    return starts


def _local(instant: datetime, tz: ZoneInfo) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("a start must be an aware datetime (UTC), not a naive one")
    return instant.astimezone(tz)

"""VTIMEZONE components from the IANA database, in the shape every calendar reads (RFC 5545 3.6.5).

An invitation whose times carry a TZID must define that zone (RFC 5545 3.2.19). Google Calendar and
Apple Calendar look an IANA name up in their own database; Outlook reads the definition, and only
its DTSTART, RRULE, TZOFFSETFROM and TZOFFSETTO, which it approximates by one yearly change to
daylight time and one back ([MS-STANOICAL] 2.2.47; without an RRULE it guesses the rule from
DTSTART's month and weekday, [MS-OXCICAL] 2.1.3.1.1.19.2.1). So a zone is written the way Outlook
writes one whenever the zone allows it: one STANDARD and one DAYLIGHT observance, each starting at
its first change in the span with a yearly RRULE (the last, or the nth, weekday of a month). A zone
whose changes follow no such rule over the span (a government moved them; they follow a lunar
calendar) has every change listed by RDATE, which RFC 5545 readers follow exactly.

DTSTART is the local time just before the change, as RFC 5545 reads it together with TZOFFSETFROM:
02:00 for Berlin's spring change, when the clocks go from 02:00 to 03:00. (icalendar 7.3's own
`Timezone.from_tzinfo` writes 03:00 there, an hour late as its own reader and the RFC read it:
hence this module.)

The span starts a year before the first time the calendar names, so that both observances have
begun before it, and ends a year after the last.
"""

from __future__ import annotations

import calendar as month_calendar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import groupby
from zoneinfo import ZoneInfo

from dateutil import rrule
from icalendar import Timezone, TimezoneDaylight, TimezoneStandard

# A zone's offset is looked at every six hours, and a change between two looks is found to the second.
# No zone changes its offset twice within six hours and back again (changes are months apart, or a
# day apart at the closest, in history), so none is missed.
_LOOK_EVERY = timedelta(hours=6)
_MARGIN = timedelta(days=366)
_WEEKDAYS = (rrule.MO, rrule.TU, rrule.WE, rrule.TH, rrule.FR, rrule.SA, rrule.SU)
_BYDAY = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


@dataclass(frozen=True, slots=True)
class _State:
    offset: timedelta
    name: str
    dst: bool


@dataclass(frozen=True, slots=True)
class _Change:
    at: datetime  # UTC: the first second of the new observance
    before: _State
    after: _State

    @property
    def wall(self) -> datetime:
        """The local time just before the change, as DTSTART and RDATE give it (naive)."""
        return (self.at + self.before.offset).replace(tzinfo=None)

    @property
    def forward(self) -> bool:
        """Whether the clocks go forward: the onset of daylight time, whatever the database calls it."""
        return self.after.offset > self.before.offset

    @property
    def kind(self) -> tuple[timedelta, _State]:
        return (self.before.offset, self.after)


def vtimezone(tzid: str, first: datetime, last: datetime) -> Timezone:
    """The VTIMEZONE of IANA zone `tzid`, right for every instant from `first` to `last` (aware)."""
    tz = ZoneInfo(tzid)
    start = (first - _MARGIN).astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    end = last.astimezone(UTC) + _MARGIN
    changes = _changes(tz, start, end)
    component = Timezone()
    component.add("TZID", tzid)
    if not changes:
        state = _state(tz, start)
        component.add_component(_leading(state, start))
        return component
    grouped = groupby(sorted(changes, key=_kind_order), key=lambda c: c.kind)
    kinds = sorted((list(group) for _, group in grouped), key=lambda group: group[0].at)
    rules = [_yearly_rule(group, end) for group in kinds]
    if len(kinds) == 2 and all(r is not None for r in rules):
        for group, rule in zip(kinds, rules, strict=True):
            assert rule is not None
            sub = _onsets(group)
            sub.add("RRULE", rule)
            component.add_component(sub)
        return component
    # No yearly rule: how the zone stood at the span's start, then every change by RDATE.
    component.add_component(_leading(_state(tz, start), start))
    for group in kinds:
        sub = _onsets(group)
        if len(group) > 1:
            sub.add("RDATE", [c.wall for c in group[1:]])
        component.add_component(sub)
    return component


def _kind_order(change: _Change) -> tuple[timedelta, timedelta, str, bool, datetime]:
    return (change.before.offset, change.after.offset, change.after.name, change.after.dst, change.at)


def _onsets(group: list[_Change]) -> TimezoneStandard | TimezoneDaylight:
    """The observance these changes begin, starting at the first of them.

    DAYLIGHT is the one the clocks go forward into. The database marks Ireland's winter and Morocco's
    Ramadan as negative daylight saving, which some readers take for a bias the wrong way round.
    """
    first = group[0]
    return _observance(first.after, first.before.offset, first.wall, daylight=first.forward)


def _leading(state: _State, start: datetime) -> TimezoneStandard | TimezoneDaylight:
    """The observance in force at the span's start, as if it began there (RFC 5545 needs one from then)."""
    return _observance(state, state.offset, (start + state.offset).replace(tzinfo=None), daylight=state.dst)


def _observance(
    state: _State, offset_from: timedelta, onset: datetime, *, daylight: bool
) -> TimezoneStandard | TimezoneDaylight:
    sub = TimezoneDaylight() if daylight else TimezoneStandard()
    sub.add("DTSTART", onset)
    sub.add("TZOFFSETFROM", offset_from)
    sub.add("TZOFFSETTO", state.offset)
    sub.add("TZNAME", state.name)
    return sub


def _yearly_rule(group: list[_Change], end: datetime) -> dict[str, object] | None:
    """The yearly RRULE giving exactly these changes up to `end`, or None when none does."""
    first = group[0].wall
    walls = [c.wall for c in group]
    until = (end + group[0].before.offset).replace(tzinfo=None)
    days_in_month = month_calendar.monthrange(first.year, first.month)[1]
    # The last weekday of a month is the commoner rule (the EU's); try it first when it could be one.
    ordinals = ([-1] if first.day + 7 > days_in_month else []) + [(first.day - 1) // 7 + 1]
    for n in ordinals:
        weekday = _WEEKDAYS[first.weekday()](n)
        expected = list(rrule.rrule(rrule.YEARLY, dtstart=first, bymonth=first.month, byweekday=weekday, until=until))
        if expected == walls:
            return {"FREQ": "YEARLY", "BYMONTH": first.month, "BYDAY": f"{n}{_BYDAY[first.weekday()]}"}
    return None


def _state(tz: ZoneInfo, at: datetime) -> _State:
    local = at.astimezone(tz)
    offset, dst = local.utcoffset(), local.dst()
    assert offset is not None  # a ZoneInfo always knows its offset
    # Daylight time only when the clocks are ahead of standard time (see _onsets on negative values).
    return _State(offset, local.tzname() or "", dst is not None and dst > timedelta(0))


def _changes(tz: ZoneInfo, start: datetime, end: datetime) -> list[_Change]:
    found: list[_Change] = []
    at, state = start, _state(tz, start)
    while at < end:
        look = min(at + _LOOK_EVERY, end)
        if _state(tz, look) == state:
            at = look
            continue
        change = _bisect(tz, state, at, look)
        after = _state(tz, change)
        found.append(_Change(change, state, after))
        at, state = change, after
    return found


def _bisect(tz: ZoneInfo, state: _State, low: datetime, high: datetime) -> datetime:
    """The first whole second in (low, high] when the zone leaves `state`: it is in it at low, not at high."""
    while high - low > timedelta(seconds=1):
        middle = low + timedelta(seconds=(high - low) // timedelta(seconds=1) // 2)
        if _state(tz, middle) == state:
            low = middle
        else:
            high = middle
    return high

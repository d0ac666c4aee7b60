"""Suggested times for a session: the slots most of its people can attend, and who cannot and why (no clock, no I/O).

`suggest` takes the people (the instructor marked `required`, and the roster), each with their own time zone and
other sessions, and a window; it answers the best slots. The rules:

- Candidates start on a grid of `step_minutes` aligned to the UTC hour (every allowed step divides an hour: :00 and
  :30 for 30 minutes), from the later of `window_start` and `now` rounded up to the grid, as long as the slot ends by
  `window_end`. In a zone with a half-hour offset (Asia/Kolkata) a 60-minute grid therefore starts at :30 local.
- A person can attend a slot when all of it lies within their working hours on one local day of their own zone:
  its start and its end, read as wall-clock times there, fall on the same local date, the start at or after the
  working start and the end at or before the working end. Wall times come from zoneinfo, so on the day the clocks
  change 08:00 local is an hour earlier or later in UTC than the day before. A slot that ends at local midnight ends
  on the next date, so it is never within working hours. Only the two ends are compared: in the hour the clocks go
  back, wall time runs backwards inside a slot, and a working end inside that hour is not looked at more closely.
- And when it overlaps none of their other sessions; one ending as the other starts does not overlap.
- Only slots every `required` person can attend, and at least one person can, are suggested. They are ranked by how
  many can attend, then by the earlier start; the first `limit` are the answer.
- Someone who cannot attend is named once: outside working hours if so (moving their other session would not help),
  else busy with the earliest-starting session the slot overlaps. The names follow the order of `people`.

A window that lies in the past, or is too short for one slot, has no candidates: the answer is empty, not an error.

The work is kept off person x slot: wall times are computed once per distinct zone (a class shares a handful); each
person's sessions become ranges of slot indices by bisection on the grid, counted per zone in a difference array;
and who cannot attend is spelt out only for the slots returned. The cost grows with the distinct zones (about 1.5 ms
each for a month of half hours, so 1 s if all 600 IANA zones were present). `bench/suggest.py` times 5,000 people in
12 zones: about 65 ms.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from itertools import accumulate
from typing import Any, Literal

from core.errors import Invalid
from core.model import iso
from core.schedule import zone

MAX_WINDOW_DAYS = 31  # a month ahead: 1,488 half-hour candidates, 8,928 at the finest step
MAX_PEOPLE = 5_000  # the largest class, its instructor included
MAX_LIMIT = 50
MAX_DURATION_MINUTES = 24 * 60
STEPS = (5, 10, 15, 20, 30, 60)  # each divides an hour, so the grid meets every UTC hour
WORKING_HOURS = (time(8), time(20))

# A grid counted from an instant on the hour is aligned to the UTC hour.
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Reason = Literal["outside_working_hours", "busy"]


@dataclass(frozen=True, slots=True)
class Busy:
    """Another session of a person's, which they teach or attend: [starts_at, ends_at), aware UTC."""

    session_id: str
    topic: str
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True, slots=True)
class Person:
    """Someone the session is for, in their IANA zone (the caller has checked it with `core.schedule.zone`)."""

    email: str
    tz: str
    busy: tuple[Busy, ...] = ()
    required: bool = False  # the instructor: a slot they cannot attend is never suggested
    name: str | None = None


@dataclass(frozen=True, slots=True)
class CannotAttend:
    """Why one person cannot attend a slot."""

    email: str
    reason: Reason
    detail: str  # a sentence to show: "07:00-08:00 in Asia/Tokyo is outside 08:00-20:00"
    session_id: str | None = None  # the other session, when busy
    name: str | None = None
    # The other session itself, so a page can show its time in the viewer's zone (left out of equality:
    # who cannot attend and why is what compares).
    busy: Busy | None = field(default=None, compare=False)

    def view(self) -> dict[str, Any]:
        """One entry of a slot's `unavailable` (a busy one also names the session's topic and times)."""
        entry = {
            "email": self.email,
            "name": self.name,
            "reason": self.reason,
            "detail": self.detail,
            "session_id": self.session_id,
        }
        if self.busy is not None:
            entry |= {
                "topic": self.busy.topic,
                "starts_at": iso(self.busy.starts_at),
                "ends_at": iso(self.busy.ends_at),
            }
        return entry


@dataclass(frozen=True, slots=True)
class Slot:
    """A suggested time: how many of `total` can attend, and each who cannot."""

    starts_at: datetime
    ends_at: datetime
    available: int
    total: int
    unavailable: tuple[CannotAttend, ...]

    def view(self) -> dict[str, Any]:
        """The slot as the API answers it."""
        return {
            "starts_at": iso(self.starts_at),
            "ends_at": iso(self.ends_at),
            "available": self.available,
            "total": self.total,
            "unavailable": [u.view() for u in self.unavailable],
        }


@dataclass(slots=True)
class _Zone:
    """The grid seen from one zone: its wall times, which slots fit the working hours, its people's sessions."""

    name: str
    local_starts: list[datetime]
    local_ends: list[datetime]
    fits: list[bool]
    people: int = 0
    busy_diff: list[int] = field(default_factory=list)  # +1 where someone's busy run starts, -1 after it


def suggest(
    people: Sequence[Person],
    *,
    duration_minutes: int,
    window_start: datetime,
    window_end: datetime,
    now: datetime,
    working_hours: tuple[time, time] = WORKING_HOURS,
    step_minutes: int = 30,
    limit: int = 10,
) -> list[Slot]:
    """The best `limit` slots of the window for these people, by the rules above; or Invalid naming the field."""
    _check(people, duration_minutes, window_start, window_end, now, working_hours, step_minutes, limit)
    duration = timedelta(minutes=duration_minutes)
    starts = _grid(max(window_start, now), window_end, duration, timedelta(minutes=step_minutes))
    n = len(starts)
    if n == 0:
        return []
    ends = [s + duration for s in starts]

    zones: dict[str, _Zone] = {}
    for p in people:
        if p.tz not in zones:
            zones[p.tz] = _zone_grid(p.tz, starts, ends, working_hours, n)
        zones[p.tz].people += 1
    person_zones = [zones[p.tz] for p in people]
    # Each person's sessions as runs of slot indices, the earliest session first (it is the one a busy slot names).
    runs = [_runs(p.busy, starts, duration) for p in people]
    blocked = bytearray(n)  # slots some required person cannot attend
    for p, z, own in zip(people, person_zones, runs, strict=True):
        for lo, hi in _union(own):
            z.busy_diff[lo] += 1
            z.busy_diff[hi] -= 1
            if p.required:
                blocked[lo:hi] = b"\x01" * (hi - lo)
    for tz in {p.tz for p in people if p.required}:
        for i, fit in enumerate(zones[tz].fits):
            if not fit:
                blocked[i] = 1

    available = [0] * n
    for z in zones.values():
        for i, (fit, busy) in enumerate(zip(z.fits, accumulate(z.busy_diff), strict=False)):
            if fit:
                available[i] += z.people - busy
    eligible = (i for i in range(n) if not blocked[i] and available[i] > 0)
    best = heapq.nsmallest(limit, eligible, key=lambda i: (-available[i], i))
    return _slots(best, people, person_zones, runs, starts, ends, available, working_hours)


def _check(
    people: Sequence[Person],
    duration_minutes: int,
    window_start: datetime,
    window_end: datetime,
    now: datetime,
    working_hours: tuple[time, time],
    step_minutes: int,
    limit: int,
) -> None:
    for name, instant in (("window_start", window_start), ("window_end", window_end), ("now", now)):
        if instant.tzinfo is None or instant.utcoffset() is None:
            raise ValueError(f"{name} must be an aware datetime (UTC), not a naive one")
    if type(duration_minutes) is not int or not 1 <= duration_minutes <= MAX_DURATION_MINUTES:
        raise Invalid(f"duration_minutes: a whole number of minutes from 1 to {MAX_DURATION_MINUTES}")
    if type(step_minutes) is not int or step_minutes not in STEPS:
        raise Invalid(f"step_minutes: one of {', '.join(map(str, STEPS))}")
    if window_end <= window_start:
        raise Invalid("window_end: after window_start")
    if window_end - window_start > timedelta(days=MAX_WINDOW_DAYS):
        raise Invalid(f"window_end: at most {MAX_WINDOW_DAYS} days after window_start")
    first, last = working_hours
    if first.tzinfo is not None or last.tzinfo is not None:
        raise Invalid("working_hours: local wall-clock times, without a zone")
    if not first < last:
        raise Invalid(f"working_hours: the start before the end, not {first:%H:%M}-{last:%H:%M}")
    if type(limit) is not int or not 1 <= limit <= MAX_LIMIT:
        raise Invalid(f"limit: a whole number from 1 to {MAX_LIMIT}")
    if not people:
        raise Invalid("people: at least one person")
    if len(people) > MAX_PEOPLE:
        raise Invalid(f"people: at most {MAX_PEOPLE}, not {len(people)}")
    seen: set[str] = set()
    for p in people:
        if p.email in seen:  # counted twice, they would tip the ranking
            raise Invalid(f"people: {p.email!r} is listed twice")
        seen.add(p.email)


def _grid(first: datetime, window_end: datetime, duration: timedelta, step: timedelta) -> list[datetime]:
    """The candidate starts: from `first` rounded up to the grid, each slot ending by `window_end`."""
    k = -((_EPOCH - first) // step)  # the ceiling of (first - epoch) / step, in whole steps
    start = _EPOCH + k * step
    last_start = window_end - duration
    if start > last_start:
        return []
    return [start + i * step for i in range((last_start - start) // step + 1)]


def _zone_grid(name: str, starts: list[datetime], ends: list[datetime], hours: tuple[time, time], n: int) -> _Zone:
    tz = zone(name)
    first, last = hours
    local_starts = [s.astimezone(tz) for s in starts]
    local_ends = [e.astimezone(tz) for e in ends]
    fits = [
        a.date() == b.date() and a.time() >= first and b.time() <= last
        for a, b in zip(local_starts, local_ends, strict=True)
    ]
    return _Zone(name, local_starts, local_ends, fits, busy_diff=[0] * (n + 1))


def _runs(busy: Iterable[Busy], starts: list[datetime], duration: timedelta) -> list[tuple[int, int, Busy]]:
    """[lo, hi) of the slots each session overlaps (those starting before it ends and ending after it starts)."""
    out = []
    for b in sorted(busy, key=lambda b: (b.starts_at, b.session_id)):
        lo = bisect_right(starts, b.starts_at - duration)
        hi = bisect_left(starts, b.ends_at)
        if lo < hi:
            out.append((lo, hi, b))
    return out


def _union(runs: list[tuple[int, int, Busy]]) -> Iterator[tuple[int, int]]:
    """The runs merged, so two sessions of one person that overlap a slot count them once."""
    ordered = sorted((lo, hi) for lo, hi, _ in runs)
    if not ordered:
        return
    cur_lo, cur_hi = ordered[0]
    for lo, hi in ordered[1:]:
        if lo > cur_hi:
            yield cur_lo, cur_hi
            cur_lo, cur_hi = lo, hi
        else:
            cur_hi = max(cur_hi, hi)
    yield cur_lo, cur_hi


def _slots(
    best: list[int],
    people: Sequence[Person],
    person_zones: list[_Zone],
    runs: list[list[tuple[int, int, Busy]]],
    starts: list[datetime],
    ends: list[datetime],
    available: list[int],
    hours: tuple[time, time],
) -> list[Slot]:
    """The chosen slots in rank order, each with who cannot attend it; only these are spelt out."""
    chosen = sorted(best)
    busy_at: dict[int, dict[int, Busy]] = {i: {} for i in chosen}
    for k, own in enumerate(runs):
        for lo, hi, b in own:  # earliest session first: setdefault keeps it
            for i in chosen[bisect_left(chosen, lo) : bisect_left(chosen, hi)]:
                busy_at[i].setdefault(k, b)
    out = []
    for i in best:
        details: dict[str, str] = {}  # one sentence per zone, shared by everyone in it
        unavailable = []
        for k, (p, z) in enumerate(zip(people, person_zones, strict=True)):
            if not z.fits[i]:
                if z.name not in details:
                    details[z.name] = _outside(z.local_starts[i], z.local_ends[i], z.name, hours)
                unavailable.append(CannotAttend(p.email, "outside_working_hours", details[z.name], name=p.name))
            elif (session := busy_at[i].get(k)) is not None:
                unavailable.append(CannotAttend(p.email, "busy", _busy(session), session.session_id, p.name, session))
        out.append(Slot(starts[i], ends[i], available[i], len(people), tuple(unavailable)))
    return out


def _outside(local_start: datetime, local_end: datetime, tz: str, hours: tuple[time, time]) -> str:
    days = (local_end.date() - local_start.date()).days
    later = "" if days == 0 else " the next day" if days == 1 else f" {days} days later"
    return f"{local_start:%H:%M}-{local_end:%H:%M}{later} in {tz} is outside {hours[0]:%H:%M}-{hours[1]:%H:%M}"


def _busy(b: Busy) -> str:
    return f"in {b.topic!r} from {iso(b.starts_at)} to {iso(b.ends_at)}"

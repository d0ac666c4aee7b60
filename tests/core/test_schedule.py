"""core.schedule: weekly series at a fixed local time across daylight saving, their bounds, and clashes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from core import schedule
from core.errors import Invalid
from core.schedule import Booking, Clash, Recurrence

BERLIN = "Europe/Berlin"  # 2030: summer time from Sun 31 March to Sun 27 October
NEW_YORK = "America/New_York"  # 2030: daylight time from Sun 10 March to Sun 3 November


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0, us: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, us, tzinfo=UTC)


def local(zone: str, y: int, mo: int, d: int, h: int, mi: int, s: int = 0, us: int = 0, *, fold: int = 0) -> datetime:
    """A local wall time in `zone`, as the UTC instant an API would carry."""
    return datetime(y, mo, d, h, mi, s, us, tzinfo=ZoneInfo(zone), fold=fold).astimezone(UTC)


def weekly(starts_at: datetime, tz: str, **fields: Any) -> list[datetime]:
    return schedule.occurrences(starts_at, tz, schedule.recurrence(starts_at, tz, **fields))


def walls(starts: list[datetime], tz: str) -> list[tuple[date, time]]:
    return [(s.astimezone(ZoneInfo(tz)).date(), s.astimezone(ZoneInfo(tz)).time()) for s in starts]


# Times


def test_a_berlin_series_keeps_ten_oclock_local_through_both_changes_of_the_clocks() -> None:
    first = local(BERLIN, 2030, 3, 24, 10, 0)  # a Sunday, the last one before summer time
    starts = weekly(first, BERLIN, count=32)  # ... to Sunday 27 October, the day summer time ends
    assert starts[:3] == [utc(2030, 3, 24, 9), utc(2030, 3, 31, 8), utc(2030, 4, 7, 8)]
    assert starts[-2:] == [utc(2030, 10, 20, 8), utc(2030, 10, 27, 9)]
    assert {t for _, t in walls(starts, BERLIN)} == {time(10, 0)}
    assert [d for d, _ in walls(starts, BERLIN)] == [date(2030, 3, 24) + timedelta(weeks=i) for i in range(32)]
    assert all(s.tzinfo is UTC for s in starts)


def test_a_new_york_series_keeps_its_local_time_on_its_own_dates_of_change() -> None:
    first = local(NEW_YORK, 2030, 3, 5, 18, 0)  # a Tuesday, 18:00 EST
    starts = weekly(first, NEW_YORK, until=date(2030, 11, 5))
    assert len(starts) == 36
    assert starts[:2] == [utc(2030, 3, 5, 23), utc(2030, 3, 12, 22)]  # after Sunday 10 March: EDT
    assert starts[-2:] == [utc(2030, 10, 29, 22), utc(2030, 11, 5, 23)]  # after Sunday 3 November: EST
    assert {t for _, t in walls(starts, NEW_YORK)} == {time(18, 0)}


def test_a_berlin_series_seen_from_new_york_moves_while_the_two_disagree_on_summer_time() -> None:
    starts = weekly(local(BERLIN, 2030, 3, 4, 10, 0), BERLIN, count=5)  # Mondays, 4 March to 1 April
    assert {t for _, t in walls(starts, BERLIN)} == {time(10, 0)}
    # New York is on daylight time from 10 March, Berlin on summer time only from 31 March.
    assert [t for _, t in walls(starts, NEW_YORK)] == [time(4), time(5), time(5), time(5), time(4)]


def test_a_zone_without_daylight_saving_is_simply_a_week_apart_to_the_microsecond() -> None:
    first = utc(2030, 3, 25, 9, 30, 15, 123456)  # rrule counts in whole seconds
    assert weekly(first, "UTC", count=3) == [first + timedelta(weeks=i) for i in range(3)]


# Recurrence


def test_count_and_until_the_local_date_inclusive() -> None:
    first = local(BERLIN, 2030, 1, 7, 23, 30)  # Monday 22:30 UTC: in Berlin, already late on Monday
    assert len(weekly(first, BERLIN, count=3)) == 3
    assert len(weekly(first, BERLIN, until=date(2030, 1, 21))) == 3  # the last local day counts
    assert len(weekly(first, BERLIN, until=date(2030, 1, 20))) == 2
    assert len(weekly(first, BERLIN, until=date(2030, 1, 7))) == 1  # the first start's own day


def test_byday_takes_several_days_and_defaults_to_the_local_weekday_of_the_start() -> None:
    first = local(BERLIN, 2030, 1, 7, 10, 0)  # Monday
    rec = schedule.recurrence(first, BERLIN, count=4, byday=["WE", "MO"])
    assert rec == Recurrence(byday=("MO", "WE"), count=4)
    assert [d for d, _ in walls(schedule.occurrences(first, BERLIN, rec), BERLIN)] == [
        date(2030, 1, 7),
        date(2030, 1, 9),
        date(2030, 1, 14),
        date(2030, 1, 16),
    ]
    # 00:30 on Tuesday in Berlin is still Monday in UTC: the default is the local day.
    assert schedule.recurrence(local(BERLIN, 2030, 1, 8, 0, 30), BERLIN, count=2).byday == ("TU",)


def test_at_most_200_occurrences() -> None:
    first = local(BERLIN, 2030, 1, 7, 10, 0)
    assert len(weekly(first, BERLIN, count=200)) == schedule.MAX_OCCURRENCES == 200
    assert len(weekly(first, BERLIN, until=date(2030, 1, 7) + timedelta(weeks=199))) == 200
    for fields in ({"count": 201}, {"until": date(2030, 1, 7) + timedelta(weeks=200)}, {"until": date(2040, 1, 7)}):
        with pytest.raises(Invalid, match=r"^recurrence: at most 200 occurrences"):
            weekly(first, BERLIN, **fields)
    with pytest.raises(Invalid, match=r"^recurrence: at most 200"):  # two days a week reach it sooner
        weekly(first, BERLIN, until=date(2032, 1, 7), byday=["MO", "TH"])


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"freq": "daily", "count": 2}, "recurrence.freq: only 'weekly'"),
        ({}, "recurrence: exactly one of count and until"),
        ({"count": 2, "until": date(2030, 2, 1)}, "recurrence: exactly one of count and until"),
        ({"count": 0}, "recurrence.count: a whole number"),
        ({"count": True}, "recurrence.count: a whole number"),
        ({"count": "3"}, "recurrence.count: a whole number"),
        ({"until": datetime(2030, 2, 1)}, "recurrence.until: a local date"),
        ({"until": "2030-02-01"}, "recurrence.until: a local date"),
        ({"until": date(2030, 1, 6)}, "recurrence.until: before the first start"),
        ({"count": 2, "byday": []}, "recurrence.byday: a list of days"),
        ({"count": 2, "byday": [1]}, "recurrence.byday: a list of days"),
        ({"count": 2, "byday": ["MO", "mo"]}, "recurrence.byday: 'mo' is not one of MO, TU"),
        ({"count": 2, "byday": ["MO", "MO"]}, "recurrence.byday: a day is listed twice"),
        ({"count": 2, "byday": ["TU", "WE"]}, "starts_at: falls on a day not in byday (MO, 2030-01-07"),
    ],
)
def test_a_bad_recurrence_is_refused_naming_the_field(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(Invalid) as e:
        schedule.recurrence(local(BERLIN, 2030, 1, 7, 10, 0), BERLIN, **fields)
    assert str(e.value).startswith(message)
    assert e.value.code == "invalid"


def test_occurrences_check_the_start_against_a_recurrence_built_for_another() -> None:
    rec = schedule.recurrence(local(BERLIN, 2030, 1, 7, 10, 0), BERLIN, until=date(2030, 2, 4))
    with pytest.raises(Invalid, match=r"^starts_at: falls on a day not in byday"):
        schedule.occurrences(local(BERLIN, 2030, 1, 8, 10, 0), BERLIN, rec)
    with pytest.raises(Invalid, match=r"^recurrence.until: before the first start"):
        schedule.occurrences(local(BERLIN, 2030, 2, 11, 10, 0), BERLIN, rec)


@pytest.mark.parametrize(
    "name", ["Mars/Olympus", "europe/berlin", "Europe/Berlin ", "", "../etc", "/etc/passwd", "right/UTC", "localtime"]
)
def test_an_unknown_zone_is_refused(name: str) -> None:
    with pytest.raises(Invalid, match=r"^timezone: unknown time zone"):
        schedule.zone(name)
    with pytest.raises(Invalid, match=r"^timezone: unknown time zone"):
        schedule.recurrence(utc(2030, 1, 7, 9), name, count=2)


def test_known_zones() -> None:
    assert schedule.zone(BERLIN) == ZoneInfo(BERLIN)
    assert schedule.zone("UTC").key == "UTC"


def test_a_naive_start_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="aware"):
        schedule.recurrence(datetime(2030, 1, 7, 9), BERLIN, count=2)


# The two nights a year


def test_a_local_time_the_clocks_skip_is_read_with_the_offset_before_the_gap() -> None:
    # 02:30 does not exist on Sunday 31 March 2030 in Berlin (02:00 becomes 03:00): that week's
    # class is at 01:30 UTC, 03:30 summer time, and the week after is back at 02:30.
    starts = weekly(local(BERLIN, 2030, 3, 24, 2, 30), BERLIN, count=3)
    assert starts == [utc(2030, 3, 24, 1, 30), utc(2030, 3, 31, 1, 30), utc(2030, 4, 7, 0, 30)]
    assert [t for _, t in walls(starts, BERLIN)] == [time(2, 30), time(3, 30), time(2, 30)]


def test_a_local_time_that_happens_twice_is_the_first_of_the_two() -> None:
    # 02:30 happens twice on Sunday 27 October 2030 in Berlin: first in summer time (00:30 UTC).
    starts = weekly(local(BERLIN, 2030, 10, 20, 2, 30), BERLIN, count=3)
    assert starts == [utc(2030, 10, 20, 0, 30), utc(2030, 10, 27, 0, 30), utc(2030, 11, 3, 1, 30)]


def test_the_first_start_is_kept_as_given_even_at_the_second_of_two_equal_local_times() -> None:
    second = local(BERLIN, 2030, 10, 27, 2, 30, fold=1)
    assert second == utc(2030, 10, 27, 1, 30)
    assert weekly(second, BERLIN, count=2) == [second, utc(2030, 11, 3, 1, 30)]


# Clashes


def test_overlaps_is_strict_at_the_edges() -> None:
    t = utc(2030, 1, 7, 9)
    assert not schedule.overlaps(t, 60, t + timedelta(minutes=60), 30)  # end to start: touching
    assert not schedule.overlaps(t + timedelta(minutes=60), 30, t, 60)
    assert schedule.overlaps(t, 60, t + timedelta(minutes=59), 30)
    assert schedule.overlaps(t, 120, t + timedelta(minutes=30), 15)  # one inside the other
    assert schedule.overlaps(t, 60, t, 60)


def test_conflicts_name_every_existing_session_each_occurrence_overlaps() -> None:
    monday, next_monday = utc(2030, 1, 7, 9), utc(2030, 1, 14, 9)
    before = Booking("s-before", "Before", monday - timedelta(minutes=30), 30)  # ends as the class starts
    after = Booking("s-after", "After", monday + timedelta(minutes=60), 45)  # starts as it ends
    early = Booking("s-early", "Early", monday - timedelta(minutes=30), 31)  # one minute into it
    inside = Booking("s-inside", "Inside", next_monday + timedelta(minutes=10), 20)
    clashes = schedule.conflicts([(next_monday, 60), (monday, 60)], [inside, after, early, before])
    assert clashes == [Clash(monday, early), Clash(next_monday, inside)]
    assert schedule.conflicts([(monday, 60)], [before, after]) == []
    assert early.view() == {"session_id": "s-early", "topic": "Early", "starts_at": "2030-01-07T08:30:00.000Z"}


def test_a_series_whose_sessions_would_overlap_each_other_is_refused() -> None:
    first = local(BERLIN, 2030, 1, 7, 10, 0)
    week = 7 * 24 * 60
    rec = schedule.recurrence(first, BERLIN, count=3)
    assert schedule.series(first, BERLIN, rec, week) == schedule.occurrences(first, BERLIN, rec)  # touching
    with pytest.raises(Invalid, match=r"^duration_minutes: the occurrences at 2030-01-07T09:00:00.000Z and 2030-01-14"):
        schedule.series(first, BERLIN, rec, week + 1)
    two_days = schedule.recurrence(first, BERLIN, count=4, byday=["MO", "TU"])
    assert schedule.series(first, BERLIN, two_days, 24 * 60)  # Monday 10:00 to Tuesday 10:00
    with pytest.raises(Invalid, match=r"^duration_minutes"):
        schedule.series(first, BERLIN, two_days, 25 * 60)
    starts = schedule.occurrences(first, BERLIN, two_days)
    assert schedule.self_overlaps(starts, 25 * 60) == [(starts[0], starts[1]), (starts[2], starts[3])]


def test_a_week_across_the_spring_change_is_an_hour_shorter() -> None:
    # Sunday 10:00 to Sunday 10:00 over the night of 31 March is 167 hours: a 168-hour class overlaps.
    first = local(BERLIN, 2030, 3, 24, 10, 0)
    rec = schedule.recurrence(first, BERLIN, count=2)
    assert schedule.series(first, BERLIN, rec, 167 * 60)
    with pytest.raises(Invalid, match=r"^duration_minutes"):
        schedule.series(first, BERLIN, rec, 168 * 60)


# The property

ZONES = ["UTC", BERLIN, NEW_YORK, "Australia/Sydney", "Australia/Lord_Howe", "America/Santiago", "Asia/Kolkata"]


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(
    tz=st.sampled_from(ZONES),
    first=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2060, 1, 1)).map(
        lambda d: d.replace(tzinfo=UTC)
    ),
    count=st.integers(min_value=1, max_value=schedule.MAX_OCCURRENCES),
)
# Random starts seldom land in a skipped hour: one in each kind of gap, whole and half an hour.
@example(tz=BERLIN, first=local(BERLIN, 2030, 3, 24, 2, 30), count=3)
@example(tz=NEW_YORK, first=local(NEW_YORK, 2030, 3, 3, 2, 0, 0), count=200)
@example(tz="Australia/Lord_Howe", first=local("Australia/Lord_Howe", 2030, 9, 29, 2, 15), count=2)
@example(tz=BERLIN, first=local(BERLIN, 2030, 10, 20, 2, 30, 0, 999), count=3)
def test_every_occurrence_is_a_local_week_on_at_the_first_local_time_unless_the_clocks_skip_it(
    tz: str, first: datetime, count: int
) -> None:
    zone = ZoneInfo(tz)
    start = first.astimezone(zone)
    starts = weekly(first, tz, count=count)
    assert len(starts) == count and starts[0] == first
    for i, s in enumerate(starts):
        seen = s.astimezone(zone)
        day = start.date() + timedelta(weeks=i)
        wall = datetime.combine(day, start.time())
        assert seen.date() == day or (seen.time() != start.time() and seen.date() == day + timedelta(days=1))
        if seen.time() != start.time():
            # Only where that wall time does not exist: it does not survive a round trip through UTC.
            assert wall.replace(tzinfo=zone).astimezone(UTC).astimezone(zone).replace(tzinfo=None) != wall
            assert s == wall.replace(tzinfo=zone).astimezone(UTC)  # the offset before the gap


_T0 = datetime(2038, 3, 1, tzinfo=UTC)
_minutes = st.integers(1, 24 * 60)
_at = st.integers(0, 14 * 24 * 60).map(lambda m: _T0 + timedelta(minutes=m))


@settings(max_examples=300, deadline=None)
@given(
    candidates=st.lists(st.tuples(_at, _minutes), max_size=20),
    existing=st.lists(st.tuples(_at, _minutes), max_size=30),
)
def test_conflicts_by_window_agree_with_every_pair(
    candidates: list[tuple[datetime, int]], existing: list[tuple[datetime, int]]
) -> None:
    """The bisect window finds exactly the clashes comparing every pair would, in the same order."""
    bookings = [Booking(f"s{i}", "t", at, minutes) for i, (at, minutes) in enumerate(existing)]
    booked = sorted(bookings, key=lambda b: (b.starts_at, b.session_id))
    naive = [
        Clash(start, b)
        for start, minutes in sorted(candidates)
        for b in booked
        if schedule.overlaps(start, minutes, b.starts_at, b.duration_minutes)
    ]
    assert schedule.conflicts(candidates, bookings) == naive

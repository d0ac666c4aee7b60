"""core.suggest: slots ranked by who can attend, in each person's working hours and zone, around their sessions."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from core.errors import Invalid
from core.suggest import STEPS, WORKING_HOURS, Busy, CannotAttend, Person, Slot, suggest

TOKYO = "Asia/Tokyo"  # UTC+9 all year
NEW_YORK = "America/New_York"  # 2026: daylight time from Sunday 8 March
BERLIN = "Europe/Berlin"  # 2026: summer time from Sunday 29 March


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=UTC)


def busy(session_id: str, start: datetime, minutes: int, topic: str = "Algebra") -> Busy:
    return Busy(session_id, topic, start, start + timedelta(minutes=minutes))


def run(people: list[Person], start: datetime, end: datetime, **options: Any) -> list[Slot]:
    """suggest() over [start, end) with `now` at the window's start unless given."""
    options = {"duration_minutes": 60, "step_minutes": 60, "now": start, **options}
    return suggest(people, window_start=start, window_end=end, **options)


def starts(slots: list[Slot]) -> list[datetime]:
    return [s.starts_at for s in slots]


def why(slot: Slot) -> list[tuple[str, str, str | None]]:
    return [(u.email, u.reason, u.session_id) for u in slot.unavailable]


# Working hours in each person's zone


def test_a_slot_in_tokyo_working_hours_may_be_outside_new_yorks_and_the_reason_names_the_local_times() -> None:
    tokyo = Person("aiko@example.org", TOKYO, name="Aiko")
    new_york = Person("ny@example.org", NEW_YORK)
    # Monday 2 March: New York on EST (UTC-5), Tokyo on UTC+9.
    slots = run([tokyo, new_york], utc(2026, 3, 2, 0), utc(2026, 3, 3, 0), limit=50)
    by_start = {s.starts_at: s for s in slots}
    # 23:00 UTC: 08:00 Tuesday in Tokyo, 18:00 Monday in New York; 00:00 UTC: 09:00 and 19:00 (Sunday).
    assert [s.starts_at for s in slots[:2]] == [utc(2026, 3, 2, 0), utc(2026, 3, 2, 23)]
    assert all(s.available == 2 and s.unavailable == () for s in slots[:2])
    early = by_start[utc(2026, 3, 2, 22)]  # 07:00 in Tokyo, 17:00 in New York
    assert (early.available, early.total) == (1, 2)
    assert early.unavailable == (
        CannotAttend(
            "aiko@example.org", "outside_working_hours", "07:00-08:00 in Asia/Tokyo is outside 08:00-20:00", name="Aiko"
        ),
    )
    late = by_start[utc(2026, 3, 2, 3)]  # 12:00 in Tokyo, 22:00 the night before in New York
    assert late.unavailable == (
        CannotAttend(
            "ny@example.org", "outside_working_hours", "22:00-23:00 in America/New_York is outside 08:00-20:00"
        ),
    )
    assert utc(2026, 3, 2, 11) not in by_start  # 20:00 in Tokyo, 06:00 in New York: nobody, not suggested


def test_a_slot_must_end_by_the_working_end_and_on_the_local_day_it_started() -> None:
    tokyo = Person("aiko@example.org", TOKYO)
    other = Person("u@example.org", "UTC")  # someone who can attend, so every slot is suggested
    slots = run([tokyo, other], utc(2026, 3, 2, 10), utc(2026, 3, 2, 16), step_minutes=30, limit=50)
    fits = {s.starts_at for s in slots if s.available == 2}
    assert fits == {utc(2026, 3, 2, 10)}  # 19:00-20:00 ends on the working end; 19:30-20:30 does not
    past_midnight = next(s for s in slots if s.starts_at == utc(2026, 3, 2, 14, 30))
    assert past_midnight.unavailable[0].detail == "23:30-00:30 the next day in Asia/Tokyo is outside 08:00-20:00"
    # Working hours to the last minute of the day still exclude a slot that ends at local midnight.
    hours = (time(0), time(23, 59))
    assert [
        s.available for s in run([tokyo, other], utc(2026, 3, 2, 14), utc(2026, 3, 2, 15), working_hours=hours)
    ] == [1]


def test_working_hours_are_the_callers_in_every_zone() -> None:
    person = Person("u@example.org", "UTC")
    slots = run([person], utc(2026, 3, 2), utc(2026, 3, 3), working_hours=(time(9, 30), time(11)), step_minutes=30)
    assert starts(slots) == [utc(2026, 3, 2, 9, 30), utc(2026, 3, 2, 10)]


def test_a_half_hour_zone_sees_the_utc_grid_at_half_past() -> None:
    person = Person("k@example.org", "Asia/Kolkata")  # UTC+5:30
    slots = run([person], utc(2026, 3, 2), utc(2026, 3, 3), limit=50)
    assert starts(slots)[0] == utc(2026, 3, 2, 3)  # 08:30 local: 08:00 is not on an hourly UTC grid
    assert len(slots) == 11  # 08:30 to 18:30 local; 19:30 would end after 20:00


# The days the clocks change


def local_hours(slots: list[Slot], tz: str) -> set[tuple[int, int]]:
    return {(s.starts_at.astimezone(ZoneInfo(tz)).day, s.starts_at.astimezone(ZoneInfo(tz)).hour) for s in slots}


def test_eight_oclock_in_new_york_is_an_hour_earlier_in_utc_from_the_day_daylight_time_starts() -> None:
    person = Person("ny@example.org", NEW_YORK)
    slots = run([person], utc(2026, 3, 7, 5), utc(2026, 3, 10), limit=50)  # from midnight EST
    assert starts(slots) == (
        [utc(2026, 3, 7, h) for h in range(13, 24)]  # Saturday on EST: 08:00 is 13:00 UTC
        + [utc(2026, 3, 8, 0)]  # 19:00 EST, ending at 20:00
        + [utc(2026, 3, 8, h) for h in range(12, 24)]  # Sunday on EDT: 08:00 is 12:00 UTC
        + [utc(2026, 3, 9, h) for h in range(12, 24)]
    )
    assert local_hours(slots, NEW_YORK) == {(d, h) for d in (7, 8, 9) for h in range(8, 20)}


def test_eight_oclock_in_berlin_is_an_hour_earlier_in_utc_from_the_day_summer_time_starts() -> None:
    person = Person("b@example.org", BERLIN)
    slots = run([person], utc(2026, 3, 28), utc(2026, 3, 30), limit=50)
    assert starts(slots) == [utc(2026, 3, 28, h) for h in range(7, 19)] + [utc(2026, 3, 29, h) for h in range(6, 18)]
    assert local_hours(slots, BERLIN) == {(d, h) for d in (28, 29) for h in range(8, 20)}


def test_a_slot_across_the_skipped_hour_is_read_in_wall_times() -> None:
    # On 29 March Berlin's clocks go from 02:00 CET (01:00 UTC) to 03:00 CEST: an hour's slot from 01:00 local ends
    # at 03:00, and one from 01:30 at 03:30 (not at 02:30, the start's offset added to its end).
    person = Person("b@example.org", BERLIN)
    slots = run([person], utc(2026, 3, 29, 0), utc(2026, 3, 29, 2), working_hours=(time(1), time(3)), step_minutes=30)
    assert starts(slots) == [utc(2026, 3, 29, 0)]


# Other sessions


def test_a_session_that_overlaps_a_slot_makes_its_person_busy_and_one_that_touches_it_does_not() -> None:
    teacher = Person("t@example.org", "UTC", busy=(busy("s-alg", utc(2026, 3, 2, 10), 60),))
    free = Person("f@example.org", "UTC")
    slots = run([teacher, free], utc(2026, 3, 2, 9), utc(2026, 3, 2, 12), step_minutes=30)
    overlapping = [utc(2026, 3, 2, 9, 30), utc(2026, 3, 2, 10), utc(2026, 3, 2, 10, 30)]
    assert starts(slots) == [utc(2026, 3, 2, 9), utc(2026, 3, 2, 11), *overlapping]  # 09:00 and 11:00 touch it
    assert [s.available for s in slots] == [2, 2, 1, 1, 1]
    assert slots[2].unavailable == (
        CannotAttend(
            "t@example.org",
            "busy",
            "in 'Algebra' from 2026-03-02T10:00:00.000Z to 2026-03-02T11:00:00.000Z",
            session_id="s-alg",
        ),
    )


def test_two_sessions_in_one_slot_count_their_person_once_and_name_the_earlier() -> None:
    both = (busy("s-late", utc(2026, 3, 2, 10, 30), 60), busy("s-early", utc(2026, 3, 2, 9, 45), 30))
    person = Person("t@example.org", "UTC", busy=both)
    free = Person("f@example.org", "UTC")
    slots = run([person, free], utc(2026, 3, 2, 10), utc(2026, 3, 2, 11))
    assert [(s.available, why(s)) for s in slots] == [(1, [("t@example.org", "busy", "s-early")])]


def test_outside_working_hours_is_named_before_a_session() -> None:
    person = Person("t@example.org", "UTC", busy=(busy("s1", utc(2026, 3, 2, 6), 60),))
    free = Person("f@example.org", TOKYO)  # 15:00 in Tokyo
    [slot] = run([person, free], utc(2026, 3, 2, 6), utc(2026, 3, 2, 7))
    assert why(slot) == [("t@example.org", "outside_working_hours", None)]


def test_sessions_before_and_after_the_window_overlap_nothing() -> None:
    sessions = (busy("before", utc(2026, 3, 1, 9), 60), busy("after", utc(2026, 3, 2, 10), 60))
    person = Person("t@example.org", "UTC", busy=sessions)
    assert [s.available for s in run([person], utc(2026, 3, 2, 9), utc(2026, 3, 2, 10))] == [1]


# Required people, ranking, the grid, the limit


def test_no_slot_a_required_person_cannot_attend_is_suggested_however_many_others_can() -> None:
    instructor = Person("i@example.org", "UTC", busy=(busy("s1", utc(2026, 3, 2, 10), 60),), required=True)
    class_ = [Person(f"p{k}@example.org", "UTC") for k in range(5)]
    slots = run([instructor, *class_], utc(2026, 3, 2, 9), utc(2026, 3, 2, 12))
    assert starts(slots) == [utc(2026, 3, 2, 9), utc(2026, 3, 2, 11)]
    # Required in Tokyo: only its working hours remain, even for a class that is all in UTC.
    tokyo = Person("i@example.org", TOKYO, required=True)
    slots = run([tokyo, *class_], utc(2026, 3, 2, 0), utc(2026, 3, 3, 0), limit=50)
    assert starts(slots)[:3] == [utc(2026, 3, 2, h) for h in range(8, 11)]  # 17:00-20:00 in Tokyo, 08:00-11:00 UTC
    assert [s.available for s in slots] == [6] * 3 + [1] * 9  # then Tokyo's other hours, its instructor alone
    assert set(starts(slots[3:])) == {utc(2026, 3, 2, h) for h in (*range(8), 23)}
    # A participant's absence, by contrast, only ranks a slot lower.
    away = Person("x@example.org", TOKYO)
    assert [s.available for s in run([*class_, away], utc(2026, 3, 2, 11), utc(2026, 3, 2, 13))] == [5, 5]


def test_slots_rank_by_how_many_can_attend_then_by_the_earlier_start() -> None:
    people = [
        Person("a@example.org", "UTC", busy=(busy("a1", utc(2026, 3, 2, 9), 60),)),
        Person("b@example.org", "UTC", busy=(busy("b1", utc(2026, 3, 2, 9), 120),)),
        Person("c@example.org", "UTC", busy=(busy("c1", utc(2026, 3, 2, 12), 60),)),
    ]
    slots = run(people, utc(2026, 3, 2, 9), utc(2026, 3, 2, 14))
    assert [(s.starts_at.hour, s.available) for s in slots] == [(11, 3), (13, 3), (10, 2), (12, 2), (9, 1)]
    assert why(slots[-1]) == [("a@example.org", "busy", "a1"), ("b@example.org", "busy", "b1")]
    assert all(s.total == 3 for s in slots)


def test_nobody_can_attend_is_no_suggestion() -> None:
    person = Person("u@example.org", "UTC", busy=(busy("s1", utc(2026, 3, 2, 9), 120),))
    assert run([person], utc(2026, 3, 2, 9), utc(2026, 3, 2, 11)) == []


def test_the_grid_is_aligned_to_the_utc_hour_from_now_rounded_up_and_ends_by_the_window_end() -> None:
    person = Person("u@example.org", "UTC")
    start, end = utc(2026, 3, 2, 9, 7), utc(2026, 3, 2, 11)
    every_20 = [utc(2026, 3, 2, 9, 20), utc(2026, 3, 2, 9, 40), utc(2026, 3, 2, 10)]
    assert starts(run([person], start, end, step_minutes=20)) == every_20
    # `now` after the window's start: the grid starts at the next step after now, exactly at now if on it.
    after = run([person], start, end, step_minutes=15, now=utc(2026, 3, 2, 9, 31, 5))
    assert starts(after) == [utc(2026, 3, 2, 9, 45), utc(2026, 3, 2, 10)]
    on = run([person], start, end, step_minutes=15, now=utc(2026, 3, 2, 9, 45))
    assert starts(on) == [utc(2026, 3, 2, 9, 45), utc(2026, 3, 2, 10)]
    assert [s.ends_at for s in on] == [utc(2026, 3, 2, 10, 45), end]


def test_a_window_in_the_past_or_shorter_than_the_session_suggests_nothing() -> None:
    person = Person("u@example.org", "UTC")
    assert run([person], utc(2026, 3, 2, 9), utc(2026, 3, 2, 12), now=utc(2026, 3, 2, 11, 1)) == []
    assert run([person], utc(2026, 3, 2, 9), utc(2026, 3, 2, 9, 59)) == []


def test_the_limit_takes_the_best() -> None:
    person = Person("u@example.org", "UTC")
    slots = run([person], utc(2026, 3, 2), utc(2026, 3, 4), limit=3)
    assert starts(slots) == [utc(2026, 3, 2, 8), utc(2026, 3, 2, 9), utc(2026, 3, 2, 10)]


def test_a_slot_as_json() -> None:
    person = Person("t@example.org", "UTC", busy=(busy("s1", utc(2026, 3, 2, 9), 60),), name="Tess")
    free = Person("f@example.org", "UTC")
    [slot] = run([person, free], utc(2026, 3, 2, 9), utc(2026, 3, 2, 10))
    assert slot.view() == {
        "starts_at": "2026-03-02T09:00:00.000Z",
        "ends_at": "2026-03-02T10:00:00.000Z",
        "available": 1,
        "total": 2,
        "unavailable": [
            {
                "email": "t@example.org",
                "name": "Tess",
                "reason": "busy",
                "detail": "in 'Algebra' from 2026-03-02T09:00:00.000Z to 2026-03-02T10:00:00.000Z",
                "session_id": "s1",
                "topic": "Algebra",
                "starts_at": "2026-03-02T09:00:00.000Z",
                "ends_at": "2026-03-02T10:00:00.000Z",
            }
        ],
    }


# Validation

ONE = [Person("u@example.org", "UTC")]


@pytest.mark.parametrize(
    ("people", "options", "field"),
    [
        (ONE, {"duration_minutes": 0}, "duration_minutes"),
        (ONE, {"duration_minutes": 1441}, "duration_minutes"),
        (ONE, {"duration_minutes": 60.0}, "duration_minutes"),
        (ONE, {"step_minutes": 45}, "step_minutes"),
        (ONE, {"step_minutes": 30.0}, "step_minutes"),
        (ONE, {"window_end": utc(2026, 3, 2, 9)}, "window_end"),
        (ONE, {"window_end": utc(2026, 3, 1)}, "window_end"),
        (ONE, {"window_end": utc(2026, 4, 2, 9, 0, 1)}, "window_end"),  # 31 days and a second
        (ONE, {"working_hours": (time(20), time(8))}, "working_hours"),
        (ONE, {"working_hours": (time(8), time(8))}, "working_hours"),
        (ONE, {"working_hours": (time(8, tzinfo=UTC), time(20, tzinfo=UTC))}, "working_hours"),
        (ONE, {"limit": 0}, "limit"),
        (ONE, {"limit": 51}, "limit"),
        ([], {}, "people"),
        ([Person(f"p{k}@example.org", "UTC") for k in range(5001)], {}, "people"),
        ([Person("u@example.org", "UTC"), Person("u@example.org", TOKYO)], {}, "people"),
        ([Person("u@example.org", "Mars/Olympus")], {}, "timezone"),
    ],
)
def test_each_invalid_input_is_refused_naming_its_field(
    people: list[Person], options: dict[str, Any], field: str
) -> None:
    window = {"window_start": utc(2026, 3, 2, 9), "window_end": utc(2026, 3, 3, 9), **options}
    with pytest.raises(Invalid, match=rf"^{field}: "):
        suggest(people, **{"duration_minutes": 60, "now": utc(2026, 3, 2, 9), **window})


def test_the_bounds_themselves_are_accepted() -> None:
    people = [Person(f"p{k}@example.org", "UTC") for k in range(5000)]
    slots = suggest(
        people,
        duration_minutes=1440,
        window_start=utc(2026, 3, 1),
        window_end=utc(2026, 4, 1),  # 31 days
        now=utc(2026, 3, 1),
        working_hours=(time(0), time(23, 59, 59)),
        step_minutes=5,
        limit=50,
    )
    assert slots == []  # a whole day never fits one local day's working hours
    assert len(run(ONE[:1], utc(2026, 3, 2, 9), utc(2026, 3, 2, 10), duration_minutes=1, step_minutes=5, limit=1)) == 1


def test_a_naive_datetime_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="now"):
        suggest(
            ONE, duration_minutes=60, window_start=utc(2026, 3, 2), window_end=utc(2026, 3, 3), now=datetime(2026, 3, 2)
        )


# The fast algorithm agrees with person x slot


def reference(
    people: list[Person],
    *,
    duration_minutes: int,
    window_start: datetime,
    window_end: datetime,
    now: datetime,
    working_hours: tuple[time, time],
    step_minutes: int,
    limit: int,
) -> list[tuple[datetime, int, list[tuple[str, str, str | None]]]]:
    """The rules of core.suggest spelt out naively: every person at every slot, through zoneinfo."""
    step, length = timedelta(minutes=step_minutes), timedelta(minutes=duration_minutes)
    first = max(window_start, now)
    t = first.replace(minute=0, second=0, microsecond=0)
    while t < first:
        t += step
    found = []
    while t + length <= window_end:
        cannot: list[tuple[str, str, str | None]] = []
        suggested = True
        for p in people:
            a, b = t.astimezone(ZoneInfo(p.tz)), (t + length).astimezone(ZoneInfo(p.tz))
            clashes = sorted(
                (x for x in p.busy if x.starts_at < t + length and t < x.ends_at),
                key=lambda x: (x.starts_at, x.session_id),
            )
            if not (a.date() == b.date() and working_hours[0] <= a.time() and b.time() <= working_hours[1]):
                cannot.append((p.email, "outside_working_hours", None))
            elif clashes:
                cannot.append((p.email, "busy", clashes[0].session_id))
            else:
                continue
            suggested = suggested and not p.required
        if suggested and len(cannot) < len(people):
            found.append((t, len(people) - len(cannot), cannot))
        t += step
    return sorted(found, key=lambda s: (-s[1], s[0]))[:limit]


ZONES = [
    "UTC",
    TOKYO,
    NEW_YORK,
    BERLIN,
    "Asia/Kolkata",
    "America/St_Johns",
    "Australia/Lord_Howe",  # half an hour of daylight saving
    "Pacific/Chatham",  # UTC+12:45
    "Pacific/Kiritimati",  # UTC+14
]
# Around the changes of the clocks: New York, Berlin and Lord Howe in spring, New York and Berlin in autumn.
DAYS = [utc(2026, 3, 8), utc(2026, 3, 29), utc(2026, 4, 5), utc(2026, 10, 4), utc(2026, 10, 25), utc(2026, 11, 1)]

quarter_hours = st.integers(min_value=0, max_value=95).map(lambda q: time(q // 4, q % 4 * 15))
hours = st.one_of(
    st.sampled_from([WORKING_HOURS, (time(0), time(23, 45))]),
    st.tuples(quarter_hours, quarter_hours).filter(lambda h: h[0] < h[1]),
)
# Sessions on a 5-minute grid from the window's start, most of them in its first half day, so that they
# touch slots, overlap one another and a person's two sessions meet in one slot.
sessions = st.lists(
    st.tuples(st.integers(min_value=-24, max_value=144), st.integers(min_value=0, max_value=36)),
    max_size=4,
)
person = st.tuples(st.sampled_from(ZONES), sessions, st.integers(min_value=0, max_value=4))  # 0: required
Drawn = list[tuple[str, list[tuple[int, int]], int]]


def people_from(origin: datetime, drawn: Drawn) -> list[Person]:
    """People p0, p1, ... with sessions counted in 5 minutes from `origin`, one in five of them required."""
    return [
        Person(
            f"p{k}@example.org",
            tz,
            tuple(
                busy(f"s{k}-{j}", origin + timedelta(minutes=5 * at), 5 * length) for j, (at, length) in enumerate(own)
            ),
            required=dice == 0,
        )
        for k, (tz, own, dice) in enumerate(drawn)
    ]


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(
    day=st.sampled_from(DAYS),
    start=st.integers(min_value=-288, max_value=288),  # in 5 minutes from the day
    seconds=st.integers(min_value=0, max_value=59),
    length=st.one_of(st.integers(min_value=1, max_value=720), st.integers(min_value=1, max_value=3 * 1440)),
    late=st.integers(min_value=-600, max_value=600),
    drawn=st.lists(person, min_size=1, max_size=6),
    duration=st.one_of(
        st.sampled_from([30, 45, 60, 90, 120]),
        st.integers(min_value=1, max_value=240),
        st.integers(min_value=1, max_value=1440),
    ),
    step=st.sampled_from(STEPS),
    working_hours=hours,
    limit=st.integers(min_value=1, max_value=50),
)
@example(
    day=DAYS[0], start=0, seconds=0, length=3 * 1440, late=0, drawn=[(NEW_YORK, [], 0), (TOKYO, [(60, 12)], 1)],
    duration=60, step=30, working_hours=WORKING_HOURS, limit=50,
)  # fmt: skip
# Through Berlin's skipped hour: random hours seldom hold the night of a change of the clocks.
@example(
    day=DAYS[1], start=0, seconds=0, length=120, late=0, drawn=[(BERLIN, [], 1)],
    duration=60, step=30, working_hours=(time(1), time(3)), limit=50,
)  # fmt: skip
def test_the_fast_ranking_agrees_with_every_person_at_every_slot(
    day: datetime,
    start: int,
    seconds: int,
    length: int,
    late: int,
    drawn: Drawn,
    duration: int,
    step: int,
    working_hours: tuple[time, time],
    limit: int,
) -> None:
    origin = day + timedelta(minutes=5 * start)
    window_start = origin + timedelta(seconds=seconds)
    options: dict[str, Any] = {
        "duration_minutes": duration,
        "window_start": window_start,
        "window_end": window_start + timedelta(minutes=length),
        "now": window_start + timedelta(minutes=late),
        "working_hours": working_hours,
        "step_minutes": step,
        "limit": limit,
    }
    people = people_from(origin, drawn)
    slots = suggest(people, **options)
    assert [(s.starts_at, s.available, why(s)) for s in slots] == reference(people, **options)
    assert all(s.ends_at - s.starts_at == timedelta(minutes=duration) and s.total == len(people) for s in slots)

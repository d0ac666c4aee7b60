"""core.attendance: the check-in window, the late rule, the rotating code, marks; and the lockout arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core import attendance, lifecycle
from core.errors import Conflict, Invalid, RateLimited
from core.model import SessionState
from service.roster import CHECKIN_WRONG_CODES
from tests.clock import FakeClock
from tests.core.factories import T0, at, member, session

SECRET = "0123456789abcdef0123456789abcdef"
PERIOD = timedelta(seconds=attendance.CODE_PERIOD_S)


def test_checkin_opens_thirty_minutes_before_the_expected_start() -> None:
    s = session(delay_minutes=10)  # expected start 09:10, check-in from 08:40
    with pytest.raises(Conflict, match=r"check-in opens at 2030-01-07T08:40:00\.000Z") as e:
        attendance.checkin(s, member(), None, at(minutes=-20, seconds=-1))
    assert e.value.extra == {"opens_at": "2030-01-07T08:40:00.000Z"}
    checked = attendance.checkin(s, member(), None, at(minutes=-20))
    assert checked.checked_in_at == at(minutes=-20) and checked.checkin_status == "present"


def test_a_closed_session_refuses_checkin_and_marks() -> None:
    closed = session(status="closed", started_at=T0, closed_at=at(minutes=60))
    with pytest.raises(Conflict, match="closed"):
        attendance.checkin(closed, member(), None, at(minutes=10))
    with pytest.raises(Conflict, match="closed"):
        attendance.mark(closed, member(), "excused")


@pytest.mark.parametrize(
    ("started", "checked_in", "status"),
    [
        (None, 30, "present"),  # not started yet: nobody is late, however late the clock
        (0, 5, "present"),  # exactly late_after_minutes after the start is still on time
        (0, 5.01, "late"),
        (12, 17, "present"),  # started late: counted from the actual start
        (12, 17.01, "late"),
        # Started early (08:50 for 09:00): counted from the expected start, the later of the two, so
        # everyone until 09:05 is on time (CONTRACT.md, Check-in).
        (-10, -4.99, "present"),
        (-10, 3, "present"),
        (-10, 5, "present"),
        (-10, 5.01, "late"),
    ],
)
def test_late_counts_late_after_minutes_from_the_later_of_the_expected_and_the_actual_start(
    started: float | None, checked_in: float, status: str
) -> None:
    s = session(
        status="live" if started is not None else "scheduled", started_at=None if started is None else at(started)
    )
    assert attendance.checkin(s, member(), None, at(checked_in)).checkin_status == status


def _started(clock: FakeClock, *, delay: int, start_at: float) -> SessionState:
    """A session scheduled for 09:00 (late after 5 minutes), delayed by `delay` minutes while it was
    scheduled, and started when the clock reads `start_at` minutes from 09:00, as the hub drives it."""
    s = session()
    if delay:
        s, _ = lifecycle.delay(s, delay, "projector")
    clock.set(at(start_at))
    s, _ = lifecycle.start(s, clock.now())
    assert s.started_at == at(start_at)
    return s


def _checkin_after(s: SessionState, clock: FakeClock, minutes: float) -> str | None:
    """The status of a check-in when the clock has moved on to `minutes` from 09:00."""
    clock.set(at(minutes))
    return attendance.checkin(s, member(), None, clock.now()).checkin_status


@pytest.mark.parametrize(
    ("delay", "start_at", "on_time_until"),
    [
        (0, 0, 5),  # started on time: 09:00 + 5
        (0, -10, 5),  # started early, at 08:50: still from the scheduled 09:00
        (0, 12, 17),  # started late, at 09:12: from the actual start
        (15, 10, 20),  # delayed to 09:15, started before it at 09:10: from the delayed time
        (15, 15, 20),  # delayed to 09:15, started at it
        (15, 22, 27),  # delayed to 09:15, started after it at 09:22: from the actual start
    ],
)
def test_late_with_a_clock_through_delays_and_starts(delay: int, start_at: float, on_time_until: float) -> None:
    """Driven by a clock the test moves: on time until late_after_minutes past the later of the expected
    start (scheduled, plus any delay) and the actual start; late from the first moment after it."""
    clock = FakeClock()
    s = _started(clock, delay=delay, start_at=start_at)
    assert s.expected_start == at(delay)
    assert _checkin_after(s, clock, start_at) == "present"  # at the start itself
    assert _checkin_after(s, clock, on_time_until) == "present"
    assert _checkin_after(s, clock, on_time_until + 0.001) == "late"
    assert attendance.late_counted_from(s) == max(at(delay), at(start_at))


def test_late_is_not_counted_before_the_start() -> None:
    """A scheduled session has no start to count from, so a check-in before it is present."""
    assert attendance.late_counted_from(session(delay_minutes=5)) is None
    clock = FakeClock(at(-20))
    assert attendance.checkin(session(), member(), None, clock.now()).checkin_status == "present"


def test_late_after_minutes_is_the_sessions_own() -> None:
    s = session(status="live", started_at=T0, late_after_minutes=0)
    assert attendance.checkin(s, member(), None, at(seconds=1)).checkin_status == "late"
    assert attendance.checkin(s, member(), None, T0).checkin_status == "present"


def test_a_second_checkin_keeps_the_first() -> None:
    s = session(status="live", started_at=T0)
    first = attendance.checkin(s, member(), None, at(minutes=1))
    assert attendance.checkin(s, first, None, at(minutes=40)) is first


def test_a_mark_overrides_the_checkin() -> None:
    s = session(status="live", started_at=T0)
    late = attendance.checkin(s, member(), None, at(minutes=20))
    marked = attendance.mark(s, late, "excused")
    assert (late.status, marked.status, marked.checked_in_at) == ("late", "excused", at(minutes=20))
    assert member().status == "absent"


def test_the_code_rotates_every_period_and_expires_at_the_period_end() -> None:
    start = datetime.fromtimestamp(1_900_000_020, UTC)  # a multiple of 60 s
    codes = [attendance.code_at(SECRET, start + PERIOD * i) for i in range(20)]
    assert all(len(c) == attendance.CODE_DIGITS and c.isdigit() for c in codes)
    assert len(set(codes)) > 15  # it changes (4 digits: a repeat now and then is chance)
    assert attendance.code_at(SECRET, start + PERIOD - timedelta(seconds=1)) == codes[0]
    assert (
        attendance.code_at("another secret", start) != codes[0]
        or attendance.code_at("another secret", start + PERIOD) != codes[1]
    )
    assert attendance.code_expires_at(start) == start + PERIOD
    assert attendance.code_expires_at(start + timedelta(seconds=59)) == start + PERIOD


def test_the_code_shown_and_the_one_before_are_accepted_no_other() -> None:
    now = datetime.fromtimestamp(1_900_000_020 + 30, UTC)
    shown, before = attendance.code_at(SECRET, now), attendance.code_at(SECRET, now - PERIOD)
    older, next_ = attendance.code_at(SECRET, now - 2 * PERIOD), attendance.code_at(SECRET, now + PERIOD)
    assert attendance.code_accepts(SECRET, shown, now)
    assert attendance.code_accepts(SECRET, before, now)
    for other in {older, next_} - {shown, before}:
        assert not attendance.code_accepts(SECRET, other, now)
    assert not attendance.code_accepts(SECRET, "é" + shown[1:], now)  # non-ASCII is just wrong


def test_checkin_with_a_code() -> None:
    s = session(status="live", started_at=T0, checkin_secret=SECRET)
    now = at(minutes=1)
    with pytest.raises(Invalid, match="asks for the check-in code"):
        attendance.checkin(s, member(), None, now)
    wrong = next(c for c in ("0000", "0001", "0002") if not attendance.code_accepts(SECRET, c, now))
    with pytest.raises(attendance.WrongCode):
        attendance.checkin(s, member(), wrong, now)
    code = attendance.code_at(SECRET, now)
    assert attendance.checkin(s, member(), f" {code} ", now).checked_in_at == now
    previous = attendance.code_at(SECRET, now - PERIOD)
    assert attendance.checkin(s, member(), previous, now).checked_in_at == now


def test_a_locked_participant_is_refused_even_the_right_code_until_the_lock_ends() -> None:
    s = session(status="live", started_at=T0, checkin_secret=SECRET)
    now = at(minutes=1)
    code = attendance.code_at(SECRET, now)
    with pytest.raises(RateLimited) as e:
        attendance.checkin(s, member(), code, now, locked_until=now + timedelta(minutes=3))
    assert e.value.extra == {"retry_at": "2030-01-07T09:04:00.000Z"}
    assert attendance.checkin(s, member(), code, now, locked_until=now).checked_in_at == now


def test_the_wrong_code_allowance_is_5_in_5_minutes_and_10_a_day() -> None:
    per_5_min, per_day = CHECKIN_WRONG_CODES
    assert (per_5_min.amount, per_5_min.get_expiry()) == (5, 300)
    assert (per_day.amount, per_day.get_expiry()) == (10, 86_400)
    # 10 guesses a day, each hitting with odds of at most 2 in 10,000: at most 0.2% a day.
    assert per_day.amount * 2 / 10**attendance.CODE_DIGITS <= 0.002

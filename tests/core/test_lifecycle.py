"""core.lifecycle: start, delay, and when the ticker starts and closes a session."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core import lifecycle
from core.errors import Conflict
from core.model import room_all
from tests.core.factories import T0, at, session

GRACE = timedelta(minutes=10)


def test_start_goes_live_at_now_and_emits_the_session() -> None:
    started, events = lifecycle.start(session(), at(minutes=3))
    assert started.status == "live" and started.started_at == at(minutes=3)
    assert [(e.event, e.room, e.payload["status"]) for e in events] == [("session", room_all("s1"), "live")]


def test_starting_a_live_session_changes_nothing_and_emits_nothing() -> None:
    live = session(status="live", started_at=T0)
    same, events = lifecycle.start(live, at(minutes=9))
    assert same is live and events == []


@pytest.mark.parametrize("change", [lambda s: lifecycle.start(s, T0), lambda s: lifecycle.delay(s, 5, None)])
def test_a_closed_session_refuses_every_change(change) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Conflict, match="closed"):
        change(session(status="closed", closed_at=T0))


def test_delays_add_up_and_move_the_expected_start_and_end() -> None:
    once, events = lifecycle.delay(session(), 10, "projector")
    twice, _ = lifecycle.delay(once, 5, None)
    assert twice.delay_minutes == 15 and twice.delay_reason is None
    assert twice.expected_start == at(minutes=15) and twice.scheduled_end == at(minutes=75)
    assert events[0].payload["expected_start"] == "2030-01-07T09:10:00.000Z"


def test_only_a_scheduled_session_can_be_delayed() -> None:
    with pytest.raises(Conflict, match="a live session cannot be delayed"):
        lifecycle.delay(session(status="live", started_at=T0), 5, None)


def test_due_to_start_at_the_expected_start_not_before() -> None:
    delayed = session(delay_minutes=10)
    assert not lifecycle.due_to_start(delayed, at(minutes=9, seconds=59))
    assert lifecycle.due_to_start(delayed, at(minutes=10))
    assert not lifecycle.due_to_start(session(status="live", started_at=T0), at(minutes=10))


def test_due_to_close_after_end_plus_grace_and_only_when_empty() -> None:
    live = session(status="live", started_at=T0)
    end = at(minutes=60)
    assert not lifecycle.due_to_close(live, end + GRACE - timedelta(seconds=1), GRACE, 0)
    assert lifecycle.due_to_close(live, end + GRACE, GRACE, 0)
    assert not lifecycle.due_to_close(live, end + GRACE, GRACE, 1)  # someone is still there
    assert not lifecycle.due_to_close(session(status="closed", closed_at=end), end + GRACE, GRACE, 0)
    # A scheduled session nobody started closes too, counted from its (delayed) schedule.
    assert not lifecycle.due_to_close(session(delay_minutes=30), end + GRACE, GRACE, 0)
    assert lifecycle.due_to_close(session(delay_minutes=30), end + GRACE + timedelta(minutes=30), GRACE, 0)


def test_checkin_opens_thirty_minutes_before_the_expected_start() -> None:
    assert lifecycle.checkin_opens_at(session()) == at(minutes=-30)
    assert lifecycle.checkin_opens_at(session(delay_minutes=15)) == at(minutes=-15)


def test_close_ends_the_session_now_once_and_announces_it() -> None:
    closed, events = lifecycle.close(session(status="live", started_at=T0), at(minutes=70))
    assert (closed.status, closed.closed_at) == ("closed", at(minutes=70))
    assert [(e.event, e.room, e.payload["status"]) for e in events] == [("session", room_all("s1"), "closed")]
    assert lifecycle.close(closed, at(minutes=80)) == (closed, [])


def test_the_platform_status_is_a_banner_for_everyone_and_part_of_the_session() -> None:
    changed, events = lifecycle.set_platform(session(), "degraded", "Zoom audio drops")
    assert (changed.platform_status, changed.platform_message) == ("degraded", "Zoom audio drops")
    assert [(e.event, e.room) for e in events] == [("platform", room_all("s1")), ("session", room_all("s1"))]
    assert events[0].payload == {"status": "degraded", "message": "Zoom audio drops"}
    assert events[1].payload["platform_status"] == {"status": "degraded", "message": "Zoom audio drops"}
    with pytest.raises(Conflict):
        lifecycle.set_platform(session(status="closed", closed_at=T0), "ok", "")

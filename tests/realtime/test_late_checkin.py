"""`late` counts late_after_minutes from the later of the expected start and the actual start."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.clock import FakeClock
from tests.clocked import when
from tests.support import Server, iso_in


@pytest.mark.parametrize(
    ("delay", "start_at"),
    [
        (0, 0),  # started on time
        (0, -8),  # started 8 minutes early: counted from the scheduled start
        (0, 4),  # started 4 minutes late: from the actual start
        (10, 6),  # delayed by 10, started before the delayed time: from the delayed time
        (10, 13),  # delayed by 10, started after it: from the actual start
    ],
)
async def test_late_over_the_socket(clocked: Server, clock: FakeClock, delay: int, start_at: int) -> None:
    """On time until 5 minutes past the later of the expected and the actual start, late after it."""
    session = await clocked.session(starts_at=iso_in(10), late_after_minutes=5)
    starts_at = when(session["starts_at"])
    people = await clocked.participants(session["id"], 2)
    admin = await clocked.connect(clocked.admin_token, session["id"])
    on_time, late = [await clocked.connect(p["token"]) for p in people]
    if delay:
        await admin.ok("session:delay", {"minutes": delay})
    clock.set(starts_at + timedelta(minutes=start_at))
    started = (await admin.ok("session:start", {}))["session"]
    assert when(started["started_at"]) == clock.now()  # nothing started it before (it is not due yet, or just now)
    counted_from = max(starts_at + timedelta(minutes=delay), clock.now())
    clock.set(counted_from + timedelta(minutes=5))
    assert (await on_time.ok("attendance:checkin", {}))["status"] == "present"
    clock.set(counted_from + timedelta(minutes=5, seconds=1))
    assert (await late.ok("attendance:checkin", {}))["status"] == "late"

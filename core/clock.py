"""Where the time comes from: one small protocol, so that the rules and the tests can be handed a clock.

The Hub builds one (the wall clock unless `create_app` is handed another) and gives it to the actions,
the ticker and the views; the pure rules take `now` as an argument. Tests hand in a fake clock and step
it instead of sleeping on the wall clock (tests/clock.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    """A source of the current time."""

    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...


class SystemClock:
    """The wall clock (`core.model.utcnow()` reads it too)."""

    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        return datetime.now(UTC)

"""Where the time comes from: one small protocol, so that the rules and the tests can be handed a clock.

Nothing reads it yet: the actions still call `core.model.utcnow()` themselves. A later stage threads a
`Clock` through the service, so that tests step a fake clock instead of sleeping on the wall clock.
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
    """The wall clock: what `core.model.utcnow()` reads."""

    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        return datetime.now(UTC)

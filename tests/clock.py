"""A clock for tests: it stands still until the test sets or advances it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class FakeClock:
    """A `core.clock.Clock` that reads what the test last set; it never moves by itself."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start if start is not None else datetime(2030, 1, 7, 9, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def set(self, t: datetime) -> None:
        assert t.tzinfo is not None, "the clock reads timezone-aware UTC times"
        self._now = t

    def advance(self, *, seconds: float = 0, minutes: float = 0) -> datetime:
        """Move on by this much and answer the new time."""
        self._now += timedelta(seconds=seconds, minutes=minutes)
        return self._now

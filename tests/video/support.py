"""What the video tests share: the sessions they book and a monotonic clock they move by hand."""

from __future__ import annotations

from datetime import UTC, datetime

from core import schedule
from core.video import MeetingSpec, Occurrence

BERLIN = "Europe/Berlin"  # 2026: summer time from Sunday 29 March
# A Tuesday, 10:00 in Berlin (CET); a week later it is 10:00 CEST, 08:00 UTC.
FIRST = datetime(2026, 3, 24, 9, 0, tzinfo=UTC)
TOPIC = "Distributed systems"
AGENDA = "Consensus, then the lab"


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


def one_session(starts_at: datetime = FIRST, minutes: int = 60, agenda: str | None = AGENDA) -> MeetingSpec:
    """One session: what a class that does not repeat books."""
    return MeetingSpec(TOPIC, BERLIN, (Occurrence(starts_at, minutes),), agenda=agenda)


def weekly(count: int = 3, days: tuple[str, ...] = ("TU",), minutes: int = 60) -> MeetingSpec:
    """A weekly series from FIRST, its starts expanded by core.schedule as the service does."""
    rec = schedule.recurrence(FIRST, BERLIN, count=count, byday=list(days))
    starts = schedule.occurrences(FIRST, BERLIN, rec)
    return MeetingSpec(
        TOPIC, BERLIN, tuple(Occurrence(s, minutes) for s in starts), agenda=AGENDA, weekly_days=rec.byday
    )


def epoch_ms(instant: datetime) -> str:
    """Zoom's occurrence_id for an occurrence starting at `instant` (as in Zoom's own examples)."""
    return str(int(instant.timestamp() * 1000))


class Ticks:
    """A monotonic clock (seconds) that moves only when the test says."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

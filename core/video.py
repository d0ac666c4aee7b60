"""Booking a session's meeting on its video platform: the types every provider shares (no I/O).

A provider (video/) creates, moves and removes the meeting a session runs in and says how many
people the host's account may bring into one. The manual link is the embedded default: the admin
pastes the join URL and nothing is called. Zoom and Microsoft Teams book the meeting through their
APIs when their credentials are configured (docs/video-platforms.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from core.errors import Unavailable


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One session of a meeting: when it starts (UTC, aware) and how long it lasts."""

    starts_at: datetime
    duration_minutes: int


@dataclass(frozen=True, slots=True)
class MeetingSpec:
    """What to book: one session, or a weekly series with every one of its starts in order."""

    topic: str
    # The series' IANA zone: Zoom keeps a recurring meeting at its local wall-clock time across
    # daylight saving with it, as core.schedule does.
    timezone: str
    occurrences: tuple[Occurrence, ...]
    agenda: str | None = None
    # "MO".."SU" (core.schedule.WEEKDAYS) for a series; empty for one session.
    weekly_days: tuple[str, ...] = ()

    @property
    def is_series(self) -> bool:
        return len(self.occurrences) > 1


@dataclass(frozen=True, slots=True)
class Meeting:
    """The meeting one session runs in, as the provider that booked it knows it."""

    provider: str  # "manual" | "zoom" | "teams"
    meeting_id: str | None  # None for a manual link
    occurrence_id: str | None  # a Zoom series' occurrence; None for a meeting of its own
    join_url: str | None


class ProviderError(Unavailable):
    """The video platform could not do what was asked; the message says which one and what failed.

    It is an `unavailable` error (HTTP 503) with the platform's id in `platform`. Its message is for
    people and never holds a secret: no client secret, no access token.
    """

    def __init__(self, message: str, *, platform: str) -> None:
        super().__init__(message, platform=platform)
        self.platform = platform


class VideoProvider(Protocol):
    """Books meetings on one video platform."""

    name: str

    async def create(self, spec: MeetingSpec, *, join_url: str | None = None) -> list[Meeting]:
        """One meeting per occurrence of `spec`, in its order; `join_url` is the pasted link (manual only)."""
        ...

    async def update(
        self, meeting: Meeting, occurrence: Occurrence, *, topic: str, timezone: str, agenda: str | None
    ) -> Meeting:
        """Move or rename one booked meeting (or one occurrence of a series); answers it as it now is."""
        ...

    async def delete(self, meeting: Meeting) -> None:
        """Remove one booked meeting (or occurrence); one already gone counts as removed."""
        ...

    async def capacity(self) -> int | None:
        """How many people one meeting of the host's account may hold; None when the platform does not say."""
        ...

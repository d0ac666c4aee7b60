"""Booking the meeting on the video platform: the interface every provider implements (no I/O here)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Occurrence:
    starts_at: datetime  # UTC aware
    duration_minutes: int


@dataclass(frozen=True, slots=True)
class MeetingSpec:
    topic: str
    timezone: str
    occurrences: tuple[Occurrence, ...]
    agenda: str | None = None
    weekly_days: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Meeting:
    provider: str
    meeting_id: str | None
    occurrence_id: str | None
    join_url: str | None


class ProviderError(Exception):
    """The platform could not be reached or refused: the message says which and what, for people."""


class VideoProvider(Protocol):
    name: str

    async def create(self, spec: MeetingSpec, *, join_url: str | None = None) -> list[Meeting]: ...

    async def update(
        self, meeting: Meeting, occurrence: Occurrence, *, topic: str, timezone: str, agenda: str | None
    ) -> Meeting: ...

    async def delete(self, meeting: Meeting) -> None: ...

    async def capacity(self) -> int | None: ...

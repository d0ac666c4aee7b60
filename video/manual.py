"""The manual link, the embedded default: the admin pastes the join URL and no platform is called."""

from __future__ import annotations

from core.video import Meeting, MeetingSpec, Occurrence


class ManualLink:
    """Every session of the spec gets the pasted join URL; moving or cancelling one calls nobody."""

    name = "manual"

    async def create(self, spec: MeetingSpec, *, join_url: str | None = None) -> list[Meeting]:
        """One Meeting per occurrence, each with the pasted `join_url` (None until one is pasted)."""
        return [Meeting(self.name, None, None, join_url) for _ in spec.occurrences]

    async def update(
        self, meeting: Meeting, occurrence: Occurrence, *, topic: str, timezone: str, agenda: str | None
    ) -> Meeting:
        """The same meeting: a pasted link does not know when the session is."""
        return meeting

    async def delete(self, meeting: Meeting) -> None:
        """Nothing to remove: the meeting, if any, is the admin's to cancel on its platform."""

    async def capacity(self) -> int | None:
        """Unknown: the catalogue's capacity (core.platforms) is what is checked."""
        return None

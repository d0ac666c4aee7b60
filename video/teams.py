"""Microsoft Teams: online meetings booked through Microsoft Graph for one organizer.

The app holds Graph's application permission OnlineMeetings.ReadWrite.All and a tenant admin has
granted it an application access policy for the organizer (COMPANION_MSGRAPH_ORGANIZER, the
user's object id); it then creates meetings at POST /users/{organizer}/onlineMeetings.

An onlineMeeting has no recurrence: a series gets one online meeting per occurrence, each with its
own join URL, and the sessions' times go out in UTC (startDateTime, endDateTime). It has no agenda
field either, so an agenda stays in the companion. Graph has no call that says how many people a
meeting may hold (that depends on the organizer's licences and the tenant's policies): capacity is
what COMPANION_MSGRAPH_CAPACITY states, or None (not checked).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, TypeGuard

from core.settings import GraphSettings
from core.video import Meeting, MeetingSpec, Occurrence, ProviderError
from video.http import TIMEOUT_S, Api, Session, TokenRequest, all_or_none, segment

# The client credentials flow asks for the app's Graph permissions as a whole (Microsoft identity
# platform: "the scope must be the resource identifier with the .default suffix").
GRAPH_SCOPE = "https://graph.microsoft.com/.default"


class TeamsProvider:
    """Books sessions as Teams online meetings (see the module docstring)."""

    name = "teams"

    def __init__(
        self, settings: GraphSettings, *, timeout_s: float = TIMEOUT_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._capacity = settings.capacity
        self._meetings = f"/users/{segment(settings.organizer)}/onlineMeetings"
        self._api = Api(
            platform=self.name,
            name="Microsoft Teams",
            base_url=settings.api_url,
            token=TokenRequest(
                url=f"{settings.login_url}/{segment(settings.tenant_id)}/oauth2/v2.0/token",
                form={
                    "client_id": settings.client_id,
                    "client_secret": settings.client_secret,
                    "scope": GRAPH_SCOPE,
                    "grant_type": "client_credentials",
                },
                secret=settings.client_secret,
            ),
            settings_hint="COMPANION_MSGRAPH_TENANT_ID, COMPANION_MSGRAPH_CLIENT_ID, COMPANION_MSGRAPH_CLIENT_SECRET",
            forbidden_hint=(
                "the app needs OnlineMeetings.ReadWrite.All and an application access policy "
                "for COMPANION_MSGRAPH_ORGANIZER (the organizer's object id)"
            ),
            timeout_s=timeout_s,
            clock=clock,
        )

    async def create(self, spec: MeetingSpec, *, join_url: str | None = None) -> list[Meeting]:
        """One online meeting per occurrence, in order; if one fails, those already created are deleted."""
        async with self._api.session() as s:
            steps = [partial(self._create, s, spec.topic, o) for o in spec.occurrences]
            return await all_or_none(steps, partial(self._delete, s))

    async def update(
        self, meeting: Meeting, occurrence: Occurrence, *, topic: str, timezone: str, agenda: str | None
    ) -> Meeting:
        """PATCH the online meeting's start, end and subject (Graph wants start and end together)."""
        async with self._api.session() as s:
            body = await s.call("PATCH", self._path(meeting), "update the meeting", json=_times(topic, occurrence))
        # Graph answers the updated meeting; the update is done even if that answer lacks the link.
        join_url = body.get("joinWebUrl") if isinstance(body, dict) else None
        return replace(meeting, join_url=join_url) if _is_url(join_url) else meeting

    async def delete(self, meeting: Meeting) -> None:
        """DELETE the online meeting; 404 (already gone) is done."""
        async with self._api.session() as s:
            await self._delete(s, meeting)

    async def capacity(self) -> int | None:
        """COMPANION_MSGRAPH_CAPACITY, or None: Graph does not tell (see the module docstring)."""
        return self._capacity

    async def _create(self, s: Session, topic: str, occurrence: Occurrence) -> Meeting:
        """POST one online meeting; one Graph created but answered without a join URL is deleted again."""
        what = "create the meeting"
        body = await s.call("POST", self._meetings, what, json=_times(topic, occurrence))
        meeting_id = body.get("id") if isinstance(body, dict) else None
        if not isinstance(meeting_id, str) or not meeting_id:
            raise self._api.error(what, "it answered without a meeting id")
        join_url = body.get("joinWebUrl")
        if not _is_url(join_url):
            error = self._api.error(what, "it answered without a join URL (joinWebUrl)")
            with contextlib.suppress(ProviderError):  # already logged; the refusal is what matters
                await self._delete(s, Meeting(self.name, meeting_id, None, None))
            raise error
        return Meeting(self.name, meeting_id, None, join_url)

    async def _delete(self, s: Session, meeting: Meeting) -> None:
        await s.call("DELETE", self._path(meeting), "delete the meeting", missing_ok=True)

    def _path(self, meeting: Meeting) -> str:
        if meeting.provider != self.name or meeting.meeting_id is None:
            raise ValueError(f"not a Teams meeting: {meeting!r}")
        return f"{self._meetings}/{segment(meeting.meeting_id)}"


def _times(topic: str, occurrence: Occurrence) -> dict[str, str]:
    """startDateTime, endDateTime (UTC) and subject of an onlineMeeting."""
    end = occurrence.starts_at + timedelta(minutes=occurrence.duration_minutes)
    return {"startDateTime": _utc(occurrence.starts_at), "endDateTime": _utc(end), "subject": topic}


def _is_url(value: Any) -> TypeGuard[str]:
    return isinstance(value, str) and value.startswith("https://")


def _utc(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

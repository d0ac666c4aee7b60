"""Zoom: meetings booked on the account of a Server-to-Server OAuth app, hosted by its user (`me`).

One session is a scheduled meeting (type 2). A weekly series is a recurring meeting with a fixed
time (type 8) and Zoom's weekly recurrence object; Zoom lists its occurrences, each with an
occurrence_id, and every session gets the one that starts when it does. Times are sent as local
wall-clock time with the series' zone, so Zoom, like core.schedule, keeps the class at 10:00 in
Berlin on both sides of a daylight-saving change; when Zoom's occurrences do not start exactly
when the sessions do, the meeting is deleted again and the booking refused, rather than joining
sessions to the wrong occurrences.

Zoom counts at most 50 occurrences in one recurrence (`end_times`): a longer series is booked as
several recurring meetings of up to 50, each with its own join URL.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any

from core.schedule import zone
from core.settings import ZoomSettings
from core.video import Meeting, MeetingSpec, Occurrence, ProviderError
from video.http import TIMEOUT_S, Api, Session, TokenRequest, all_or_none, segment

# Meeting types and the weekly recurrence type (Zoom's API reference, "Create a meeting").
SCHEDULED = 2
RECURRING_FIXED_TIME = 8
WEEKLY = 2
# end_times: "between a value of 1 and 50" (Zoom's recurrence object definitions).
MAX_OCCURRENCES = 50
# weekly_days counts from Sunday: 1 = Sunday ... 7 = Saturday.
ZOOM_DAYS = {"SU": 1, "MO": 2, "TU": 3, "WE": 4, "TH": 5, "FR": 6, "SA": 7}


class ZoomProvider:
    """Books sessions as Zoom meetings (see the module docstring)."""

    name = "zoom"

    def __init__(
        self, settings: ZoomSettings, *, timeout_s: float = TIMEOUT_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._api = Api(
            platform=self.name,
            name="Zoom",
            base_url=settings.api_url,
            token=TokenRequest(
                url=settings.oauth_url,
                form={"grant_type": "account_credentials", "account_id": settings.account_id},
                secret=settings.client_secret,
                basic_auth=(settings.client_id, settings.client_secret),
            ),
            settings_hint="COMPANION_ZOOM_ACCOUNT_ID, COMPANION_ZOOM_CLIENT_ID, COMPANION_ZOOM_CLIENT_SECRET",
            forbidden_hint=(
                "the app needs the scopes meeting:write:meeting:admin, meeting:update:meeting:admin, "
                "meeting:delete:meeting:admin and user:read:settings:admin, and must be activated"
            ),
            timeout_s=timeout_s,
            clock=clock,
        )

    async def create(self, spec: MeetingSpec, *, join_url: str | None = None) -> list[Meeting]:
        """A scheduled meeting for one session; recurring meetings for a series, one Meeting per occurrence."""
        async with self._api.session() as s:
            if not spec.is_series:
                return await self._book(s, _scheduled(spec), "create the meeting", None)
            every = spec.occurrences
            parts = [every[i : i + MAX_OCCURRENCES] for i in range(0, len(every), MAX_OCCURRENCES)]
            what = "create the recurring meeting"
            steps = [partial(self._book, s, _recurring(spec, part), what, part) for part in parts]
            booked = await all_or_none(steps, lambda meetings: self._remove(s, meetings[0]))
            return [m for meetings in booked for m in meetings]

    async def update(
        self, meeting: Meeting, occurrence: Occurrence, *, topic: str, timezone: str, agenda: str | None
    ) -> Meeting:
        """PATCH the meeting, or with occurrence_id the one occurrence; the join URL and ids stay."""
        meeting_id = _own(meeting)
        params: dict[str, str] | None = None
        if meeting.occurrence_id is None:
            body: dict[str, Any] = {"topic": topic, **_when(occurrence, timezone), "agenda": agenda or ""}
        else:
            # An occurrence takes agenda, start_time and duration (the topic is the series'); its
            # start goes in UTC, which needs no timezone field.
            body = {"start_time": _utc(occurrence.starts_at), "duration": occurrence.duration_minutes}
            body["agenda"] = agenda or ""
            params = {"occurrence_id": meeting.occurrence_id}
        async with self._api.session() as s:
            await s.call("PATCH", _path(meeting_id), "update the meeting", params=params, json=body)
        return meeting

    async def delete(self, meeting: Meeting) -> None:
        """DELETE the meeting, or with occurrence_id the one occurrence; 404 (already gone) is done."""
        meeting_id = _own(meeting)
        params = {"occurrence_id": meeting.occurrence_id} if meeting.occurrence_id else None
        async with self._api.session() as s:
            await s.call("DELETE", _path(meeting_id), "delete the meeting", params=params, missing_ok=True)

    async def capacity(self) -> int | None:
        """The host's meeting capacity (GET /users/me/settings): the large-meeting one when that add-on is on."""
        async with self._api.session() as s:
            body = await s.call("GET", "/users/me/settings", "read the account's meeting capacity")
        feature = body.get("feature") if isinstance(body, dict) else None
        if not isinstance(feature, dict):
            return None
        sizes = [feature.get("meeting_capacity")]
        if feature.get("large_meeting") is True:
            sizes.append(feature.get("large_meeting_capacity"))
        known = [n for n in sizes if type(n) is int and n > 0]
        return max(known) if known else None

    async def _book(
        self, s: Session, payload: dict[str, Any], what: str, part: tuple[Occurrence, ...] | None
    ) -> list[Meeting]:
        """POST one meeting: a scheduled one, or a recurring one for `part` of a series matched to Zoom's occurrences.

        A meeting Zoom created but answered unusably (no join URL, other occurrences) is deleted
        again: no session would know of it.
        """
        body = await s.call("POST", "/users/me/meetings", what, json=payload)
        meeting_id = self._id(body, what)
        try:
            join_url = self._join_url(body, what)
            ids: list[str | None] = [None] if part is None else [*self._occurrence_ids(body, part, what)]
        except ProviderError:
            with contextlib.suppress(ProviderError):  # already logged; the refusal below is what matters
                await self._remove(s, Meeting(self.name, meeting_id, None, None))
            raise
        return [Meeting(self.name, meeting_id, oid, join_url) for oid in ids]

    def _occurrence_ids(self, body: dict[str, Any], part: tuple[Occurrence, ...], what: str) -> list[str]:
        """Zoom's occurrence_id of each occurrence, found by its start; ProviderError when the lists differ."""
        listed = body.get("occurrences")
        starts: dict[datetime, str] = {}
        for item in listed if isinstance(listed, list) else []:
            if isinstance(item, dict) and isinstance(item.get("occurrence_id"), str | int):
                with contextlib.suppress(TypeError, ValueError):
                    starts[datetime.fromisoformat(item["start_time"]).astimezone(UTC)] = str(item["occurrence_id"])
        wanted = [o.starts_at.astimezone(UTC).replace(microsecond=0) for o in part]
        missing = [w for w in wanted if w not in starts]
        if missing or len(starts) != len(wanted):
            first = f"; none starts at {_utc(missing[0])}" if missing else ""
            raise self._api.error(
                what, f"it listed {len(starts)} occurrences for a series of {len(wanted)} sessions{first}"
            )
        return [starts[w] for w in wanted]

    async def _remove(self, s: Session, meeting: Meeting) -> None:
        """Delete a whole meeting booked by a create that then failed."""
        assert meeting.meeting_id is not None
        await s.call("DELETE", _path(meeting.meeting_id), "delete the meeting again", missing_ok=True)

    def _id(self, body: Any, what: str) -> str:
        meeting_id = body.get("id") if isinstance(body, dict) else None
        if type(meeting_id) is not int and not (isinstance(meeting_id, str) and meeting_id):
            raise self._api.error(what, "it answered without a meeting id")
        return str(meeting_id)

    def _join_url(self, body: dict[str, Any], what: str) -> str:
        url = body.get("join_url")
        if not isinstance(url, str) or not url.startswith("https://"):
            raise self._api.error(what, "it answered without a join URL")
        return url


def _scheduled(spec: MeetingSpec) -> dict[str, Any]:
    """The body of POST /users/me/meetings for one session."""
    (occurrence,) = spec.occurrences
    return {"topic": spec.topic, "type": SCHEDULED, **_when(occurrence, spec.timezone), **_agenda(spec.agenda)}


def _recurring(spec: MeetingSpec, part: tuple[Occurrence, ...]) -> dict[str, Any]:
    """The body of POST /users/me/meetings for occurrences of a weekly series, starting at the first of `part`."""
    if not spec.weekly_days:
        raise ValueError("a series needs its weekly_days")
    if len({o.duration_minutes for o in spec.occurrences}) != 1:
        raise ValueError("the occurrences of a series last the same")
    recurrence = {
        "type": WEEKLY,
        "repeat_interval": 1,
        "weekly_days": ",".join(str(d) for d in sorted(ZOOM_DAYS[day] for day in spec.weekly_days)),
        "end_times": len(part),
    }
    return {
        "topic": spec.topic,
        "type": RECURRING_FIXED_TIME,
        **_when(part[0], spec.timezone),
        **_agenda(spec.agenda),
        "recurrence": recurrence,
    }


def _when(occurrence: Occurrence, timezone: str) -> dict[str, Any]:
    """start_time as local wall-clock time ("yyyy-MM-ddTHH:mm:ss") with its zone, and the duration."""
    local = occurrence.starts_at.astimezone(zone(timezone))
    return {
        "start_time": local.strftime("%Y-%m-%dT%H:%M:%S"),
        "timezone": timezone,
        "duration": occurrence.duration_minutes,
    }


def _agenda(agenda: str | None) -> dict[str, str]:
    return {"agenda": agenda} if agenda else {}


def _utc(instant: datetime) -> str:
    """Zoom's UTC form, "yyyy-MM-ddTHH:mm:ssZ"."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _path(meeting_id: str) -> str:
    return f"/meetings/{segment(meeting_id)}"


def _own(meeting: Meeting) -> str:
    if meeting.provider != ZoomProvider.name or meeting.meeting_id is None:
        raise ValueError(f"not a Zoom meeting: {meeting!r}")
    return meeting.meeting_id

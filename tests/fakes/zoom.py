"""A local stand-in for Zoom's OAuth server and REST API v2, as Zoom's documentation describes them.

Reproduced (each from Zoom's developer documentation):
- POST /oauth/token with grant_type=account_credentials and account_id (query or form) and the
  client id and secret as HTTP Basic auth: {access_token, token_type: "bearer", expires_in, scope}.
- POST /v2/users/me/meetings: type 2 (scheduled) and type 8 (recurring, fixed time) with the weekly
  recurrence object (weekly_days "1".."7" from Sunday, repeat_interval, end_times 1..50 or
  end_date_time); start_time as local "yyyy-MM-ddTHH:mm:ss" in `timezone` (or the user's zone when
  none is given) or UTC with a Z; 201 with id, join_url, start_url and, for a series, occurrences
  {occurrence_id, start_time (UTC), duration, status}, expanded over local wall-clock time.
- PATCH and DELETE /v2/meetings/{meetingId}, with ?occurrence_id= for one occurrence: 204.
- GET /v2/users/me/settings: feature.meeting_capacity, large_meeting, large_meeting_capacity.
- Errors as {code, message} (Validation Failed with `errors`; 3001 "Meeting does not exist";
  124 "Invalid access token." with 401 for an unknown or expired token).

Guessed, where the documentation says nothing: the occurrence_id is the start in milliseconds
since the epoch (as in Zoom's examples), it survives a PATCH of that occurrence, and an unknown
occurrence_id is answered 404 like an unknown meeting.
"""

from __future__ import annotations

import base64
import itertools
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dateutil import rrule
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core.settings import ZoomSettings
from tests.fakes.base import FakeApi, Recorded, bearer

_LOCAL = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")
_WEEKLY_DAYS = re.compile(r"[1-7](,[1-7])*")


class FakeZoom(FakeApi):
    """Zoom as one Server-to-Server OAuth app's account sees it."""

    ACCOUNT_ID = "AbCdEfGhIjKlMnOp"
    CLIENT_ID = "zoom-client-id"
    CLIENT_SECRET = "zoom-client-secret-never-in-a-message"

    def __init__(self) -> None:
        super().__init__()
        self.expires_in = 3600
        self.user_timezone = "America/Los_Angeles"  # used for a local start_time without a timezone
        self.feature: dict[str, Any] = {
            "meeting_capacity": 300,
            "large_meeting": False,
            "large_meeting_capacity": 500,
            "webinar": False,
            "zoom_phone": False,
        }
        # Moves every occurrence Zoom lists by this much: a Zoom that expands a series differently.
        self.occurrence_shift = timedelta(0)
        self.meetings: dict[int, dict[str, Any]] = {}
        self.tokens: set[str] = set()
        self._numbers = itertools.count(1)

    def settings(self) -> ZoomSettings:
        """Settings that point the adapter at this fake."""
        return ZoomSettings(
            account_id=self.ACCOUNT_ID,
            client_id=self.CLIENT_ID,
            client_secret=self.CLIENT_SECRET,
            api_url=f"{self.url}/v2",
            oauth_url=f"{self.url}/oauth/token",
        )

    def expire_tokens(self) -> None:
        """Every token issued so far stops working (Zoom answers 401, code 124)."""
        self.tokens.clear()

    def routes(self) -> list[Route]:
        return [
            self.route("/oauth/token", self._token, "POST"),
            self.route("/v2/users/me/meetings", self._create, "POST"),
            self.route("/v2/meetings/{meeting_id}", self._update, "PATCH"),
            self.route("/v2/meetings/{meeting_id}", self._delete, "DELETE"),
            self.route("/v2/users/me/settings", self._settings, "GET"),
        ]

    def error_body(self, status: int) -> Any:
        bodies = {
            401: {"code": 124, "message": "Invalid access token."},
            403: {"code": 4700, "message": "Invalid access token, does not contain scopes."},
            429: {"code": 429, "message": "You have exceeded the daily rate limit of (100) for this API."},
        }
        return bodies.get(status, {"code": status, "message": "Internal Error."})

    async def _token(self, request: Request, recorded: Recorded) -> Response:
        params = {**recorded.query, **(recorded.body if isinstance(recorded.body, dict) else {})}
        expected = base64.b64encode(f"{self.CLIENT_ID}:{self.CLIENT_SECRET}".encode()).decode()
        if recorded.headers.get("authorization") != f"Basic {expected}":
            return JSONResponse({"reason": "Invalid client_id or client_secret", "error": "invalid_client"}, 400)
        if params.get("grant_type") != "account_credentials":
            return JSONResponse({"reason": "Unsupported grant type", "error": "unsupported_grant_type"}, 400)
        if params.get("account_id") != self.ACCOUNT_ID:
            return JSONResponse({"reason": "Invalid account_id", "error": "invalid_request"}, 400)
        token = f"zoom-access-token-{next(self._numbers)}"
        self.tokens.add(token)
        return JSONResponse(
            {
                "access_token": token,
                "token_type": "bearer",
                "expires_in": self.expires_in,
                "scope": "meeting:write:meeting:admin meeting:update:meeting:admin user:read:settings:admin",
                "api_url": "https://api.zoom.us",
            }
        )

    def _unauthorized(self, request: Request) -> Response | None:
        if bearer(request) in self.tokens:
            return None
        return JSONResponse(self.error_body(401), 401)

    async def _create(self, request: Request, recorded: Recorded) -> Response:
        if refused := self._unauthorized(request):
            return refused
        body = recorded.body
        if not isinstance(body, dict):
            return JSONResponse({"code": 300, "message": "Request Body should be a valid JSON object."}, 400)
        errors = _meeting_errors(body, creating=True)
        if errors:
            return _validation_failed(errors)
        start = self._start(body["start_time"], body.get("timezone"))
        number = 85_000_000_000 + next(self._numbers)
        meeting: dict[str, Any] = {
            "uuid": base64.b64encode(number.to_bytes(16, "big")).decode(),
            "id": number,
            "host_id": "z8yAAAAA8bbbQ",
            "host_email": "host@example.edu",
            "topic": body.get("topic", "Zoom Meeting"),
            "type": body["type"],
            "status": "waiting",
            "start_time": _utc(start),
            "duration": body.get("duration", 60),
            "timezone": body.get("timezone", self.user_timezone),
            "agenda": body.get("agenda", ""),
            "created_at": _utc(datetime.now(UTC)),
            "start_url": f"https://us06web.zoom.us/s/{number}?zak=host-start-token",
            "join_url": f"https://us06web.zoom.us/j/{number}?pwd=Zm9vYmFy",
            "password": "123456",
            "pre_schedule": False,
        }
        if body["type"] == 8:
            meeting["recurrence"] = body["recurrence"]
            meeting["occurrences"] = self._expand(start, meeting["timezone"], body["recurrence"], meeting["duration"])
        self.meetings[number] = meeting
        return JSONResponse(meeting, 201)

    async def _update(self, request: Request, recorded: Recorded) -> Response:
        meeting = self._meeting(request)
        if isinstance(meeting, Response):
            return meeting
        body = recorded.body
        if not isinstance(body, dict):
            return JSONResponse({"code": 300, "message": "Request Body should be a valid JSON object."}, 400)
        if errors := _meeting_errors(body, creating=False):
            return _validation_failed(errors)
        occurrence_id = request.query_params.get("occurrence_id")
        if occurrence_id is None:
            target = meeting
            target.update({k: body[k] for k in ("topic", "agenda", "duration", "timezone") if k in body})
        else:
            found = _occurrence(meeting, occurrence_id)
            if found is None:
                return _missing(occurrence_id)
            target = found
            # An occurrence takes agenda, start_time, duration and settings only.
            target.update({k: body[k] for k in ("agenda", "duration") if k in body})
        if "start_time" in body:
            target["start_time"] = _utc(self._start(body["start_time"], body.get("timezone", meeting["timezone"])))
        return Response(status_code=204)

    async def _delete(self, request: Request, recorded: Recorded) -> Response:
        meeting = self._meeting(request)
        if isinstance(meeting, Response):
            return meeting
        occurrence_id = request.query_params.get("occurrence_id")
        if occurrence_id is None:
            del self.meetings[meeting["id"]]
            return Response(status_code=204)
        occurrence = _occurrence(meeting, occurrence_id)
        if occurrence is None:
            return _missing(occurrence_id)
        occurrence["status"] = "deleted"
        return Response(status_code=204)

    async def _settings(self, request: Request, recorded: Recorded) -> Response:
        if refused := self._unauthorized(request):
            return refused
        return JSONResponse({"feature": self.feature, "schedule_meeting": {"host_video": False}})

    def _meeting(self, request: Request) -> dict[str, Any] | Response:
        """The meeting of the path, or the answer instead: 401 without a valid token, 404 when there is none."""
        if refused := self._unauthorized(request):
            return refused
        raw = request.path_params["meeting_id"]
        meeting = self.meetings.get(int(raw)) if raw.isdigit() else None
        return _missing(raw) if meeting is None else meeting

    def _start(self, start_time: str, timezone: str | None) -> datetime:
        """The instant of a start_time: UTC with a Z, else local time in its timezone (the user's if none)."""
        if start_time.endswith("Z"):
            return datetime.fromisoformat(start_time).astimezone(UTC)
        wall = datetime.fromisoformat(start_time)
        return wall.replace(tzinfo=ZoneInfo(timezone or self.user_timezone)).astimezone(UTC)

    def _expand(self, start: datetime, tz: str, recurrence: dict[str, Any], duration: int) -> list[dict[str, Any]]:
        """A weekly recurrence's occurrences over local wall-clock time in `tz` (dateutil's rrule)."""
        zone = ZoneInfo(tz)
        wall = start.astimezone(zone).replace(tzinfo=None)
        # Zoom counts weekdays from Sunday = 1; dateutil from Monday = 0.
        days = [(int(d) + 5) % 7 for d in recurrence["weekly_days"].split(",")]
        rule: dict[str, Any] = {"dtstart": wall, "byweekday": days, "interval": recurrence.get("repeat_interval", 1)}
        if "end_times" in recurrence:
            rule["count"] = recurrence["end_times"]
        else:
            end = datetime.fromisoformat(recurrence["end_date_time"]).astimezone(zone).replace(tzinfo=None)
            rule["until"] = end
        occurrences = []
        for local in rrule.rrule(rrule.WEEKLY, **rule):
            instant = local.replace(tzinfo=zone).astimezone(UTC) + self.occurrence_shift
            occurrences.append(
                {
                    "occurrence_id": str(int(instant.timestamp() * 1000)),
                    "start_time": _utc(instant),
                    "duration": duration,
                    "status": "available",
                }
            )
        return occurrences


def _meeting_errors(body: dict[str, Any], *, creating: bool) -> list[dict[str, str]]:
    """Zoom's "Validation Failed." errors for a meeting body: {field, message} each."""
    errors = []
    if creating and body.get("type") not in (2, 8):
        errors.append({"field": "type", "message": "Invalid field."})
    if "topic" in body and (not isinstance(body["topic"], str) or len(body["topic"]) > 200):
        errors.append({"field": "topic", "message": "Invalid field."})
    if creating or "start_time" in body:
        start = body.get("start_time")
        if not isinstance(start, str) or not (_LOCAL.fullmatch(start) or _LOCAL.fullmatch(start.removesuffix("Z"))):
            errors.append({"field": "start_time", "message": "Invalid field."})
    if "timezone" in body:
        try:
            ZoneInfo(body["timezone"])
        except (ValueError, KeyError, TypeError):
            errors.append({"field": "timezone", "message": "Invalid field."})
    if "duration" in body and (type(body["duration"]) is not int or body["duration"] < 1):
        errors.append({"field": "duration", "message": "Invalid field."})
    if "agenda" in body and (not isinstance(body["agenda"], str) or len(body["agenda"]) > 2000):
        errors.append({"field": "agenda", "message": "Invalid field."})
    if creating and body.get("type") == 8:
        errors += _recurrence_errors(body.get("recurrence"))
    return errors


def _recurrence_errors(recurrence: Any) -> list[dict[str, str]]:
    if not isinstance(recurrence, dict) or recurrence.get("type") != 2:
        return [{"field": "recurrence.type", "message": "Invalid field."}]  # this fake knows weekly only
    errors = []
    if not isinstance(recurrence.get("weekly_days"), str) or not _WEEKLY_DAYS.fullmatch(recurrence["weekly_days"]):
        errors.append({"field": "recurrence.weekly_days", "message": "Invalid field."})
    if not 1 <= recurrence.get("repeat_interval", 1) <= 12:
        errors.append({"field": "recurrence.repeat_interval", "message": "Invalid field."})
    if ("end_times" in recurrence) == ("end_date_time" in recurrence):
        errors.append({"field": "recurrence.end_times", "message": "Use end_times or end_date_time, not both."})
    elif "end_times" in recurrence and not 1 <= recurrence["end_times"] <= 50:
        errors.append({"field": "recurrence.end_times", "message": "Invalid field."})
    return errors


def _occurrence(meeting: dict[str, Any], occurrence_id: str) -> dict[str, Any] | None:
    """The meeting's occurrence of this id, unless there is none or it was deleted."""
    listed = meeting.get("occurrences", [])
    return next((o for o in listed if o["occurrence_id"] == occurrence_id and o["status"] != "deleted"), None)


def _missing(meeting_id: str) -> Response:
    return JSONResponse({"code": 3001, "message": f"Meeting does not exist: {meeting_id}."}, 404)


def _validation_failed(errors: list[dict[str, str]]) -> Response:
    return JSONResponse({"code": 300, "message": "Validation Failed.", "errors": errors}, 400)


def _utc(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

"""A local stand-in for the Microsoft identity platform and Graph's onlineMeetings, as documented.

Reproduced (each from Microsoft's documentation):
- POST /{tenant}/oauth2/v2.0/token with the client credentials grant (client_id, client_secret,
  scope=https://graph.microsoft.com/.default, grant_type=client_credentials as a form):
  {token_type: "Bearer", expires_in, ext_expires_in, access_token}; errors as
  {error, error_description (AADSTS code, then trace lines), error_codes}.
- POST /v1.0/users/{userId}/onlineMeetings {startDateTime, endDateTime, subject}: 201 with the
  onlineMeeting (id, joinWebUrl, times in UTC, participants.organizer...).
- PATCH /v1.0/users/{userId}/onlineMeetings/{meetingId}: start and end only together; 200 with the
  updated onlineMeeting. DELETE: 204.
- Errors as {"error": {code, message, innerError}}; 401 InvalidAuthenticationToken for an unknown
  or expired token.

Guessed or simplified: the application access policy is reduced to one user (the organizer) the
app may act for, any other answered 403; the 404 for an unknown meeting and the wording of the
403 and 400 messages are this fake's own.
"""

from __future__ import annotations

import base64
import itertools
import uuid
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core.settings import GraphSettings
from tests.fakes.base import FakeApi, Recorded, bearer

SCOPE = "https://graph.microsoft.com/.default"


class FakeGraph(FakeApi):
    """One tenant with one app registration and one organizer it may create meetings for."""

    TENANT_ID = "72f988bf-86f1-41af-91ab-2d7cd011db47"
    CLIENT_ID = "5d1b5f4e-0c8b-4b8e-9d1c-6c3a9c2f0a11"
    CLIENT_SECRET = "graph-client-secret-never-in-a-message"
    ORGANIZER = "550fae72-d251-43ec-868c-373732c2704f"

    def __init__(self) -> None:
        super().__init__()
        self.expires_in = 3599
        self.meetings: dict[str, dict[str, Any]] = {}
        self.tokens: set[str] = set()
        self._numbers = itertools.count(1)

    def settings(self, capacity: int | None = None) -> GraphSettings:
        """Settings that point the adapter at this fake."""
        return GraphSettings(
            tenant_id=self.TENANT_ID,
            client_id=self.CLIENT_ID,
            client_secret=self.CLIENT_SECRET,
            organizer=self.ORGANIZER,
            api_url=f"{self.url}/v1.0",
            login_url=self.url,
            capacity=capacity,
        )

    def expire_tokens(self) -> None:
        """Every token issued so far stops working (Graph answers 401 InvalidAuthenticationToken)."""
        self.tokens.clear()

    def routes(self) -> list[Route]:
        meeting = "/v1.0/users/{user}/onlineMeetings/{meeting_id:path}"
        return [
            self.route("/{tenant}/oauth2/v2.0/token", self._token, "POST"),
            self.route("/v1.0/users/{user}/onlineMeetings", self._create, "POST"),
            self.route(meeting, self._update, "PATCH"),
            self.route(meeting, self._delete, "DELETE"),
        ]

    def error_body(self, status: int) -> Any:
        if status == 401:
            return _error("InvalidAuthenticationToken", "Access token has expired or is not yet valid.")
        if status == 403:
            return _error("Forbidden", "No application access policy found for this app.")
        codes = {429: "TooManyRequests", 503: "serviceNotAvailable"}
        return _error(codes.get(status, "generalException"), "The service is busy; try again later.")

    async def _token(self, request: Request, recorded: Recorded) -> Response:
        form = recorded.body if isinstance(recorded.body, dict) else {}
        if request.path_params["tenant"] != self.TENANT_ID:
            return _aad(400, "invalid_request", 90002, f"Tenant '{request.path_params['tenant']}' not found.")
        if form.get("grant_type") != "client_credentials":
            return _aad(400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.")
        if form.get("client_id") != self.CLIENT_ID or form.get("client_secret") != self.CLIENT_SECRET:
            return _aad(
                401,
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request is the client "
                f"secret value, not the client secret ID, for a secret added to app '{self.CLIENT_ID}'.",
            )
        if form.get("scope") != SCOPE:
            return _aad(400, "invalid_scope", 1002012, "The provided value for scope is not valid.")
        token = f"graph-access-token-{next(self._numbers)}"
        self.tokens.add(token)
        lifetime = self.expires_in
        return JSONResponse(
            {"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime, "access_token": token}
        )

    def _refused(self, request: Request) -> Response | None:
        if bearer(request) not in self.tokens:
            return JSONResponse(self.error_body(401), 401)
        if request.path_params["user"] != self.ORGANIZER:  # no application access policy for this user
            return JSONResponse(self.error_body(403), 403)
        return None

    async def _create(self, request: Request, recorded: Recorded) -> Response:
        if refused := self._refused(request):
            return refused
        body = recorded.body if isinstance(recorded.body, dict) else {}
        times = _times(body, required=True)
        if isinstance(times, Response):
            return times
        assert times is not None  # required
        start, end = times
        # Graph's ids are base64 (with "=" padding at times) of the organizer and the meeting's chat thread.
        thread = f"19:meeting_{base64.b64encode(uuid.uuid4().bytes).decode().rstrip('=')}@thread.v2"
        meeting_id = base64.b64encode(f"1*{self.ORGANIZER}*0**{thread}".encode()).decode()
        number = next(self._numbers)
        context = f"%7b%22Tid%22%3a%22{self.TENANT_ID}%22%2c%22Oid%22%3a%22{self.ORGANIZER}%22%7d"
        join = f"https://teams.microsoft.com/l/meetup-join/{thread.replace(':', '%3a').replace('@', '%40')}/0"
        meeting = {
            "@odata.context": f"https://graph.microsoft.com/v1.0/$metadata#users('{self.ORGANIZER}')/onlineMeetings/$entity",
            "id": meeting_id,
            "creationDateTime": _graph_time(datetime.now(UTC)),
            "startDateTime": _graph_time(start),
            "endDateTime": _graph_time(end),
            "joinWebUrl": f"{join}?context={context}",
            "subject": body.get("subject"),
            "isBroadcast": False,
            "autoAdmittedUsers": "everyoneInCompany",
            "participants": {
                "organizer": {
                    "upn": "organizer@contoso.example",
                    "role": "presenter",
                    "identity": {"user": {"id": self.ORGANIZER, "tenantId": self.TENANT_ID, "identityProvider": "AAD"}},
                },
                "attendees": [],
            },
            "joinMeetingIdSettings": {"isPasscodeRequired": False, "joinMeetingId": f"{number:010d}", "passcode": None},
        }
        self.meetings[meeting_id] = meeting
        return JSONResponse(meeting, 201)

    async def _update(self, request: Request, recorded: Recorded) -> Response:
        if refused := self._refused(request):
            return refused
        meeting = self.meetings.get(request.path_params["meeting_id"])
        if meeting is None:
            return JSONResponse(_error("itemNotFound", "The online meeting was not found."), 404)
        body = recorded.body if isinstance(recorded.body, dict) else {}
        times = _times(body, required=False)
        if isinstance(times, Response):
            return times
        if times is not None:
            meeting["startDateTime"], meeting["endDateTime"] = (_graph_time(t) for t in times)
        if "subject" in body:
            meeting["subject"] = body["subject"]
        return JSONResponse(meeting)

    async def _delete(self, request: Request, recorded: Recorded) -> Response:
        if refused := self._refused(request):
            return refused
        if self.meetings.pop(request.path_params["meeting_id"], None) is None:
            return JSONResponse(_error("itemNotFound", "The online meeting was not found."), 404)
        return Response(status_code=204)


def _times(body: dict[str, Any], *, required: bool) -> tuple[datetime, datetime] | Response | None:
    """startDateTime and endDateTime, both or (when updating) neither; a 400 answer otherwise."""
    given = [k for k in ("startDateTime", "endDateTime") if k in body]
    if not given and not required:
        return None
    if len(given) != 2:
        return _bad_request("startDateTime and endDateTime are both required to change a meeting's time.")
    try:
        start, end = (datetime.fromisoformat(body[k]) for k in ("startDateTime", "endDateTime"))
    except (TypeError, ValueError):
        return _bad_request("startDateTime and endDateTime must be ISO 8601 date-times.")
    if start.tzinfo is None or end.tzinfo is None:
        return _bad_request("startDateTime and endDateTime need a UTC offset.")
    if end <= start:
        return _bad_request("endDateTime must be after startDateTime.")
    return start.astimezone(UTC), end.astimezone(UTC)


def _error(code: str, message: str) -> dict[str, Any]:
    request_id = str(uuid.uuid4())
    inner = {"date": _graph_time(datetime.now(UTC)), "request-id": request_id, "client-request-id": request_id}
    return {"error": {"code": code, "message": message, "innerError": inner}}


def _bad_request(message: str) -> Response:
    return JSONResponse(_error("BadRequest", message), 400)


def _aad(status: int, error: str, code: int, description: str) -> Response:
    trace = str(uuid.uuid4())
    body = {
        "error": error,
        "error_description": f"AADSTS{code}: {description}\r\nTrace ID: {trace}\r\nCorrelation ID: {trace}\r\n",
        "error_codes": [code],
        "trace_id": trace,
        "correlation_id": trace,
    }
    return JSONResponse(body, status)


def _graph_time(instant: datetime) -> str:
    """Graph's form: UTC with seven decimal places and a Z."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f0Z")

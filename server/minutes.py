"""The instructor's notes during the class and the minutes after it (docs/protocol.md, After the class).

Staff read both; admins and the session's instructor write them and circulate the minutes. The
bodies are bounded here (core/minutes.py has the numbers), so a refusal names the field and writes
nothing.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from core import minutes as rules
from core.bounds import JSON_SAFE_INT, MULTI_LINE
from core.minutes import ActionItem, Content
from server.api import session_for
from server.jsonresponse import json
from server.routes import CONDUCT, STAFF, Operation, body, caller, service
from server.routes import routes as routes_of
from server.schemas import Body, Email


def _due(value: str) -> str:
    rules.parse_due(value)
    return value


Due = Annotated[
    str, StringConstraints(max_length=10), AfterValidator(_due), Field(json_schema_extra={"format": "date"})
]
Version = Annotated[int, Field(ge=0, le=JSON_SAFE_INT)]
KeyPoint = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=rules.MAX_KEY_POINT, pattern=MULTI_LINE)
]


class ActionItemBody(Body):
    text: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=rules.MAX_ACTION_TEXT, pattern=MULTI_LINE),
    ]
    owner_email: Email | None = None
    due: Due | None = None


class MinutesBody(Body):
    """The minutes; `version`, when given, must be the current one (else 409 with the current minutes)."""

    summary: Annotated[str, StringConstraints(strip_whitespace=True, max_length=rules.MAX_SUMMARY, pattern=MULTI_LINE)]
    key_points: Annotated[list[KeyPoint], Field(max_length=rules.MAX_KEY_POINTS)] = []
    action_items: Annotated[list[ActionItemBody], Field(max_length=rules.MAX_ACTION_ITEMS)] = []
    version: Version | None = None


class NotesBody(Body):
    """The notes' whole text; `version`, when given, must be the current one (else 409 with the current text)."""

    text: Annotated[str, StringConstraints(max_length=rules.MAX_NOTES, pattern=MULTI_LINE)]
    version: Version | None = None


def _content(b: MinutesBody) -> Content:
    return Content(
        b.summary,
        tuple(b.key_points),
        tuple(ActionItem(a.text, a.owner_email, rules.parse_due(a.due) if a.due else None) for a in b.action_items),
    )


async def get_notes(request: Request) -> Response:
    state = await session_for(request)
    return json(await service(request).minutes.notes(state))


async def put_notes(request: Request) -> Response:
    state = await session_for(request)
    b = await body(request, NotesBody)
    return json(await service(request).minutes.save_notes(caller(request), state, b.text, b.version))


async def get_minutes(request: Request) -> Response:
    state = await session_for(request)
    return json(await service(request).minutes.minutes(state))


async def put_minutes(request: Request) -> Response:
    state = await session_for(request)
    b = await body(request, MinutesBody)
    return json(await service(request).minutes.save_minutes(caller(request), state, _content(b), b.version))


async def circulate_minutes(request: Request) -> Response:
    state = await session_for(request)
    return json(await service(request).minutes.circulate(caller(request), state))


MINUTES_API: list[Operation] = [
    Operation(
        "GET",
        "/api/sessions/{session_id}/notes",
        get_notes,
        STAFF,
        None,
        "The instructor's notes of the session: {text, version, saved_at} (version 0: none yet)",
    ),
    Operation(
        "PUT",
        "/api/sessions/{session_id}/notes",
        put_notes,
        CONDUCT,
        NotesBody,
        "Save the notes as typed (each change a new version); a `version` that is not the current one is 409 "
        "conflict carrying the current {text, version, saved_at}",
    ),
    Operation(
        "GET",
        "/api/sessions/{session_id}/minutes",
        get_minutes,
        STAFF,
        None,
        "The minutes: summary, key points, action items, version, updated_at, and the versions circulated",
    ),
    Operation(
        "PUT",
        "/api/sessions/{session_id}/minutes",
        put_minutes,
        CONDUCT,
        MinutesBody,
        "Write the minutes (a change is a new version; the same content again is not); a stale `version` is 409",
    ),
    Operation(
        "POST",
        "/api/sessions/{session_id}/minutes/circulate",
        circulate_minutes,
        CONDUCT,
        None,
        "Mail the current version to the roster and the instructor, once per version: {sent, version} "
        "(0 when it went already); empty minutes are 409",
    ),
]


def routes() -> list[Route]:
    return routes_of(MINUTES_API)

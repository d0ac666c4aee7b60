"""HTTP API routes: thin handlers over the same service the Socket.IO hub uses."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core.attendance import new_code_secret
from core.errors import NotFound
from core.model import SessionState
from core.sheet import csv_text
from persistence.identity import new_id
from server import schemas
from server.jsonresponse import json
from server.routes import ADMIN, CONDUCT, PUBLIC, STAFF, Operation, body, caller, path_id, service
from server.routes import routes as routes_of


async def session_for(request: Request) -> SessionState:
    """The session in the path, if the caller may act in it (an instructor: their own)."""
    return await service(request).access.session_of(caller(request), path_id(request, "session_id"))


# ---------------------------------------------------------------- tokens


async def create_token(request: Request) -> Response:
    b = await body(request, schemas.TokenCreate)
    token_id, token = await service(request).access.create_token(role=b.role, name=b.name, email=b.email)
    return json({"id": token_id, "token": token, "role": b.role, "name": b.name, "email": b.email}, 201)


async def revoke_token(request: Request) -> Response:
    token_id = path_id(request, "token_id")
    if not await service(request).access.revoke_token(token_id):
        raise NotFound("no such token")
    return json({"id": token_id, "revoked": True})


# ---------------------------------------------------------------- sessions


async def create_session(request: Request) -> Response:
    b = await body(request, schemas.SessionCreate)
    starts_at = schemas.utc(b.starts_at)
    state = SessionState(
        id=new_id(),
        topic=b.topic,
        instructor_email=b.instructor_email,
        starts_at=starts_at,
        duration_minutes=b.duration_minutes,
        late_after_minutes=b.late_after_minutes,
        capacity=b.capacity,
        platform=b.platform,
        join_url=b.join_url,
        agenda=b.agenda,
        checkin_secret=new_code_secret() if b.checkin_code else None,
    )
    await service(request).lifecycle.create(state)
    return json(state.public(), 201)


async def get_session(request: Request) -> Response:
    return json((await session_for(request)).public())


async def add_participants(request: Request) -> Response:
    state = await session_for(request)
    b = await body(request, schemas.ParticipantsAdd)
    s = service(request)
    members = await s.roster.add(state.id, [(p.name, p.email) for p in b.participants])
    return json({"participants": [s.access.participant_link(state.id, m) for m in members]})


async def close_session(request: Request) -> Response:
    state = await session_for(request)
    closed = await service(request).lifecycle.close(state.id)
    return json(closed.public())


async def attendance(request: Request) -> Response:
    state = await session_for(request)
    return json({"rows": await service(request).roster.sheet(state.id)})


async def attendance_csv(request: Request) -> Response:
    state = await session_for(request)
    text = csv_text(await service(request).roster.sheet(state.id))
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="attendance-{state.id}.csv"'},
    )


async def presence(request: Request) -> Response:
    state = await session_for(request)
    return json(await service(request).roster.timeline(state.id))


async def chat_log(request: Request) -> Response:
    state = await session_for(request)
    messages = await service(request).chat.log(state.id)
    return json({"messages": [m.view() for m in messages]})


async def list_platforms(request: Request) -> Response:
    return json({"platforms": [p.view() for p in service(request).settings.platforms]})


async def healthz(request: Request) -> Response:
    problems = await service(request).health()
    if problems:
        return JSONResponse({"status": "unavailable", "failing": problems}, 503)
    return JSONResponse({"status": "ok"})


# The HTTP API of the live hub: who may call each route is enforced from this table (server.routes), and
# the OpenAPI document is built from it.
API: list[Operation] = [
    Operation("GET", "/healthz", healthz, PUBLIC, None, "Health of the database (and Redis when configured)"),
    Operation(
        "POST",
        "/api/tokens",
        create_token,
        ADMIN,
        schemas.TokenCreate,
        "Create a staff API token",
        answer=("201", "The token, shown once: {id, token, role, name, email}"),
    ),
    Operation("DELETE", "/api/tokens/{token_id}", revoke_token, ADMIN, None, "Revoke a token; its sockets close"),
    Operation(
        "POST",
        "/api/sessions",
        create_session,
        ADMIN,
        schemas.SessionCreate,
        "Schedule a session",
        answer=("201", "The session, status scheduled"),
    ),
    Operation(
        "GET",
        "/api/platforms",
        list_platforms,
        STAFF,
        None,
        "The video platforms sessions run on, with capacity and features (built in, or COMPANION_PLATFORMS)",
    ),
    Operation("GET", "/api/sessions/{session_id}", get_session, STAFF, None, "A session"),
    Operation(
        "POST",
        "/api/sessions/{session_id}/participants",
        add_participants,
        ADMIN,
        schemas.ParticipantsAdd,
        "Add participants (by email, case-insensitive); answers their personal links",
    ),
    Operation(
        "POST",
        "/api/sessions/{session_id}/close",
        close_session,
        CONDUCT,
        None,
        "Close; answers once attendance and chat are durably saved",
    ),
    Operation("GET", "/api/sessions/{session_id}/attendance", attendance, STAFF, None, "The attendance sheet"),
    Operation(
        "GET",
        "/api/sessions/{session_id}/attendance.csv",
        attendance_csv,
        STAFF,
        None,
        "The attendance sheet as CSV",
    ),
    Operation(
        "GET",
        "/api/sessions/{session_id}/presence",
        presence,
        STAFF,
        None,
        "Presence over time: each participant's connected intervals, and how many were connected after each change",
    ),
    Operation("GET", "/api/sessions/{session_id}/chat", chat_log, STAFF, None, "The chat log in seq order"),
]


def routes() -> list[Route]:
    return routes_of(API)

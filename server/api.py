"""HTTP API routes: thin handlers over the same actions the Socket.IO hub uses."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core import payloads
from core.attendance import new_code_secret
from core.bounds import is_id
from core.errors import Forbidden, Invalid, NotFound, TooLarge, Unauthorized
from core.model import Actor, SessionState, utcnow
from core.sheet import csv_text
from persistence import identity, repo
from persistence.identity import new_id, participant_token
from realtime.hub import Hub
from server import schemas
from server.jsonresponse import json
from server.websession import WebSessions

M = TypeVar("M", bound=BaseModel)
MAX_BODY_BYTES = 1 << 20
ADMIN = frozenset({"admin"})
CONDUCT = frozenset({"admin", "instructor"})
STAFF = frozenset({"admin", "instructor", "support"})


def _hub(request: Request) -> Hub:
    hub: Hub = request.app.state.hub
    return hub


async def authenticate(request: Request, roles: frozenset[str]) -> Actor:
    """The caller by bearer token, or else by staff session cookie (CSRF-checked when it changes something)."""
    header = request.headers.get("authorization", "")
    if not header:
        sessions: WebSessions = request.app.state.staff_auth.sessions
        actor = (await sessions.for_request(request)).actor
        if actor.role not in roles:
            raise Forbidden(f"a {actor.role} may not do this")
        return actor
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("missing bearer token")
    hub = _hub(request)
    actor = await hub.actions.read(identity.resolve, token=token.strip(), key=hub.settings.secret_key)
    if actor.role not in roles:
        raise Forbidden(f"a {actor.role} may not do this")
    return actor


async def body(request: Request, model: type[M]) -> M:
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY_BYTES:
            raise TooLarge(f"the body is over {MAX_BODY_BYTES} bytes")
    if not raw.strip():
        raise Invalid("body: a JSON object is required")
    try:
        return model.model_validate_json(raw)
    except ValidationError as e:
        raise Invalid(payloads.describe(e)) from None


def path_id(request: Request, name: str) -> str:
    """An identifier from the path; one the server could never have made names nothing (and never
    reaches the database: PostgreSQL refuses a NUL in text)."""
    value: str = request.path_params[name]
    if not is_id(value):
        raise NotFound(f"no such {name.removesuffix('_id')}")
    return value


async def session_for(request: Request, actor: Actor) -> SessionState:
    """The session in the path, if this actor may act in it."""
    state = await _hub(request).actions.ensure_loaded(path_id(request, "session_id"))
    if not actor.may_act_in(state):
        raise Forbidden("you may not act in this session")
    return state


# ---------------------------------------------------------------- tokens


async def create_token(request: Request) -> Response:
    await authenticate(request, ADMIN)
    b = await body(request, schemas.TokenCreate)
    hub = _hub(request)
    now = utcnow()
    token_id, token = await hub.writer.submit(
        lambda db: identity.create_staff_token(db, role=b.role, name=b.name, email=b.email, now=now)
    )
    return json({"id": token_id, "token": token, "role": b.role, "name": b.name, "email": b.email}, 201)


async def revoke_token(request: Request) -> Response:
    await authenticate(request, ADMIN)
    hub = _hub(request)
    token_id = path_id(request, "token_id")
    found = await hub.writer.submit(lambda db: repo.revoke_token(db, token_id=token_id, now=utcnow()))
    if not found:
        raise NotFound("no such token")
    await hub.disconnect_token(token_id)
    return json({"id": token_id, "revoked": True})


# ---------------------------------------------------------------- sessions


async def create_session(request: Request) -> Response:
    await authenticate(request, ADMIN)
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
    await _hub(request).actions.create_session(state)
    return json(state.public(), 201)


async def get_session(request: Request) -> Response:
    actor = await authenticate(request, STAFF)
    return json((await session_for(request, actor)).public())


async def add_participants(request: Request) -> Response:
    actor = await authenticate(request, ADMIN)
    state = await session_for(request, actor)
    b = await body(request, schemas.ParticipantsAdd)
    hub = _hub(request)
    members = await hub.actions.add_participants(state.id, [(p.name, p.email) for p in b.participants])
    base = hub.settings.public_url
    out = []
    for m in members:
        token = participant_token(hub.settings.secret_key, state.id, m.id)
        out.append(
            {
                "id": m.id,
                "name": m.name,
                "email": m.email,
                "join_url": f"{base}/join/{state.id}#token={token}",
                "token": token,
            }
        )
    return json({"participants": out})


async def close_session(request: Request) -> Response:
    actor = await authenticate(request, CONDUCT)
    state = await session_for(request, actor)
    closed = await _hub(request).actions.close(state.id)
    return json(closed.public())


async def attendance(request: Request) -> Response:
    actor = await authenticate(request, STAFF)
    state = await session_for(request, actor)
    return json({"rows": await _hub(request).actions.attendance_sheet(state.id)})


async def attendance_csv(request: Request) -> Response:
    actor = await authenticate(request, STAFF)
    state = await session_for(request, actor)
    text = csv_text(await _hub(request).actions.attendance_sheet(state.id))
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="attendance-{state.id}.csv"'},
    )


async def chat_log(request: Request) -> Response:
    actor = await authenticate(request, STAFF)
    state = await session_for(request, actor)
    hub = _hub(request)
    await hub.writer.barrier()
    messages = await hub.actions.chat_history(state.id, 0, None)
    return json({"messages": [m.view() for m in messages]})


async def healthz(request: Request) -> Response:
    problems = await _hub(request).health()
    if problems:
        return JSONResponse({"status": "unavailable", "failing": problems}, 503)
    return JSONResponse({"status": "ok"})


Endpoint = Callable[[Request], Awaitable[Response]]

# (path, method, endpoint, who may, request body model, summary): the OpenAPI document is built from this.
API: list[tuple[str, str, Endpoint, frozenset[str] | None, type[BaseModel] | None, str]] = [
    ("/healthz", "GET", healthz, None, None, "Health of the database (and Redis when configured)"),
    ("/api/tokens", "POST", create_token, ADMIN, schemas.TokenCreate, "Create a staff API token"),
    ("/api/tokens/{token_id}", "DELETE", revoke_token, ADMIN, None, "Revoke a token; its sockets close"),
    ("/api/sessions", "POST", create_session, ADMIN, schemas.SessionCreate, "Schedule a session"),
    ("/api/sessions/{session_id}", "GET", get_session, STAFF, None, "A session"),
    (
        "/api/sessions/{session_id}/participants",
        "POST",
        add_participants,
        ADMIN,
        schemas.ParticipantsAdd,
        "Add participants (by email, case-insensitive); answers their personal links",
    ),
    (
        "/api/sessions/{session_id}/close",
        "POST",
        close_session,
        CONDUCT,
        None,
        "Close; answers once attendance and chat are durably saved",
    ),
    ("/api/sessions/{session_id}/attendance", "GET", attendance, STAFF, None, "The attendance sheet"),
    (
        "/api/sessions/{session_id}/attendance.csv",
        "GET",
        attendance_csv,
        STAFF,
        None,
        "The attendance sheet as CSV",
    ),
    ("/api/sessions/{session_id}/chat", "GET", chat_log, STAFF, None, "The chat log in seq order"),
]


def routes() -> list[Route]:
    return [Route(path, endpoint, methods=[method]) for path, method, endpoint, *_ in API]

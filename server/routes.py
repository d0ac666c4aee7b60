"""The HTTP side's route tables: each operation names who may call it, and that column is what is enforced.

`routes()` wraps every operation in one guard that authenticates the caller (bearer token, else the
staff session cookie, CSRF-checked when it changes something) against the operation's roles before
the handler runs; a handler reads who called with `caller(request)`. The OpenAPI document is built
from the same tables (server/openapi.py), so what it says of "who may" is what the server does.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from core import payloads
from core.bounds import is_id
from core.errors import Forbidden, Invalid, NotFound, TooLarge, Unauthorized
from core.model import Actor, article
from server.websession import WebSession, WebSessions
from service.service import Service

M = TypeVar("M", bound=BaseModel)
Endpoint = Callable[[Request], Awaitable[Response]]
MAX_BODY_BYTES = 1 << 20
PUBLIC = None
ADMIN = frozenset({"admin"})
CONDUCT = frozenset({"admin", "instructor"})
STAFF = frozenset({"admin", "instructor", "support"})
IN_SESSION = STAFF | {"participant"}  # staff, and the session's own participants (session_of checks whose)


@dataclass(frozen=True, slots=True)
class Operation:
    """One HTTP route: who may call it (None: anyone), its body, what it answers."""

    method: str
    path: str
    handler: Endpoint
    roles: frozenset[str] | None
    body: type[BaseModel] | None
    summary: str
    answer: tuple[str, str] = ("200", "Success")  # the status and description of success
    rate_limited: bool = False  # spends a sign-in attempt: may answer 429
    query: type[BaseModel] | None = None  # its query parameters, documented and read (server.routes.query)
    media: str = "application/json"  # the body's media type when it is not JSON (a CSV upload)


def routes(table: Sequence[Operation]) -> list[Route]:
    """Starlette routes that authenticate against each operation's roles before its handler runs."""
    return [Route(op.path, _guarded(op), methods=[op.method], name=op.handler.__name__) for op in table]


def _guarded(op: Operation) -> Endpoint:
    if op.roles is None:
        return op.handler
    roles = op.roles

    async def endpoint(request: Request) -> Response:
        request.state.actor = await authenticate(request, roles)
        return await op.handler(request)

    endpoint.__name__ = op.handler.__name__
    return endpoint


def caller(request: Request) -> Actor:
    """Who called: set by the guard from the operation's role column (an operation with roles only)."""
    actor: Actor = request.state.actor
    return actor


def caller_session(request: Request) -> WebSession | None:
    """The staff web session the guard signed the caller in with; None for a bearer token."""
    session: WebSession | None = getattr(request.state, "web_session", None)
    return session


def service(request: Request) -> Service:
    s: Service = request.app.state.service
    return s


async def authenticate(request: Request, roles: frozenset[str]) -> Actor:
    """The caller by bearer token, or else by staff session cookie (CSRF-checked when it changes something)."""
    header = request.headers.get("authorization", "")
    if not header:
        sessions: WebSessions = request.app.state.staff_auth.sessions
        web_session = await sessions.for_request(request)
        request.state.web_session = web_session  # a handler that shows the session reads it here
        actor = web_session.actor
    else:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("missing bearer token")
        actor = await service(request).access.bearer(token.strip())
    if actor.role not in roles:
        raise Forbidden(f"{article(actor.role)} may not do this")
    return actor


async def body(request: Request, model: type[M]) -> M:
    raw = await raw_body(request, MAX_BODY_BYTES)
    if not raw.strip():
        raise Invalid("body: a JSON object is required")
    try:
        return model.model_validate_json(raw)
    except ValidationError as e:
        raise Invalid(payloads.describe(e)) from None


def query(request: Request, model: type[M]) -> M:
    """The query parameters as `model` reads them; Invalid naming the bad one."""
    try:
        return model.model_validate(dict(request.query_params))
    except ValidationError as e:
        raise Invalid(payloads.describe(e)) from None


async def raw_body(request: Request, limit: int) -> bytes:
    """The body's bytes, refused past `limit` as it streams in (a header's word is not taken for it)."""
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > limit:
            raise TooLarge(f"the body is over {limit:,} bytes")
    return bytes(raw)


def path_id(request: Request, name: str) -> str:
    """An identifier from the path; one the server could never have made names nothing (and never
    reaches the database: PostgreSQL refuses a NUL in text)."""
    value: str = request.path_params[name]
    if not is_id(value):
        raise NotFound(f"no such {name.removesuffix('_id')}")
    return value

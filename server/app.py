"""The ASGI application: Starlette for HTTP, python-socketio for the live hub, one lifespan."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import socketio
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.clock import Clock
from core.errors import AppError, Unavailable
from core.settings import Settings
from persistence.db import create_engine, migrate, sessionmaker
from persistence.live import create_live_store
from realtime.hub import Hub
from server import api, logs, openapi, pages, staff
from server.jsonresponse import json
from server.observe import RequestLog
from service.service import Service

log = logging.getLogger("companion")

# No inline script anywhere: the pages load their modules from /static.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' ws: wss:; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors {frame_ancestors}"
)


def security_headers(settings: Settings) -> list[tuple[bytes, bytes]]:
    """The headers on every HTTP answer; frame-ancestors comes from COMPANION_FRAME_ANCESTORS (an LMS may embed us)."""
    headers = [
        (b"content-security-policy", CSP.format(frame_ancestors=settings.frame_ancestors).encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    ]
    if settings.public_url.startswith("https://"):
        headers.append((b"strict-transport-security", b"max-age=31536000"))
    return headers


class SecurityHeaders:
    """Adds the security headers to every HTTP answer (a plain ASGI middleware: no per-request task)."""

    def __init__(self, app: ASGIApp, headers: list[tuple[bytes, bytes]]) -> None:
        self.app = app
        self.headers = headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                # A page that sets one of these itself (the setup check's Permissions-Policy) keeps its own.
                own = {name.lower() for name, _ in headers}
                message["headers"] = headers + [h for h in self.headers if h[0] not in own]
            await send(message)

        await self.app(scope, receive, with_headers)


async def app_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    return json(exc.body(), exc.status)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = {400: "invalid", 401: "unauthorized", 403: "forbidden", 404: "not_found", 413: "too_large"}.get(
        exc.status_code, "invalid" if exc.status_code < 500 else "unavailable"
    )
    return json({"error": {"code": code, "message": str(exc.detail)}}, exc.status_code)


async def unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return json(Unavailable("internal error; try again").body(), 503)


def create_app(settings: Settings, clock: Clock | None = None) -> Any:
    """The whole server for these settings; resources open and close in the lifespan.

    `clock`: where the live session reads the time (the wall clock unless a test hands in its own).
    """
    engine = create_engine(settings.database_url)
    service = Service(settings, sessionmaker(engine), create_live_store(settings.redis_url), clock)
    staff_auth = staff.StaffAuth(settings, service)
    # Both adapters get the one service; the hub also takes the staff web session from a handshake's cookie.
    hub = Hub(settings, service, cookie_actor=staff_auth.sessions.actor_for_handshake)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await migrate(engine)
        await service.start()
        await hub.start()
        try:
            yield
        finally:
            # Stop ticking and end this process's sockets on record, then close them, then send
            # what is due and close the fan-out last (the final events go out through it).
            await service.quiesce()
            await hub.stop()
            await service.stop()
            await hub.close()
            await engine.dispose()

    async def openapi_json(request: Request) -> Response:
        return json(openapi.document())

    app = Starlette(
        routes=[*api.routes(), *staff.routes(), Route("/api/openapi.json", openapi_json), *pages.routes()],
        exception_handlers={AppError: app_error, HTTPException: http_error, Exception: unexpected},
        lifespan=lifespan,
    )
    app.state.service = service  # what the routes use
    app.state.hub = hub  # the tests look at its sockets; no route reaches it
    app.state.settings = settings
    app.state.staff_auth = staff_auth
    # Every HTTP answer is logged and counted (server/observe.py), headers and all.
    http = SecurityHeaders(RequestLog(app, app.routes), security_headers(settings))
    return socketio.ASGIApp(hub.sio, other_asgi_app=http, socketio_path="socket.io")


def app_from_env() -> Any:
    """The app of one worker process of `companion serve --workers N` (the command checked the settings)."""
    logs.configure(logs.parse_format(os.environ.get("COMPANION_LOG_FORMAT")))
    return create_app(Settings.from_env())

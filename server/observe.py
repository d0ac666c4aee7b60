"""Seeing the server run: one log line and the metrics of every HTTP request, and `GET /metrics`.

A request is named by its route's path template (`/api/sessions/{session_id}/chat`), never by its path:
paths carry personal link tokens (`/rsvp/{token}`, `/files/{token}`), which must not reach a log or a
metric label, and templates keep the metrics' labels bounded.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Iterable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core import tokens
from core.errors import Unauthorized
from server.routes import service
from service import metrics

log = logging.getLogger("companion.http")


def templates(routes: Iterable[BaseRoute]) -> tuple[dict[Any, str], list[str]]:
    """Each endpoint's path template, and the mounts' paths (static files)."""
    by_endpoint: dict[Any, str] = {}
    mounts: list[str] = []
    for route in routes:
        if isinstance(route, Route):
            by_endpoint.setdefault(route.endpoint, route.path)
        elif isinstance(route, Mount):
            mounts.append(route.path)
    return by_endpoint, mounts


class RequestLog:
    """A plain ASGI middleware: after each HTTP answer, one INFO line and the request metrics."""

    def __init__(self, app: ASGIApp, routes: Iterable[BaseRoute]) -> None:
        self.app = app
        self._by_endpoint, self._mounts = templates(routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # an app that raises without answering: what the server sends

        async def noting(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, noting)
        finally:
            self._done(scope, status, time.perf_counter() - started)

    def _route(self, scope: Scope) -> str:
        template = self._by_endpoint.get(scope.get("endpoint"))
        if template is not None:
            return template
        path = str(scope.get("path", ""))
        for mount in self._mounts:
            if path.startswith(mount + "/"):
                return mount
        return "unmatched"

    def _done(self, scope: Scope, status: int, seconds: float) -> None:
        method, route = str(scope.get("method", "")), self._route(scope)
        metrics.HTTP_REQUESTS.labels(method, route, str(status)).inc()
        metrics.HTTP_SECONDS.labels(method, route).observe(seconds)
        client = scope.get("client")
        fields: dict[str, Any] = {
            "method": method,
            "route": route,
            "status": status,
            "ms": round(seconds * 1000, 1),
            "session_id": (scope.get("path_params") or {}).get("session_id"),
            "connection_id": f"{client[0]}:{client[1]}" if client else None,
            "request_id": secrets.token_hex(6),
        }
        log.info("%s %s %d %.1fms", method, route, status, seconds * 1000, extra={"fields": fields})


async def metrics_text(request: Request) -> Response:
    """`GET /metrics`: the Prometheus text format; with COMPANION_METRICS_TOKEN set, only for that bearer."""
    expected = request.app.state.settings.metrics_token
    if expected is not None:
        presented = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not tokens.same(presented, expected):
            raise Unauthorized("this server's metrics need its COMPANION_METRICS_TOKEN as a bearer token")
    due, late = await service(request).jobs.backlog()
    metrics.JOBS_DUE.set(due)
    metrics.JOBS_LATE.set(late)
    body, content_type = metrics.render()
    return Response(body, media_type=content_type, headers={"Cache-Control": "no-store"})

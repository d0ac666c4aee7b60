"""A stand-in for an external HTTP API: a real Starlette app served by uvicorn on a free port.

It records every request it receives (method, path, query, headers, body) for tests to check field
by field, and can be told to fail the next requests that match: answer a status with the
platform's own error body, or hang past the client's timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Self
from urllib.parse import parse_qsl

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.support import free_port

Handler = Callable[[Request, "Recorded"], Awaitable[Response]]

# A hanging answer waits at most this long (or until the fake stops): far past any client timeout.
HANG_S = 30.0


@dataclass(frozen=True)
class Recorded:
    """One request as the fake received it."""

    method: str
    path: str  # percent-decoded, as routed
    raw_path: str  # as sent, percent-encoding and all
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: Any  # the JSON document, the form as a dict, or None when empty

    @property
    def line(self) -> str:
        return f"{self.method} {self.path}"


@dataclass
class Failure:
    """Let `after` requests whose "METHOD /path" starts with `match` through, then answer `times` of them so."""

    match: str
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    times: int = 1
    hang: bool = False
    after: int = 0


class FakeApi:
    """The recording, failing and serving that every fake shares; subclasses add the routes."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.url = ""
        self._failures: list[Failure] = []
        self._release = asyncio.Event()
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    def routes(self) -> list[Route]:
        raise NotImplementedError

    def error_body(self, status: int) -> Any:
        """The platform's own error body for a status it is told to answer."""
        raise NotImplementedError

    def route(self, path: str, handler: Handler, method: str) -> Route:
        """A route whose requests are recorded, and failed when a failure matches, before `handler` runs."""

        async def endpoint(request: Request) -> Response:
            recorded = await _record(request)
            self.requests.append(recorded)
            failure = self._take(recorded)
            if failure is None:
                return await handler(request, recorded)
            if failure.hang:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._release.wait(), HANG_S)
            if isinstance(failure.body, bytes):  # not JSON at all
                return Response(failure.body, failure.status, headers=failure.headers, media_type="text/html")
            return JSONResponse(failure.body, failure.status, headers=failure.headers)

        return Route(path, endpoint, methods=[method])

    def fail(
        self,
        status: int = 500,
        *,
        match: str = "",
        times: int = 1,
        body: Any = None,
        headers: dict[str, str] | None = None,
        hang: bool = False,
        after: int = 0,
    ) -> None:
        """Fail `times` requests matching `match` ("POST /v2/users"; "" is every one) after letting `after` through."""
        body = self.error_body(status) if body is None else body
        self._failures.append(Failure(match, status, body, headers or {}, times, hang, after))

    def of(self, line: str) -> list[Recorded]:
        """The recorded requests whose "METHOD /path" starts with `line`, in order."""
        return [r for r in self.requests if r.line.startswith(line)]

    def _take(self, recorded: Recorded) -> Failure | None:
        for failure in self._failures:
            if recorded.line.startswith(failure.match):
                if failure.after > 0:
                    failure.after -= 1
                    return None
                failure.times -= 1
                if failure.times == 0:
                    self._failures.remove(failure)
                return failure
        return None

    async def start(self) -> None:
        port = free_port()
        app = Starlette(routes=self.routes())
        config = uvicorn.Config(
            app, host="127.0.0.1", port=port, lifespan="off", log_level="warning", timeout_graceful_shutdown=2
        )
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve())
        for _ in range(200):
            if self._server.started:
                break
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.02)
        assert self._server.started, "the fake did not start in 4 s"
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        self._release.set()  # a hanging answer ends now
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Self]:
        await self.start()
        try:
            yield self
        finally:
            await self.stop()


async def _record(request: Request) -> Recorded:
    raw = await request.body()
    body: Any = None
    kind = request.headers.get("content-type", "")
    if raw and kind.startswith("application/json"):
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw.decode("utf-8", "replace")
    elif raw and kind.startswith("application/x-www-form-urlencoded"):
        body = dict(parse_qsl(raw.decode(), keep_blank_values=True))
    elif raw:
        body = raw.decode("utf-8", "replace")
    return Recorded(
        method=request.method,
        path=request.scope["path"],
        raw_path=request.scope.get("raw_path", b"").decode("latin-1"),
        query=dict(request.query_params),
        headers={k.lower(): v for k, v in request.headers.items()},
        body=body,
    )


def bearer(request: Request) -> str | None:
    """The token of an `Authorization: Bearer ...` header, or None."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token if scheme.lower() == "bearer" and token else None

"""The participants' setup check: its page, and the small routes it measures the network with and reads
the platform's guide from (docs/setup-check.md)."""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Annotated

from pydantic import Field
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from core import setupguide
from core.platforms import Platform
from server.jsonresponse import json
from server.routes import IN_SESSION, PUBLIC, Operation, caller, path_id, query, service
from server.routes import routes as routes_of
from server.schemas import Query

PAGE = Path(__file__).resolve().parent.parent / "static" / "setup.html"
# Enough for a fair figure on a fast line in under a second, small enough that a phone on a metered plan
# hardly notices; a check needs no more, so asking for more is a mistake worth saying (400), not a cap.
MAX_DOWNLOAD_BYTES = 2_000_000
DEFAULT_DOWNLOAD_BYTES = 500_000
NO_STORE = {"cache-control": "no-store"}
# Every other answer forbids the camera and microphone (server.app's Permissions-Policy); the setup
# page is the one that asks for them, for itself only.
SETUP_PAGE_HEADERS = {
    "cache-control": "no-cache",
    "permissions-policy": "camera=(self), microphone=(self), geolocation=()",
}


class DownloadQuery(Query):
    bytes_: Annotated[int, Field(alias="bytes", ge=1, le=MAX_DOWNLOAD_BYTES)] = DEFAULT_DOWNLOAD_BYTES


# Each byte's top bit cleared: the noise is then also valid ASCII, so a tool that reads every answer as
# text (a proxy's log, a fuzzer) does not trip over it, at the cost of 1 bit in 8 of randomness.
_SEVEN_BITS = bytes(i & 0x7F for i in range(256))


@functools.cache
def _noise() -> bytes:
    """Random bytes, made once: nothing on the way (a proxy's gzip) can shrink them much and flatter the figure."""
    return os.urandom(MAX_DOWNLOAD_BYTES).translate(_SEVEN_BITS)


async def setup_page(request: Request) -> Response:
    return FileResponse(PAGE, headers=SETUP_PAGE_HEADERS)


async def setup_ping(request: Request) -> Response:
    return Response(status_code=204, headers=NO_STORE)


async def setup_download(request: Request) -> Response:
    n = query(request, DownloadQuery).bytes_
    return Response(_noise()[:n], media_type="application/octet-stream", headers=NO_STORE)


async def setup_guide(request: Request) -> Response:
    state = await service(request).access.session_of(caller(request), path_id(request, "session_id"))
    platform = None
    if state.platform is not None:
        catalogue = {p.id: p for p in service(request).settings.platforms}
        # A platform a replaced catalogue no longer lists is still the session's: named by its id.
        platform = catalogue.get(state.platform) or Platform(state.platform, state.platform, None, ())
    return json({"session_id": state.id, **setupguide.view(platform)})


SETUP_API: list[Operation] = [
    Operation(
        "GET",
        "/api/setup/ping",
        setup_ping,
        PUBLIC,
        None,
        "An empty answer, never cached: the setup check times round trips with it",
        answer=("204", "Nothing, at once"),
    ),
    Operation(
        "GET",
        "/api/setup/download",
        setup_download,
        IN_SESSION,
        None,
        f"`bytes` (1 to {MAX_DOWNLOAD_BYTES:,}, default {DEFAULT_DOWNLOAD_BYTES:,}) random bytes, never cached: "
        "the setup check times a download with it",
        query=DownloadQuery,
    ),
    Operation(
        "GET",
        "/api/sessions/{session_id}/setup",
        setup_guide,
        IN_SESSION,
        None,
        "The session's video platform for the setup check: the browsers it supports, joining by phone, "
        "and what to try when something does not work",
    ),
]


def routes() -> list[Route]:
    """The setup check's page and API routes."""
    return [Route("/setup/{session_id}", setup_page, methods=["GET"]), *routes_of(SETUP_API)]

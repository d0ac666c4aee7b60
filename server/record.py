"""The session record: the zip made at close, in versions, and its audited download."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from server.api import session_for
from server.jsonresponse import json
from server.routes import CONDUCT, Operation, caller, query, service
from server.routes import routes as routes_of
from server.schemas import Query


class RecordQuery(Query):
    version: Annotated[int, Field(ge=1, le=1_000_000)] | None = None


async def record_versions(request: Request) -> Response:
    state = await session_for(request)
    kept = await service(request).session_record.versions(state)
    return json({"session_id": state.id, "versions": [v.public() for v in kept]})


async def record_zip(request: Request) -> Response:
    state = await session_for(request)
    number = query(request, RecordQuery).version
    version, chunks = await service(request).session_record.download(caller(request), state, number)
    return StreamingResponse(
        chunks,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="record-{state.id}-v{version.version}.zip"',
            "Content-Length": str(version.size),
            "Cache-Control": "private, no-store",
            "X-Record-Version": str(version.version),
            "X-Record-SHA256": version.sha256,
        },
    )


RECORD_API: list[Operation] = [
    Operation(
        "GET",
        "/api/sessions/{session_id}/record",
        record_versions,
        CONDUCT,
        None,
        "The session record's versions, the first first: each with when it was built, its size, its SHA-256 "
        "and the files it holds",
    ),
    Operation(
        "GET",
        "/api/sessions/{session_id}/record.zip",
        record_zip,
        CONDUCT,
        None,
        "The session record as one zip (the latest version, or ?version=); 409 before it is made at close; "
        "every download is audited (download)",
        query=RecordQuery,
    ),
]


def routes() -> list[Route]:
    return routes_of(RECORD_API)

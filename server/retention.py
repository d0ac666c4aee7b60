"""Records over time: a session's legal hold (docs/protocol.md section 8)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server import schemas
from server.api import session_for
from server.jsonresponse import json
from server.routes import ADMIN, Operation, body, caller, service
from server.routes import routes as routes_of


class LegalHold(schemas.Body):
    hold: bool
    reason: schemas.Reason


async def legal_hold(request: Request) -> Response:
    state = await session_for(request)
    b = await body(request, LegalHold)
    return json(await service(request).retention.hold(caller(request), state, hold=b.hold, reason=b.reason))


RETENTION_API: list[Operation] = [
    Operation(
        "POST",
        "/api/sessions/{session_id}/legal-hold",
        legal_hold,
        ADMIN,
        LegalHold,
        "Put a session on legal hold (never purged) or take it off, with the reason; audited (hold)",
    ),
]


def routes() -> list[Route]:
    return routes_of(RETENTION_API)

"""A person's data (GDPR articles 15, 17, 20): export and erasure by email, for administrators; the /people page."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from core.errors import Invalid
from server import schemas
from server.jsonresponse import json
from server.routes import ADMIN, Operation, body, caller, service
from server.routes import routes as routes_of

STATIC = Path(__file__).resolve().parent.parent / "static"


class Erase(schemas.Body):
    reason: schemas.Reason | None = None
    # An extension of the contract: with dry_run the answer says what would be erased and nothing changes.
    dry_run: bool = False


async def export_person(request: Request) -> Response:
    data = await service(request).people.export(caller(request), request.path_params["email"])
    return json(data)


async def erase_person(request: Request) -> Response:
    b = await body(request, Erase)
    if b.reason is None and not b.dry_run:
        raise Invalid("reason: an erasure needs a reason (it is kept in the audit log)")
    done = await service(request).people.erase(
        caller(request), request.path_params["email"], reason=b.reason or "", dry_run=b.dry_run
    )
    return json(done)


async def people_page(request: Request) -> Response:
    return FileResponse(STATIC / "people.html", headers={"cache-control": "no-cache"})


PEOPLE_API: list[Operation] = [
    Operation(
        "GET",
        "/api/people/{email}/export",
        export_person,
        ADMIN,
        None,
        "Everything kept about a person (by email, case-insensitive), as JSON; audited (export)",
    ),
    Operation(
        "POST",
        "/api/people/{email}/erase",
        erase_person,
        ADMIN,
        Erase,
        "Erase a person: name and email pseudonymised everywhere, their chat, help and feedback texts removed, "
        "aggregates kept, every record version redacted; audited (erase). dry_run: the counts, nothing changed",
    ),
]


def routes() -> list[Route]:
    # Who may use the page is the API's business: the page asks /api/me and says so.
    return [Route("/people", people_page, methods=["GET"]), *routes_of(PEOPLE_API)]

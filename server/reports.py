"""Reviews across sessions: a series' and an instructor's report, each table as CSV, and the /reports page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from core import reports as rules
from core.errors import Invalid, NotFound
from server import schemas
from server.jsonresponse import json
from server.routes import STAFF, Operation, caller, path_id, query, service
from server.routes import routes as routes_of
from service.reports import table_param

PAGE = Path(__file__).resolve().parent.parent / "static" / "reports.html"


class ReportQuery(schemas.Query):
    from_: schemas.Rfc3339 | None = Field(default=None, alias="from")
    to: schemas.Rfc3339 | None = None


def _range(request: Request) -> dict[str, Any]:
    q = query(request, ReportQuery)
    start = schemas.utc(q.from_) if q.from_ else None
    end = schemas.utc(q.to) if q.to else None
    if start and end and end <= start:
        raise Invalid("to: must be after from")
    return {"start": start, "end": end}


def _email(request: Request) -> str:
    value: str = request.path_params["email"]
    if not 3 <= len(value) <= 320 or "@" not in value or any(c.isspace() or ord(c) < 32 for c in value):
        raise NotFound("no such instructor")
    return value


async def _series(request: Request) -> dict[str, Any]:
    series_id = path_id(request, "series_id")
    return await service(request).reports.series(caller(request), series_id, **_range(request))


async def _instructor(request: Request) -> dict[str, Any]:
    return await service(request).reports.instructor(caller(request), _email(request), **_range(request))


def _csv(report: dict[str, Any], table: str) -> Response:
    return Response(
        rules.csv_text(report, table),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{rules.csv_name(report["scope"], table)}"'},
    )


async def listing(request: Request) -> Response:
    return json(await service(request).reports.listing(caller(request)))


async def series_report(request: Request) -> Response:
    return json(await _series(request))


async def series_csv(request: Request) -> Response:
    table = table_param(request.path_params["table"])
    report = await _series(request)
    await service(request).records.downloaded(
        caller(request), target=f"report:series:{report['scope']['series_id']}", session_id=None,
        detail={"table": table},
    )  # fmt: skip
    return _csv(report, table)


async def instructor_report(request: Request) -> Response:
    return json(await _instructor(request))


async def instructor_csv(request: Request) -> Response:
    table = table_param(request.path_params["table"])
    report = await _instructor(request)
    await service(request).records.downloaded(
        caller(request), target="report:instructor", session_id=None, detail={"table": table},
        email=report["scope"]["instructor_email"],
    )  # fmt: skip
    return _csv(report, table)


async def reports_page(request: Request) -> Response:
    return FileResponse(PAGE, headers={"cache-control": "no-cache"})


_TABLES = ", ".join(rules.TABLES)

REPORTS_API: list[Operation] = [
    Operation(
        "GET",
        "/api/reports",
        listing,
        STAFF,
        None,
        "The series and instructors the caller may read reports of (an instructor: their own)",
    ),
    Operation(
        "GET",
        "/api/reports/series/{series_id}",
        series_report,
        STAFF,
        None,
        "A series' report: its sessions, attendance per participant (low-attendance flagged), punctuality, "
        "help-queue waits and feedback means per session; ?from=&to= (RFC 3339) bound the sessions' starts; "
        "an instructor: their own series only",
        query=ReportQuery,
    ),
    Operation(
        "GET",
        "/api/reports/series/{series_id}/{table}.csv",
        series_csv,
        STAFF,
        None,
        f"One table of a series' report as CSV ({_TABLES})",
        query=ReportQuery,
    ),
    Operation(
        "GET",
        "/api/reports/instructors/{email}",
        instructor_report,
        STAFF,
        None,
        "An instructor's report across all their sessions, as the series' report; an instructor: their own only",
        query=ReportQuery,
    ),
    Operation(
        "GET",
        "/api/reports/instructors/{email}/{table}.csv",
        instructor_csv,
        STAFF,
        None,
        f"One table of an instructor's report as CSV ({_TABLES})",
        query=ReportQuery,
    ),
]


def routes() -> list[Route]:
    """The reports page (staff: it asks /api/me and /api/reports) and the reports API."""
    return [Route("/reports", reports_page, methods=["GET"]), *routes_of(REPORTS_API)]

"""The pages: the companion tab, the instructor dashboard, the support console and the admins' schedule."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from server import feedback, minutes, people, platform_attendance, record, reports, retention, setup

STATIC = Path(__file__).resolve().parent.parent / "static"


def _page(name: str):  # type: ignore[no-untyped-def]
    async def endpoint(request: Request) -> Response:
        return FileResponse(STATIC / name, headers={"cache-control": "no-cache"})

    return endpoint


async def index(request: Request) -> Response:
    return RedirectResponse("/static/index.html") if (STATIC / "index.html").exists() else Response("Companion\n")


def routes() -> list[Route | Mount]:
    return [
        Route("/", index),
        Route("/join/{session_id}", _page("companion.html")),
        Route("/dashboard/{session_id}", _page("dashboard.html")),
        Route("/support/{session_id}", _page("support.html")),
        # Who may use it is the API's business: the page asks /api/me and says so (or sends to sign-in).
        Route("/schedule", _page("schedule.html")),
        Route("/rsvp/{token}", _page("rsvp.html"), methods=["GET"]),
        *setup.routes(),  # the participants' setup check: its page and its API routes
        *minutes.routes(),  # after the class: notes and minutes
        *feedback.routes(),  # after the class: feedback forms, their personal links and results
        *record.routes(),  # after the class: the session record
        *retention.routes(),  # records over time: legal holds
        *platform_attendance.routes(),  # the platform's attendance: Zoom's webhook, the reports
        *people.routes(),  # records over time: a person's export and erasure, and the /people page
        *reports.routes(),  # records over time: reviews across sessions (the /reports page and its API)
        Mount("/static", StaticFiles(directory=STATIC, check_dir=False), name="static"),
    ]

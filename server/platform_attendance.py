"""The platform's attendance over HTTP (docs/platform-attendance.md): Zoom's webhook and the reports staff import.

The webhook is public in the route table (Zoom signs it, and the signature is over the raw body,
so the handler reads the bytes itself before anything parses them). A report comes as the raw
body or as a multipart `file` part, up to 20 MB, refused past that as it streams in.
"""

from __future__ import annotations

from typing import Annotated

import python_multipart
from pydantic import AfterValidator, Field, StringConstraints
from python_multipart.multipart import parse_options_header
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from core.bounds import JSON_SAFE_INT, is_id
from core.errors import Invalid, NotFound, TooLarge
from core.platform_attendance import MAX_REPORT_BYTES
from server.api import session_for
from server.jsonresponse import json
from server.routes import CONDUCT, PUBLIC, STAFF, Operation, body, caller, raw_body, service
from server.routes import routes as routes_of
from server.schemas import Body

ENVELOPE = 64 * 1024  # a multipart body's boundaries and part headers around the file
MAX_WEBHOOK_BYTES = 1 << 20


def _id(value: str) -> str:
    if not is_id(value):
        raise ValueError("not an identifier")
    return value


Id = Annotated[str, StringConstraints(min_length=1, max_length=40), AfterValidator(_id)]


class MatchBody(Body):
    """Which roster participant a report's row is; participant_id null: none of them."""

    import_id: Id
    row: Annotated[int, Field(ge=1, le=JSON_SAFE_INT)]
    participant_id: Id | None


async def zoom_webhook(request: Request) -> Response:
    s = service(request)
    if s.platform_attendance.webhook_secret is None:
        raise NotFound("not found")  # before reading a byte: no secret, no webhook
    raw = await raw_body(request, MAX_WEBHOOK_BYTES)
    answer = await s.platform_attendance.webhook(
        raw, request.headers.get("x-zm-request-timestamp"), request.headers.get("x-zm-signature")
    )
    return json(answer)


def _file_part(raw: bytes, content_type: str) -> bytes:
    """The `file` part of a multipart/form-data body."""
    _, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if not boundary:
        raise Invalid("body: multipart/form-data without a boundary")
    parts: list[tuple[bytes, bytearray]] = []
    header_field = bytearray()
    header_value = bytearray()
    disposition = b""

    def on_part_begin() -> None:
        nonlocal disposition
        disposition = b""
        parts.append((b"", bytearray()))

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header_field.extend(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header_value.extend(data[start:end])

    def on_header_end() -> None:
        nonlocal disposition
        if bytes(header_field).lower() == b"content-disposition":
            disposition = bytes(header_value)
        header_field.clear()
        header_value.clear()

    def on_headers_finished() -> None:
        _, opts = parse_options_header(disposition)
        parts[-1] = (opts.get(b"name", b""), parts[-1][1])

    def on_part_data(data: bytes, start: int, end: int) -> None:
        parts[-1][1].extend(data[start:end])

    parser = python_multipart.MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
        },
    )
    try:
        parser.write(raw)
        parser.finalize()
    except python_multipart.exceptions.MultipartParseError:
        raise Invalid("body: malformed multipart/form-data") from None
    files = [bytes(data) for name, data in parts if name == b"file"]
    if len(files) != 1:
        raise Invalid("body: one `file` part is required")
    return files[0]


async def import_report(request: Request) -> Response:
    state = await session_for(request)
    content_type = request.headers.get("content-type", "")
    multipart = content_type.startswith("multipart/")
    raw = await raw_body(request, MAX_REPORT_BYTES + (ENVELOPE if multipart else 0))
    report = _file_part(raw, content_type) if multipart else raw
    if len(report) > MAX_REPORT_BYTES:
        raise TooLarge(f"the report is over {MAX_REPORT_BYTES:,} bytes")
    return json(await service(request).platform_attendance.import_report(caller(request), state, report))


async def match_row(request: Request) -> Response:
    state = await session_for(request)
    b = await body(request, MatchBody)
    await service(request).platform_attendance.match(caller(request), state, b.import_id, b.row, b.participant_id)
    return json({})


async def overview(request: Request) -> Response:
    state = await session_for(request)
    s = service(request)
    return json(await s.platform_attendance.overview(state, await s.roster.sheet(state.id)))


PLATFORM_ATTENDANCE_API: list[Operation] = [
    Operation(
        "POST",
        "/api/webhooks/zoom",
        zoom_webhook,
        PUBLIC,
        None,
        "Zoom's webhook, signed (x-zm-signature v0 over the raw body, x-zm-request-timestamp within 5 minutes, "
        "else 401 and nothing stored): endpoint.url_validation answers {plainToken, encryptedToken}; "
        "meeting.participant_joined/_left are stored once each (a redelivery changes nothing) for the session "
        "whose join link holds the meeting id; 404 while COMPANION_ZOOM_WEBHOOK_SECRET is unset",
    ),
    Operation(
        "GET",
        "/api/sessions/{session_id}/platform-attendance",
        overview,
        STAFF,
        None,
        "The reports imported (their rows, intervals and matched participants), the webhook's intervals, and each "
        "participant's minutes_present beside platform_minutes with flags (in_call_not_checked_in, "
        "checked_in_not_in_call)",
    ),
    Operation(
        "POST",
        "/api/sessions/{session_id}/platform-attendance",
        import_report,
        CONDUCT,
        None,
        "Import a Zoom participants report (CSV) or a Teams attendance report (UTF-16, tab-separated), as the raw "
        "body or a multipart `file`, at most 20 MB (413 too_large), recognised by its content: "
        "{import_id, platform, layout, matched, unmatched: [{row, name, email}], duplicates}; a second import "
        "from the same platform replaces the first; a report that cannot be read is 400 and nothing is imported",
        media="application/octet-stream",
    ),
    Operation(
        "POST",
        "/api/sessions/{session_id}/platform-attendance/match",
        match_row,
        CONDUCT,
        MatchBody,
        "Match a report's row (and that person's other rows in the import) to a roster participant by hand: {}",
    ),
]


def routes() -> list[Route]:
    return routes_of(PLATFORM_ATTENDANCE_API)

"""HTTP API routes: thin handlers over the same service the Socket.IO hub uses."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, time
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from core import rostercsv
from core.attendance import new_code_secret
from core.errors import Invalid, NotFound
from core.materials import Material
from core.model import SessionState
from core.schedule import recurrence
from core.sheet import csv_text
from persistence.identity import new_id
from server import schemas, uploads
from server.jsonresponse import json
from server.observe import metrics_text
from server.routes import (
    ADMIN,
    CONDUCT,
    IN_SESSION,
    PUBLIC,
    STAFF,
    Operation,
    body,
    caller,
    path_id,
    query,
    raw_body,
    service,
)
from server.routes import routes as routes_of


async def session_for(request: Request) -> SessionState:
    """The session in the path, if the caller may act in it (an instructor: their own)."""
    return await service(request).access.session_of(caller(request), path_id(request, "session_id"))


# ---------------------------------------------------------------- tokens


async def create_token(request: Request) -> Response:
    b = await body(request, schemas.TokenCreate)
    token_id, token = await service(request).access.create_token(role=b.role, name=b.name, email=b.email)
    return json({"id": token_id, "token": token, "role": b.role, "name": b.name, "email": b.email}, 201)


async def revoke_token(request: Request) -> Response:
    token_id = path_id(request, "token_id")
    if not await service(request).access.revoke_token(token_id):
        raise NotFound("no such token")
    return json({"id": token_id, "revoked": True})


# ---------------------------------------------------------------- sessions


async def create_session(request: Request) -> Response:
    b = await body(request, schemas.SessionCreate)
    starts_at = schemas.utc(b.starts_at)
    template = SessionState(
        id=new_id(),
        topic=b.topic,
        instructor_email=b.instructor_email,
        starts_at=starts_at,
        duration_minutes=b.duration_minutes,
        late_after_minutes=b.late_after_minutes,
        capacity=b.capacity,
        platform=b.platform,
        join_url=b.join_url,
        agenda=b.agenda,
        checkin_secret=new_code_secret() if b.checkin_code else None,
        timezone=b.timezone,
        required_features=list(dict.fromkeys(b.required_features)),
        expected_participants=b.expected_participants,
    )
    rec = None
    if b.recurrence is not None:
        r = b.recurrence
        rec = recurrence(
            starts_at,
            b.timezone,
            freq=r.freq,
            count=r.count,
            until=_local_date(r.until),
            byday=list(r.byday) if r.byday else None,
        )
    made = await service(request).scheduling.create(caller(request), template, rec, b.override_reason)
    if rec is None:
        return json(made[0].public(), 201)
    return json({"series_id": made[0].series_id, "sessions": [s.public() for s in made]}, 201)


def _local_date(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Invalid(f"recurrence.until: {value!r} is not a date (YYYY-MM-DD)") from None


async def list_sessions(request: Request) -> Response:
    q = query(request, schemas.SessionList)
    start = schemas.utc(q.from_) if q.from_ else None
    end = schemas.utc(q.to) if q.to else None
    if start and end and end <= start:
        raise Invalid("to: must be after from")
    rows, more = await service(request).scheduling.listing(
        caller(request), start=start, end=end, instructor_email=q.instructor_email, limit=q.limit
    )
    return json({"sessions": rows, "more": more})


async def patch_session(request: Request) -> Response:
    state = await session_for(request)
    scope = query(request, schemas.ScopeQuery).scope
    b = await body(request, schemas.SessionPatch)
    given = b.model_fields_set - {"override_reason"}
    if not given:
        raise Invalid("body: name at least one field to change")
    changes = {k: getattr(b, k) for k in given}
    for required in ("topic", "starts_at", "duration_minutes", "timezone"):
        if required in changes and changes[required] is None:
            raise Invalid(f"{required}: may not be null")
    if changes.get("required_features") is None and "required_features" in changes:
        changes["required_features"] = []
    if "starts_at" in changes:
        changes["starts_at"] = schemas.utc(changes["starts_at"])
    changed = await service(request).scheduling.patch(
        caller(request), state.id, changes, following=scope == "following", override_reason=b.override_reason
    )
    return json(changed.public())


async def cancel_session(request: Request) -> Response:
    state = await session_for(request)
    scope = query(request, schemas.ScopeQuery).scope
    b = await body(request, schemas.Cancel)
    cancelled = await service(request).scheduling.cancel(
        caller(request), state.id, b.reason, following=scope == "following"
    )
    return json(cancelled.public())


async def get_session(request: Request) -> Response:
    state = await session_for(request)
    summary = await service(request).invitations.summaries([state])
    return json({**state.public(), **summary[state.id]})


# ---------------------------------------------------------------- preparation: materials, run-through, readiness


async def add_material(request: Request) -> Response:
    state = await session_for(request)
    prep = service(request).preparation
    if request.headers.get("content-type", "").split(";")[0].strip().lower() == "application/json":
        b = await body(request, schemas.MaterialLink)
        made = await prep.add_link(caller(request), state, b.title, b.url)
    else:
        upload = await uploads.receive(request, prep.begin_upload, prep.max_upload)
        assert upload.writing is not None  # receive refuses an upload without a file
        made = await prep.add_file(caller(request), state, upload.writing, upload.filename or "", upload.title)
    return json(prep.public(made, None), 201)


async def list_materials(request: Request) -> Response:
    state = await session_for(request)
    return json({"materials": await service(request).preparation.listing(caller(request), state)})


async def delete_material(request: Request) -> Response:
    state = await session_for(request)
    await service(request).preparation.delete(caller(request), state, path_id(request, "material_id"))
    return Response(status_code=204)


async def material_file(request: Request) -> Response:
    state = await session_for(request)
    m, chunks = await service(request).preparation.file(state, path_id(request, "material_id"))
    return attachment(m, chunks)


async def material_by_link(request: Request) -> Response:
    m, chunks = await service(request).preparation.file_by_link(_link_token(request))
    return attachment(m, chunks)


def attachment(m: Material, chunks: AsyncIterator[bytes]) -> Response:
    """A material's bytes as a download (RFC 6266: an ASCII name, and the real one in UTF-8)."""
    name = m.filename or "material"
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in name)
    return StreamingResponse(
        chunks,
        media_type=m.content_type or "application/octet-stream",
        headers={
            "Content-Disposition": f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}",
            "Content-Length": str(m.size),
            "Cache-Control": "private, no-store",
        },
    )


async def record_platform_check(request: Request) -> Response:
    state = await session_for(request)
    b = await body(request, schemas.PlatformCheck)
    checks = b.checks.model_dump()
    pc = await service(request).preparation.platform_check(caller(request), state, checks, b.notes)
    return json(pc.public(), 201)


async def list_platform_checks(request: Request) -> Response:
    state = await session_for(request)
    found = await service(request).preparation.platform_checks(state)
    return json({"platform_checks": [pc.public() for pc in found]})


async def readiness(request: Request) -> Response:
    state = await session_for(request)
    return json(await service(request).preparation.readiness(state))


# ---------------------------------------------------------------- invitations, RSVP, reminders


async def send_invitations(request: Request) -> Response:
    state = await session_for(request)
    scope = query(request, schemas.InviteQuery).scope
    b = await body(request, schemas.Invite)
    sent = await service(request).invitations.invite(
        caller(request), state.id, b.short_notice_reason, series=scope == "series"
    )
    return json(sent)


async def list_invitations(request: Request) -> Response:
    state = await session_for(request)
    return json({"invitations": await service(request).invitations.listing(state.id)})


async def list_reminders(request: Request) -> Response:
    state = await session_for(request)
    return json({"reminders": await service(request).invitations.reminders(state.id)})


async def rsvp_details(request: Request) -> Response:
    return json(await service(request).invitations.rsvp_view(_link_token(request)))


async def rsvp_answer(request: Request) -> Response:
    b = await body(request, schemas.RsvpAnswer)
    return json(await service(request).invitations.answer(_link_token(request), b.answer))


async def calendar_feed(request: Request) -> Response:
    ics = await service(request).invitations.feed(_link_token(request))
    return Response(
        ics,
        media_type="text/calendar; charset=utf-8",
        headers={"Cache-Control": "private, max-age=300", "Content-Disposition": 'inline; filename="companion.ics"'},
    )


def _link_token(request: Request) -> str:
    """The token of a personal link (RSVP, calendar feed): it is the credential, so a malformed one is not found."""
    token = request.path_params.get("token", "")
    if not isinstance(token, str) or not 1 <= len(token) <= 300:
        raise NotFound("this link is not valid")
    return token


async def add_participants(request: Request) -> Response:
    state = await session_for(request)
    b = await body(request, schemas.ParticipantsAdd)
    return await _added(request, state, [(p.name, p.email, p.timezone) for p in b.participants])


async def _added(request: Request, state: SessionState, people: list[tuple[str, str, str | None]]) -> Response:
    """Add people to the roster; answer their links, each with the other sessions of theirs this one overlaps."""
    s = service(request)
    members = await s.roster.add(state.id, people)
    warnings = await s.scheduling.warnings(state)
    return json(
        {
            "participants": [
                {
                    **s.access.participant_link(state.id, m),
                    "timezone": m.timezone,
                    "warnings": warnings.get(m.email.lower(), []),
                }
                for m in members
            ]
        }
    )


# A roster file of 5,000 rows is some 300 kB; a body past this is refused before it is parsed.
MAX_ROSTER_CSV_BYTES = 5 << 20


async def import_participants(request: Request) -> Response:
    state = await session_for(request)
    if request.headers.get("content-type", "").startswith("multipart/"):
        raise Invalid("body: the CSV file's own bytes (content-type: text/csv), not a form upload")
    raw = await raw_body(request, MAX_ROSTER_CSV_BYTES)
    rows = await asyncio.to_thread(rostercsv.parse, raw)  # 5,000 rows in some 20 ms: off the event loop still
    return await _added(request, state, [(r.name, r.email, r.timezone) for r in rows])


async def suggest_times(request: Request) -> Response:
    b = await body(request, schemas.Suggest)
    s = service(request)
    if b.session_id is not None:
        await s.access.session_of(caller(request), b.session_id)
    slots = await s.scheduling.suggest(
        instructor_email=b.instructor_email,
        emails=list(b.emails),
        session_id=b.session_id,
        window_start=schemas.utc(b.from_),
        window_end=schemas.utc(b.to),
        duration_minutes=b.duration_minutes,
        working_hours=(_clock_time(b.working_hours.start), _clock_time(b.working_hours.end)),
        step_minutes=b.step_minutes,
        limit=b.limit,
        default_tz=b.timezone,
    )
    return json({"slots": slots})


def _clock_time(text: str) -> time:
    return time.max if text == "24:00" else time.fromisoformat(text)


async def list_participants(request: Request) -> Response:
    state = await session_for(request)
    s = service(request)
    members = await s.roster.members(state.id)
    warnings = await s.scheduling.warnings(state)
    return json(
        {
            "participants": [
                {
                    "id": m.id,
                    "name": m.name,
                    "email": m.email,
                    "timezone": m.timezone,
                    "status": m.status,
                    "warnings": warnings.get(m.email.lower(), []),
                }
                for m in members
            ]
        }
    )


async def remove_participant(request: Request) -> Response:
    state = await session_for(request)
    participant_id = path_id(request, "participant_id")
    await service(request).scheduling.remove_participant(caller(request), state.id, participant_id)
    return Response(status_code=204)


async def close_session(request: Request) -> Response:
    state = await session_for(request)
    closed = await service(request).lifecycle.close(state.id)
    return json(closed.public())


async def attendance(request: Request) -> Response:
    state = await session_for(request)
    return json({"rows": await service(request).roster.sheet(state.id)})


async def attendance_csv(request: Request) -> Response:
    state = await session_for(request)
    text = csv_text(await service(request).roster.sheet(state.id))
    await service(request).records.downloaded(
        caller(request), target=f"attendance:{state.id}", session_id=state.id, detail={"file": "attendance.csv"}
    )
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="attendance-{state.id}.csv"'},
    )


async def presence(request: Request) -> Response:
    state = await session_for(request)
    return json(await service(request).roster.timeline(state.id))


async def chat_log(request: Request) -> Response:
    state = await session_for(request)
    messages = await service(request).chat.log(state.id)
    return json({"messages": [m.view() for m in messages]})


async def list_platforms(request: Request) -> Response:
    return json({"platforms": [p.view() for p in service(request).settings.platforms]})


async def audit_log(request: Request) -> Response:
    q = query(request, schemas.AuditQuery)
    s = service(request)
    entries, nxt = await s.records.audit(
        session_id=q.session_id,
        actor=q.actor,
        action=q.action,
        after=schemas.utc(q.after) if q.after else None,
        cursor=int(q.cursor) if q.cursor else None,
        limit=q.limit,
    )
    return json({"entries": entries, "next": str(nxt) if nxt is not None else None})


async def healthz(request: Request) -> Response:
    problems = await service(request).health()
    if problems:
        return JSONResponse({"status": "unavailable", "failing": problems}, 503)
    return JSONResponse({"status": "ok"})


# The HTTP API of the live hub: who may call each route is enforced from this table (server.routes), and
# the OpenAPI document is built from it.
API: list[Operation] = [
    Operation("GET", "/healthz", healthz, PUBLIC, None, "Health of the database (and Redis when configured)"),
    Operation(
        "GET",
        "/metrics",
        metrics_text,
        PUBLIC,
        None,
        "The server's metrics in the Prometheus text format (a bearer token when COMPANION_METRICS_TOKEN is set)",
    ),
    Operation(
        "POST",
        "/api/tokens",
        create_token,
        ADMIN,
        schemas.TokenCreate,
        "Create a staff API token",
        answer=("201", "The token, shown once: {id, token, role, name, email}"),
    ),
    Operation("DELETE", "/api/tokens/{token_id}", revoke_token, ADMIN, None, "Revoke a token; its sockets close"),
    Operation(
        "POST",
        "/api/sessions",
        create_session,
        ADMIN,
        schemas.SessionCreate,
        "Schedule a session",
        answer=("201", "The session, status scheduled"),
    ),
    Operation(
        "GET",
        "/api/sessions",
        list_sessions,
        STAFF,
        None,
        "Sessions that start between from and to, in start order (instructors: their own), each with its roster size",
        query=schemas.SessionList,
    ),
    Operation(
        "PATCH",
        "/api/sessions/{session_id}",
        patch_session,
        ADMIN,
        schemas.SessionPatch,
        "Change a session (scope=following: it and the rest of its series, which become a new series)",
        query=schemas.ScopeQuery,
    ),
    Operation(
        "POST",
        "/api/sessions/{session_id}/cancel",
        cancel_session,
        ADMIN,
        schemas.Cancel,
        "Cancel a scheduled session (scope=following: and the rest of its series); audited",
        query=schemas.ScopeQuery,
    ),
    Operation(
        "POST",
        "/api/sessions/{session_id}/participants.csv",
        import_participants,
        ADMIN,
        None,
        "Import the roster from a CSV file (header: name, email, optionally timezone; comma or semicolon; UTF-8, "
        "with or without BOM; at most 5,000 rows): every bad row answered by line number, and then nothing is imported",
        media="text/csv",
    ),
    Operation(
        "POST",
        "/api/schedule/suggest",
        suggest_times,
        ADMIN,
        schemas.Suggest,
        "The best times in a window for an instructor and a roster (or emails), each person in their own zone and "
        "working hours (default 08:00-20:00), ranked by how many can attend, naming who cannot and why",
    ),
    Operation(
        "GET",
        "/api/sessions/{session_id}/participants",
        list_participants,
        STAFF,
        None,
        "The roster, each person with their time zone and the other sessions of theirs this one overlaps",
    ),
    Operation(
        "DELETE",
        "/api/sessions/{session_id}/participants/{participant_id}",
        remove_participant,
        ADMIN,
        None,
        "Take someone off the roster: their link stops working",
        answer=("204", "Removed"),
    ),
    Operation(
        "GET",
        "/api/platforms",
        list_platforms,
        STAFF,
        None,
        "The video platforms sessions run on, with capacity and features (built in, or COMPANION_PLATFORMS)",
    ),
    Operation(
        "GET",
        "/api/sessions/{session_id}",
        get_session,
        STAFF,
        None,
        "A session, with its RSVP counts, mails given up and readiness",
    ),
    Operation(
        "POST",
        "/api/sessions/{session_id}/invitations",
        send_invitations,
        ADMIN,
        schemas.Invite,
        "Invite the roster and the instructor (those not yet invited); later than the lead time needs a reason",
        query=schemas.InviteQuery,
    ),
    Operation(
        "GET",
        "/api/sessions/{session_id}/invitations",
        list_invitations,
        STAFF,
        None,
        "Who is invited, their answer, and the state of their last mail",
    ),
    Operation(
        "GET",
        "/api/sessions/{session_id}/reminders",
        list_reminders,
        STAFF,
        None,
        "Each reminder offset: when it is due, its state, how many got it",
    ),
    Operation(
        "POST",
        "/api/sessions/{session_id}/materials",
        add_material,
        CONDUCT,
        schemas.MaterialLink,
        "Share a file (multipart/form-data: file, title?) or a link (JSON {title, url}); the file's type is read "
        "from its content, and its bytes are kept by SHA-256",
        answer=("201", "Shared"),
        media="multipart/form-data",
    ),
    Operation(
        "GET",
        "/api/sessions/{session_id}/materials",
        list_materials,
        IN_SESSION,
        None,
        "The session's materials (a participant's file links are personal and signed)",
    ),
    Operation(
        "DELETE",
        "/api/sessions/{session_id}/materials/{material_id}",
        delete_material,
        CONDUCT,
        None,
        "Stop sharing a material: it leaves the tab, its links stop working",
        answer=("204", "Deleted"),
    ),
    Operation(
        "GET",
        "/api/sessions/{session_id}/materials/{material_id}/file",
        material_file,
        IN_SESSION,
        None,
        "A file material's bytes, as an attachment",
    ),
    Operation(
        "GET",
        "/files/{token}",
        material_by_link,
        PUBLIC,
        None,
        "A file material by a personal link from a mail or the tab (the link is the credential)",
    ),
    Operation(
        "POST",
        "/api/sessions/{session_id}/platform-check",
        record_platform_check,
        STAFF,
        schemas.PlatformCheck,
        "Record a run-through of the platform: each feature ok, failed or n/a, with notes; who and when are kept",
        answer=("201", "Recorded"),
    ),
    Operation(
        "GET",
        "/api/sessions/{session_id}/platform-check",
        list_platform_checks,
        STAFF,
        None,
        "The session's run-throughs, the latest first",
    ),
    Operation(
        "GET",
        "/api/sessions/{session_id}/readiness",
        readiness,
        STAFF,
        None,
        "Whether the session is ready: roster, invitations, reminders, materials, platform check",
    ),
    Operation(
        "GET", "/api/rsvp/{token}", rsvp_details, PUBLIC, None, "The session an RSVP link is for, in the invitee's zone"
    ),
    Operation(
        "POST",
        "/rsvp/{token}",
        rsvp_answer,
        PUBLIC,
        schemas.RsvpAnswer,
        "Answer an invitation (the link is the credential)",
    ),
    Operation(
        "GET",
        "/calendar/{token}.ics",
        calendar_feed,
        PUBLIC,
        None,
        "A person's calendar feed (text/calendar) for calendar apps that subscribe",
    ),
    Operation(
        "POST",
        "/api/sessions/{session_id}/participants",
        add_participants,
        ADMIN,
        schemas.ParticipantsAdd,
        "Add participants (by email, case-insensitive); answers their personal links",
    ),
    Operation(
        "POST",
        "/api/sessions/{session_id}/close",
        close_session,
        CONDUCT,
        None,
        "Close; answers once attendance and chat are durably saved",
    ),
    Operation("GET", "/api/sessions/{session_id}/attendance", attendance, STAFF, None, "The attendance sheet"),
    Operation(
        "GET",
        "/api/sessions/{session_id}/attendance.csv",
        attendance_csv,
        STAFF,
        None,
        "The attendance sheet as CSV",
    ),
    Operation(
        "GET",
        "/api/sessions/{session_id}/presence",
        presence,
        STAFF,
        None,
        "Presence over time: each participant's connected intervals, and how many were connected after each change",
    ),
    Operation("GET", "/api/sessions/{session_id}/chat", chat_log, STAFF, None, "The chat log in seq order"),
    Operation(
        "GET",
        "/api/audit",
        audit_log,
        ADMIN,
        None,
        "The audit log, oldest first, a page at a time (next: the cursor of the next page, or null); "
        "actor: an internal id such as staff:<id>, or a staff member's email",
        query=schemas.AuditQuery,
    ),
]


def routes() -> list[Route]:
    return routes_of(API)

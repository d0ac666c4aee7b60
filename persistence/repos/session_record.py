"""The session record: its versions, and the job that (re)builds it.

`stale` is what every area after the class calls, in the transaction of its change, when something the
record holds changed after the close (feedback arriving, minutes edited, platform attendance imported):
it queues one rebuild a little later, so a burst of changes makes one new version, not one each.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession as DbSession

from core.model import iso
from core.record import HelpRow, RecordVersion, Sources
from core.sheet import with_platform
from persistence.models import (
    HelpTicket,
    JobRecord,
    LiveSession,
    Participant,
    PingAnswer,
    PingRecord,
    SessionRecordVersion,
)
from persistence.repos import (
    attendance,
    chat,
    consent,
    feedback,
    jobs,
    minutes,
    platform_attendance,
    preparation,
    sessions,
)

BUILD = "session-record"  # the job kind that builds a version of a session's record
GATHER = timedelta(seconds=30)  # changes within this of the first one make one version


async def stale(db: DbSession, *, session_id: str, now: datetime, delay: timedelta = GATHER) -> bool:
    """Queue a rebuild of a closed session's record unless one is pending; answers whether one was queued.

    Before the close there is no record yet (the close builds the first), so nothing is queued.
    """
    status = await db.scalar(select(LiveSession.status).where(LiveSession.id == session_id))
    if status != "closed":
        return False
    return await build_soon(db, session_id=session_id, now=now, delay=delay)


async def build_soon(db: DbSession, *, session_id: str, now: datetime, delay: timedelta = timedelta(0)) -> bool:
    """Queue a build of the record unless one is pending already (the close calls this with no delay)."""
    pending = await db.scalar(
        select(JobRecord.id).where(
            JobRecord.kind == BUILD, JobRecord.session_id == session_id, JobRecord.state == "pending"
        )
    )
    if pending is not None:
        return False
    return await jobs.schedule(
        db,
        kind=BUILD,
        key=f"{BUILD}:{session_id}:{secrets.token_hex(8)}",
        session_id=session_id,
        due_at=now + delay,
        payload={},
        now=now,
    )


async def sources(db: DbSession, *, session_id: str) -> Sources | None:
    """What the record is made of, as the database holds it now (None: no such session)."""
    session = await sessions.get_session(db, session_id=session_id)
    if session is None:
        return None
    # The sheet as saved at close, with the platform's minutes as reported now (a report usually comes later).
    saved = await attendance.saved_attendance(db, session_id=session_id)
    until = session.closed_at or session.starts_at
    sheet = with_platform(saved, await platform_attendance.platform_minutes(db, session=session, now=until))
    sheet.sort(key=lambda r: (str(r.get("name", "")).casefold(), str(r.get("participant_id", ""))))
    messages = await chat.chat_page(db, session_id=session_id, after_seq=0, limit=None)
    tickets = [
        HelpRow(
            ticket_id=t.id,
            participant_id=t.participant_id,
            name=name,
            category=t.category,
            text=t.text,
            state=t.state,
            created_at=t.created_at,
            claimed_at=t.claimed_at,
            claimed_by=t.claimed_by,
            resolved_at=t.resolved_at,
            note=t.note,
        )
        for t, name in await db.execute(
            select(HelpTicket, Participant.name)
            .join(Participant, Participant.id == HelpTicket.participant_id)
            .where(HelpTicket.session_id == session_id)
        )
    ]
    return Sources(
        session=session,
        attendance=sheet,
        chat=[m.view() for m in messages],
        help=tickets,
        pings=await _pings(db, session_id),
        materials=await preparation.materials_of(db, session_id=session_id),
        minutes=await minutes.for_record(db, session_id=session_id),
        feedback=await feedback.for_record(db, session_id=session_id),
        consent=await consent.for_record(db, session_id=session_id),
        recordings=await consent.recordings_for_record(db, session_id=session_id),
        platform_attendance=await platform_attendance.for_record(db, session_id=session_id),
    )


async def _pings(db: DbSession, session_id: str) -> list[dict[str, Any]]:
    answers: dict[str, list[dict[str, Any]]] = {}
    for ping_id, participant_id, answer, at in await db.execute(
        select(PingAnswer.ping_id, PingAnswer.participant_id, PingAnswer.answer, PingAnswer.answered_at)
        .join(PingRecord, PingRecord.id == PingAnswer.ping_id)
        .where(PingRecord.session_id == session_id)
        .order_by(PingAnswer.answered_at, PingAnswer.participant_id)
    ):
        answers.setdefault(ping_id, []).append(
            {"participant_id": participant_id, "answer": answer, "answered_at": iso(at)}
        )
    return [
        {
            "id": p.id,
            "kind": p.kind,
            "question": p.question,
            "options": p.options,
            "launched_at": iso(p.launched_at),
            "closes_at": iso(p.closes_at),
            "closed_at": iso(p.closed_at),
            "total": p.total,
            "answers": answers.get(p.id, []),
        }
        for p in await db.scalars(
            select(PingRecord)
            .where(PingRecord.session_id == session_id)
            .order_by(PingRecord.launched_at, PingRecord.id)
        )
    ]


def _version(r: SessionRecordVersion) -> RecordVersion:
    return RecordVersion(
        id=r.id,
        session_id=r.session_id,
        version=r.version,
        sha256=r.sha256,
        size=r.size,
        digest=r.digest,
        files=list(r.files),
        built_at=r.built_at,
    )


async def versions(db: DbSession, *, session_id: str) -> list[RecordVersion]:
    """The record's versions, the first first."""
    rows = await db.scalars(
        select(SessionRecordVersion)
        .where(SessionRecordVersion.session_id == session_id)
        .order_by(SessionRecordVersion.version)
    )
    return [_version(r) for r in rows]


async def latest(db: DbSession, *, session_id: str) -> RecordVersion | None:
    row = await db.scalar(
        select(SessionRecordVersion)
        .where(SessionRecordVersion.session_id == session_id)
        .order_by(SessionRecordVersion.version.desc())
        .limit(1)
    )
    return None if row is None else _version(row)


async def next_version(db: DbSession, *, session_id: str) -> int:
    top = await db.scalar(
        select(func.max(SessionRecordVersion.version)).where(SessionRecordVersion.session_id == session_id)
    )
    return (top or 0) + 1


async def add_version(db: DbSession, *, version: RecordVersion) -> None:
    """Keep a built version (its zip is whole in the store already); two builders of one version: one fails."""
    db.add(
        SessionRecordVersion(
            id=version.id,
            session_id=version.session_id,
            version=version.version,
            sha256=version.sha256,
            size=version.size,
            digest=version.digest,
            files=version.files,
            built_at=version.built_at,
        )
    )

"""Recording consent: requests, every answer with its time, recording stretches, and the rows of consent.csv."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession as DbSession

from core import consent
from core.model import iso
from persistence.models import ConsentAnswer, ConsentRequest, LiveSession, Participant, RecordingRecord

LIVE_STATUSES = ("scheduled", "live")


def _request(row: ConsentRequest) -> consent.Request:
    purpose: consent.Purpose = "recording"  # the one purpose so far (payloads refuse any other)
    return consent.Request(
        id=row.id,
        session_id=row.session_id,
        purpose=purpose,
        text=row.text,
        requested_at=row.requested_at,
        requested_by=row.requested_by,
        closed_at=row.closed_at,
    )


def _recording(row: RecordingRecord) -> consent.Recording:
    return consent.Recording(
        id=row.id,
        session_id=row.session_id,
        started_at=row.started_at,
        started_by=row.started_by,
        override_reason=row.override_reason,
        stopped_at=row.stopped_at,
        stopped_by=row.stopped_by,
    )


async def open_request(db: DbSession, *, request: consent.Request) -> None:
    """Add a request; the session's open one (if any) is replaced: closed at the new one's time."""
    await db.execute(
        update(ConsentRequest)
        .where(ConsentRequest.session_id == request.session_id, ConsentRequest.closed_at.is_(None))
        .values(closed_at=request.requested_at)
    )
    db.add(
        ConsentRequest(
            id=request.id,
            session_id=request.session_id,
            purpose=request.purpose,
            text=request.text,
            requested_at=request.requested_at,
            requested_by=request.requested_by,
            closed_at=None,
        )
    )
    await db.flush()


async def get_request(db: DbSession, *, request_id: str) -> consent.Request | None:
    row = await db.get(ConsentRequest, request_id)
    return _request(row) if row is not None else None


async def current_request(db: DbSession, *, session_id: str) -> consent.Request | None:
    """The session's open request, or None."""
    row = await db.scalar(
        select(ConsentRequest).where(ConsentRequest.session_id == session_id, ConsentRequest.closed_at.is_(None))
    )
    return _request(row) if row is not None else None


async def add_answer(db: DbSession, *, request_id: str, participant_id: str, consent: bool, now: datetime) -> None:
    """One more answer: every answer is kept, the latest counts."""
    db.add(ConsentAnswer(request_id=request_id, participant_id=participant_id, consent=consent, answered_at=now))
    await db.flush()


async def latest_answers(db: DbSession, *, request_id: str) -> dict[str, bool]:
    """Each participant's latest answer to this request."""
    rows = await db.execute(
        select(ConsentAnswer.participant_id, ConsentAnswer.consent, ConsentAnswer.answered_at)
        .where(ConsentAnswer.request_id == request_id)
        .order_by(ConsentAnswer.answered_at, ConsentAnswer.id)
    )
    return consent.latest(consent.Answer(pid, c, at) for pid, c, at in rows)


async def my_answer(db: DbSession, *, request_id: str, participant_id: str) -> bool | None:
    """This participant's latest answer, or None."""
    return await db.scalar(
        select(ConsentAnswer.consent)
        .where(ConsentAnswer.request_id == request_id, ConsentAnswer.participant_id == participant_id)
        .order_by(ConsentAnswer.answered_at.desc(), ConsentAnswer.id.desc())
        .limit(1)
    )


async def current_recording(db: DbSession, *, session_id: str) -> consent.Recording | None:
    """The stretch of recording going on, or None."""
    row = await db.scalar(
        select(RecordingRecord).where(RecordingRecord.session_id == session_id, RecordingRecord.stopped_at.is_(None))
    )
    return _recording(row) if row is not None else None


async def start_recording(db: DbSession, *, recording: consent.Recording, counts: dict[str, Any]) -> None:
    db.add(
        RecordingRecord(
            id=recording.id,
            session_id=recording.session_id,
            started_at=recording.started_at,
            started_by=recording.started_by,
            override_reason=recording.override_reason,
            consent=counts,
            stopped_at=None,
            stopped_by=None,
        )
    )
    await db.flush()


async def stop_recording(db: DbSession, *, session_id: str, now: datetime, by: str) -> bool:
    """Stop the session's recording; answers whether one was going on."""
    result = await db.execute(
        update(RecordingRecord)
        .where(RecordingRecord.session_id == session_id, RecordingRecord.stopped_at.is_(None))
        .values(stopped_at=now, stopped_by=by)
    )
    return bool(getattr(result, "rowcount", 0))


async def end_at_close(db: DbSession, *, session_id: str, now: datetime) -> bool:
    """The session closes: its open request ends, its recording stops. Answers whether it was recording."""
    await db.execute(
        update(ConsentRequest)
        .where(ConsentRequest.session_id == session_id, ConsentRequest.closed_at.is_(None))
        .values(closed_at=now)
    )
    return await stop_recording(db, session_id=session_id, now=now, by="the session closed")


async def sessions_asking(db: DbSession) -> list[str]:
    """Sessions not closed with an open request: their pending count moves as participants come and go."""
    rows = await db.scalars(
        select(ConsentRequest.session_id)
        .join(LiveSession, LiveSession.id == ConsentRequest.session_id)
        .where(ConsentRequest.closed_at.is_(None), LiveSession.status.in_(LIVE_STATUSES))
    )
    return list(rows)


async def for_record(db: DbSession, *, session_id: str) -> list[dict[str, Any]]:
    """The rows of consent.csv: every answer with its time, then, per request, the roster participants
    who never answered it (consent and answered_at empty). Requests in time order; answers in time order."""
    requests = list(
        await db.scalars(
            select(ConsentRequest)
            .where(ConsentRequest.session_id == session_id)
            .order_by(ConsentRequest.requested_at, ConsentRequest.id)
        )
    )
    people = list(
        await db.execute(
            select(Participant.id, Participant.name)
            .where(Participant.session_id == session_id)
            .order_by(Participant.name, Participant.id)
        )
    )
    names = {pid: name for pid, name in people}
    rows: list[dict[str, Any]] = []
    for req in requests:
        answers = await db.execute(
            select(ConsentAnswer.participant_id, ConsentAnswer.consent, ConsentAnswer.answered_at)
            .where(ConsentAnswer.request_id == req.id)
            .order_by(ConsentAnswer.answered_at, ConsentAnswer.id)
        )
        answered: set[str] = set()
        base = {"request_id": req.id, "purpose": req.purpose, "requested_at": iso(req.requested_at)}
        for pid, given, at in answers:
            answered.add(pid)
            rows.append(
                {
                    **base,
                    "participant_id": pid,
                    "name": names.get(pid, ""),
                    "consent": "yes" if given else "no",
                    "answered_at": iso(at),
                }
            )
        for pid, name in people:
            if pid not in answered:
                rows.append({**base, "participant_id": pid, "name": name, "consent": "", "answered_at": ""})
    return rows


async def recordings_for_record(db: DbSession, *, session_id: str) -> list[dict[str, Any]]:
    """Each stretch of recording: started and stopped (when, by whom), the override reason, the consent counts then."""
    rows = await db.scalars(
        select(RecordingRecord)
        .where(RecordingRecord.session_id == session_id)
        .order_by(RecordingRecord.started_at, RecordingRecord.id)
    )
    return [
        {
            "started_at": iso(r.started_at),
            "started_by": r.started_by,
            "override_reason": r.override_reason or "",
            "consent": r.consent,
            "stopped_at": iso(r.stopped_at) if r.stopped_at else "",
            "stopped_by": r.stopped_by or "",
        }
        for r in rows
    ]

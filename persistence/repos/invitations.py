"""Invitations: each session's calendar event, series invited as one event, and every invitee with their answer.

Written in the caller's transaction, beside the mail jobs they cause (persistence.repos.jobs), so an
invitation is never recorded without its mail queued, nor a mail queued for an invitation not recorded.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession as DbSession

from core.ical import SeriesRule
from core.invitations import CalendarEvent, CalendarSeries, Invitation
from persistence.models import (
    CalendarEvent as EventRow,
)
from persistence.models import (
    CalendarSeries as SeriesRow,
)
from persistence.models import (
    InvitationRecord,
    JobRecord,
    LiveSession,
    Participant,
)


async def event_of(db: DbSession, *, session_id: str) -> CalendarEvent | None:
    row = await db.get(EventRow, session_id)
    return None if row is None else CalendarEvent(row.session_id, row.uid, row.sequence, row.recurrence_id)


async def events_of(db: DbSession, *, session_ids: Collection[str]) -> dict[str, CalendarEvent]:
    if not session_ids:
        return {}
    rows = (await db.execute(select(EventRow).where(EventRow.session_id.in_(list(session_ids))))).scalars()
    return {r.session_id: CalendarEvent(r.session_id, r.uid, r.sequence, r.recurrence_id) for r in rows}


async def events_with_uid(db: DbSession, *, uid: str) -> list[CalendarEvent]:
    rows = (await db.execute(select(EventRow).where(EventRow.uid == uid))).scalars()
    return sorted(
        (CalendarEvent(r.session_id, r.uid, r.sequence, r.recurrence_id) for r in rows),
        key=lambda e: (e.recurrence_id is None, e.recurrence_id),
    )


async def save_event(db: DbSession, *, event: CalendarEvent, now: datetime) -> None:
    row = await db.get(EventRow, event.session_id)
    if row is None:
        db.add(
            EventRow(
                session_id=event.session_id,
                uid=event.uid,
                sequence=event.sequence,
                recurrence_id=event.recurrence_id,
                updated_at=now,
            )
        )
    else:
        row.uid, row.sequence, row.recurrence_id, row.updated_at = (
            event.uid,
            event.sequence,
            event.recurrence_id,
            now,
        )
    await db.flush()


async def series(db: DbSession, *, uid: str) -> CalendarSeries | None:
    row = await db.get(SeriesRow, uid)
    if row is None:
        return None
    rule = SeriesRule(byday=tuple(row.byday), count=None if row.until else row.count, until=row.until)
    return CalendarSeries(row.uid, row.series_id, row.sequence, row.timezone, row.first_start, rule)


async def save_series(db: DbSession, *, series: CalendarSeries, count: int, now: datetime) -> None:
    row = await db.get(SeriesRow, series.uid)
    until = series.rule.until if isinstance(series.rule.until, datetime) else None
    values: dict[str, Any] = {
        "series_id": series.series_id,
        "sequence": series.sequence,
        "timezone": series.timezone,
        "first_start": series.first_start,
        "byday": list(series.rule.byday),
        "count": count,
        "until": until,
        "updated_at": now,
    }
    if row is None:
        db.add(SeriesRow(uid=series.uid, **values))
    else:
        for name, value in values.items():
            setattr(row, name, value)
    await db.flush()


def _invitation(row: InvitationRecord) -> Invitation:
    return Invitation(
        id=row.id,
        session_id=row.session_id,
        recipient=row.recipient,
        participant_id=row.participant_id,
        role=row.role,  # type: ignore[arg-type]
        name=row.name,
        email=row.email,
        timezone=row.timezone,
        sequence=row.sequence,
        sent_at=row.sent_at,
        late=row.late,
        rsvp=row.rsvp,  # type: ignore[arg-type]
        rsvp_at=row.rsvp_at,
        removed_at=row.removed_at,
    )


async def invitees(db: DbSession, *, session_id: str, removed: bool = False) -> list[Invitation]:
    """The session's invitees (the instructor first, then by name); with `removed`, those taken off too."""
    query = select(InvitationRecord).where(InvitationRecord.session_id == session_id)
    if not removed:
        query = query.where(InvitationRecord.removed_at.is_(None))
    rows = [_invitation(r) for r in (await db.execute(query)).scalars()]
    return sorted(rows, key=lambda i: (i.role != "instructor", i.name.lower(), i.email.lower()))


async def of_recipient(db: DbSession, *, session_id: str, recipient: str) -> Invitation | None:
    """One recipient's invitation to a session (the unique session and recipient), taken off or not."""
    row = await db.scalar(
        select(InvitationRecord).where(
            InvitationRecord.session_id == session_id, InvitationRecord.recipient == recipient
        )
    )
    return None if row is None else _invitation(row)


async def get(db: DbSession, *, invitation_id: str) -> Invitation | None:
    row = await db.get(InvitationRecord, invitation_id)
    return None if row is None else _invitation(row)


async def add(db: DbSession, *, invitations: Iterable[Invitation]) -> None:
    for i in invitations:
        db.add(
            InvitationRecord(
                id=i.id,
                session_id=i.session_id,
                recipient=i.recipient,
                participant_id=i.participant_id,
                role=i.role,
                name=i.name,
                email=i.email,
                email_key=i.email.lower(),
                timezone=i.timezone,
                sequence=i.sequence,
                sent_at=i.sent_at,
                late=i.late,
                rsvp=i.rsvp,
                rsvp_at=i.rsvp_at,
                removed_at=i.removed_at,
            )
        )
    await db.flush()


async def set_sequence(db: DbSession, *, invitation_ids: Collection[str], sequence: int) -> None:
    if invitation_ids:
        await db.execute(
            update(InvitationRecord).where(InvitationRecord.id.in_(list(invitation_ids))).values(sequence=sequence)
        )


async def mark_removed(db: DbSession, *, session_id: str, recipient: str, now: datetime) -> Invitation | None:
    """Note that a participant was taken off the roster; answers their invitation (None: never invited)."""
    row = (
        await db.execute(
            select(InvitationRecord).where(
                InvitationRecord.session_id == session_id,
                InvitationRecord.recipient == recipient,
                InvitationRecord.removed_at.is_(None),
            )
        )
    ).scalar_one_or_none()
    if row is None:
        return None
    row.removed_at = now
    await db.flush()
    return _invitation(row)


async def same_person_in(db: DbSession, *, email: str, session_ids: Collection[str]) -> list[Invitation]:
    """This person's invitations to these sessions (an answer to a series answers for each occurrence)."""
    if not session_ids:
        return []
    rows = await db.execute(
        select(InvitationRecord).where(
            InvitationRecord.email_key == email.lower(),
            InvitationRecord.session_id.in_(list(session_ids)),
            InvitationRecord.removed_at.is_(None),
        )
    )
    return [_invitation(r) for r in rows.scalars()]


async def set_rsvp(db: DbSession, *, invitation_ids: Collection[str], rsvp: str, now: datetime) -> None:
    await db.execute(
        update(InvitationRecord).where(InvitationRecord.id.in_(list(invitation_ids))).values(rsvp=rsvp, rsvp_at=now)
    )


async def rsvp_counts(db: DbSession, *, session_ids: Collection[str]) -> dict[str, dict[str, int]]:
    """For each session, how many of its participants answered each way (the instructor is not counted)."""
    if not session_ids:
        return {}
    rows = await db.execute(
        select(InvitationRecord.session_id, InvitationRecord.rsvp, func.count())
        .where(
            InvitationRecord.session_id.in_(list(session_ids)),
            InvitationRecord.removed_at.is_(None),
            InvitationRecord.role == "participant",
        )
        .group_by(InvitationRecord.session_id, InvitationRecord.rsvp)
    )
    counts: dict[str, dict[str, int]] = {}
    for sid, rsvp, n in rows:
        counts.setdefault(sid, {})[rsvp] = n
    return counts


async def declined(db: DbSession, *, session_id: str) -> set[str]:
    """The recipients (participant ids, or "instructor") who declined: they get no reminders."""
    rows = await db.execute(
        select(InvitationRecord.recipient).where(
            InvitationRecord.session_id == session_id,
            InvitationRecord.rsvp == "declined",
            InvitationRecord.removed_at.is_(None),
        )
    )
    return set(rows.scalars())


async def failed_mail_counts(db: DbSession, *, session_ids: Collection[str]) -> dict[str, int]:
    """For each session, how many of its mails (invitations, updates, reminders) were given up."""
    if not session_ids:
        return {}
    rows = await db.execute(
        select(JobRecord.session_id, func.count())
        .where(
            JobRecord.session_id.in_(list(session_ids)),
            JobRecord.state == "failed",
            JobRecord.kind.in_(["mail", "reminder-mail"]),
        )
        .group_by(JobRecord.session_id)
    )
    return {sid: n for sid, n in rows if sid is not None}


async def sessions_of_person(db: DbSession, *, email: str, since: datetime, limit: int) -> list[str]:
    """The ids of the sessions a person is on the roster of, or teaches, starting from `since`, in start order."""
    key = email.lower()
    on_roster = select(Participant.session_id).where(Participant.email_key == key)
    rows = await db.execute(
        select(LiveSession.id)
        .where(
            (LiveSession.instructor_key == key) | LiveSession.id.in_(on_roster),
            LiveSession.starts_at >= since,
        )
        .order_by(LiveSession.starts_at)
        .limit(limit)
    )
    return list(rows.scalars())

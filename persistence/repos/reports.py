"""Reviews across sessions: what a report reads (sessions of a series or an instructor, their rosters'
attendance, help waits, feedback sums), from the live rows, or from `session_counts` where they were purged.

A session's figures of a kind come from its live rows when it has any, else from the counts the purge
kept (if it kept some), else they are empty: a session whose rows were never there and one whose rows
were purged before any count was kept read the same, as nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession as DbSession

from core import reports as rules
from core.model import iso
from core.reports import Figures, Mark, Session
from persistence.models import (
    AttendanceRecord,
    FeedbackFormRecord,
    FeedbackResponseRecord,
    HelpTicket,
    JobRecord,
    LiveSession,
    Participant,
    SessionCounts,
    StaffMember,
)

CHUNK = 500  # ids per IN (...): well inside SQLite's and asyncpg's limits on bound parameters
PARTICIPANTS = "participants"


def _chunks(ids: Sequence[str]) -> Iterator[list[str]]:
    for i in range(0, len(ids), CHUNK):
        yield list(ids[i : i + CHUNK])


def _session(row: LiveSession) -> Session:
    return Session(
        id=row.id,
        topic=row.topic,
        instructor_email=row.instructor_email,
        series_id=row.series_id,
        status=row.status,
        starts_at=row.starts_at,
        started_at=row.started_at,
        closed_at=row.closed_at,
        delay_minutes=row.delay_minutes,
    )


async def sessions_of(
    db: DbSession,
    *,
    series_id: str | None = None,
    instructor_key: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[Session]:
    """The sessions of a series or of an instructor (by lower-cased email) starting in [start, end), in start order."""
    q = select(LiveSession)
    if series_id is not None:
        q = q.where(LiveSession.series_id == series_id)
    if instructor_key is not None:
        q = q.where(LiveSession.instructor_key == instructor_key)
    if start is not None:
        q = q.where(LiveSession.starts_at >= start)
    if end is not None:
        q = q.where(LiveSession.starts_at < end)
    rows = await db.scalars(q.order_by(LiveSession.starts_at, LiveSession.id))
    return [_session(r) for r in rows]


async def series_owners(db: DbSession, *, series_id: str) -> set[str] | None:
    """The instructors (lower-cased emails) of a series' sessions; None: no such series."""
    rows = set(
        await db.scalars(select(LiveSession.instructor_key).where(LiveSession.series_id == series_id).distinct())
    )
    return rows or None


async def instructor_known(db: DbSession, *, email_key: str) -> bool:
    """Whether anyone by this email teaches (has a session) or is on the staff."""
    if await db.scalar(select(LiveSession.id).where(LiveSession.instructor_key == email_key).limit(1)) is not None:
        return True
    return await db.get(StaffMember, email_key) is not None


async def series_listing(db: DbSession, *, instructor_key: str | None) -> list[dict[str, Any]]:
    """Every series (of one instructor, if given): its latest topic, instructor, sessions and first and last start."""
    q = select(
        LiveSession.series_id,
        LiveSession.topic,
        LiveSession.instructor_email,
        LiveSession.starts_at,
        LiveSession.status,
    ).where(LiveSession.series_id.is_not(None))
    if instructor_key is not None:
        q = q.where(LiveSession.instructor_key == instructor_key)
    out: dict[str, dict[str, Any]] = {}
    for series_id, topic, instructor, starts_at, status in await db.execute(q.order_by(LiveSession.starts_at)):
        row = out.setdefault(str(series_id), {"series_id": series_id, "sessions": 0, "closed": 0, "first": starts_at})
        row.update(topic=topic, instructor_email=instructor, last=starts_at)  # in start order: the latest wins
        row["sessions"] += 1
        row["closed"] += status == "closed"
    return sorted(
        (
            {
                "series_id": r["series_id"],
                "topic": r["topic"],
                "instructor_email": r["instructor_email"],
                "sessions": r["sessions"],
                "closed": r["closed"],
                "first_starts_at": iso(r["first"]),
                "last_starts_at": iso(r["last"]),
            }
            for r in out.values()
        ),
        key=lambda r: (str(r["first_starts_at"]), str(r["series_id"])),
        reverse=True,
    )


async def instructor_listing(db: DbSession, *, instructor_key: str | None) -> list[dict[str, Any]]:
    """Everyone who teaches a session (only this one, if given): email, name where on the staff, sessions."""
    q = select(LiveSession.instructor_key, func.min(LiveSession.instructor_email), func.count())
    if instructor_key is not None:
        q = q.where(LiveSession.instructor_key == instructor_key)
    found = (await db.execute(q.group_by(LiveSession.instructor_key))).all()
    names = (
        {
            s.email: s.name
            for s in await db.scalars(select(StaffMember).where(StaffMember.email.in_([k for k, _, _ in found])))
        }
        if found
        else {}
    )
    return sorted(
        ({"email": email, "name": names.get(key), "sessions": int(n)} for key, email, n in found),
        key=lambda r: str(r["email"]),
    )


# ---------------------------------------------------------------- the figures


async def marks(db: DbSession, *, session_ids: Sequence[str]) -> list[Mark]:
    """Each person's status in each session: the sheet saved at close, else the roster's own status (unless
    the purge took the attendance: it clears the roster's check-ins and marks, which then say nothing)."""
    out: list[Mark] = []
    purged = {
        sid for sid, (_, kinds) in (await kept_counts(db, session_ids=session_ids)).items() if "attendance" in kinds
    }
    for ids in _chunks(session_ids):
        saved = await db.execute(
            select(
                AttendanceRecord.session_id,
                AttendanceRecord.participant_id,
                AttendanceRecord.row,
                Participant.email_key,
            )
            .join(Participant, Participant.id == AttendanceRecord.participant_id)
            .where(AttendanceRecord.session_id.in_(ids))
        )
        seen: set[str] = set()
        for session_id, participant_id, row, email_key in saved:
            seen.add(participant_id)
            out.append(
                Mark(
                    session_id=session_id,
                    person=email_key,
                    name=str(row.get("name", "")),
                    email=str(row.get("email", "")),
                    status=str(row.get("status") or "absent"),
                )
            )
        for p in await db.scalars(select(Participant).where(Participant.session_id.in_(ids))):
            if p.id not in seen and p.session_id not in purged:  # no sheet saved, the roster's own marks
                out.append(
                    Mark(
                        session_id=p.session_id,
                        person=p.email_key,
                        name=p.name,
                        email=p.email,
                        status=p.mark or p.checkin_status or "absent",
                    )
                )
    return out


async def _waits(db: DbSession, session_ids: Sequence[str]) -> dict[str, tuple[int, list[int]]]:
    pairs: dict[str, list[tuple[datetime, datetime | None]]] = defaultdict(list)
    for ids in _chunks(session_ids):
        for session_id, created, claimed in await db.execute(
            select(HelpTicket.session_id, HelpTicket.created_at, HelpTicket.claimed_at).where(
                HelpTicket.session_id.in_(ids)
            )
        ):
            pairs[session_id].append((created, claimed))
    return {sid: rules.wait_seconds(p) for sid, p in pairs.items()}


async def _feedback(
    db: DbSession, session_ids: Sequence[str]
) -> dict[str, tuple[int, dict[str, rules.Question], bool]]:
    forms: dict[str, FeedbackFormRecord] = {}
    answers: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for ids in _chunks(session_ids):
        for f in await db.scalars(
            select(FeedbackFormRecord).where(
                FeedbackFormRecord.session_id.in_(ids), FeedbackFormRecord.audience == PARTICIPANTS
            )
        ):
            forms[f.session_id] = f
        for session_id, given in await db.execute(
            select(FeedbackResponseRecord.session_id, FeedbackResponseRecord.answers).where(
                FeedbackResponseRecord.session_id.in_(ids), FeedbackResponseRecord.audience == PARTICIPANTS
            )
        ):
            answers[session_id].append(given if isinstance(given, dict) else {})
    out = {}
    for sid, form in forms.items():
        questions = form.questions if isinstance(form.questions, list) else []
        out[sid] = (
            len(answers.get(sid, [])),
            rules.question_sums(questions, answers.get(sid, [])),
            bool(form.anonymous),
        )
    return out


async def kept_counts(db: DbSession, *, session_ids: Sequence[str]) -> dict[str, tuple[Any, set[str]]]:
    """`session_counts` of these sessions where the purge kept some: (counts, the kinds it has purged)."""
    out: dict[str, tuple[Any, set[str]]] = {}
    for ids in _chunks(session_ids):
        for row in await db.scalars(select(SessionCounts).where(SessionCounts.session_id.in_(ids))):
            purged = set(row.purged) if isinstance(row.purged, dict) else set()
            out[row.session_id] = (row.counts, purged)
    return out


async def figures(db: DbSession, *, sessions: Sequence[Session], found: Sequence[Mark]) -> dict[str, Figures]:
    """Each closed session's figures: live rows where there are any, the purge's counts where not."""
    ids = [s.id for s in sessions if s.counted]
    statuses: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(rules.STATUSES, 0))
    for m in found:
        statuses[m.session_id][m.status if m.status in rules.STATUSES else "absent"] += 1
    waits = await _waits(db, ids)
    fb = await _feedback(db, ids)
    kept = await kept_counts(db, session_ids=ids)
    out: dict[str, Figures] = {}
    for sid in ids:
        counts, purged = kept.get(sid, (None, set()))
        counted = rules.figures_from_counts(counts) if counts is not None else Figures()
        # A kind the purge says it deleted reads from the counts; otherwise the live rows, unless they are
        # gone while the counts have some (deleted in a purge that had not yet marked it).
        tickets, live_waits = waits.get(sid, (0, []))
        responses, questions, anonymous = fb.get(sid, (0, {}, True))
        live_att = sid in statuses and not ({"attendance", "roster"} & purged and counted.statuses is not None)
        live_help = "records" not in purged and (tickets > 0 or not counted.tickets)
        live_fb = "feedback" not in purged and (responses > 0 or not counted.responses)
        if counts is None:
            live_help = live_fb = True
        f = Figures(
            statuses=statuses[sid] if live_att else counted.statuses,
            roster=sum(statuses[sid].values()) if live_att else counted.roster,
            tickets=tickets if live_help else counted.tickets,
            waits_s=live_waits if live_help else counted.waits_s,
            responses=responses if live_fb else counted.responses,
            questions=questions if live_fb else counted.questions,
            anonymous=anonymous if live_fb and sid in fb else None,
        )
        source: dict[str, rules.Source] = {}
        if live_att or counted.statuses is not None:
            source["attendance"] = "live" if live_att else "counts"
        source["help"] = "live" if live_help else "counts"
        source["feedback"] = "live" if live_fb else "counts"
        out[sid] = replace(f, source=source)
    return out


async def warnings(db: DbSession, *, keys: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """The low-attendance warnings whose jobs have these unique keys (key -> person): person -> {at (when the
    mail went, else None), state, series_id}; a person warned in several series keeps the first that went."""
    out: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(sorted(keys)):
        for job in await db.scalars(select(JobRecord).where(JobRecord.key.in_(chunk))):
            payload = job.payload if isinstance(job.payload, dict) else {}
            person = keys[job.key]
            at = iso(job.done_at) if job.state == "done" else None
            mine = out.get(person)
            if mine is None or (at is not None and (mine["at"] is None or at < mine["at"])):
                out[person] = {"at": at, "state": job.state, "series_id": payload.get("series_id")}
    return out

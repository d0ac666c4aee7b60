"""Feedback forms and responses: each session's two forms as set (or as in force at the close), and the answers."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession as DbSession

from core import feedback as rules
from core.feedback import AUDIENCES, Audience, Form, Response
from core.model import iso
from persistence.models import FeedbackFormRecord, FeedbackResponseRecord, Participant


async def form_of(db: DbSession, *, session_id: str, audience: Audience) -> tuple[Form, bool] | None:
    """The form stored for the session and audience and whether it is the default written at close; None: none."""
    row = await db.get(FeedbackFormRecord, (session_id, audience))
    if row is None:
        return None
    return rules.parse_form({"anonymous": row.anonymous, "questions": row.questions}), row.is_default


async def save_form(
    db: DbSession, *, session_id: str, audience: Audience, form: Form, is_default: bool, by: str | None, now: datetime
) -> None:
    """Set the session's form for an audience (the caller has checked it has no answers yet)."""
    public = form.public()
    row = await db.get(FeedbackFormRecord, (session_id, audience))
    if row is None:
        db.add(
            FeedbackFormRecord(
                session_id=session_id,
                audience=audience,
                anonymous=form.anonymous,
                questions=public["questions"],
                is_default=is_default,
                updated_at=now,
                updated_by=by,
            )
        )
    else:
        row.anonymous, row.questions, row.is_default = form.anonymous, public["questions"], is_default
        row.updated_at, row.updated_by = now, by
    await db.flush()


async def response_count(db: DbSession, *, session_id: str, audience: Audience) -> int:
    found = await db.scalar(
        select(func.count())
        .select_from(FeedbackResponseRecord)
        .where(FeedbackResponseRecord.session_id == session_id, FeedbackResponseRecord.audience == audience)
    )
    return int(found or 0)


async def answers_of(
    db: DbSession, *, session_id: str, audience: Audience, respondent: str
) -> tuple[dict[str, Any], datetime] | None:
    """A person's answers (by their token's digest) and when they last gave them; None: not yet."""
    row = await _response(db, session_id, audience, respondent)
    return None if row is None else (dict(row.answers), row.updated_at)


async def _response(db: DbSession, session_id: str, audience: str, respondent: str) -> FeedbackResponseRecord | None:
    found: FeedbackResponseRecord | None = await db.scalar(
        select(FeedbackResponseRecord).where(
            FeedbackResponseRecord.session_id == session_id,
            FeedbackResponseRecord.audience == audience,
            FeedbackResponseRecord.respondent == respondent,
        )
    )
    return found


async def save_response(
    db: DbSession,
    *,
    session_id: str,
    audience: Audience,
    respondent: str,
    participant_id: str | None,
    answers: dict[str, Any],
    now: datetime,
) -> bool:
    """Keep a person's answers, replacing any they gave before; answers whether they are new."""
    row = await _response(db, session_id, audience, respondent)
    if row is not None:
        row.answers, row.updated_at = answers, now
        await db.flush()
        return False
    db.add(
        FeedbackResponseRecord(
            id=uuid.uuid4().hex,
            session_id=session_id,
            audience=audience,
            respondent=respondent,
            participant_id=participant_id,
            answers=answers,
            submitted_at=now,
            updated_at=now,
        )
    )
    await db.flush()
    return True


async def respondents(db: DbSession, *, session_id: str, audience: Audience) -> set[str]:
    """The token digests of everyone who has answered the form."""
    rows = await db.scalars(
        select(FeedbackResponseRecord.respondent).where(
            FeedbackResponseRecord.session_id == session_id, FeedbackResponseRecord.audience == audience
        )
    )
    return set(rows)


async def responses(db: DbSession, *, session_id: str, audience: Audience, named: bool) -> list[Response]:
    """The form's responses, oldest first; names (from the roster) only when `named`."""
    rows = (
        await db.execute(
            select(FeedbackResponseRecord, Participant.name)
            .outerjoin(Participant, Participant.id == FeedbackResponseRecord.participant_id)
            .where(FeedbackResponseRecord.session_id == session_id, FeedbackResponseRecord.audience == audience)
            .order_by(FeedbackResponseRecord.submitted_at, FeedbackResponseRecord.id)
        )
    ).all()
    out = []
    for row, name in rows:
        if not named:
            out.append(Response(answers=dict(row.answers), submitted_at=row.updated_at))
        else:
            who = name if row.participant_id is not None else "Instructor"
            out.append(
                Response(
                    answers=dict(row.answers), submitted_at=row.updated_at, name=who, participant_id=row.participant_id
                )
            )
    return out


async def for_record(db: DbSession, *, session_id: str) -> dict[str, Any]:
    """feedback.json of the session record: each form, its responses and its results. A named form's
    responses carry the participant's id and name; an anonymous form's carry neither."""
    out: dict[str, Any] = {"session_id": session_id, "forms": {}}
    for audience in AUDIENCES:
        stored = await form_of(db, session_id=session_id, audience=audience)
        form = stored[0] if stored is not None else rules.Defaults().of(audience)
        found = await responses(db, session_id=session_id, audience=audience, named=not form.anonymous)
        kept = []
        for r in found:
            item: dict[str, Any] = {"answers": r.answers, "submitted_at": iso(r.submitted_at)}
            if not form.anonymous:
                item.update(participant_id=r.participant_id, name=r.name)
            kept.append(item)
        out["forms"][audience] = {
            "form": form.public(),
            "is_default": stored is None or stored[1],
            "responses": kept,
            "results": rules.results(form, found),
        }
    return out

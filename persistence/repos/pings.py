"""Pings and their answers: launched, answered (batched), closed, and counted for the attendance sheet."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession as DbSession

from core.model import Ping
from persistence.models import PingAnswer, PingRecord
from persistence.repos import _rows
from persistence.writer import Batched


async def add_ping(db: DbSession, *, session_id: str, ping: Ping) -> None:
    db.add(
        PingRecord(
            id=ping.id,
            session_id=session_id,
            kind=ping.kind,
            question=ping.question,
            options=ping.options,
            launched_at=ping.launched_at,
            closes_at=ping.closes_at,
            closed_at=None,
            total=None,
            seen=sorted(ping.seen),
        )
    )
    await db.flush()


def save_answer(*, ping_id: str, participant_id: str, answer: Any, now: datetime) -> Batched:
    """A participant's answer; answering again replaces it."""
    return Batched(
        "save_answer",
        _upsert_answer,
        {"ping_id": ping_id, "participant_id": participant_id, "answer": answer, "answered_at": now},
    )


@functools.cache
def _upsert_answer(dialect: str) -> Any:
    t = _rows.table(PingAnswer)
    insert = sqlite_insert if dialect == "sqlite" else pg_insert
    stmt = insert(t)
    return stmt.on_conflict_do_update(
        index_elements=[t.c.ping_id, t.c.participant_id],
        set_={"answer": stmt.excluded.answer, "answered_at": stmt.excluded.answered_at},
    )


async def close_ping(db: DbSession, *, ping: Ping) -> None:
    await db.execute(
        update(PingRecord)
        .where(PingRecord.id == ping.id)
        .values(closed_at=ping.closed_at, total=len(ping.seen), seen=sorted(ping.seen))
    )


async def get_ping(db: DbSession, *, session_id: str, ping_id: str) -> Ping | None:
    row = await db.get(PingRecord, ping_id)
    if row is None or row.session_id != session_id:
        return None
    ping = _rows.ping(row)
    ping.answers = await ping_answers(db, ping_id=ping_id)
    ping.seen |= set(ping.answers)
    return ping


async def ping_answers(db: DbSession, *, ping_id: str) -> dict[str, Any]:
    rows = await db.execute(
        select(PingAnswer.participant_id, PingAnswer.answer)
        .where(PingAnswer.ping_id == ping_id)
        .order_by(PingAnswer.answered_at)
    )
    return {pid: a for pid, a in rows}


async def answer_counts(db: DbSession, *, session_id: str) -> tuple[int, dict[str, int]]:
    """Pings of the session, and how many each participant answered."""
    total = await db.scalar(select(func.count()).where(PingRecord.session_id == session_id)) or 0
    rows = await db.execute(
        select(PingAnswer.participant_id, func.count())
        .join(PingRecord, PingRecord.id == PingAnswer.ping_id)
        .where(PingRecord.session_id == session_id)
        .group_by(PingAnswer.participant_id)
    )
    return total, {p: n for p, n in rows}

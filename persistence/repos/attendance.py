"""The attendance sheet as saved at close, one row per participant."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession as DbSession

from persistence.models import AttendanceRecord
from persistence.repos import _rows


async def save_attendance(db: DbSession, *, session_id: str, rows: list[dict[str, Any]]) -> None:
    """The sheet as saved at close, in one statement for the whole class."""
    table = _rows.table(AttendanceRecord)
    await db.execute(delete(table).where(table.c.session_id == session_id))
    if rows:
        await db.execute(
            insert(table), [{"session_id": session_id, "participant_id": r["participant_id"], "row": r} for r in rows]
        )


async def saved_attendance(db: DbSession, *, session_id: str) -> list[dict[str, Any]]:
    rows = await db.scalars(select(AttendanceRecord.row).where(AttendanceRecord.session_id == session_id))
    return list(rows)

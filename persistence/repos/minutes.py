"""A session's notes, its minutes and the versions of them mailed (contract part 2, After the class).

Saves are compare-and-set on the version: a save writes only over the version it read, so two
processes (or two tabs through one) saving at once cannot both win; the loser sees nothing written
and is told `conflict` by the service.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession as DbSession

from core.minutes import Circulation, Content, Minutes, Notes, minutes_public
from persistence.models import MinutesCirculationRecord, MinutesRecord, NotesRecord


def _insert(db: DbSession) -> Any:
    return sqlite_insert if db.get_bind().dialect.name == "sqlite" else pg_insert


def _rowcount(result: Any) -> int:
    count: int = result.rowcount
    return count


# ---------------------------------------------------------------- notes


async def get_notes(db: DbSession, *, session_id: str) -> Notes:
    """The session's notes (version 0 and no text when none were saved)."""
    row = await db.get(NotesRecord, session_id, populate_existing=True)
    if row is None:
        return Notes(session_id)
    return Notes(session_id, row.text, row.version, row.saved_at, row.saved_by)


async def put_notes(db: DbSession, *, over: Notes, text: str, at: datetime, by: str) -> Notes | None:
    """Write `text` as the version after `over` if `over` is still current; None when another save won."""
    version = over.version + 1
    if over.version == 0:
        stmt = _insert(db)(NotesRecord).values(
            session_id=over.session_id, text=text, version=version, saved_at=at, saved_by=by
        )
        written = _rowcount(await db.execute(stmt.on_conflict_do_nothing(index_elements=["session_id"])))
    else:
        written = _rowcount(
            await db.execute(
                update(NotesRecord)
                .where(NotesRecord.session_id == over.session_id, NotesRecord.version == over.version)
                .values(text=text, version=version, saved_at=at, saved_by=by)
            )
        )
    return Notes(over.session_id, text, version, at, by) if written == 1 else None


# ---------------------------------------------------------------- minutes


async def get_minutes(db: DbSession, *, session_id: str) -> Minutes:
    """The session's minutes (version 0 and empty when never saved)."""
    row = await db.get(MinutesRecord, session_id, populate_existing=True)
    if row is None:
        return Minutes(session_id)
    content = Content.of({"summary": row.summary, "key_points": row.key_points, "action_items": row.action_items})
    return Minutes(session_id, content, row.version, row.updated_at, row.updated_by)


async def put_minutes(db: DbSession, *, over: Minutes, content: Content, at: datetime, by: str) -> Minutes | None:
    """Write `content` as the version after `over` if `over` is still current; None when another save won."""
    version = over.version + 1
    values = content.public()
    if over.version == 0:
        stmt = _insert(db)(MinutesRecord).values(
            session_id=over.session_id, version=version, updated_at=at, updated_by=by, **values
        )
        written = _rowcount(await db.execute(stmt.on_conflict_do_nothing(index_elements=["session_id"])))
    else:
        written = _rowcount(
            await db.execute(
                update(MinutesRecord)
                .where(MinutesRecord.session_id == over.session_id, MinutesRecord.version == over.version)
                .values(version=version, updated_at=at, updated_by=by, **values)
            )
        )
    return Minutes(over.session_id, content, version, at, by) if written == 1 else None


# ---------------------------------------------------------------- circulations


async def add_circulation(
    db: DbSession, *, session_id: str, version: int, content: Content, sent: int, at: datetime, by: str
) -> bool:
    """Record that a version is mailed, unless it was already (answers whether this call recorded it)."""
    stmt = _insert(db)(MinutesCirculationRecord).values(
        session_id=session_id, version=version, content=content.public(), sent=sent, at=at, by_name=by
    )
    return _rowcount(await db.execute(stmt.on_conflict_do_nothing(index_elements=["session_id", "version"]))) == 1


async def circulations(db: DbSession, *, session_id: str) -> list[Circulation]:
    """The versions mailed, oldest first."""
    rows = await db.scalars(
        select(MinutesCirculationRecord)
        .where(MinutesCirculationRecord.session_id == session_id)
        .order_by(MinutesCirculationRecord.version)
    )
    return [Circulation(r.version, r.at, r.sent, r.by_name) for r in rows]


async def circulated_content(db: DbSession, *, session_id: str, version: int) -> Content | None:
    """The minutes as they were when `version` was circulated."""
    row = await db.get(MinutesCirculationRecord, (session_id, version))
    return None if row is None else Content.of(row.content)


# ---------------------------------------------------------------- the session record


async def for_record(db: DbSession, *, session_id: str) -> dict[str, Any] | None:
    """minutes.json of the session record: the minutes, the versions mailed, and the notes; None when the
    session has neither minutes nor notes."""
    notes = await get_notes(db, session_id=session_id)
    minutes = await get_minutes(db, session_id=session_id)
    if notes.version == 0 and minutes.version == 0:
        return None
    out = minutes_public(minutes, await circulations(db, session_id=session_id))
    del out["session_id"], out["updated_by"]
    out["notes"] = notes.public()
    return out

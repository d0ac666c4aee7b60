"""Connections, the presence intervals: opened and closed in batches, kept alive per process, ended when stale."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession as DbSession

from persistence.models import Connection
from persistence.repos import _rows
from persistence.writer import Batched


def open_connection(
    *, connection_id: str, session_id: str, participant_id: str, process_id: str, now: datetime
) -> Batched:
    return Batched(
        "open_connection",
        lambda _: insert(_rows.table(Connection)),
        {
            "id": connection_id,
            "session_id": session_id,
            "participant_id": participant_id,
            "process_id": process_id,
            "connected_at": now,
            "alive_at": now,
            "ended_at": None,
        },
    )


def close_connection(*, connection_id: str, now: datetime) -> Batched:
    return Batched("close_connection", _close_connection, {"b_id": connection_id, "ended_at": now})


def _close_connection(dialect: str) -> Any:
    t = _rows.table(Connection)
    return update(t).where(t.c.id == bindparam("b_id"), t.c.ended_at.is_(None)).values(ended_at=bindparam("ended_at"))


async def keep_alive(db: DbSession, *, process_id: str, now: datetime) -> None:
    """This process's open connections are still open at `now`."""
    await db.execute(
        update(Connection)
        .where(Connection.process_id == process_id, Connection.ended_at.is_(None))
        .values(alive_at=now)
    )


async def end_stale_connections(db: DbSession, *, alive_before: datetime, process_id: str | None = None) -> int:
    """Connections of processes that died end where they were last known alive."""
    cond = Connection.ended_at.is_(None) & (Connection.alive_at < alive_before)
    if process_id is not None:
        cond = Connection.ended_at.is_(None) & (Connection.process_id == process_id)
    result = await db.execute(update(Connection).where(cond).values(ended_at=Connection.alive_at))
    return int(getattr(result, "rowcount", 0) or 0)


async def connections(db: DbSession, *, session_id: str) -> list[tuple[str, datetime, datetime | None]]:
    rows = await db.execute(
        select(Connection.participant_id, Connection.connected_at, Connection.ended_at).where(
            Connection.session_id == session_id
        )
    )
    return [(p, c, e) for p, c, e in rows]

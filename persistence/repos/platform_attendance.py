"""The platform's attendance: the reports imported (one per platform and session) and Zoom's webhook events."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession as DbSession

from core import platform_attendance as rules
from core.model import Member, SessionState, iso
from persistence.models import LiveSession, PlatformImport, PlatformRow, ZoomEventRecord
from persistence.repos import _rows, roster, sessions

_rows_table = _rows.table(PlatformRow)


# ---------------------------------------------------------------- the reports


async def replace_import(
    db: DbSession,
    *,
    import_id: str,
    session_id: str,
    report: rules.Report,
    matches: dict[int, tuple[str, str]],
    imported_by: str,
    now: datetime,
) -> None:
    """The report as the session's one import from its platform (the one before it goes, rows and all)."""
    old = await db.scalars(
        select(PlatformImport.id).where(
            PlatformImport.session_id == session_id, PlatformImport.platform == report.platform
        )
    )
    old_ids = list(old)
    if old_ids:
        await db.execute(delete(_rows_table).where(_rows_table.c.import_id.in_(old_ids)))
        await db.execute(delete(PlatformImport).where(PlatformImport.id.in_(old_ids)))
    db.add(
        PlatformImport(
            id=import_id,
            session_id=session_id,
            platform=report.platform,
            layout=report.layout,
            imported_at=now,
            imported_by=imported_by,
            duplicates=report.duplicates,
        )
    )
    await db.flush()
    if report.rows:
        await db.execute(
            insert(_rows_table),
            [
                {
                    "import_id": import_id,
                    "row": r.row,
                    "name": r.name,
                    "email": r.email,
                    "joined_at": r.joined_at,
                    "left_at": r.left_at,
                    "participant_id": matches[r.row][0] if r.row in matches else None,
                    "matched_by": matches[r.row][1] if r.row in matches else None,
                }
                for r in report.rows
            ],
        )


async def import_session(db: DbSession, *, import_id: str) -> str | None:
    """The session an import belongs to, None when there is no such import."""
    found: str | None = await db.scalar(select(PlatformImport.session_id).where(PlatformImport.id == import_id))
    return found


async def set_match(db: DbSession, *, import_id: str, row: int, participant_id: str | None) -> bool:
    """Match a row (and every row of the same person in that import) by hand; False when there is no such row."""
    found = await db.scalar(select(PlatformRow).where(PlatformRow.import_id == import_id, PlatformRow.row == row))
    if found is None:
        return False
    same = [PlatformRow.name == found.name]
    if found.email:
        same = [or_(PlatformRow.email == found.email, PlatformRow.name == found.name)]
    await db.execute(
        update(PlatformRow)
        .where(PlatformRow.import_id == import_id, *same)
        .values(participant_id=participant_id, matched_by="manual" if participant_id else None)
    )
    return True


# ---------------------------------------------------------------- Zoom's webhook


async def sessions_on_meeting(db: DbSession, *, meeting_id: str) -> list[SessionState]:
    """The sessions whose join link (or booked meeting) is this Zoom meeting (a recurring one: its occurrences)."""
    ids = await db.execute(
        select(LiveSession.id, LiveSession.join_url).where(
            or_(LiveSession.meeting_id == meeting_id, LiveSession.join_url.contains(meeting_id))
        )
    )
    out = []
    for session_id, join_url in ids:
        state = await sessions.get_session(db, session_id=session_id)
        if state is not None and (state.meeting_id == meeting_id or rules.meeting_id_of(join_url) == meeting_id):
            out.append(state)
    return out


async def add_event(db: DbSession, *, session_id: str, event: rules.ZoomEvent, now: datetime) -> bool:
    """Store the event unless Zoom sent it before (its key); answers whether it was new."""
    dialect_insert = sqlite_insert if db.get_bind().dialect.name == "sqlite" else pg_insert
    table = _rows.table(ZoomEventRecord)
    stmt = dialect_insert(table).values(
        key=event.key,
        session_id=session_id,
        kind=event.kind,
        meeting_id=event.meeting_id,
        meeting_uuid=event.meeting_uuid,
        who=event.who,
        name=event.name,
        email=event.email,
        at=event.at,
        received_at=now,
    )
    added = await db.execute(stmt.on_conflict_do_nothing(index_elements=[table.c.key]).returning(table.c.key))
    return added.first() is not None


async def _events(db: DbSession, *, session_id: str) -> list[rules.ZoomEvent]:
    rows = await db.scalars(select(ZoomEventRecord).where(ZoomEventRecord.session_id == session_id))
    return [
        rules.ZoomEvent(r.key, r.kind, r.meeting_id, r.meeting_uuid, r.who, r.name, r.email, r.at)  # type: ignore[arg-type]
        for r in rows
    ]


# ---------------------------------------------------------------- what the sheet and the pages read


async def listing(db: DbSession, *, session_id: str, members: list[Member]) -> dict[str, Any]:
    """The imports with their rows, and the webhook's intervals, each with the participant it is."""
    imports = list(
        await db.scalars(
            select(PlatformImport).where(PlatformImport.session_id == session_id).order_by(PlatformImport.imported_at)
        )
    )
    rows_of: dict[str, list[PlatformRow]] = defaultdict(list)
    if imports:
        found = await db.scalars(
            select(PlatformRow).where(PlatformRow.import_id.in_([i.id for i in imports])).order_by(PlatformRow.row)
        )
        for r in found:
            rows_of[r.import_id].append(r)
    webhook = []
    for join, left_at in rules.webhook_intervals(await _events(db, session_id=session_id)):
        matched = rules.match(join.name, join.email, members)
        webhook.append(
            {
                "name": join.name,
                "email": join.email,
                "joined_at": iso(join.at),
                "left_at": iso(left_at),
                "participant_id": matched[0] if matched else None,
                "matched_by": matched[1] if matched else None,
            }
        )
    return {
        "imports": [
            {
                "import_id": i.id,
                "platform": i.platform,
                "layout": i.layout,
                "imported_at": iso(i.imported_at),
                "imported_by": i.imported_by,
                "duplicates": i.duplicates,
                "rows": [
                    {
                        "row": r.row,
                        "name": r.name,
                        "email": r.email,
                        "joined_at": iso(r.joined_at),
                        "left_at": iso(r.left_at),
                        "participant_id": r.participant_id,
                        "matched_by": r.matched_by,
                    }
                    for r in rows_of[i.id]
                ],
            }
            for i in imports
        ],
        "webhook": sorted(webhook, key=lambda w: (w["joined_at"] or "", w["name"])),
    }


async def intervals(
    db: DbSession, *, session_id: str, members: list[Member] | None = None
) -> dict[str, list[tuple[datetime, datetime | None]]]:
    """Each matched participant's reported intervals, from the reports and the webhook together."""
    if members is None:
        members = await roster.members(db, session_id=session_id)
    out: dict[str, list[tuple[datetime, datetime | None]]] = defaultdict(list)
    found = await db.execute(
        select(PlatformRow.participant_id, PlatformRow.joined_at, PlatformRow.left_at)
        .join(PlatformImport, PlatformImport.id == PlatformRow.import_id)
        .where(PlatformImport.session_id == session_id, PlatformRow.participant_id.is_not(None))
    )
    for pid, joined, left in found:
        if pid is not None:
            out[pid].append((joined, left))
    for join, left_at in rules.webhook_intervals(await _events(db, session_id=session_id)):
        matched = rules.match(join.name, join.email, members)
        if matched:
            out[matched[0]].append((join.at, left_at))
    return dict(out)


async def platform_minutes(db: DbSession, *, session: SessionState, now: datetime) -> dict[str, float] | None:
    """Each reported participant's platform minutes; None when nothing was imported or received."""
    if not await reported(db, session_id=session.id):
        return None
    return rules.minutes(session, await intervals(db, session_id=session.id), now)


async def reported(db: DbSession, *, session_id: str) -> bool:
    """Whether any report was imported or any webhook event received for the session."""
    imported = await db.scalar(select(PlatformImport.id).where(PlatformImport.session_id == session_id).limit(1))
    if imported is not None:
        return True
    heard = await db.scalar(select(ZoomEventRecord.key).where(ZoomEventRecord.session_id == session_id).limit(1))
    return heard is not None


async def for_record(db: DbSession, *, session_id: str) -> list[dict[str, Any]] | None:
    """The session record's platform-attendance.csv: one row per reported interval (None: nothing reported).

    Keys: core.record.PLATFORM_ATTENDANCE_COLUMNS (platform, name, email, participant_id, joined_at,
    left_at, minutes: the interval's own length, unclipped).
    """
    if not await reported(db, session_id=session_id):
        return None
    members = await roster.members(db, session_id=session_id)
    listed = await listing(db, session_id=session_id, members=members)
    out: list[dict[str, Any]] = []

    def length(joined: str | None, left: str | None) -> float | None:
        if joined is None or left is None:
            return None
        return round((datetime.fromisoformat(left) - datetime.fromisoformat(joined)).total_seconds() / 60, 2)

    for i in listed["imports"]:
        for r in i["rows"]:
            out.append(
                {
                    "platform": i["platform"],
                    "name": r["name"],
                    "email": r["email"],
                    "participant_id": r["participant_id"],
                    "joined_at": r["joined_at"],
                    "left_at": r["left_at"],
                    "minutes": length(r["joined_at"], r["left_at"]),
                }
            )
    for w in listed["webhook"]:
        out.append(
            {
                "platform": "zoom-webhook",
                "name": w["name"],
                "email": w["email"],
                "participant_id": w["participant_id"],
                "joined_at": w["joined_at"],
                "left_at": w["left_at"],
                "minutes": length(w["joined_at"], w["left_at"]),
            }
        )
    return out

"""Materials and platform run-throughs of a session (contract part 2, Preparation)."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession as DbSession

from core.materials import Material
from core.preparation import PlatformCheck
from persistence.models import MaterialRecord, PlatformCheckRecord, SessionRecordVersion


def _material(r: MaterialRecord) -> Material:
    return Material(
        id=r.id,
        session_id=r.session_id,
        title=r.title,
        created_at=r.created_at,
        created_by=r.created_by,
        filename=r.filename,
        url=r.url,
        size=r.size,
        sha256=r.sha256,
        content_type=r.content_type,
    )


async def add_material(db: DbSession, *, material: Material) -> None:
    m = material
    db.add(
        MaterialRecord(
            id=m.id,
            session_id=m.session_id,
            title=m.title,
            filename=m.filename,
            url=m.url,
            size=m.size,
            sha256=m.sha256,
            content_type=m.content_type,
            created_by=m.created_by,
            created_at=m.created_at,
        )
    )


async def materials_of(db: DbSession, *, session_id: str) -> list[Material]:
    rows = await db.scalars(
        select(MaterialRecord)
        .where(MaterialRecord.session_id == session_id)
        .order_by(MaterialRecord.created_at, MaterialRecord.id)
    )
    return [_material(r) for r in rows]


async def material_counts(db: DbSession, *, session_ids: Collection[str]) -> dict[str, int]:
    if not session_ids:
        return {}
    rows = await db.execute(
        select(MaterialRecord.session_id, func.count())
        .where(MaterialRecord.session_id.in_(list(session_ids)))
        .group_by(MaterialRecord.session_id)
    )
    return {sid: int(n) for sid, n in rows}


async def material_by_id(db: DbSession, *, material_id: str) -> Material | None:
    row = await db.get(MaterialRecord, material_id)
    return None if row is None else _material(row)


async def get_material(db: DbSession, *, session_id: str, material_id: str) -> Material | None:
    """The material, if it is this session's."""
    m = await material_by_id(db, material_id=material_id)
    return m if m is not None and m.session_id == session_id else None


async def delete_material(db: DbSession, *, session_id: str, material_id: str) -> Material | None:
    """Delete the material; answers it (None: there was none)."""
    row = await db.get(MaterialRecord, material_id)
    if row is None or row.session_id != session_id:
        return None
    gone = _material(row)
    await db.execute(delete(MaterialRecord).where(MaterialRecord.id == material_id))
    return gone


async def uses_of(db: DbSession, *, sha256: str) -> int:
    """How many materials (of any session), and session record versions, keep these bytes (the store is shared;
    the retention purge frees a record version's zip through the same files-gc job)."""
    materials = await db.scalar(select(func.count()).where(MaterialRecord.sha256 == sha256)) or 0
    records = await db.scalar(select(func.count()).where(SessionRecordVersion.sha256 == sha256)) or 0
    return materials + records


async def add_platform_check(db: DbSession, *, check: PlatformCheck) -> None:
    c = check
    db.add(
        PlatformCheckRecord(
            id=c.id,
            session_id=c.session_id,
            checks=dict(c.checks),
            notes=c.notes,
            by_name=c.by_name,
            by_role=c.by_role,
            at=c.at,
        )
    )


def _check(r: PlatformCheckRecord) -> PlatformCheck:
    return PlatformCheck(r.id, r.session_id, dict(r.checks), r.notes, r.by_name, r.by_role, r.at)


async def platform_checks(db: DbSession, *, session_id: str) -> list[PlatformCheck]:
    """The session's run-throughs, the latest first."""
    rows = await db.scalars(
        select(PlatformCheckRecord)
        .where(PlatformCheckRecord.session_id == session_id)
        .order_by(PlatformCheckRecord.at.desc(), PlatformCheckRecord.id.desc())
    )
    return [_check(r) for r in rows]


async def latest_checks(db: DbSession, *, session_ids: Collection[str]) -> dict[str, PlatformCheck]:
    """Each session's latest run-through."""
    if not session_ids:
        return {}
    rows = await db.scalars(
        select(PlatformCheckRecord)
        .where(PlatformCheckRecord.session_id.in_(list(session_ids)))
        .order_by(PlatformCheckRecord.at, PlatformCheckRecord.id)
    )
    return {r.session_id: _check(r) for r in rows}  # in time order: the latest wins

"""The audit log is append-only in the database itself (migration 0012), on SQLite and on PostgreSQL:
an UPDATE is refused, a DELETE of an entry younger than the audit retention is refused, an older one
may go (what the retention purge will do), and on PostgreSQL a TRUNCATE is refused."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from core.model import Actor
from persistence.db import create_engine, migrate, sessionmaker
from persistence.models import AuditEntry, AuditPolicy
from persistence.repos import audit, purge

ADMIN = Actor(role="admin", name="Root", token_id="t1")


@pytest.fixture
async def engine(tmp_path: Any, backing: dict[str, Any]) -> AsyncIterator[AsyncEngine]:
    url = str(backing.get("database_url") or f"sqlite+aiosqlite:///{tmp_path / 'audit.db'}")
    engine = create_engine(url)
    if url.startswith("sqlite"):
        await migrate(engine)
    yield engine
    await engine.dispose()


async def entry(engine: AsyncEngine, at: datetime, action: str = "cancel") -> int:
    async with sessionmaker(engine)() as db, db.begin():
        await audit.record(db, actor=ADMIN, action=action, target="session:s1", at=at, session_id="s1")
    async with sessionmaker(engine)() as db:
        return int(await db.scalar(select(func.max(AuditEntry.id))) or 0)


async def refused(engine: AsyncEngine, statement: Any) -> str:
    async with sessionmaker(engine)() as db:
        with pytest.raises(DBAPIError) as caught:
            async with db.begin():
                await db.execute(statement)
    return str(caught.value)


async def count(engine: AsyncEngine) -> int:
    async with sessionmaker(engine)() as db:
        return int(await db.scalar(select(func.count()).select_from(AuditEntry)) or 0)


async def test_an_entry_is_never_changed(engine: AsyncEngine) -> None:
    ident = await entry(engine, datetime.now(UTC))
    why = await refused(engine, update(AuditEntry).where(AuditEntry.id == ident).values(action="forged"))
    assert "append-only" in why
    async with sessionmaker(engine)() as db:
        assert await db.scalar(select(AuditEntry.action).where(AuditEntry.id == ident)) == "cancel"


async def test_only_entries_past_the_audit_retention_can_be_deleted(engine: AsyncEngine) -> None:
    now = datetime.now(UTC)
    young = await entry(engine, now - timedelta(days=365 * 7 - 2))
    old = await entry(engine, now - timedelta(days=365 * 7 + 2))
    why = await refused(engine, delete(AuditEntry).where(AuditEntry.id == young))
    assert "younger than the audit retention" in why
    assert await count(engine) == 2
    async with sessionmaker(engine)() as db, db.begin():
        await db.execute(delete(AuditEntry).where(AuditEntry.id == old))
    assert await count(engine) == 1
    # The retention the trigger reads is the policy's: shorter, and the young one may go too.
    async with sessionmaker(engine)() as db, db.begin():
        await db.execute(update(AuditPolicy).values(keep_seconds=3600))
        await db.execute(delete(AuditEntry).where(AuditEntry.id == young))
    assert await count(engine) == 0


async def test_postgresql_refuses_to_truncate_the_log(engine: AsyncEngine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("TRUNCATE is PostgreSQL's")
    await entry(engine, datetime.now(UTC))
    assert "never truncated" in await refused(engine, text("TRUNCATE audit_log"))
    assert await count(engine) == 1


async def test_the_purge_asks_only_for_what_the_trigger_lets_go_whatever_its_clock_says(engine: AsyncEngine) -> None:
    """The retention purge deletes entries older than the earlier of its own cutoff and the database's
    (its clock, `audit_policy`): a server clock running ahead of the database's never has a delete refused."""
    now = datetime.now(UTC)
    async with sessionmaker(engine)() as db, db.begin():
        await db.execute(update(AuditPolicy).values(keep_seconds=30 * 86400))
    old = await entry(engine, now - timedelta(days=31))
    young = await entry(engine, now - timedelta(days=29))
    ahead = now + timedelta(days=365)  # what a clock a year ahead would call past a 30-day retention
    async with sessionmaker(engine)() as db:
        cutoff = await purge.audit_cutoff(db, cutoff=ahead - timedelta(days=30))
    assert now - timedelta(days=30, seconds=5) < cutoff <= now - timedelta(days=30)
    async with sessionmaker(engine)() as db, db.begin():
        assert await purge.delete_entries(db, kind="audit", before=cutoff, limit=100) == 1
    async with sessionmaker(engine)() as db:
        assert set(await db.scalars(select(AuditEntry.id))) == {young}
    assert old != young

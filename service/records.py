"""Aggregates outside the live session (staff, passkeys, web sessions, invitations, the mail outbox).

Their rules live with the ceremonies that use them (server/passkeys.py, server/websession.py); what
they share with the live actions is the one writer, so every write of the process commits in one
order and is durable before it is answered.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

from core.model import Actor
from persistence.repos import audit
from service.unit import Op, Unit

T = TypeVar("T")


class Records:
    def __init__(self, unit: Unit) -> None:
        self._u = unit

    async def read(self, fn: Callable[..., Awaitable[T]], **kwargs: Any) -> T:
        """A repository read in its own short transaction."""
        return await self._u.read(fn, **kwargs)

    async def write(self, op: Op) -> Any:
        """A write through the one writer; answers its result once committed."""
        return await self._u.submit(op)

    async def downloaded(
        self, actor: Actor, *, target: str, session_id: str | None, detail: dict[str, Any], email: str | None = None
    ) -> None:
        """Audit a download of personal data (`download`) before its bytes go. `email`: a staff member the
        download is about (an instructor's report), named in the detail by internal id, never by address."""
        now = self._u.now()

        async def op(db: Any) -> None:
            about = dict(detail)
            if email is not None:
                about["instructor"] = await audit.staff_actor_id(db, email=email)
            await audit.record(
                db, actor=actor, action="download", target=target, session_id=session_id, at=now, detail=about
            )

        await self._u.submit(op)

    async def audit(
        self,
        *,
        session_id: str | None,
        actor: str | None,
        action: str | None,
        after: datetime | None,
        cursor: int | None,
        limit: int,
    ) -> tuple[list[dict[str, Any]], int | None]:
        """A page of the audit log; `actor` an internal id, or a staff member's email (read as their id)."""
        if actor is not None and "@" in actor:
            actor = await self._u.read(audit.staff_actor_id, email=actor) or "staff:unknown"
        return await self._u.read(
            audit.entries, session_id=session_id, actor=actor, action=action, after=after, cursor=cursor, limit=limit
        )

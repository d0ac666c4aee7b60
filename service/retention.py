"""Records over time: legal holds now; the retention purge comes next (core/retention.py has its rules)."""

from __future__ import annotations

from typing import Any

from core.model import Actor, SessionState
from persistence.repos import retention as repo
from service.unit import Unit


class Retention:
    def __init__(self, unit: Unit) -> None:
        self._u = unit

    async def hold(self, actor: Actor, s: SessionState, *, hold: bool, reason: str) -> dict[str, Any]:
        """Put a session on legal hold or take it off (audited `hold`); answers the session with its hold."""
        now = self._u.now()

        async def op(db: Any) -> dict[str, Any] | None:
            await repo.set_hold(db, actor=actor, session_id=s.id, hold=hold, reason=reason, now=now)
            return await repo.hold_of(db, session_id=s.id)

        return {**s.public(), "legal_hold": await self._u.submit(op)}

    async def hold_of(self, s: SessionState) -> dict[str, Any] | None:
        return await self._u.read(repo.hold_of, session_id=s.id)

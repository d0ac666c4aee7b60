"""The platform's attendance: Zoom's webhook events and the reports staff import, matched to the roster.

Both write only their own rows, in one transaction each through the writer (so what is answered is
durable); a change to a closed session's attendance queues its record's rebuild in that transaction.
The sheet reads the platform minutes as they are when it is read (persistence/repos/platform_attendance.py).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession as DbSession

from core import platform_attendance as rules
from core.errors import Invalid, NotFound
from core.model import Actor, SessionState
from persistence.identity import new_id
from persistence.repos import audit, roster, session_record
from persistence.repos import platform_attendance as repo
from service.unit import Unit

log = logging.getLogger("companion.platform_attendance")


class PlatformAttendance:
    def __init__(self, unit: Unit, webhook_secret: str | None) -> None:
        self._u = unit
        self.webhook_secret = webhook_secret

    # ------------------------------------------------------------ Zoom's webhook

    async def webhook(self, body: bytes, timestamp: str | None, signature: str | None) -> dict[str, Any]:
        """A signed request from Zoom: the url_validation answered, a join or leave stored once."""
        secret = self.webhook_secret
        if secret is None:
            raise NotFound("not found")
        now = self._u.now()
        rules.verify(secret, timestamp, signature, body, now)
        try:
            parsed = json.loads(body)
        except ValueError:
            raise Invalid("body: JSON is required") from None
        if not isinstance(parsed, dict):
            raise Invalid("body: a JSON object is required")
        if parsed.get("event") == "endpoint.url_validation":
            token = (parsed.get("payload") or {}).get("plainToken") if isinstance(parsed.get("payload"), dict) else None
            if not isinstance(token, str) or not token:
                raise Invalid("payload.plainToken is required")
            return rules.url_validation(secret, token)
        event = rules.zoom_event(parsed)
        if event is None:
            return {}  # an event this area does not use: acknowledged so Zoom does not retry it
        ev = event

        async def op(db: DbSession) -> str | None:
            session = rules.occurrence(await repo.sessions_on_meeting(db, meeting_id=ev.meeting_id), ev.at)
            if session is None:
                return None
            if await repo.add_event(db, session_id=session.id, event=ev, now=now):
                await session_record.stale(db, session_id=session.id, now=now)
            return session.id

        session_id = await self._u.submit(op)
        if session_id is None:
            log.info("zoom webhook: meeting %s at %s is no session's", ev.meeting_id, ev.at.isoformat())
        return {}

    # ------------------------------------------------------------ the reports

    async def import_report(self, actor: Actor, state: SessionState, raw: bytes) -> dict[str, Any]:
        """Parse, match and store a report as the session's one import from its platform, all or nothing."""
        zone = ZoneInfo(state.timezone or "UTC")
        report = await asyncio.to_thread(rules.parse_report, raw, zone)
        members = await self._u.read(roster.members, session_id=state.id)
        matches: dict[int, tuple[str, str]] = {}
        for r in report.rows:
            found = rules.match(r.name, r.email, members)
            if found is not None:
                matches[r.row] = found
        import_id = new_id()
        now = self._u.now()

        async def op(db: DbSession) -> None:
            await repo.replace_import(
                db,
                import_id=import_id,
                session_id=state.id,
                report=report,
                matches=matches,
                imported_by=actor.name,
                now=now,
            )
            await audit.record(
                db,
                actor=actor,
                action="platform_import",
                target=import_id,
                at=now,
                session_id=state.id,
                detail={"platform": report.platform, "rows": len(report.rows), "duplicates": report.duplicates},
            )
            await session_record.stale(db, session_id=state.id, now=now)

        await self._u.submit(op)
        return {
            "import_id": import_id,
            "platform": report.platform,
            "layout": report.layout,
            "matched": len(matches),
            "unmatched": [
                {"row": r.row, "name": r.name, "email": r.email} for r in report.rows if r.row not in matches
            ],
            "duplicates": report.duplicates,
        }

    async def match(
        self, actor: Actor, state: SessionState, import_id: str, row: int, participant_id: str | None
    ) -> None:
        """Staff say which roster participant a report's row is (None: none of them)."""
        members = await self._u.read(roster.members, session_id=state.id)
        if participant_id is not None and participant_id not in {m.id for m in members}:
            raise Invalid("participant_id: not on this session's roster")
        if await self._u.read(repo.import_session, import_id=import_id) != state.id:
            raise NotFound("no such import")
        now = self._u.now()

        async def op(db: DbSession) -> bool:
            if not await repo.set_match(db, import_id=import_id, row=row, participant_id=participant_id):
                return False
            await audit.record(
                db,
                actor=actor,
                action="platform_match",
                target=import_id,
                at=now,
                session_id=state.id,
                detail={"row": row, "participant_id": participant_id},
            )
            await session_record.stale(db, session_id=state.id, now=now)
            return True

        if not await self._u.submit(op):
            raise NotFound("no such row in that import")

    async def overview(self, state: SessionState, sheet: list[dict[str, Any]]) -> dict[str, Any]:
        """The imports, the webhook's intervals and, per participant, the two attendances side by side."""
        members = await self._u.read(roster.members, session_id=state.id)
        listed = await self._u.read(repo.listing, session_id=state.id, members=members)
        reported = bool(listed["imports"] or listed["webhook"])
        participants = []
        for row in sheet:
            pm = row.get("platform_minutes")
            participants.append(
                {
                    "participant_id": row["participant_id"],
                    "name": row["name"],
                    "email": row["email"],
                    "status": row["status"],
                    "minutes_present": row["minutes_present"],
                    "platform_minutes": pm,
                    "flags": rules.flags(row["status"], pm, reported),
                }
            )
        return {"session_id": state.id, **listed, "participants": participants}

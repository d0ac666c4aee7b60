"""The session's lifecycle as a state machine: scheduled -> live -> closed, with delays; or scheduled -> cancelled."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from core.errors import Conflict
from core.model import Emit, PlatformStatus, SessionState, room_all

# Check-in opens this long before the expected start (contract).
CHECKIN_OPENS_BEFORE = timedelta(minutes=30)


def require_open(session: SessionState) -> None:
    """Every change to a closed or cancelled session answers conflict (its sockets may stay to read)."""
    if session.status in ("closed", "cancelled"):
        raise Conflict(f"the session is {session.status}")


def session_event(session: SessionState) -> Emit:
    return Emit("session", session.public(), room_all(session.id))


def start(session: SessionState, now: datetime) -> tuple[SessionState, list[Emit]]:
    """Go live now; starting a live session answers it as it is."""
    require_open(session)
    if session.status == "live":
        return session, []
    started = replace(session, status="live", started_at=now)
    return started, [session_event(started)]


def delay(session: SessionState, minutes: int, reason: str | None) -> tuple[SessionState, list[Emit]]:
    """Move the expected start on from where it was; only a scheduled session can be delayed."""
    require_open(session)
    if session.status != "scheduled":
        raise Conflict(f"a {session.status} session cannot be delayed")
    delayed = replace(session, delay_minutes=session.delay_minutes + minutes, delay_reason=reason)
    return delayed, [session_event(delayed)]


def close(session: SessionState, now: datetime) -> tuple[SessionState, list[Emit]]:
    """Close now; closing a closed session changes nothing (its open pings and tickets end too: pings, helpdesk)."""
    if session.status == "closed":
        return session, []
    if session.status == "cancelled":
        raise Conflict("the session is cancelled: it never took place, so there is nothing to close")
    closed = replace(session, status="closed", closed_at=now)
    return closed, [session_event(closed)]


def cancel(session: SessionState, now: datetime, reason: str) -> tuple[SessionState, list[Emit]]:
    """Cancel a session that has not begun: it never goes live; a live or closed one cannot be cancelled."""
    if session.status != "scheduled":
        raise Conflict(f"a {session.status} session cannot be cancelled; only a scheduled one")
    cancelled = replace(session, status="cancelled", cancelled_at=now, cancel_reason=reason)
    return cancelled, [session_event(cancelled)]


def set_platform(session: SessionState, status: PlatformStatus, message: str) -> tuple[SessionState, list[Emit]]:
    """The video platform's status, as staff report it: everyone sees the banner and the session carries it."""
    require_open(session)
    changed = replace(session, platform_status=status, platform_message=message)
    return changed, [
        Emit("platform", {"status": status, "message": message}, room_all(session.id)),
        session_event(changed),
    ]


def due_to_start(session: SessionState, now: datetime) -> bool:
    """A scheduled session goes live by itself at its expected start."""
    return session.status == "scheduled" and session.expected_start <= now


def due_to_close(session: SessionState, now: datetime, grace: timedelta, connected: int) -> bool:
    """Nobody closed it, its scheduled end plus the grace period has passed, and it is empty."""
    return session.status in ("scheduled", "live") and connected == 0 and session.scheduled_end + grace <= now


def checkin_opens_at(session: SessionState) -> datetime:
    return session.expected_start - CHECKIN_OPENS_BEFORE

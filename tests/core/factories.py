"""Plain core values for the unit tests, around one fixed moment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from core.model import Member, Ping, SessionState, Ticket

T0 = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)  # the scheduled start of every session here


def at(minutes: float = 0, seconds: float = 0) -> datetime:
    """T0 moved on (or back) by this much."""
    return T0 + timedelta(minutes=minutes, seconds=seconds)


def session(**fields: Any) -> SessionState:
    base: dict[str, Any] = {
        "id": "s1",
        "topic": "Topic",
        "instructor_email": "i@example.org",
        "starts_at": T0,
        "duration_minutes": 60,
        "late_after_minutes": 5,
    }
    return SessionState(**{**base, **fields})


def member(pid: str = "p1", **fields: Any) -> Member:
    return Member(**{"id": pid, "name": f"Name {pid}", "email": f"{pid}@example.org", **fields})


def ping(kind: str = "pulse", *, options: list[str] | None = None, **fields: Any) -> Ping:
    base: dict[str, Any] = {
        "id": "g1",
        "kind": kind,
        "question": "Q?",
        "options": options,
        "launched_at": T0,
        "closes_at": at(seconds=60),
    }
    return Ping(**{**base, **fields})


def ticket(tid: str, pid: str, created: datetime, **fields: Any) -> Ticket:
    base: dict[str, Any] = {"id": tid, "participant_id": pid, "name": pid, "category": "audio", "text": "help"}
    return Ticket(**{**base, "created_at": created, **fields})

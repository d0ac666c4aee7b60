"""The attendance sheet, computed from the roster and the connection intervals (no I/O)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from core import csvsafe
from core.model import Member, SessionState, iso

COLUMNS = (
    "participant_id",
    "name",
    "email",
    "status",
    "checked_in_at",
    "first_seen",
    "last_seen",
    "minutes_present",
    "platform_minutes",
    "pings_answered",
    "pings_total",
)


def _union_seconds(intervals: list[tuple[datetime, datetime]]) -> float:
    """Seconds covered by the intervals, counting overlaps (several tabs) once."""
    total = 0.0
    start: datetime | None = None
    end: datetime | None = None
    for a, b in sorted(intervals):
        if end is None or start is None or a > end:
            if end is not None and start is not None:
                total += (end - start).total_seconds()
            start, end = a, b
        elif b > end:
            end = b
    if end is not None and start is not None:
        total += (end - start).total_seconds()
    return total


def rows(
    session: SessionState,
    members: Iterable[Member],
    connections: Iterable[tuple[str, datetime, datetime | None]],
    pings_total: int,
    answered: dict[str, int],
    now: datetime,
    platform: dict[str, float] | None = None,
) -> list[dict[str, Any]]:
    """One row per participant; time present counts only between the start and the close.

    `platform`: each participant's minutes in the video call as the platform reported them
    (core/platform_attendance.py); a participant it did not report has None.
    """
    until = session.closed_at or now
    spans: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    for pid, connected_at, ended_at in connections:
        spans[pid].append((connected_at, ended_at or until))
    out = []
    for m in members:
        mine = spans.get(m.id, [])
        present = 0.0
        if session.started_at is not None:
            clipped = [(max(a, session.started_at), min(b, until)) for a, b in mine]
            present = _union_seconds([(a, b) for a, b in clipped if b > a])
        out.append(
            {
                "participant_id": m.id,
                "name": m.name,
                "email": m.email,
                "status": m.status,
                "checked_in_at": iso(m.checked_in_at),
                "first_seen": iso(min(a for a, _ in mine)) if mine else None,
                "last_seen": iso(min(max(b for _, b in mine), until)) if mine else None,
                "minutes_present": round(present / 60, 2),
                "platform_minutes": (platform or {}).get(m.id),
                "pings_answered": answered.get(m.id, 0),
                "pings_total": pings_total,
            }
        )
    return out


def with_platform(sheet: list[dict[str, Any]], platform: dict[str, float] | None) -> list[dict[str, Any]]:
    """The sheet with `platform_minutes` as reported now (a sheet saved at close before a report came in)."""
    out = []
    for row in sheet:
        fresh = {k: v for k, v in row.items() if k != "platform_minutes"}
        ordered: dict[str, Any] = {}
        for k, v in fresh.items():
            ordered[k] = v
            if k == "minutes_present":
                ordered["platform_minutes"] = (platform or {}).get(row["participant_id"])
        out.append(ordered)
    return out


def csv_text(sheet: list[dict[str, Any]]) -> str:
    """The sheet as CSV with a header row, safe to open in a spreadsheet (core/csvsafe.py)."""
    return csvsafe.table(COLUMNS, sheet)

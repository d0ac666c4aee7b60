"""Presence over time, from the connection intervals (no I/O).

Who joined, dropped out and came back, and how many were connected when.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from core.model import Member, iso

Interval = tuple[datetime, datetime | None]  # (joined, left); left None: still connected


def merged(intervals: Iterable[Interval]) -> list[Interval]:
    """One participant's intervals with overlaps (several tabs, a quick reconnect) joined into one."""
    out: list[Interval] = []
    for joined, left in sorted(intervals, key=lambda i: i[0]):
        if out:
            last_joined, last_left = out[-1]
            if last_left is None or joined <= last_left:
                out[-1] = (last_joined, None if left is None or last_left is None else max(last_left, left))
                continue
        out.append((joined, left))
    return out


def timeline(
    members: Iterable[Member], connections: Iterable[tuple[str, datetime, datetime | None]], now: datetime
) -> dict[str, Any]:
    """Per participant, their connected intervals in roster order; and the number connected after each change."""
    spans: dict[str, list[Interval]] = defaultdict(list)
    for pid, connected_at, ended_at in connections:
        spans[pid].append((connected_at, ended_at))
    people = []
    changes: dict[datetime, int] = defaultdict(int)
    for m in members:
        intervals = merged(spans.get(m.id, []))
        people.append(
            {
                "participant_id": m.id,
                "name": m.name,
                "intervals": [{"joined": iso(a), "left": iso(b)} for a, b in intervals],
            }
        )
        for joined, left in intervals:
            changes[joined] += 1
            if left is not None:
                changes[left] -= 1
    samples = []
    connected = 0
    for at in sorted(changes):
        if changes[at] == 0:
            continue  # a drop and a return at the same instant changes nothing
        connected += changes[at]
        samples.append({"at": iso(at), "connected": connected})
    samples.append({"at": iso(now), "connected": connected})
    return {"participants": people, "samples": samples}

"""How long each kind of record is kept (`COMPANION_RETENTION`), and what is past keeping at a moment (no I/O).

The contract: `chat=365d,attendance=5y,feedback=2y,records=5y,materials=5y,mail=90d,audit=7y`, each
counted from the session's close; the audit log's from each entry's own time. `records` covers the
session record, help tickets, pings, consent and RSVPs. A session on legal hold is never purged. Mail
belongs to no session (an enrolment link, say), so it too is counted from its own time.

Durations take the units `s`, `m`, `h`, `d` and `y` (365 days); a kind left out keeps its default.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

KINDS = ("chat", "attendance", "feedback", "records", "materials", "mail", "audit")
DEFAULT = "chat=365d,attendance=5y,feedback=2y,records=5y,materials=5y,mail=90d,audit=7y"
BY_ENTRY_TIME = frozenset({"mail", "audit"})  # counted from each entry's time, not a session's close
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "y": 365 * 86400}
_PART = re.compile(r"^([a-z]+)=([0-9]{1,9})([smhdy])$")
LONGEST = timedelta(days=365 * 200)  # past this a "retention" is a typo, and timedelta arithmetic nears its end


@dataclass(frozen=True, slots=True)
class Retention:
    keep: Mapping[str, timedelta]

    def cutoff(self, kind: str, now: datetime) -> datetime:
        """What of `kind` ended (closed, or was written) before this is past keeping."""
        return now - self.keep[kind]

    def past(self, kind: str, since: datetime | None, now: datetime, *, held: bool = False) -> bool:
        """Whether a session closed (or an entry written) at `since` is past keeping `kind` at `now`.

        Never for a held session, nor for one not closed yet (`since` None).
        """
        return not held and since is not None and since <= self.cutoff(kind, now)

    def text(self) -> str:
        """The setting as it reads back (each kind in the contract's order, in whole days or years)."""
        return ",".join(f"{k}={_duration_text(self.keep[k])}" for k in KINDS)


def _duration_text(d: timedelta) -> str:
    seconds = int(d.total_seconds())
    for unit in ("y", "d", "h", "m"):
        if seconds % UNITS[unit] == 0:
            return f"{seconds // UNITS[unit]}{unit}"
    return f"{seconds}s"


def parse(text: str | None) -> Retention:
    """`COMPANION_RETENTION`: comma-separated `kind=duration`; ValueError naming the part that is wrong."""
    keep = dict(_parts(DEFAULT))
    if text is not None and text.strip():
        given = _parts(text)
        seen: set[str] = set()
        for kind, duration in given:
            if kind in seen:
                raise ValueError(f"COMPANION_RETENTION: {kind} is given twice")
            seen.add(kind)
            keep[kind] = duration
    return Retention(keep)


def _parts(text: str) -> list[tuple[str, timedelta]]:
    out = []
    for raw in text.split(","):
        part = raw.strip().lower()
        m = _PART.match(part)
        if m is None:
            raise ValueError(f"COMPANION_RETENTION: {raw.strip()!r} is not kind=duration (units s, m, h, d, y)")
        kind, number, unit = m.group(1), int(m.group(2)), m.group(3)
        if kind not in KINDS:
            raise ValueError(f"COMPANION_RETENTION: {kind!r} is not one of {', '.join(KINDS)}")
        duration = timedelta(seconds=number * UNITS[unit])
        if duration <= timedelta(0):
            raise ValueError(f"COMPANION_RETENTION: {kind} must be kept for some time, not {number}{unit}")
        if duration > LONGEST:
            raise ValueError(f"COMPANION_RETENTION: {kind}={number}{unit} is longer than 200 years")
        out.append((kind, duration))
    return out

"""The live state's data classes as JSON, for a live store that keeps them outside the process."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from typing import Any, TypeVar

import orjson

from core.model import Member, Ping, SessionState, Ticket

T = TypeVar("T", SessionState, Member, Ping, Ticket)

# Fields that hold times, per class; everything else is plain JSON.
_TIMES: dict[type[Any], frozenset[str]] = {
    SessionState: frozenset({"starts_at", "started_at", "closed_at", "cancelled_at", "invitations_sent_at"}),
    Member: frozenset({"checked_in_at"}),
    Ping: frozenset({"launched_at", "closes_at", "closed_at"}),
    Ticket: frozenset({"created_at", "claimed_at"}),
}
# Kept beside a ping in their own Redis structures, so that answers do not rewrite the ping.
_PING_APART = frozenset({"answers", "seen"})


def encode(obj: SessionState | Member | Ping | Ticket) -> bytes:
    data = {f.name: getattr(obj, f.name) for f in fields(obj) if not (isinstance(obj, Ping) and f.name in _PING_APART)}
    return orjson.dumps(data)


def decode(cls: type[T], raw: bytes | str) -> T:
    data = orjson.loads(raw)
    for name in _TIMES[cls]:
        if data.get(name) is not None:
            data[name] = datetime.fromisoformat(data[name])
    return cls(**data)

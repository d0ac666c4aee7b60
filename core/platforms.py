"""The video platforms a session can run on: what each can hold and do (no I/O).

The catalogue is built in, or replaced as a whole by a TOML file (`COMPANION_PLATFORMS`), one table
per platform:

    [platforms.zoom]
    name = "Zoom"
    capacity = 300            # people in one meeting on the institution's plan; omit: unknown
    features = ["screen_share", "breakout_rooms", "recording"]

`parse` checks every key and names the first bad one, so a typo stops the server at start-up
instead of turning into a wrong capacity check in the middle of a term.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from typing import Any

# The features a session may require (contract).
FEATURES = ("screen_share", "breakout_rooms", "recording", "waiting_room", "dial_in", "polls", "captions")
MAX_CAPACITY = 1_000_000
MAX_PLATFORMS = 100
_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
_KEYS = frozenset({"name", "capacity", "features"})


class CatalogueError(ValueError):
    """A platform catalogue the server refuses: the message names the bad key."""


@dataclass(frozen=True, slots=True)
class Platform:
    id: str
    name: str
    capacity: int | None  # None: not known, so not checked
    features: tuple[str, ...]

    def view(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "capacity": self.capacity, "features": list(self.features)}


# Capacities are those of a typical institutional plan (Zoom Business, Teams with an Office 365
# licence, Meet on Workspace Enterprise, BigBlueButton's own recommended ceiling for one meeting);
# an institution with another plan states its own in COMPANION_PLATFORMS.
BUILT_IN: tuple[Platform, ...] = (
    Platform("zoom", "Zoom", 300, FEATURES),
    Platform("teams", "Microsoft Teams", 1000, FEATURES),
    Platform(
        "meet", "Google Meet", 500, ("screen_share", "breakout_rooms", "recording", "dial_in", "polls", "captions")
    ),
    Platform("bbb", "BigBlueButton", 100, FEATURES),
    Platform("other", "Other", None, ()),
)


def parse(text: str) -> tuple[Platform, ...]:
    """The catalogue a TOML document describes, or CatalogueError naming the first bad key."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise CatalogueError(f"not valid TOML: {e}") from None
    extra = sorted(set(doc) - {"platforms"})
    if extra:
        raise CatalogueError(f"{extra[0]}: unknown key; the file holds [platforms.<id>] tables only")
    tables = doc.get("platforms")
    if not isinstance(tables, dict) or not tables:
        raise CatalogueError("platforms: at least one [platforms.<id>] table is required")
    if len(tables) > MAX_PLATFORMS:
        raise CatalogueError(f"platforms: at most {MAX_PLATFORMS} platforms")
    return tuple(_platform(pid, table) for pid, table in tables.items())


def _platform(pid: str, table: Any) -> Platform:
    where = f"platforms.{pid}"
    if _ID.fullmatch(pid) is None:
        raise CatalogueError(f"{where}: an id is 1-32 lower-case letters, digits, '-' or '_'")
    if not isinstance(table, dict):
        raise CatalogueError(f"{where}: must be a table ([{where}])")
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise CatalogueError(f"{where}.{unknown[0]}: unknown key; a platform has name, capacity and features")
    name = table.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 100:
        raise CatalogueError(f"{where}.name: a name of 1-100 characters is required")
    capacity = table.get("capacity")
    if capacity is not None and (type(capacity) is not int or not 1 <= capacity <= MAX_CAPACITY):
        raise CatalogueError(f"{where}.capacity: a whole number from 1 to {MAX_CAPACITY:,}, or left out when unknown")
    features = table.get("features", [])
    if not isinstance(features, list):
        raise CatalogueError(f"{where}.features: a list of features")
    for i, feature in enumerate(features):
        if feature not in FEATURES:
            raise CatalogueError(f"{where}.features[{i}]: {feature!r} is not one of {', '.join(FEATURES)}")
    if len(set(features)) != len(features):
        raise CatalogueError(f"{where}.features: a feature is listed twice")
    return Platform(pid, name.strip(), capacity, tuple(features))

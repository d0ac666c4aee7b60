"""The session record: which files it holds, what each says, and the manifest that lists them (no I/O).

The record is made at close and again whenever something it holds changes (docs/session-record.md).
Each file is bytes computed from what the database holds; the zip around them is built by the service.
A version is new only when some file differs: `digest` sums the names and the SHA-256 of the files, so
the same content built twice has the same digest whatever the time of building.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from core import csvsafe
from core.materials import Material
from core.model import SessionState, iso
from core.sheet import csv_text

HELP_COLUMNS = (
    "ticket_id",
    "participant_id",
    "name",
    "category",
    "text",
    "state",
    "created_at",
    "claimed_at",
    "claimed_by",
    "resolved_at",
    "wait_seconds",
    "handle_seconds",
    "note",
)
CONSENT_COLUMNS = (
    "request_id",
    "purpose",
    "requested_at",
    "participant_id",
    "name",
    "consent",
    "answered_at",
)
PLATFORM_ATTENDANCE_COLUMNS = ("platform", "name", "email", "participant_id", "joined_at", "left_at", "minutes")
MANIFEST = "manifest.json"
MATERIALS_DIR = "materials/"
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._ ()+-]+")


@dataclass(frozen=True, slots=True)
class HelpRow:
    ticket_id: str
    participant_id: str
    name: str
    category: str
    text: str
    state: str
    created_at: datetime
    claimed_at: datetime | None
    claimed_by: str | None
    resolved_at: datetime | None
    note: str | None


@dataclass(slots=True)
class Sources:
    """Everything a session's record is made from, read at one moment."""

    session: SessionState
    attendance: list[dict[str, Any]]
    chat: list[dict[str, Any]]
    help: list[HelpRow]
    pings: list[dict[str, Any]]
    materials: list[Material]
    minutes: dict[str, Any] | None = None
    feedback: dict[str, Any] | None = None
    consent: list[dict[str, Any]] = field(default_factory=list)
    recordings: list[dict[str, Any]] = field(default_factory=list)
    platform_attendance: list[dict[str, Any]] | None = None  # None: nothing imported
    missing: frozenset[str] = frozenset()  # files whose bytes the store no longer has (listed, not included)


@dataclass(frozen=True, slots=True)
class RecordVersion:
    """A built version of the record: the zip's sum and size in the store, and the files it holds."""

    id: str
    session_id: str
    version: int
    sha256: str
    size: int
    digest: str
    files: list[dict[str, Any]]
    built_at: datetime

    def public(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "built_at": iso(self.built_at),
            "size": self.size,
            "sha256": self.sha256,
            "files": self.files,
        }


def _json(value: Any) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode()


def _seconds(start: datetime | None, end: datetime | None) -> int | None:
    return None if start is None or end is None else max(0, round((end - start).total_seconds()))


def help_rows(rows: Sequence[HelpRow]) -> list[dict[str, Any]]:
    """help.csv's rows: waiting is from opening to claim, handling from claim to resolution."""
    out = []
    for r in sorted(rows, key=lambda r: (r.created_at, r.ticket_id)):
        out.append(
            {
                "ticket_id": r.ticket_id,
                "participant_id": r.participant_id,
                "name": r.name,
                "category": r.category,
                "text": r.text,
                "state": r.state,
                "created_at": iso(r.created_at),
                "claimed_at": iso(r.claimed_at),
                "claimed_by": r.claimed_by,
                "resolved_at": iso(r.resolved_at),
                # Never claimed: it waited until it ended (resolved or withdrawn), or is still waiting.
                "wait_seconds": _seconds(r.created_at, r.claimed_at or r.resolved_at),
                "handle_seconds": _seconds(r.claimed_at, r.resolved_at),
                "note": r.note,
            }
        )
    return out


def material_path(m: Material) -> str:
    """Where a material's bytes go in the zip: under materials/, its id first so that names never clash."""
    base = (m.filename or "").replace("\\", "/").rsplit("/", 1)[-1]  # stored names have no folders; never trusted
    name = _UNSAFE_NAME.sub("_", base).strip(" ._") or "file"
    return f"{MATERIALS_DIR}{m.id}-{name[:120]}"


def in_zip(src: Sources) -> list[tuple[Material, str]]:
    """The materials whose bytes go into the zip, each with its path there."""
    return [(m, material_path(m)) for m in src.materials if m.is_file and m.sha256 not in src.missing]


def materials_json(materials: Sequence[Material], missing: frozenset[str] = frozenset()) -> list[dict[str, Any]]:
    return [
        {
            "id": m.id,
            "title": m.title,
            "kind": "file" if m.is_file else "link",
            "filename": m.filename,
            "url": None if m.is_file else m.url,
            "size": m.size,
            "sha256": m.sha256,
            "content_type": m.content_type,
            "created_at": iso(m.created_at),
            "created_by": m.created_by,
            "file": material_path(m) if m.is_file and m.sha256 not in missing else None,
        }
        for m in materials
    ]


def files(src: Sources) -> dict[str, bytes]:
    """The record's own files (all but the materials' bytes and the manifest), by name, in the zip's order."""
    s = src.session
    out = {
        "attendance.csv": csv_text(src.attendance).encode(),
        "attendance.json": _json({"session": s.public(), "rows": src.attendance}),
        "chat.json": _json({"messages": src.chat}),
        "help.csv": csvsafe.table(HELP_COLUMNS, help_rows(src.help)).encode(),
        "pings.json": _json({"pings": src.pings}),
        "minutes.json": _json({"minutes": src.minutes}),
        "feedback.json": _json(src.feedback if src.feedback is not None else {"forms": [], "responses": []}),
        "consent.csv": csvsafe.table(CONSENT_COLUMNS, src.consent).encode(),
        "materials.json": _json(
            {"materials": materials_json(src.materials, src.missing), "recordings": src.recordings}
        ),
    }
    if src.platform_attendance is not None:
        out["platform-attendance.csv"] = csvsafe.table(PLATFORM_ATTENDANCE_COLUMNS, src.platform_attendance).encode()
    return out


def entry(name: str, data: bytes) -> dict[str, Any]:
    return {"name": name, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}


def digest(entries: Sequence[Mapping[str, Any]]) -> str:
    """What a version is: the files' names and sums, not when it was built."""
    h = hashlib.sha256()
    for e in sorted(entries, key=lambda e: str(e["name"])):
        h.update(f"{e['name']}\0{e['sha256']}\n".encode())
    return h.hexdigest()


def manifest(
    session_id: str, version: int, built_at: datetime, entries: Sequence[Mapping[str, Any]], digest_: str
) -> bytes:
    """manifest.json: every other file of the zip with its SHA-256 and size."""
    return _json(
        {
            "session_id": session_id,
            "version": version,
            "built_at": iso(built_at),
            "digest": digest_,
            "files": list(entries),
        }
    )

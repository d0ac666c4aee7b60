"""Preparation (contract part 2, SOP 3): the platform run-through and readiness, pure.

Readiness is five checks over what the other steps left: a roster, invitations out in time (or
with the short-notice reason), reminders scheduled, materials shared, the platform checked with
nothing failed. A session due within FLAG_WITHIN and not ready is flagged to its instructor and the
administrators, on the pages and once by mail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from core.errors import Invalid

CHECKS = ("audio", "video", "screen_share", "breakout_rooms", "recording")
CHECK_NAMES = {
    "audio": "audio",
    "video": "video",
    "screen_share": "screen sharing",
    "breakout_rooms": "breakout rooms",
    "recording": "recording",
}
RESULTS = ("ok", "failed", "n/a")
MAX_NOTES = 2000
FLAG_WITHIN = timedelta(hours=24)
READINESS = ("roster", "invitations", "reminders", "materials", "platform_check")


@dataclass(frozen=True, slots=True)
class PlatformCheck:
    """A run-through of the platform before the class: each feature ok, failed or n/a, who and when."""

    id: str
    session_id: str
    checks: dict[str, str]
    notes: str | None
    by_name: str
    by_role: str
    at: datetime

    @property
    def failed(self) -> list[str]:
        return [c for c in CHECKS if self.checks.get(c) == "failed"]

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "session_id": self.session_id,
            "checks": dict(self.checks),
            "notes": self.notes,
            "by": {"name": self.by_name, "role": self.by_role},
            "at": self.at.isoformat().replace("+00:00", "Z"),
        }


def check_run(checks: object, notes: object) -> tuple[dict[str, str], str | None]:
    """The body of a platform check: every feature with ok, failed or n/a, and notes of at most MAX_NOTES."""
    if not isinstance(checks, dict):
        raise Invalid("checks: an object with " + ", ".join(CHECKS))
    unknown = sorted(set(checks) - set(CHECKS))
    if unknown:
        raise Invalid(f"checks.{unknown[0]}: not a feature checked (checked: {', '.join(CHECKS)})")
    out = {}
    for name in CHECKS:
        value = checks.get(name)
        if value not in RESULTS:
            raise Invalid(f"checks.{name}: must be one of ok, failed, n/a")
        out[name] = str(value)
    if notes is not None and not isinstance(notes, str):
        raise Invalid("notes: must be text")
    text = notes.strip() if isinstance(notes, str) else ""
    if len(text) > MAX_NOTES:
        raise Invalid(f"notes: at most {MAX_NOTES} characters")
    return out, text or None


@dataclass(frozen=True, slots=True)
class Facts:
    """What readiness is judged on, read by the service."""

    status: str
    starts_at: datetime
    roster: int
    invited_at: datetime | None
    short_notice_reason: str | None
    invite_by: datetime  # the start minus COMPANION_INVITE_LEAD
    reminders: list[dict[str, Any]]  # as GET .../reminders answers them
    materials: int
    platform_check: PlatformCheck | None


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str

    def public(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "detail": self.detail}


def _when(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M UTC")


def readiness(f: Facts) -> list[Check]:
    """The five checks, in READINESS order, each with a sentence saying why."""
    people = "nobody" if f.roster == 0 else ("1 participant" if f.roster == 1 else f"{f.roster} participants")
    out = [Check("roster", f.roster > 0, f"{people} on the roster")]

    if f.invited_at is None:
        out.append(Check("invitations", False, f"not sent; due by {_when(f.invite_by)}"))
    elif f.invited_at <= f.invite_by:
        out.append(Check("invitations", True, f"sent {_when(f.invited_at)}"))
    elif f.short_notice_reason:
        out.append(Check("invitations", True, f"sent at short notice: {f.short_notice_reason}"))
    else:
        out.append(Check("invitations", False, f"sent late ({_when(f.invited_at)}) without a reason"))

    bad = [r for r in f.reminders if r["state"] in ("failed", "cancelled")]
    if not f.reminders:
        out.append(Check("reminders", True, "no reminders are configured"))
    elif bad:
        out.append(Check("reminders", False, ", ".join(f"{r['offset']}: {r['state']}" for r in bad)))
    else:
        out.append(Check("reminders", True, ", ".join(f"{r['offset']}: {r['state']}" for r in f.reminders)))

    shared = {0: "none shared yet", 1: "1 shared"}.get(f.materials, f"{f.materials} shared")
    out.append(Check("materials", f.materials > 0, shared))

    pc = f.platform_check
    if pc is None:
        out.append(Check("platform_check", False, "no run-through recorded"))
    elif pc.failed:
        failed = ", ".join(CHECK_NAMES[c] for c in pc.failed)
        out.append(Check("platform_check", False, f"{failed} failed in the run-through by {pc.by_name}"))
    else:
        out.append(Check("platform_check", True, f"checked by {pc.by_name}, {_when(pc.at)}"))
    return out


def flagged(status: str, starts_at: datetime, now: datetime, ready: bool) -> bool:
    """Due within FLAG_WITHIN, not started, and not ready: the instructor and the administrators are told."""
    return status == "scheduled" and not ready and now < starts_at <= now + FLAG_WITHIN


def flag_due(starts_at: datetime) -> datetime:
    """When the readiness mail is looked at: FLAG_WITHIN before the start."""
    return starts_at - FLAG_WITHIN


def flag_mail(
    *,
    topic: str,
    starts_at: datetime,
    checks: list[Check],
    dashboard_url: str,
    to: list[str],
    sender: str,
    message_id: str,
    now: datetime,
) -> EmailMessage:
    """The one mail that tells the instructor and the administrators a session due within a day is not ready."""
    missing = [c for c in checks if not c.ok]
    message = EmailMessage()
    message["Subject"] = f"Not ready: {' '.join(topic.split())} starts {_when(starts_at)}"
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Message-ID"] = message_id
    message["Date"] = format_datetime(now)
    lines = [
        f"“{' '.join(topic.split())}” starts {_when(starts_at)} and is not ready:",
        "",
        *(f"- {CHECK_TITLES.get(c.name, c.name)}: {c.detail}" for c in missing),
        "",
        f"The session's dashboard: {dashboard_url}",
        "",
        "This is the only mail about it; the dashboard and the schedule keep showing what is missing.",
    ]
    message.set_content("\n".join(lines) + "\n")
    return message


CHECK_TITLES = {
    "roster": "Roster",
    "invitations": "Invitations",
    "reminders": "Reminders",
    "materials": "Materials",
    "platform_check": "Platform check",
}

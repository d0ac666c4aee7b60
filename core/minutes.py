"""Notes and minutes (contract part 2, After the class): what they hold, their versions, and the mail.

The instructor's notes are one text saved as they type; the minutes are a summary, key points and
action items. Each is versioned: a save that changes something is the next version, a save of what
is already there is not (a retried save, or "Save minutes" pressed twice, makes no new version), and a
save that names a version other than the current one is refused, so two tabs never overwrite each
other unseen. Circulating mails one version once; a later edit is a new version and may go again.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import date, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.model import iso

# Bounds (issue 16): generous for a lecture's running notes, small enough to mail and to show.
MAX_NOTES = 50_000
MAX_SUMMARY = 10_000
MAX_KEY_POINTS = 50
MAX_KEY_POINT = 500
MAX_ACTION_ITEMS = 100
MAX_ACTION_TEXT = 500

Decision = Literal["unchanged", "conflict", "save"]


def parse_due(value: str) -> date:
    """An ISO date (YYYY-MM-DD) that exists; ValueError otherwise (2026-02-30 is refused)."""
    if len(value) != 10:
        raise ValueError("an ISO date, YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"an ISO date that exists (YYYY-MM-DD), not {value!r}") from None


@dataclass(frozen=True, slots=True)
class ActionItem:
    text: str
    owner_email: str | None = None
    due: date | None = None

    def public(self) -> dict[str, Any]:
        return {"text": self.text, "owner_email": self.owner_email, "due": self.due.isoformat() if self.due else None}

    @staticmethod
    def of(value: dict[str, Any]) -> ActionItem:
        """Read back what `public` wrote (a stored row, a circulated copy)."""
        due = value.get("due")
        return ActionItem(str(value["text"]), value.get("owner_email"), date.fromisoformat(due) if due else None)


@dataclass(frozen=True, slots=True)
class Content:
    """What the minutes say: compared whole to decide whether a save is a new version."""

    summary: str = ""
    key_points: tuple[str, ...] = ()
    action_items: tuple[ActionItem, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.summary.strip() or self.key_points or self.action_items)

    def public(self) -> dict[str, Any]:
        return {
            "summary": self.summary,
            "key_points": list(self.key_points),
            "action_items": [a.public() for a in self.action_items],
        }

    @staticmethod
    def of(value: dict[str, Any]) -> Content:
        return Content(
            str(value.get("summary", "")),
            tuple(str(p) for p in value.get("key_points", [])),
            tuple(ActionItem.of(a) for a in value.get("action_items", [])),
        )


@dataclass(frozen=True, slots=True)
class Circulation:
    """One version mailed: when, by whom, and how many mails were queued."""

    version: int
    at: datetime
    sent: int
    by: str = ""

    def public(self) -> dict[str, Any]:
        return {"version": self.version, "at": iso(self.at), "sent": self.sent}


@dataclass(frozen=True, slots=True)
class Minutes:
    session_id: str
    content: Content = field(default_factory=Content)
    version: int = 0  # 0: never saved
    updated_at: datetime | None = None
    updated_by: str | None = None


@dataclass(frozen=True, slots=True)
class Notes:
    session_id: str
    text: str = ""
    version: int = 0  # 0: never saved
    saved_at: datetime | None = None
    saved_by: str | None = None

    def public(self) -> dict[str, Any]:
        return {"text": self.text, "version": self.version, "saved_at": iso(self.saved_at)}


def decide(current_version: int, same: bool, expected: int | None) -> Decision:
    """Whether a save writes a new version, changes nothing, or is refused.

    `same`: what is saved equals what is there, which is never a conflict (a save retried after its
    answer was lost, or a second tab saving the same words, finds them there). Otherwise a save that
    names a version (`expected`) other than the current one is refused; one that names none writes.
    """
    if same and current_version > 0:
        return "unchanged"
    if expected is not None and expected != current_version:
        return "conflict"
    return "save"


def minutes_public(m: Minutes, circulated: list[Circulation]) -> dict[str, Any]:
    """The contract's minutes object (GET, PUT), with its versions sent."""
    return {
        "session_id": m.session_id,
        "version": m.version,
        **m.content.public(),
        "updated_at": iso(m.updated_at),
        "updated_by": m.updated_by,
        "circulated": [c.public() for c in circulated],
    }


# ---------------------------------------------------------------- the mail


def local_when(at: datetime, zone: str | None) -> tuple[str, str]:
    """The session's date and time in `zone` (UTC when unknown or not a zone), and the zone's name."""
    try:
        tz = ZoneInfo(zone) if zone else ZoneInfo("UTC")
        name = zone or "UTC"
    except (ZoneInfoNotFoundError, ValueError):
        tz, name = ZoneInfo("UTC"), "UTC"
    local = at.astimezone(tz)
    return f"{local:%A} {local.day} {local:%B %Y}, {local:%H:%M}", name


def minutes_mail(
    *,
    topic: str,
    starts_at: datetime,
    zone: str | None,
    content: Content,
    version: int,
    to: str,
    name: str | None,
    sender: str,
    message_id: str,
    now: datetime,
) -> EmailMessage:
    """The minutes of one version for one recipient: plain text, and the same as HTML."""
    title = " ".join(topic.split())
    when, zone_name = local_when(starts_at, zone)
    message = EmailMessage()
    message["Subject"] = f"Minutes: {title} ({when.split(',')[0]})"
    message["From"] = sender
    message["To"] = f"{name} <{to}>" if name and _plain_name(name) else to
    message["Message-ID"] = message_id
    message["Date"] = format_datetime(now)
    message["X-Companion-Minutes-Version"] = str(version)

    lines = [f"Minutes of “{title}”", f"{when} ({zone_name})", ""]
    if content.summary.strip():
        lines += ["Summary", "", content.summary.strip(), ""]
    if content.key_points:
        lines += ["Key points", "", *(f"- {p}" for p in content.key_points), ""]
    if content.action_items:
        lines += ["Action items", "", *(f"- {_action_line(a)}" for a in content.action_items), ""]
    lines += [f"Version {version} of these minutes. A later version, if any, is mailed again."]
    message.set_content("\n".join(lines) + "\n")

    e = html.escape
    parts = [f"<h1>Minutes of “{e(title)}”</h1>", f"<p>{e(when)} ({e(zone_name)})</p>"]
    if content.summary.strip():
        paragraphs = "".join(f"<p>{e(p)}</p>" for p in content.summary.strip().split("\n\n"))
        parts += ["<h2>Summary</h2>", paragraphs.replace("\n", "<br>")]
    if content.key_points:
        parts += ["<h2>Key points</h2>", "<ul>", *(f"<li>{e(p)}</li>" for p in content.key_points), "</ul>"]
    if content.action_items:
        parts += ["<h2>Action items</h2>", "<ul>", *(f"<li>{e(_action_line(a))}</li>" for a in content.action_items)]
        parts += ["</ul>"]
    parts += [f"<p><small>Version {version} of these minutes.</small></p>"]
    body = "\n".join(parts)
    message.add_alternative(
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{e(title)}</title></head>'
        f"<body>{body}</body></html>\n",
        subtype="html",
    )
    return message


def _action_line(a: ActionItem) -> str:
    extra = [x for x in (f"owner {a.owner_email}" if a.owner_email else "", f"due {a.due}" if a.due else "") if x]
    return f"{a.text} ({', '.join(extra)})" if extra else a.text


def _plain_name(name: str) -> bool:
    """A display name that goes in a To header as it is (anything odd, and only the address is used)."""
    return all(c.isalnum() or c in " .-'" for c in name)

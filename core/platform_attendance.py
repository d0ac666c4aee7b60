"""The platform's own attendance (docs/platform-attendance.md): Zoom's webhooks and the Zoom and Teams reports.

Pure rules: the webhook signature (with the time handed in), the events Zoom sends, the reports
parsed by their header names, names normalised and matched to the roster, and the minutes each
participant was in the call (the union of the reported intervals, clipped to the session's
start and close).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import hmac
import io
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, Literal

from core.errors import Invalid, Unauthorized
from core.model import Member, SessionState

Platform = Literal["zoom", "teams"]
MAX_REPORT_BYTES = 20 * 1024 * 1024
MAX_REPORT_ROWS = 50_000
SIGNATURE_WINDOW = timedelta(minutes=5)
EARLY_JOIN = timedelta(minutes=30)  # a recurring meeting's occurrence holds events from 30 min before its start
MAX_TEXT = 300  # a name or an email as stored


# ---------------------------------------------------------------- Zoom's webhook


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """Zoom's `x-zm-signature`: v0= and the hex HMAC-SHA256 of v0:{timestamp}:{raw body}."""
    message = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify(secret: str, timestamp: str | None, signature: str | None, body: bytes, now: datetime) -> None:
    """Unauthorized unless the request is signed with the secret within five minutes of `now`."""
    if not timestamp or not signature:
        raise Unauthorized("x-zm-signature and x-zm-request-timestamp are required")
    try:
        seconds = int(timestamp)
        sent = datetime.fromtimestamp(seconds / 1000 if seconds > 10**11 else seconds, UTC)
    except (ValueError, OverflowError, OSError):
        raise Unauthorized("x-zm-request-timestamp: seconds since the epoch") from None
    expected = sign(secret, timestamp, body)
    if not hmac.compare_digest(expected.encode(), signature.strip().encode()):
        raise Unauthorized("the signature does not match")
    if abs(now - sent) > SIGNATURE_WINDOW:
        raise Unauthorized("the request is older than five minutes")


def url_validation(secret: str, plain_token: str) -> dict[str, str]:
    """The answer to `endpoint.url_validation`."""
    encrypted = hmac.new(secret.encode(), plain_token.encode(), hashlib.sha256).hexdigest()
    return {"plainToken": plain_token, "encryptedToken": encrypted}


_MEETING_IN_URL = re.compile(r"/(?:j|w|s|wc(?:/join)?|wc)/(\d{9,13})(?:[/?#]|$)")


def meeting_id_of(join_url: str | None) -> str | None:
    """The Zoom meeting id in a join link (https://…zoom.us/j/85746065432?pwd=…), else None."""
    if not join_url:
        return None
    m = _MEETING_IN_URL.search(join_url)
    return m.group(1) if m else None


@dataclass(frozen=True, slots=True)
class ZoomEvent:
    """A participant joined or left, as Zoom's `meeting.participant_joined`/`_left` tell it."""

    key: str  # Zoom's identity of the event: a redelivery has the same key
    kind: Literal["joined", "left"]
    meeting_id: str
    meeting_uuid: str
    who: str  # the participant across joins (participant_uuid, else id, else email, else name)
    name: str
    email: str
    at: datetime


EVENTS = {"meeting.participant_joined": "joined", "meeting.participant_left": "left"}


def _text(value: Any) -> str:
    return value.strip()[:MAX_TEXT] if isinstance(value, str) else ""


def zoom_event(body: Mapping[str, Any]) -> ZoomEvent | None:
    """The event in a webhook body; None for events this area does not use; Invalid when one is malformed."""
    kind = EVENTS.get(str(body.get("event", "")))
    if kind is None:
        return None
    try:
        obj = body["payload"]["object"]
        p = obj["participant"]
        meeting_id = str(obj["id"]).strip()
        time_field = "join_time" if kind == "joined" else "leave_time"
        at = parse_iso(str(p[time_field]))
    except (KeyError, TypeError, ValueError):
        raise Invalid("payload.object: id and participant with its join_time or leave_time are required") from None
    uuid = _text(obj.get("uuid"))
    name, email = _text(p.get("user_name")), _text(p.get("email")).lower()
    who = _text(p.get("participant_uuid")) or _text(p.get("id")) or email or name.casefold()
    per_join = _text(p.get("user_id")) or who
    key = hashlib.sha256("\x1f".join([kind, meeting_id, uuid, who, per_join, at.isoformat()]).encode()).hexdigest()
    return ZoomEvent(key, kind, meeting_id, uuid, who, name, email, at)  # type: ignore[arg-type]


def parse_iso(value: str) -> datetime:
    at = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def occurrence(sessions: Iterable[SessionState], at: datetime) -> SessionState | None:
    """The session (of those on one meeting) whose window, 30 minutes before its start to its close, holds `at`."""
    best: SessionState | None = None
    for s in sessions:
        if s.cancelled_at is not None or s.status == "cancelled":
            continue
        start = min(s.started_at or s.expected_start, s.expected_start)
        if at < start - EARLY_JOIN or (s.closed_at is not None and at > s.closed_at):
            continue
        if best is None or start > min(best.started_at or best.expected_start, best.expected_start):
            best = s
    return best


def webhook_intervals(events: Iterable[ZoomEvent]) -> list[tuple[ZoomEvent, datetime | None]]:
    """Each join with the time of the leave that ends it (None: still in the call), per participant."""
    by_who: dict[str, list[ZoomEvent]] = {}
    for e in events:
        by_who.setdefault(e.who, []).append(e)
    out: list[tuple[ZoomEvent, datetime | None]] = []
    for mine in by_who.values():
        open_join: ZoomEvent | None = None
        for e in sorted(mine, key=lambda e: (e.at, e.kind != "joined")):
            if e.kind == "joined":
                if open_join is None:
                    open_join = e
            elif open_join is not None:
                out.append((open_join, e.at))
                open_join = None
        if open_join is not None:
            out.append((open_join, None))
    return out


# ---------------------------------------------------------------- the reports


@dataclass(frozen=True, slots=True)
class ReportRow:
    row: int  # the line of the report it came from (1 = the first line)
    name: str
    email: str
    joined_at: datetime
    left_at: datetime


@dataclass(frozen=True, slots=True)
class Report:
    platform: Platform
    layout: str
    rows: tuple[ReportRow, ...]
    duplicates: int  # rows repeated exactly (same person, same times): kept once


def _decode(raw: bytes) -> tuple[str, bool]:
    """The report's text and whether it was UTF-16 (Teams downloads it so); Invalid for anything else."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16"), True
        except UnicodeDecodeError:
            raise Invalid("the report starts as UTF-16 but is not valid UTF-16") from None
    if len(raw) >= 4 and raw[1] == 0 and raw[3] == 0 and raw[0] != 0:  # UTF-16LE without its BOM
        try:
            return raw.decode("utf-16-le"), True
        except UnicodeDecodeError:
            raise Invalid("the report looks like UTF-16LE but is not valid UTF-16") from None
    try:
        return raw.decode("utf-8-sig"), False
    except UnicodeDecodeError:
        raise Invalid(
            "the report's encoding is not UTF-8 (a Zoom CSV) or UTF-16 (a Teams attendance report): "
            "download it again from Zoom or Teams without re-saving it"
        ) from None


def _header(cell: str) -> str:
    return " ".join(cell.replace("\ufeff", "").replace('"', "").split()).casefold()


# What each column is called, by layout (headers compared case-insensitively, spacing ignored).
_NAME = ("name (original name)", "user name (original name)", "name", "full name", "participant", "user name")
_EMAIL = ("user email", "email", "email address", "participant id (upn)", "upn")
_JOIN = ("join time", "first join", "first join time", "joined at")
_LEAVE = ("leave time", "last leave", "last leave time", "left at")
_ACTION = ("user action", "action", "activity")
_TIMESTAMP = ("timestamp", "time")

_FORMATS = (
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y, %I:%M:%S %p",
    "%m/%d/%y, %I:%M:%S %p",
    "%m/%d/%y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y, %I:%M %p",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y, %H:%M:%S",
    "%m/%d/%y, %H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%d.%m.%Y, %H:%M:%S",
    "%d.%m.%Y %H:%M:%S",
)


def parse_time(value: str, zone: tzinfo) -> datetime:
    """A report's time: ISO 8601 with a zone as it says, else the session's wall-clock time (`zone`)."""
    text = " ".join(value.replace("\u202f", " ").split())
    if "T" in text or text.endswith("Z") or "+" in text[10:]:
        try:
            return parse_iso(text)
        except ValueError:
            pass
    for fmt in _FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=zone).astimezone(UTC)
        except ValueError:
            continue
    raise ValueError(text)


def _find(header: Sequence[str], names: Sequence[str]) -> int | None:
    for name in names:
        if name in header:
            return header.index(name)
    return None


@dataclass
class _Table:
    line: int  # the header's line
    header: list[str]
    rows: list[tuple[int, list[str]]]


_TITLE = re.compile(r"^\s*\d+\.\s+\S")


def _is_title(cells: list[str]) -> bool:
    """A section's title: one cell alone on its line ("2. Participants"), or one numbered like it."""
    filled = [c for c in cells if c.strip()]
    return len(filled) == 1 and (len(cells) == 1 or _TITLE.match(filled[0]) is not None)


def _tables(lines: list[tuple[int, list[str]]]) -> list[_Table]:
    """Every table in the report: a header row naming a person and a time, and the rows up to a gap or a title."""
    tables: list[_Table] = []
    current: _Table | None = None
    for number, cells in lines:
        header = [_header(c) for c in cells]
        is_header = _find(header, _NAME) is not None and (
            _find(header, _JOIN) is not None or _find(header, _TIMESTAMP) is not None
        )
        if is_header:
            current = _Table(number, header, [])
            tables.append(current)
        elif not any(c.strip() for c in cells) or _is_title(cells):
            current = None  # a blank line or a section's title ("3. In-Meeting Activities") ends a table
        elif current is not None:
            current.rows.append((number, cells))
    return tables


def _interval_rows(table: _Table, zone: tzinfo) -> list[ReportRow]:
    h = table.header
    name_at, email_at, join_at, leave_at = _find(h, _NAME), _find(h, _EMAIL), _find(h, _JOIN), _find(h, _LEAVE)
    assert name_at is not None and join_at is not None
    if leave_at is None:
        raise Invalid(f"line {table.line}: the table has a join time but no leave time column")
    out = []
    for number, cells in table.rows:
        cells = cells + [""] * (len(h) - len(cells))
        name = cells[name_at].strip()
        if not name:
            continue
        try:
            joined, left = parse_time(cells[join_at], zone), parse_time(cells[leave_at], zone)
        except ValueError as e:
            raise Invalid(f"line {number}: {str(e) or 'an empty time'!r} is not a time this report uses") from None
        if left < joined:
            raise Invalid(f"line {number}: it leaves before it joins")
        email = cells[email_at].strip().lower() if email_at is not None else ""
        out.append(ReportRow(number, name[:MAX_TEXT], email[:MAX_TEXT] if "@" in email else "", joined, left))
    return out


def _action_rows(table: _Table, zone: tzinfo) -> list[ReportRow]:
    """Teams' first layout (2020): Full Name, User Action (Joined, Left, Joined before), Timestamp."""
    h = table.header
    name_at, action_at, time_at = _find(h, _NAME), _find(h, _ACTION), _find(h, _TIMESTAMP)
    assert name_at is not None and time_at is not None
    if action_at is None:
        raise Invalid(f"line {table.line}: the table has a timestamp but no user action column")
    opened: dict[str, tuple[int, str, datetime]] = {}
    out: list[ReportRow] = []
    last: datetime | None = None
    for number, cells in table.rows:
        cells = cells + [""] * (len(h) - len(cells))
        name, action = cells[name_at].strip(), cells[action_at].strip().casefold()
        if not name:
            continue
        try:
            at = parse_time(cells[time_at], zone)
        except ValueError as e:
            raise Invalid(f"line {number}: {str(e) or 'an empty time'!r} is not a time this report uses") from None
        last = at if last is None or at > last else last
        key = name.casefold()
        if action.startswith("join"):
            opened.setdefault(key, (number, name, at))
        elif action.startswith("left") and key in opened:
            row, shown, joined = opened.pop(key)
            out.append(ReportRow(row, shown[:MAX_TEXT], "", joined, at))
    for row, shown, joined in opened.values():  # never left: in the call to the report's last moment
        out.append(ReportRow(row, shown[:MAX_TEXT], "", joined, max(joined, last or joined)))
    return sorted(out, key=lambda r: r.row)


def parse_report(raw: bytes, zone: tzinfo) -> Report:
    """A Zoom participants CSV or a Teams attendance report, recognised from its content."""
    if len(raw) > MAX_REPORT_BYTES:
        raise Invalid(f"the report is over {MAX_REPORT_BYTES:,} bytes")
    if not raw.strip():
        raise Invalid("the report is empty")
    text, utf16 = _decode(raw)
    if "\x00" in text:
        raise Invalid("the report holds NUL characters: it is not a text report in UTF-8 or UTF-16")
    first_lines = text.splitlines()[:400]
    tabbed = sum("\t" in line for line in first_lines) > sum("," in line for line in first_lines) / 2
    platform: Platform = "teams" if utf16 or tabbed else "zoom"
    reader = csv.reader(io.StringIO(text), delimiter="\t" if platform == "teams" else ",")
    try:
        lines = [(n, cells) for n, cells in enumerate(reader, start=1)]
    except csv.Error as e:
        raise Invalid(
            f"the report is not readable as {'tab' if platform == 'teams' else 'comma'}-separated: {e}"
        ) from None
    if len(lines) > MAX_REPORT_ROWS:
        raise Invalid(f"the report has more than {MAX_REPORT_ROWS:,} lines")
    tables = _tables(lines)
    with_intervals = [t for t in tables if _find(t.header, _JOIN) is not None]
    # Teams lists each person once (first join, last leave) and then every join and leave
    # ("In-Meeting Activities"): the activities are the intervals when the report has them.
    activities = [t for t in with_intervals if "join time" in t.header and "leave time" in t.header]
    if activities:
        rows, layout = _interval_rows(activities[-1], zone), "intervals"
    elif with_intervals:
        rows, layout = _interval_rows(with_intervals[-1], zone), "first-join-last-leave"
    elif tables:
        rows, layout = _action_rows(tables[-1], zone), "user-actions"
    else:
        what = "Teams attendance report" if platform == "teams" else "Zoom participants report"
        raise Invalid(
            f"this is not a {what}: no header row naming a participant and a join time "
            "(Zoom: Name (Original Name), User Email, Join Time, Leave Time; Teams: Name, Join Time, Leave Time, Email)"
        )
    seen: set[tuple[str, str, datetime, datetime]] = set()
    kept: list[ReportRow] = []
    for r in rows:
        key = (r.name.casefold(), r.email, r.joined_at, r.left_at)
        if key not in seen:
            seen.add(key)
            kept.append(r)
    return Report(platform, f"{platform}:{layout}", tuple(kept), len(rows) - len(kept))


# ---------------------------------------------------------------- matching


def name_key(name: str) -> tuple[str, ...]:
    """A name compared without case, accents, punctuation or order ("Müller, Anna" is "anna muller")."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    plain = plain.replace("ß", "ss").replace("ø", "o").replace("đ", "d").replace("ł", "l")
    return tuple(sorted(re.findall(r"[^\W_]+", plain)))


def _names(shown: str) -> list[tuple[str, ...]]:
    """Zoom writes a renamed participant "Shown (Original)": either may be the roster's."""
    out = [name_key(shown)]
    m = re.match(r"^(.*?)\s*\(([^()]*)\)\s*$", shown)
    if m:
        out += [name_key(m.group(1)), name_key(m.group(2))]
    return [k for k in out if k]


def match(name: str, email: str, members: Sequence[Member]) -> tuple[str, str] | None:
    """(participant id, "email" or "name"): the roster's participant this row is, when only one can be."""
    if email:
        by_email = [m for m in members if m.email.casefold() == email.casefold()]
        if len(by_email) == 1:
            return by_email[0].id, "email"
    for key in _names(name):
        same = [m for m in members if name_key(m.name) == key]
        if len(same) == 1:
            return same[0].id, "name"
    return None


# ---------------------------------------------------------------- minutes


def union_seconds(intervals: Iterable[tuple[datetime, datetime]]) -> float:
    total = 0.0
    start: datetime | None = None
    end: datetime | None = None
    for a, b in sorted(intervals):
        if start is None or end is None or a > end:
            if start is not None and end is not None:
                total += (end - start).total_seconds()
            start, end = a, b
        elif b > end:
            end = b
    if start is not None and end is not None:
        total += (end - start).total_seconds()
    return total


def minutes(
    session: SessionState, intervals: Mapping[str, Sequence[tuple[datetime, datetime | None]]], now: datetime
) -> dict[str, float]:
    """Each reported participant's minutes in the call, clipped to the session's start and close (or now)."""
    until = session.closed_at or now
    out = {}
    for pid, mine in intervals.items():
        if session.started_at is None:
            out[pid] = 0.0
            continue
        clipped = [(max(a, session.started_at), min(b or until, until)) for a, b in mine]
        out[pid] = round(union_seconds((a, b) for a, b in clipped if b > a) / 60, 2)
    return out


def flags(status: str, platform_minutes: float | None, reported: bool) -> list[str]:
    """What staff should look at: in the call but never checked in, checked in but not in the call."""
    if not reported:
        return []
    in_call = platform_minutes is not None and platform_minutes > 0
    checked_in = status in ("present", "late")
    if in_call and not checked_in:
        return ["in_call_not_checked_in"]
    if checked_in and not in_call:
        return ["checked_in_not_in_call"]
    return []

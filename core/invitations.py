"""The rules of invitations and reminders: what a change mails, when a reminder is due or skipped.

Pure: the service reads the session and the clock and asks these; core.ical and core.invitemail write
the mails.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from core.errors import Conflict, Invalid
from core.ical import SeriesRule
from core.model import SessionState
from core.schedule import WEEKDAYS, zone

Rsvp = Literal["needs-action", "accepted", "tentative", "declined"]
ANSWERS: tuple[Rsvp, ...] = ("accepted", "tentative", "declined")

Role = Literal["participant", "instructor"]
INSTRUCTOR = "instructor"  # the instructor's recipient key; a participant's is their id


@dataclass(frozen=True, slots=True)
class Invitation:
    """One recipient of a session's invitations, as invited, with their answer."""

    id: str
    session_id: str
    recipient: str  # the participant's id, or INSTRUCTOR
    participant_id: str | None
    role: Role
    name: str
    email: str
    timezone: str | None
    sequence: int  # of the last mail queued to them
    sent_at: datetime
    late: bool = False  # added to the roster after invitations went out
    rsvp: Rsvp = "needs-action"
    rsvp_at: datetime | None = None
    removed_at: datetime | None = None  # taken off the roster: they got a CANCEL


@dataclass(frozen=True, slots=True)
class CalendarEvent:
    """A session's event in its invitees' calendars: its UID and SEQUENCE; an occurrence of a series invited
    as one event has the series' UID and its RECURRENCE-ID."""

    session_id: str
    uid: str
    sequence: int
    recurrence_id: datetime | None = None


@dataclass(frozen=True, slots=True)
class CalendarSeries:
    """A series invited as one VEVENT: the rule as mailed and the event's SEQUENCE."""

    uid: str
    series_id: str
    sequence: int
    timezone: str
    first_start: datetime
    rule: SeriesRule


# A change of any of these after invitations went out sends every invitee an update (contract part 2).
# The zone is one of them: DTSTART carries it, and the mail shows the session's time in it.
MAILED_FIELDS = ("starts_at", "duration_minutes", "topic", "agenda", "join_url", "timezone")

# What the service answers for a session whose lead time has passed without invitations.
NOT_INVITED = "not_invited"


def mailed_change(old: SessionState, new: SessionState) -> list[str]:
    """The fields an invitee's calendar shows that differ between the two states."""
    return [f for f in MAILED_FIELDS if getattr(old, f) != getattr(new, f)]


def short_notice(now: datetime, starts_at: datetime, lead: timedelta) -> bool:
    """Inviting now is later than the lead time before the start."""
    return now > starts_at - lead


def check_invite(s: SessionState, now: datetime, lead: timedelta, lead_text: str, reason: str | None) -> None:
    """Conflict when the session cannot be invited to now, or only with a reason it lacks."""
    if s.status != "scheduled":
        raise Conflict(f"the session is {s.status}: invitations go to scheduled sessions only")
    if now >= s.starts_at:
        raise Conflict("the session has started")
    if short_notice(now, s.starts_at, lead) and not (reason and reason.strip()):
        raise Conflict(
            f"invitations go out at least {lead_text} before the start: give short_notice_reason to send them now",
            reason="short_notice",
            lead=lead_text,
        )


def not_ready(s: SessionState, now: datetime, lead: timedelta) -> list[str]:
    """What keeps a scheduled session from being ready (Preparation adds more): uninvited past its lead time."""
    if s.status == "scheduled" and s.invitations_sent_at is None and short_notice(now, s.starts_at, lead):
        return [NOT_INVITED]
    return []


def agenda_text(agenda: Any) -> str | None:
    """The agenda as the text a mail or a meeting invitation shows (a list: one line an item)."""
    if agenda is None or isinstance(agenda, str):
        return agenda
    lines = [a if isinstance(a, str) else " ".join(str(v) for v in a.values() if v is not None) for a in agenda]
    return "\n".join(lines)


def answer(value: object) -> Rsvp:
    """An RSVP answer as the API takes it."""
    if value not in ANSWERS:
        raise Invalid(f"answer: one of {', '.join(ANSWERS)}")
    return value


# ------------------------------------------------------------------ reminders


def reminder_due(starts_at: datetime, offset: timedelta) -> datetime:
    return starts_at - offset


def reminders_to_schedule(now: datetime, starts_at: datetime, offsets: Sequence[timedelta]) -> list[timedelta]:
    """The offsets whose reminder still lies ahead: one already past at booking is never sent."""
    return [o for o in offsets if reminder_due(starts_at, o) > now]


def reminder_skip(now: datetime, starts_at: datetime, offset: timedelta, offsets: Sequence[timedelta]) -> str | None:
    """Why the reminder at `offset` is not sent now (None: send it).

    Never after the start. One that fell due while no process ran is still sent, unless a later one
    (a shorter offset) is due by now as well: then that one goes and this is skipped.
    """
    if now >= starts_at:
        return "the session has started"
    later = [o for o in offsets if o < offset and now >= reminder_due(starts_at, o)]
    if later:
        return f"a later reminder ({duration_text(max(later))} before) is due as well"
    return None


def duration_text(length: timedelta) -> str:
    """'3 days', '24 hours', '45 minutes', '90 seconds': a length as a reminder says it. Rounded down, so a
    reminder caught up late never promises more time than is left."""
    seconds = int(length.total_seconds())
    if seconds >= 2 * 86400 and seconds % 86400 == 0:
        n, unit = seconds // 86400, "day"
    elif seconds >= 2 * 3600 or seconds == 3600:
        n, unit = seconds // 3600, "hour"
    elif seconds >= 120:
        n, unit = seconds // 60, "minute"
    else:
        n, unit = seconds, "second"
    return f"{n} {unit}{'s' if n != 1 else ''}"


# ------------------------------------------------------------------ series invited as one event


def series_rule(starts: Sequence[datetime], timezone: str) -> SeriesRule:
    """The RRULE of a weekly series' occurrences: their local weekdays, as many as there are."""
    tz = zone(timezone)
    days = {WEEKDAYS[s.astimezone(tz).weekday()] for s in starts}
    return SeriesRule(byday=tuple(d for d in WEEKDAYS if d in days), count=len(starts))


def message_id(job_key: str, domain: str) -> str:
    """A mail's Message-ID, from its job's key: a resend after a crash repeats it, so clients drop the copy."""
    return f"<{hashlib.sha256(job_key.encode()).hexdigest()[:32]}@{domain}>"

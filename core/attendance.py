"""Check-in, the rotating check-in code, staff marks and presence views."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import replace
from datetime import datetime, timedelta

from core.errors import Conflict, Invalid, RateLimited
from core.lifecycle import checkin_opens_at, require_open
from core.model import AttendanceStatus, Member, SessionState, iso

# The code on the instructor's screen share changes every minute, so a code passed on to
# someone who is not in the class stops working quickly. The one just replaced still counts,
# for the participant who was typing it as it rotated.
CODE_PERIOD_S = 60
CODE_DIGITS = 4


class WrongCode(Invalid):
    """A code was given and it is not the one shown: counted against the participant's allowance."""


def new_code_secret() -> str:
    return secrets.token_hex(16)


def code_at(secret: str, t: datetime) -> str:
    """The check-in code shown at moment t (a TOTP-style derivation from the session secret)."""
    window = int(t.timestamp()) // CODE_PERIOD_S
    digest = hmac.new(secret.encode(), str(window).encode(), hashlib.sha256).digest()
    return str(int.from_bytes(digest[:4], "big") % 10**CODE_DIGITS).zfill(CODE_DIGITS)


def code_expires_at(t: datetime) -> datetime:
    window = int(t.timestamp()) // CODE_PERIOD_S
    return datetime.fromtimestamp((window + 1) * CODE_PERIOD_S, tz=t.tzinfo)


def code_accepts(secret: str, code: str, now: datetime) -> bool:
    candidates = (code_at(secret, now), code_at(secret, now - timedelta(seconds=CODE_PERIOD_S)))
    # Bytes: compare_digest refuses str with non-ASCII characters, and a code is whatever was typed.
    given = code.encode()
    return any(hmac.compare_digest(given, c.encode()) for c in candidates)


def checkin(
    session: SessionState, member: Member, code: str | None, now: datetime, *, locked_until: datetime | None = None
) -> Member:
    """Check a participant in; a second check-in keeps the first time and status.

    `locked_until`: this participant has used up their wrong codes until then, so no code of theirs
    is looked at, the right one included (or guessing would simply go on until it hits).
    """
    require_open(session)
    if member.checked_in_at is not None:
        return member
    opens = checkin_opens_at(session)
    if now < opens:
        raise Conflict(f"check-in opens at {iso(opens)}", opens_at=iso(opens))
    if session.checkin_secret is not None:
        if code is None:
            raise Invalid("code: this session asks for the check-in code shown by the instructor")
        if locked_until is not None and locked_until > now:
            raise RateLimited(
                f"too many wrong check-in codes: try again after {iso(locked_until)}, "
                "or ask the instructor to mark you",
                retry_at=iso(locked_until),
            )
        if not code_accepts(session.checkin_secret, code.strip(), now):
            raise WrongCode("code: wrong check-in code")
    counted_from = late_counted_from(session)
    late = counted_from is not None and now > counted_from + timedelta(minutes=session.late_after_minutes)
    return replace(member, checked_in_at=now, checkin_status="late" if late else "present")


def late_counted_from(session: SessionState) -> datetime | None:
    """Where `late_after_minutes` counts from: the later of the expected start and the actual start.

    A session started early does not make people late before the time they were told (scheduled,
    plus any delay); one started late gives them the minutes from when it began. Before it starts
    there is nothing to count from: whenever it starts, that is later than now, so nobody is late yet.
    """
    if session.started_at is None:
        return None
    return max(session.expected_start, session.started_at)


def mark(session: SessionState, member: Member, status: AttendanceStatus) -> Member:
    """Staff set the status; a mark overrides the check-in."""
    require_open(session)
    return replace(member, mark=status)

"""The rules of booking a session: what its platform must hold and do, what may change, and when a refusal stands.

Three things refuse a booking (contract, "Refusals"): the instructor already teaches at an
overlapping time, the platform holds fewer people than expected (or than the roster), and the
platform lacks a required feature. Each is a 409 `conflict` unless an admin gives an
`override_reason`, which is then kept on the session and written to the audit log. `refusal`
gathers every reason at once, so the admin sees all of them in one answer and overrides knowingly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from core.errors import Conflict, Invalid
from core.model import SessionState
from core.platforms import Platform
from core.schedule import Booking, Clash, zone

ProblemKind = Literal["instructor_busy", "capacity", "feature"]

# What PATCH may change of a live session (contract): its wording and link, never its time or platform.
LIVE_EDITABLE = frozenset({"topic", "agenda", "join_url"})
# Fields that, when changed, move the session in time: conflicts and the meeting follow.
TIMING = frozenset({"starts_at", "duration_minutes", "timezone"})
# Fields the platform check reads again when changed.
PLATFORM_BOUND = frozenset({"platform", "required_features", "capacity", "expected_participants"})


@dataclass(frozen=True, slots=True)
class Problem:
    """One reason a booking is refused unless overridden."""

    kind: ProblemKind
    message: str
    features: tuple[str, ...] = ()  # the missing ones, for a feature problem

    def view(self) -> dict[str, str]:
        return {"kind": self.kind, "message": self.message}


def platform_of(catalogue: tuple[Platform, ...], platform_id: str | None) -> Platform | None:
    """The catalogue entry a session names; None when it names none; Invalid for an unknown id."""
    if platform_id is None:
        return None
    for p in catalogue:
        if p.id == platform_id:
            return p
    known = ", ".join(p.id for p in catalogue)
    raise Invalid(f"platform: unknown platform {platform_id!r}; one of {known}")


def platform_problems(platform: Platform | None, required_features: list[str], needed: int) -> list[Problem]:
    """What the platform cannot give the session: too few places for `needed` people, missing features."""
    if platform is None:
        if required_features:
            needs = ", ".join(required_features)
            return [Problem("feature", f"no platform is chosen to provide {needs}", tuple(required_features))]
        return []
    problems = []
    if platform.capacity is not None and needed > platform.capacity:
        problems.append(
            Problem("capacity", f"{platform.name} holds {platform.capacity} people; the session needs {needed}")
        )
    missing = [f for f in required_features if f not in platform.features]
    if missing:
        problems.append(Problem("feature", f"{platform.name} lacks {', '.join(missing)}", tuple(missing)))
    return problems


def people_needed(expected_participants: int | None, roster_size: int) -> int:
    """The places a session needs: the people expected, or the roster when it is larger."""
    return max(expected_participants or 0, roster_size)


def refusal(clashes: list[Clash], problems: list[Problem], *, override_reason: str | None) -> Conflict | None:
    """The 409 a booking gets, naming every reason; None when nothing stands in the way or an admin overrode it."""
    every = [*problems]
    if clashes:
        every.insert(0, Problem("instructor_busy", _busy_message(clashes)))
    if not every or override_reason:
        return None
    missing = sorted({f for p in problems for f in p.features})
    return Conflict(
        "; ".join(p.message for p in every) + " (an admin may book it anyway with override_reason)",
        conflicts=[b.view() for b in _unique_bookings(clashes)],
        problems=[p.view() for p in every],
        missing_features=missing,
    )


def overridden(clashes: list[Clash], problems: list[Problem]) -> list[dict[str, Any]]:
    """What an override set aside, as the audit entry records it."""
    every = [*problems]
    if clashes:
        every.insert(0, Problem("instructor_busy", _busy_message(clashes)))
    return [p.view() for p in every]


def check_patch(session: SessionState, fields: set[str]) -> None:
    """Conflict unless these fields may change now: a live session only its wording and link, an ended one nothing."""
    if session.status in ("closed", "cancelled"):
        raise Conflict(f"a {session.status} session cannot be changed")
    if session.status == "live":
        fixed = sorted(fields - LIVE_EDITABLE)
        if fixed:
            raise Conflict(f"a live session may change only topic, agenda and join_url, not {', '.join(fixed)}")


def shifted(
    starts: list[datetime], old_tz: str, new_tz: str, old_first: datetime, new_first: datetime
) -> list[datetime]:
    """Later occurrences moved by the same change of local wall-clock time as the one edited.

    The edited session went from `old_first` (read in `old_tz`) to `new_first` (read in `new_tz`);
    each later start keeps its own day and moves its local time by the same amount, so a class at
    10:00 moved to 11:00 is at 11:00 every later week, in summer and in winter alike.
    """
    old_zone, new_zone = zone(old_tz), zone(new_tz)
    delta = _wall(new_first, new_zone) - _wall(old_first, old_zone)
    return [(_wall(s, old_zone) + delta).replace(tzinfo=new_zone, fold=0).astimezone(old_first.tzinfo) for s in starts]


def _wall(instant: datetime, tz: ZoneInfo) -> datetime:
    return instant.astimezone(tz).replace(tzinfo=None)


def _busy_message(clashes: list[Clash]) -> str:
    bookings = _unique_bookings(clashes)
    first = bookings[0]
    more = f" and {len(bookings) - 1} more" if len(bookings) > 1 else ""
    return f"the instructor already teaches {first.topic!r} at an overlapping time{more}"


def _unique_bookings(clashes: list[Clash]) -> list[Booking]:
    seen: dict[str, Booking] = {}
    for c in clashes:
        seen.setdefault(c.booking.session_id, c.booking)
    return list(seen.values())


def session_end(starts_at: datetime, duration_minutes: int) -> datetime:
    """When a planned session ends."""
    return starts_at + timedelta(minutes=duration_minutes)

"""The live session's state as plain data: what the pure core reads and returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from core.clock import SystemClock

Role = Literal["admin", "instructor", "support", "participant"]
STAFF_ROLES: frozenset[str] = frozenset({"admin", "instructor", "support"})
CONDUCT_ROLES: frozenset[str] = frozenset({"admin", "instructor"})  # run the session, pings, marks
SUPPORT_ROLES: frozenset[str] = frozenset({"admin", "support"})  # work the help queue
PARTICIPANT_ONLY: frozenset[str] = frozenset({"participant"})

SessionStatus = Literal["scheduled", "live", "closed", "cancelled"]
AttendanceStatus = Literal["present", "late", "absent", "excused"]
TicketState = Literal["waiting", "claimed", "resolved", "unresolved", "withdrawn"]
PingKind = Literal["poll", "pulse", "rating", "text", "attention"]
PlatformStatus = Literal["ok", "degraded", "down"]

_SYSTEM_CLOCK = SystemClock()


def utcnow() -> datetime:
    """The wall clock, for code that is handed no clock (the HTTP side, the CLI); the live session reads its `Clock`."""
    return _SYSTEM_CLOCK.now()


def article(role: str) -> str:
    """ "an admin", "a participant": a role named in a sentence."""
    return f"an {role}" if role[:1] in ("a", "e", "i", "o", "u") else f"a {role}"


def iso(t: datetime | None) -> str | None:
    """RFC 3339 in UTC with milliseconds and a Z."""
    if t is None:
        return None
    return t.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(slots=True)
class Actor:
    """Who is behind a connection or an HTTP call."""

    role: Role
    name: str
    token_id: str
    email: str | None = None
    participant_id: str | None = None
    session_id: str | None = None  # a participant's own session

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def author_key(self) -> str:
        """Chat authors are people: a participant, a staff member by email, or a bare token."""
        if self.participant_id:
            return f"p:{self.participant_id}"
        if self.email:
            return f"staff:{self.email.lower()}"
        return f"token:{self.token_id}"

    def may_act_in(self, session: SessionState) -> bool:
        """Admin and support act in every session; an instructor in theirs; a participant in its own."""
        if self.role == "participant":
            return self.session_id == session.id
        if self.role == "instructor":
            return self.email is not None and self.email.lower() == session.instructor_email.lower()
        return True


@dataclass(slots=True)
class SessionState:
    id: str
    topic: str
    instructor_email: str
    starts_at: datetime
    duration_minutes: int
    late_after_minutes: int
    status: SessionStatus = "scheduled"
    capacity: int | None = None
    platform: str | None = None
    join_url: str | None = None
    agenda: Any = None
    checkin_secret: str | None = None  # set when the session asks for a check-in code
    started_at: datetime | None = None
    closed_at: datetime | None = None
    delay_minutes: int = 0
    delay_reason: str | None = None
    platform_status: PlatformStatus = "ok"
    platform_message: str = ""
    # Scheduling (contract part 2): the series it belongs to, the zone its wall-clock time is kept
    # in, what it needs of its platform, and the admin's reason when a refusal was overridden.
    series_id: str | None = None
    timezone: str = "UTC"
    required_features: list[str] = field(default_factory=list)
    expected_participants: int | None = None
    override_reason: str | None = None
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None
    invitations_sent_at: datetime | None = None
    short_notice_reason: str | None = None
    # The meeting booked on the video platform ("manual": a pasted link, nothing to update or delete).
    meeting_provider: str | None = None
    meeting_id: str | None = None
    meeting_occurrence_id: str | None = None

    @property
    def expected_start(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.delay_minutes)

    @property
    def scheduled_end(self) -> datetime:
        # From the schedule (with delays), not from started_at: a session the ticker starts late
        # (created after its start, or the server was down) must not run on past its planned end.
        return self.expected_start + timedelta(minutes=self.duration_minutes)

    def public(self) -> dict[str, Any]:
        """The session as every client sees it (no secrets)."""
        return {
            "id": self.id,
            "topic": self.topic,
            "instructor_email": self.instructor_email,
            "status": self.status,
            "starts_at": iso(self.starts_at),
            "expected_start": iso(self.expected_start),
            "duration_minutes": self.duration_minutes,
            "capacity": self.capacity,
            "platform": self.platform,
            "join_url": self.join_url,
            "agenda": self.agenda,
            "late_after_minutes": self.late_after_minutes,
            "checkin_code_required": self.checkin_secret is not None,
            "started_at": iso(self.started_at),
            "closed_at": iso(self.closed_at),
            "delay_minutes": self.delay_minutes,
            "delay_reason": self.delay_reason,
            "platform_status": {"status": self.platform_status, "message": self.platform_message},
            "series_id": self.series_id,
            "timezone": self.timezone,
            "required_features": list(self.required_features),
            "expected_participants": self.expected_participants,
            "override_reason": self.override_reason,
            "cancelled_at": iso(self.cancelled_at),
            "cancel_reason": self.cancel_reason,
            "invitations_sent_at": iso(self.invitations_sent_at),
            "short_notice_reason": self.short_notice_reason,
            "meeting": {"provider": self.meeting_provider, "id": self.meeting_id} if self.meeting_provider else None,
        }


@dataclass(slots=True)
class Member:
    """A participant of the roster with its attendance facts."""

    id: str
    name: str
    email: str
    checked_in_at: datetime | None = None
    checkin_status: Literal["present", "late"] | None = None
    mark: AttendanceStatus | None = None  # set by staff; overrides the check-in
    timezone: str | None = None  # IANA: mail and pages show them times in it

    @property
    def status(self) -> AttendanceStatus:
        return self.mark or self.checkin_status or "absent"

    def presence(self, connected: bool) -> dict[str, Any]:
        return {
            "participant_id": self.id,
            "name": self.name,
            "email": self.email,
            "connected": connected,
            "status": self.status,
            "checked_in_at": iso(self.checked_in_at),
        }


@dataclass(slots=True)
class Ping:
    id: str
    kind: PingKind
    question: str
    options: list[str] | None
    launched_at: datetime
    closes_at: datetime
    closed_at: datetime | None = None
    answers: dict[str, Any] = field(default_factory=dict)  # participant id -> answer
    seen: set[str] = field(default_factory=set)  # participants connected while it was open

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


@dataclass(slots=True)
class Ticket:
    id: str
    participant_id: str
    name: str
    category: str
    text: str
    created_at: datetime
    state: TicketState = "waiting"
    claimed_by: str | None = None
    note: str | None = None
    position: int | None = None
    claimed_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.state in ("waiting", "claimed")

    def pre_class(self, session_started_at: datetime | None) -> bool:
        """Opened before the class went live (a setup problem, not one mid-lecture)."""
        return session_started_at is None or self.created_at < session_started_at

    def view(self, session_started_at: datetime | None) -> dict[str, Any]:
        """What staff see in the queue."""
        return {
            "ticket_id": self.id,
            "participant_id": self.participant_id,
            "name": self.name,
            "category": self.category,
            "text": self.text,
            "state": self.state,
            "position": self.position,
            "claimed_by": self.claimed_by,
            "created_at": iso(self.created_at),
            "claimed_at": iso(self.claimed_at),
            "pre_class": self.pre_class(session_started_at),
        }

    def mine(self) -> dict[str, Any]:
        """What the ticket's own participant is told (the support note once resolved)."""
        return {"ticket_id": self.id, "state": self.state, "position": self.position, "note": self.note}


@dataclass(slots=True, frozen=True)
class ChatMessage:
    id: str
    seq: int
    client_id: str
    author_key: str
    author: str
    role: str
    text: str
    sent_at: datetime

    def view(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "seq": self.seq,
            "client_id": self.client_id,
            "author": self.author,
            "role": self.role,
            "text": self.text,
            "sent_at": iso(self.sent_at),
        }


def roster_order(m: Member) -> tuple[str, str]:
    """Every list of people reads by name (then id, for people of the same name): the live stores, the
    attendance sheet and the presence timeline alike."""
    return (m.name.casefold(), m.id)


# Audiences of server -> client events; each is one Socket.IO room.
def room_all(session_id: str) -> str:
    return f"s:{session_id}"


def room_staff(session_id: str) -> str:
    return f"s:{session_id}:staff"


def room_participants(session_id: str) -> str:
    return f"s:{session_id}:participants"


def room_token(token_id: str) -> str:
    """Every socket opened with one token (a participant's, an API token, a staff web session)."""
    return f"token:{token_id}"


def room_person(email: str) -> str:
    """Every socket of one staff member, whatever signed them in."""
    return f"staff:{email.lower()}"


def room_participant(participant_id: str) -> str:
    return f"p:{participant_id}"


@dataclass(slots=True, frozen=True)
class Emit:
    """One server -> client event the core asks to send, once the change is committed."""

    event: str
    payload: dict[str, Any]
    room: str

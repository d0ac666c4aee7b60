"""SQLAlchemy 2 models: the database is the source of truth for everything acknowledged."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, on SQLite (which keeps no zone) as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, Any: JSON}


class StaffMember(Base):
    __tablename__ = "staff"

    email: Mapped[str] = mapped_column(String(320), primary_key=True)  # lower-cased
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    disabled_at: Mapped[datetime | None]
    # Set when the person enrols from an invitation (admin, instructor or support); staff known only
    # from an API token have none, their token carries the role.
    role: Mapped[str | None] = mapped_column(String(20), default=None)
    # The WebAuthn user handle: random, stable per person, so an authenticator replaces its old
    # passkey for this person instead of keeping two.
    user_handle: Mapped[str | None] = mapped_column(String(128), default=None)
    # The person's internal id (0003): the audit log names people by it, never by email, so erasing
    # a person leaves the log whole and no longer identifying.
    id: Mapped[str] = mapped_column(String(40), unique=True, default=lambda: uuid.uuid4().hex)
    timezone: Mapped[str | None] = mapped_column(String(64), default=None)


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class LiveSession(Base):
    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    topic: Mapped[str] = mapped_column(String(300))
    instructor_email: Mapped[str] = mapped_column(String(320), index=True)
    starts_at: Mapped[datetime]
    expected_start: Mapped[datetime] = mapped_column(index=True)
    duration_minutes: Mapped[int]
    capacity: Mapped[int | None]
    platform: Mapped[str | None] = mapped_column(String(100))
    join_url: Mapped[str | None] = mapped_column(String(2000))
    agenda: Mapped[Any | None]
    late_after_minutes: Mapped[int]
    checkin_secret: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), index=True)
    started_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    delay_minutes: Mapped[int] = mapped_column(default=0)
    delay_reason: Mapped[str | None] = mapped_column(String(500))
    platform_status: Mapped[str] = mapped_column(String(20), default="ok")
    platform_message: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime]
    # Scheduling (0003). The conflict check reads one instructor's sessions around a time through
    # ix_sessions_instructor_start: instructor_key is the lower-cased email (emails compare so).
    instructor_key: Mapped[str] = mapped_column(String(320))
    series_id: Mapped[str | None] = mapped_column(String(40), index=True)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    required_features: Mapped[Any | None]
    expected_participants: Mapped[int | None]
    override_reason: Mapped[str | None] = mapped_column(String(500))
    cancelled_at: Mapped[datetime | None]
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    invitations_sent_at: Mapped[datetime | None]
    short_notice_reason: Mapped[str | None] = mapped_column(String(500))
    meeting_provider: Mapped[str | None] = mapped_column(String(20))
    meeting_id: Mapped[str | None] = mapped_column(String(200))
    meeting_occurrence_id: Mapped[str | None] = mapped_column(String(100))

    __table_args__ = (
        Index("ix_sessions_instructor_start", "instructor_key", "starts_at"),
        Index("ix_sessions_starts_at", "starts_at"),
    )


class Participant(Base):
    __tablename__ = "participants"
    # ix_participants_email_key (0003): a person's other sessions, for overlap warnings and suggestions.
    __table_args__ = (UniqueConstraint("session_id", "email_key"), Index("ix_participants_email_key", "email_key"))

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    email_key: Mapped[str] = mapped_column(String(320))  # lower-cased: emails compare case-insensitively
    checked_in_at: Mapped[datetime | None]
    checkin_status: Mapped[str | None] = mapped_column(String(20))
    mark: Mapped[str | None] = mapped_column(String(20))
    marked_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    timezone: Mapped[str | None] = mapped_column(String(64))  # IANA (0003)
    # Erased (0015, docs/records.md "A person's data"): pseudonymised, off the live roster, every link refused.
    erased_at: Mapped[datetime | None] = mapped_column(default=None)


class Connection(Base):
    """One socket of a participant: minutes present, first and last seen come from these."""

    __tablename__ = "connections"
    __table_args__ = (Index("ix_connections_open", "process_id", "ended_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    participant_id: Mapped[str] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    process_id: Mapped[str] = mapped_column(String(40))
    connected_at: Mapped[datetime]
    alive_at: Mapped[datetime]  # refreshed while open; where a crashed process's sockets end
    ended_at: Mapped[datetime | None]


class PingRecord(Base):
    __tablename__ = "pings"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    question: Mapped[str] = mapped_column(String(500))
    options: Mapped[Any | None]
    launched_at: Mapped[datetime]
    closes_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    total: Mapped[int | None]  # frozen at close: participants connected while it was open
    seen: Mapped[Any | None]  # participant ids counted in total, frozen at close


class PingAnswer(Base):
    __tablename__ = "ping_answers"

    ping_id: Mapped[str] = mapped_column(ForeignKey("pings.id", ondelete="CASCADE"), primary_key=True)
    participant_id: Mapped[str] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"), primary_key=True)
    answer: Mapped[Any]
    answered_at: Mapped[datetime]


class HelpTicket(Base):
    __tablename__ = "help_tickets"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    participant_id: Mapped[str] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    category: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    resolved_at: Mapped[datetime | None]
    note: Mapped[str | None] = mapped_column(Text)


class ChatRecord(Base):
    __tablename__ = "chat_messages"
    __table_args__ = (
        UniqueConstraint("session_id", "seq"),
        UniqueConstraint("session_id", "author_key", "client_id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    client_id: Mapped[str] = mapped_column(String(64))
    author_key: Mapped[str] = mapped_column(String(400))
    author: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime]


class AttendanceRecord(Base):
    """The attendance sheet as saved at close; the sheet of a closed session never changes."""

    __tablename__ = "attendance_records"

    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True)
    participant_id: Mapped[str] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"), primary_key=True)
    row: Mapped[dict[str, Any]]


# ---------------------------------------------------------------- staff sign-in (passkeys)


class StaffInvitation(Base):
    """A one-time enrolment link: only the hash of its secret is kept."""

    __tablename__ = "staff_invitations"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    email: Mapped[str] = mapped_column(String(320), index=True)  # lower-cased
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    invited_by: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class Passkey(Base):
    """A WebAuthn credential of a staff member; a person may have several."""

    __tablename__ = "passkeys"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    # base64url of the authenticator's credential id (at most 1,023 bytes by the spec)
    credential_id: Mapped[str] = mapped_column(String(1400), unique=True)
    email: Mapped[str] = mapped_column(ForeignKey("staff.email", ondelete="CASCADE"), index=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    sign_count: Mapped[int] = mapped_column(BigInteger)
    label: Mapped[str] = mapped_column(String(100))
    aaguid: Mapped[str] = mapped_column(String(36))
    transports: Mapped[Any | None]
    backed_up: Mapped[bool]
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]


class WebAuthnChallenge(Base):
    """A server-side ceremony challenge: used once, expires after a few minutes."""

    __tablename__ = "webauthn_challenges"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    challenge: Mapped[str] = mapped_column(String(128))  # base64url
    purpose: Mapped[str] = mapped_column(String(20))  # enrol | add | login
    email: Mapped[str | None] = mapped_column(String(320))
    user_handle: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None]


class StaffSession(Base):
    """A signed-in browser: the cookie carries this id, signed with the server key."""

    __tablename__ = "staff_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    email: Mapped[str] = mapped_column(ForeignKey("staff.email", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    passkey_id: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime]
    seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]  # the absolute end, however active the session is
    ended_at: Mapped[datetime | None]
    ended_reason: Mapped[str | None] = mapped_column(String(20))


class OutboxMail(Base):
    """Every mail the server sends; without SMTP it stays here (and in the log) for an operator."""

    __tablename__ = "mail_outbox"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(index=True)
    sent_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)


# ---------------------------------------------------------------- the audit log


class AuditEntry(Base):
    """One audited action, written in the same transaction as the change (persistence.repos.audit.record).

    Append-only: nothing updates or deletes a row but the retention purge ("Records over time"); the
    database refuses an UPDATE, and a DELETE of an entry younger than `audit_policy` (migration 0012).
    """

    __tablename__ = "audit_log"

    # Numbered in commit order: a page of the log is "after this id", stable however many are added.
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(100), index=True)  # "staff:<id>" or "token:<id>"
    action: Mapped[str] = mapped_column(String(20), index=True)
    target: Mapped[str] = mapped_column(String(100))  # "session:<id>", "participant:<id>"
    session_id: Mapped[str | None] = mapped_column(String(40), index=True)
    detail: Mapped[dict[str, Any]]


# ---------------------------------------------------------------- work to do later


class AuditPolicy(Base):
    """One row: how long an audit entry is kept, which the database's triggers enforce (migration 0012)."""

    __tablename__ = "audit_policy"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    keep_seconds: Mapped[int] = mapped_column(BigInteger)


class JobRecord(Base):
    """A job (core.jobs.Job): a reminder or another mail to send later, claimed under a lease (repos.jobs).

    No foreign key to sessions: some jobs belong to none (the retention job), and a job of a session
    that is gone is skipped by its handler rather than deleted under a worker that holds it.
    """

    __tablename__ = "jobs"
    # The claim reads due pending jobs, and running ones whose lease ran out, in due order.
    __table_args__ = (UniqueConstraint("key", name="uq_jobs_key"), Index("ix_jobs_state_due", "state", "due_at"))

    # Numbered in insertion order: the tie-break among jobs due at the same moment.
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(500))  # unique: core.jobs.job_key: kind, session, recipient, version
    session_id: Mapped[str | None] = mapped_column(String(40), index=True)
    state: Mapped[str] = mapped_column(String(20))
    due_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    done_at: Mapped[datetime | None]


# ---------------------------------------------------------------- invitations (contract part 2, SOP 2)


class CalendarEvent(Base):
    """A session's event in its invitees' calendars, once invitations went out: its UID and SEQUENCE.

    A session invited on its own has a UID of its own; one invited with its whole series shares the
    series' UID (calendar_series) and is the occurrence at `recurrence_id`.
    """

    __tablename__ = "calendar_events"

    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True)
    uid: Mapped[str] = mapped_column(String(200), index=True)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    recurrence_id: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class CalendarSeries(Base):
    """A series invited as one VEVENT with an RRULE: the rule as mailed, and its SEQUENCE."""

    __tablename__ = "calendar_series"

    uid: Mapped[str] = mapped_column(String(200), primary_key=True)
    series_id: Mapped[str] = mapped_column(String(40), index=True)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    timezone: Mapped[str] = mapped_column(String(64))
    first_start: Mapped[datetime]
    byday: Mapped[list[str]] = mapped_column(JSON)
    count: Mapped[int]
    until: Mapped[datetime | None]  # set when ?scope=following ended the series early
    updated_at: Mapped[datetime]


class InvitationRecord(Base):
    """One recipient of a session's invitations (a roster participant or the instructor) and their answer.

    Name, address and zone are kept as invited: a participant taken off the roster still gets their
    CANCEL. `sequence` is the SEQUENCE of the last mail queued to them.
    """

    __tablename__ = "invitations"
    __table_args__ = (UniqueConstraint("session_id", "recipient"), Index("ix_invitations_email_key", "email_key"))

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    recipient: Mapped[str] = mapped_column(String(40))  # the participant's id, or "instructor"
    participant_id: Mapped[str | None] = mapped_column(String(40))
    role: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    email_key: Mapped[str] = mapped_column(String(320))
    timezone: Mapped[str | None] = mapped_column(String(64))
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime]
    late: Mapped[bool] = mapped_column(default=False)
    rsvp: Mapped[str] = mapped_column(String(20), default="needs-action")
    rsvp_at: Mapped[datetime | None]
    removed_at: Mapped[datetime | None]
    erased_at: Mapped[datetime | None] = mapped_column(default=None)  # 0015: pseudonymised; removed_at is set too


# ---------------------------------------------------------------- preparation (contract part 2, SOP 3)


class MaterialRecord(Base):
    """A file or a link shared with a session. A file's bytes are in the file store under `sha256`
    (persistence/files.py): two materials with the same bytes share them, and deleting one keeps them
    while the other refers to them."""

    __tablename__ = "materials"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    filename: Mapped[str | None] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(String(2000))
    size: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    content_type: Mapped[str | None] = mapped_column(String(120))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]


class PlatformCheckRecord(Base):
    """A run-through of a session's platform: each feature ok, failed or n/a, with notes, who and when."""

    __tablename__ = "platform_checks"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    checks: Mapped[dict[str, Any]]
    notes: Mapped[str | None] = mapped_column(Text)
    by_name: Mapped[str] = mapped_column(String(200))
    by_role: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime]


# ---------------------------------------------------------------- after the class: minutes (0007)


class NotesRecord(Base):
    """The instructor's running notes of a session: the current text and its version (each save that
    changes it is the next one; earlier texts are not kept)."""

    __tablename__ = "session_notes"

    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)
    saved_at: Mapped[datetime]
    saved_by: Mapped[str] = mapped_column(String(200))


class MinutesRecord(Base):
    """A session's minutes as they stand: summary, key points, action items ({text, owner_email, due})."""

    __tablename__ = "minutes"

    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    summary: Mapped[str] = mapped_column(Text)
    key_points: Mapped[list[str]] = mapped_column(JSON)
    action_items: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(200))


class MinutesCirculationRecord(Base):
    """One version of the minutes mailed: its primary key makes that once per version, and `content` keeps
    what was mailed (the mails are built from it, however the minutes change after)."""

    __tablename__ = "minutes_circulations"

    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    content: Mapped[dict[str, Any]]
    sent: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime]
    by_name: Mapped[str] = mapped_column(String(200))


# ---------------------------------------------------------------- after the class: feedback (0008)


class FeedbackFormRecord(Base):
    """A session's feedback form for one audience (`participants`, or `instructor`: their own form about
    the session), as staff set it; the close writes the default in force where none was set, so the
    session record keeps the form that was asked."""

    __tablename__ = "feedback_forms"

    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True)
    audience: Mapped[str] = mapped_column(String(20), primary_key=True)
    anonymous: Mapped[bool]
    questions: Mapped[Any]
    is_default: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime]
    updated_by: Mapped[str | None] = mapped_column(String(200))


class FeedbackResponseRecord(Base):
    """One person's answers to one form, replaced when they answer again. `respondent` is the SHA-256 of
    their link's token: it is all an anonymous response keeps of who gave it (so that it can be replaced
    or erased); a named form's response keeps the participant's id as well (null for the instructor)."""

    __tablename__ = "feedback_responses"
    __table_args__ = (UniqueConstraint("session_id", "audience", "respondent"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    audience: Mapped[str] = mapped_column(String(20))
    respondent: Mapped[str] = mapped_column(String(64))
    participant_id: Mapped[str | None] = mapped_column(String(40))
    answers: Mapped[dict[str, Any]]
    submitted_at: Mapped[datetime]
    updated_at: Mapped[datetime]


# ---------------------------------------------------------------- after the class: consent (0009)


class ConsentRequest(Base):
    """A recording consent request (core.consent.Request): open until replaced or the session closes."""

    __tablename__ = "consent_requests"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    requested_at: Mapped[datetime]
    requested_by: Mapped[str] = mapped_column(String(200))
    closed_at: Mapped[datetime | None]


class ConsentAnswer(Base):
    """Every answer with its time (a participant may change theirs while the request is open: the latest counts)."""

    __tablename__ = "consent_answers"
    __table_args__ = (Index("ix_consent_answers_request", "request_id", "participant_id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("consent_requests.id", ondelete="CASCADE"))
    participant_id: Mapped[str] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    consent: Mapped[bool]
    answered_at: Mapped[datetime]


class RecordingRecord(Base):
    """One stretch of recording (core.consent.Recording): started, with the consent at that moment, and stopped."""

    __tablename__ = "recordings"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    started_at: Mapped[datetime]
    started_by: Mapped[str] = mapped_column(String(200))
    override_reason: Mapped[str | None] = mapped_column(Text)
    consent: Mapped[Any]  # {request_id, yes, no, pending} when it started
    stopped_at: Mapped[datetime | None]
    stopped_by: Mapped[str | None] = mapped_column(String(200))


# ---------------------------------------------------------------- after the class: the session record (0010)


class SessionRecordVersion(Base):
    """One version of a session's record: a zip kept in the file store by its SHA-256, and what it holds.

    The row is written only once the zip is whole in the store, so a half-built record is never listed;
    `digest` is the SHA-256 of the listed files' names and sums, so a rebuild that finds nothing changed
    makes no new version.
    """

    __tablename__ = "session_records"
    __table_args__ = (UniqueConstraint("session_id", "version", name="uq_session_records_version"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    digest: Mapped[str] = mapped_column(String(64))
    files: Mapped[Any]  # the manifest's entries: [{name, sha256, size}]
    built_at: Mapped[datetime]


# ---------------------------------------------------------------- platform attendance (0011)


class PlatformImport(Base):
    """A platform's attendance report imported for a session: one per platform (a second replaces the first)."""

    __tablename__ = "platform_imports"
    __table_args__ = (UniqueConstraint("session_id", "platform", name="uq_platform_imports_platform"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(20))  # zoom, teams
    layout: Mapped[str] = mapped_column(String(60))
    imported_at: Mapped[datetime]
    imported_by: Mapped[str] = mapped_column(String(200))
    duplicates: Mapped[int] = mapped_column(Integer)


class PlatformRow(Base):
    """One interval of a report: who, when they joined and left, and the roster participant it is."""

    __tablename__ = "platform_rows"
    __table_args__ = (UniqueConstraint("import_id", "row", name="uq_platform_rows_row"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    import_id: Mapped[str] = mapped_column(ForeignKey("platform_imports.id", ondelete="CASCADE"), index=True)
    row: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(300))
    email: Mapped[str] = mapped_column(String(320))
    joined_at: Mapped[datetime]
    left_at: Mapped[datetime]
    participant_id: Mapped[str | None] = mapped_column(ForeignKey("participants.id", ondelete="SET NULL"))
    matched_by: Mapped[str | None] = mapped_column(String(10))  # email, name, manual


class ZoomEventRecord(Base):
    """A participant joined or left, as Zoom's webhook told it; `key` is Zoom's identity of the event."""

    __tablename__ = "zoom_events"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # joined, left
    meeting_id: Mapped[str] = mapped_column(String(40))
    meeting_uuid: Mapped[str] = mapped_column(String(300))
    who: Mapped[str] = mapped_column(String(300))
    name: Mapped[str] = mapped_column(String(300))
    email: Mapped[str] = mapped_column(String(320))
    at: Mapped[datetime]
    received_at: Mapped[datetime]


# ---------------------------------------------------------------- records over time: legal holds (0013)


class LegalHold(Base):
    """A session on legal hold: never purged while the row exists (the hold and its release are audited)."""

    __tablename__ = "legal_holds"

    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True)
    reason: Mapped[str] = mapped_column(String(500))
    held_by: Mapped[str] = mapped_column(String(100))  # the internal id of who set it (audit.actor_id)
    held_at: Mapped[datetime]


# ---------------------------------------------------------------- records over time: the purge (0014)


class SessionCounts(Base):
    """What a report needs of a session once its rows are purged (docs/records.md, "Retention and the purge").

    Written by the purge just before the first of the session's kinds is deleted, from the rows then
    present; `purged` says which kinds went when ({kind: RFC 3339 time}, `roster` among them once every
    kind is gone), `done_at` when the last went (such a session is never looked at again).
    """

    __tablename__ = "session_counts"

    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True)
    computed_at: Mapped[datetime]
    counts: Mapped[dict[str, Any]]
    purged: Mapped[dict[str, Any]]
    done_at: Mapped[datetime | None]


class PurgeProgress(Base):
    """What one batch of a purge deleted, until the run's `purge` audit entry names it (then it goes)."""

    __tablename__ = "purge_progress"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    detail: Mapped[dict[str, Any]]

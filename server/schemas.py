"""HTTP request bodies, validated strictly from the JSON text ("60" is not a number of minutes).

Every string, list, number and nesting level is bounded here (see core/bounds.py), so that
nothing the database, the live store or the JSON encoder would refuse is ever committed.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from core.bounds import EMAIL as _EMAIL
from core.bounds import EMAIL_MAX, JSON_SAFE_INT, MULTI_LINE, ONE_LINE
from core.errors import Invalid
from core.platforms import FEATURES
from core.schedule import zone

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")

# A session starts between these (UTC). Far enough either way for any real class and for imports
# of old ones; near enough that the start plus any delay, duration and grace stays a datetime.
EARLIEST_START = datetime(2000, 1, 1, tzinfo=UTC)
LATEST_START = datetime(2200, 1, 1, tzinfo=UTC)
# A pasted agenda document is kept whole: as long as a body may be (server.api.MAX_BODY_BYTES).
AGENDA_TEXT_MAX = 1 << 20
# An agenda as a list: one entry per line on the page, each a text or a small flat object such as
# {time, title, minutes} (static/js/session/session-view.js shows either).
AGENDA_ITEMS_MAX = 100
AGENDA_FIELDS_MAX = 10
AGENDA_TEXT_ITEM_MAX = 500


def utc(value: str) -> datetime:
    """An RFC 3339 time (already checked by the schema) as a UTC datetime."""
    return datetime.fromisoformat(value.replace("z", "Z").replace("Z", "+00:00")).astimezone(UTC)


def _rfc3339(value: str) -> str:
    if not _RFC3339.match(value):
        raise ValueError("an RFC 3339 time with an offset, like 2026-03-01T09:00:00+01:00")
    try:
        at = utc(value)
    except OverflowError:  # 0001-01-01T00:00:00+05:00 is before the first representable UTC time
        raise ValueError(f"a time between {EARLIEST_START.isoformat()} and {LATEST_START.isoformat()}") from None
    if not EARLIEST_START <= at < LATEST_START:
        raise ValueError(f"a time between {EARLIEST_START.isoformat()} and {LATEST_START.isoformat()}")
    return value


def is_email(value: str) -> bool:
    """Whether a value could be an email address the server keeps (at most 320 characters)."""
    return len(value) <= EMAIL_MAX and _EMAIL.match(value) is not None


def _email(value: str) -> str:
    if not _EMAIL.match(value):
        raise ValueError("an email address")
    return value


Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=320),
    AfterValidator(_email),
    Field(json_schema_extra={"format": "email"}),
]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=ONE_LINE)]
SafeInt = Annotated[int, Field(ge=-JSON_SAFE_INT, le=JSON_SAFE_INT)]
FiniteFloat = Annotated[float, Field(ge=-JSON_SAFE_INT, le=JSON_SAFE_INT, allow_inf_nan=False)]
AgendaKey = Annotated[str, StringConstraints(min_length=1, max_length=50, pattern=ONE_LINE)]
AgendaText = Annotated[str, StringConstraints(max_length=AGENDA_TEXT_ITEM_MAX, pattern=MULTI_LINE)]
# Flat: a field holds a text, a number or a flag, never another object or list (depth is bounded).
AgendaValue = AgendaText | SafeInt | FiniteFloat | bool | None


def _flat_object(schema: dict[str, Any]) -> None:
    """Say the key pattern as propertyNames, which bind every key (patternProperties would not)."""
    ((pattern, values),) = schema.pop("patternProperties").items()
    schema["propertyNames"]["pattern"] = pattern
    schema["additionalProperties"] = values


AgendaEntry = (
    AgendaText
    | Annotated[dict[AgendaKey, AgendaValue], Field(max_length=AGENDA_FIELDS_MAX, json_schema_extra=_flat_object)]
)
Agenda = (
    Annotated[str, StringConstraints(max_length=AGENDA_TEXT_MAX, pattern=MULTI_LINE)]
    | Annotated[list[AgendaEntry], Field(max_length=AGENDA_ITEMS_MAX)]
)


def _zone(value: str) -> str:
    try:
        zone(value)
    except Invalid:
        raise ValueError(f"an IANA time zone such as 'Europe/Berlin', not {value!r}") from None
    return value


TimeZone = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=ONE_LINE), AfterValidator(_zone)]
Feature = Literal[FEATURES]  # type: ignore[valid-type]
Features = Annotated[list[Feature], Field(max_length=len(FEATURES))]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500, pattern=ONE_LINE)]
Topic = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300, pattern=ONE_LINE)]
PlatformId = Annotated[str, StringConstraints(max_length=100, pattern=ONE_LINE)]
JoinUrl = Annotated[str, StringConstraints(max_length=2000, pattern=ONE_LINE)]
Minutes = Annotated[int, Field(ge=1, le=24 * 60)]
Capacity = Annotated[int, Field(ge=1, le=100_000)]
Rfc3339 = Annotated[
    str,
    StringConstraints(max_length=64),
    AfterValidator(_rfc3339),
    # The pattern documents the offset the validator insists on ("2026-03-01T09:00:00" is refused).
    Field(json_schema_extra={"format": "date-time", "pattern": _RFC3339.pattern}),
]
LocalDate = Annotated[
    str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$"), Field(json_schema_extra={"format": "date"})
]


class Body(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")


class TokenCreate(Body):
    role: Literal["admin", "instructor", "support"]
    name: Name
    email: Email | None = None


class Recurrence(Body):
    """A weekly series (contract): exactly one of count and until; at most 200 occurrences."""

    freq: Literal["weekly"]
    # Bounded by core.schedule.MAX_OCCURRENCES, whose refusal says the bound; this only keeps it a number.
    count: Annotated[int, Field(ge=1, le=JSON_SAFE_INT)] | None = None
    until: LocalDate | None = None
    byday: (
        Annotated[list[Literal["MO", "TU", "WE", "TH", "FR", "SA", "SU"]], Field(min_length=1, max_length=7)] | None
    ) = None


class SessionCreate(Body):
    topic: Topic
    instructor_email: Email
    starts_at: Rfc3339
    duration_minutes: Minutes
    capacity: Capacity | None = None
    platform: PlatformId | None = None
    join_url: JoinUrl | None = None
    agenda: Agenda | None = None
    late_after_minutes: Annotated[int, Field(ge=0, le=24 * 60)] = 5
    checkin_code: bool = False
    timezone: TimeZone = "UTC"
    required_features: Features = []
    expected_participants: Capacity | None = None
    recurrence: Recurrence | None = None
    override_reason: Reason | None = None


class SessionPatch(Body):
    """Any of these; a field left out is left as it is, a field given as null is cleared (where it may be)."""

    topic: Topic | None = None
    starts_at: Rfc3339 | None = None
    duration_minutes: Minutes | None = None
    timezone: TimeZone | None = None
    agenda: Agenda | None = None
    join_url: JoinUrl | None = None
    platform: PlatformId | None = None
    required_features: Features | None = None
    capacity: Capacity | None = None
    expected_participants: Capacity | None = None
    override_reason: Reason | None = None


class Cancel(Body):
    reason: Reason


class Invite(Body):
    short_notice_reason: Reason | None = None


class MaterialLink(Body):
    """A link shared as a material (a file comes as multipart/form-data instead)."""

    title: Annotated[str, StringConstraints(max_length=300)]
    url: Annotated[str, StringConstraints(max_length=2000)]


Result = Literal["ok", "failed", "n/a"]


class PlatformChecks(Body):
    audio: Result
    video: Result
    screen_share: Result
    breakout_rooms: Result
    recording: Result


class PlatformCheck(Body):
    checks: PlatformChecks
    notes: Annotated[str, StringConstraints(max_length=2000)] | None = None


class RsvpAnswer(Body):
    answer: Literal["accepted", "tentative", "declined"]


class Person(Body):
    name: Name
    email: Email
    timezone: TimeZone | None = None


class ParticipantsAdd(Body):
    participants: Annotated[list[Person], Field(min_length=1, max_length=5000)]


class Query(BaseModel):
    """Query parameters: strings from the URL, read as the fields say ("100" is a number here)."""

    model_config = ConfigDict(extra="ignore")


class SessionList(Query):
    from_: Rfc3339 | None = Field(default=None, alias="from")
    to: Rfc3339 | None = None
    instructor_email: Email | None = None
    limit: Annotated[int, Field(ge=1, le=5000)] = 1000


class InviteQuery(Query):
    scope: Literal["this", "series"] = "this"


class ScopeQuery(Query):
    scope: Literal["this", "following"] = "this"


class AuditQuery(Query):
    session_id: Annotated[str, StringConstraints(max_length=64, pattern=r"^[A-Za-z0-9_-]+$")] | None = None
    actor: Annotated[str, StringConstraints(max_length=320, pattern=ONE_LINE)] | None = None
    action: Annotated[str, StringConstraints(max_length=20, pattern=r"^[a-z_]+$")] | None = None
    after: Rfc3339 | None = None
    limit: Annotated[int, Field(ge=1, le=1000)] = 100
    cursor: Annotated[str, StringConstraints(max_length=20, pattern=r"^[0-9]+$")] | None = None


_HOUR = r"^([01]\d|2[0-3]):[0-5]\d$"


class WorkingHours(Body):
    start: Annotated[str, StringConstraints(pattern=_HOUR)] = "08:00"
    end: Annotated[str, StringConstraints(pattern=r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")] = "20:00"


class Suggest(Body):
    """Who must attend (the instructor), who should (emails, or a session's roster), when, and for how long."""

    instructor_email: Email
    duration_minutes: Minutes
    from_: Rfc3339 = Field(alias="from")
    to: Rfc3339
    emails: Annotated[list[Email], Field(max_length=5000)] = []
    session_id: Annotated[str, StringConstraints(max_length=64, pattern=r"^[A-Za-z0-9_-]+$")] | None = None
    working_hours: WorkingHours = WorkingHours()
    step_minutes: Literal[5, 10, 15, 20, 30, 60] = 30
    limit: Annotated[int, Field(ge=1, le=50)] = 10
    # The zone of a person who never gave one (on a roster or as staff).
    timezone: TimeZone = "UTC"

"""HTTP request bodies, validated strictly from the JSON text ("60" is not a number of minutes).

Every string, list, number and nesting level is bounded here (see core/bounds.py), so that
nothing the database, the live store or the JSON encoder would refuse is ever committed.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from core.bounds import JSON_SAFE_INT, MULTI_LINE, ONE_LINE

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
_EMAIL = re.compile(r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+$")

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
    return len(value) <= 320 and _EMAIL.match(value) is not None


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


class Body(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")


class TokenCreate(Body):
    role: Literal["admin", "instructor", "support"]
    name: Name
    email: Email | None = None


class SessionCreate(Body):
    topic: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300, pattern=ONE_LINE)]
    instructor_email: Email
    # The pattern documents the offset the validator insists on ("2026-03-01T09:00:00" is refused).
    starts_at: Annotated[
        str,
        StringConstraints(max_length=64),
        AfterValidator(_rfc3339),
        Field(json_schema_extra={"format": "date-time", "pattern": _RFC3339.pattern}),
    ]
    duration_minutes: Annotated[int, Field(ge=1, le=24 * 60)]
    capacity: Annotated[int, Field(ge=1, le=100_000)] | None = None
    platform: Annotated[str, StringConstraints(max_length=100, pattern=ONE_LINE)] | None = None
    join_url: Annotated[str, StringConstraints(max_length=2000, pattern=ONE_LINE)] | None = None
    agenda: Agenda | None = None
    late_after_minutes: Annotated[int, Field(ge=0, le=24 * 60)] = 5
    checkin_code: bool = False


class Person(Body):
    name: Name
    email: Email


class ParticipantsAdd(Body):
    participants: Annotated[list[Person], Field(min_length=1, max_length=5000)]

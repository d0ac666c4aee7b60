"""HTTP request bodies, validated strictly from the JSON text ("60" is not a number of minutes)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _rfc3339(value: str) -> str:
    if not _RFC3339.match(value):
        raise ValueError("an RFC 3339 time with an offset, like 2026-03-01T09:00:00+01:00")
    datetime.fromisoformat(value.replace("z", "Z").replace("Z", "+00:00"))
    return value


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
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class Body(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")


class TokenCreate(Body):
    role: Literal["admin", "instructor", "support"]
    name: Name
    email: Email | None = None


class SessionCreate(Body):
    topic: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
    instructor_email: Email
    # The pattern documents the offset the validator insists on ("2026-03-01T09:00:00" is refused).
    starts_at: Annotated[
        str,
        AfterValidator(_rfc3339),
        Field(json_schema_extra={"format": "date-time", "pattern": _RFC3339.pattern}),
    ]
    duration_minutes: Annotated[int, Field(ge=1, le=24 * 60)]
    capacity: Annotated[int, Field(ge=1, le=100_000)] | None = None
    platform: Annotated[str, StringConstraints(max_length=100)] | None = None
    join_url: Annotated[str, StringConstraints(max_length=2000)] | None = None
    agenda: str | list[Any] | None = None
    late_after_minutes: Annotated[int, Field(ge=0, le=24 * 60)] = 5
    checkin_code: bool = False


class Person(Body):
    name: Name
    email: Email


class ParticipantsAdd(Body):
    participants: Annotated[list[Person], Field(min_length=1, max_length=5000)]

"""Schemas of client -> server payloads, validated strictly ("1" is not a number)."""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from realtime.errors import Invalid

CHAT_MAX_CHARS = 2000
Id = Annotated[str, StringConstraints(min_length=1, max_length=100)]
ClientId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{8,64}$")]
Trimmed = Annotated[str, StringConstraints(strip_whitespace=True)]


class Payload(BaseModel):
    # Payloads may carry more fields than a version of the contract names: ignore them.
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


class Empty(Payload):
    pass


class ClockSync(Payload):
    t0: float  # strict: a JSON number (int or float), never a string


class Checkin(Payload):
    code: Annotated[str, StringConstraints(max_length=32)] | None = None


class Mark(Payload):
    participant_id: Id
    status: Literal["present", "late", "excused", "absent"]


class PingLaunch(Payload):
    kind: Literal["poll", "pulse", "rating", "text", "attention"]
    question: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
    options: (
        Annotated[
            list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]],
            Field(min_length=2, max_length=20),
        ]
        | None
    ) = None
    seconds: Annotated[int, Field(ge=1, le=3600)] | None = None


class PingAnswer(Payload):
    ping_id: Id
    answer: Any  # checked against the ping's kind by the core


class PingRef(Payload):
    ping_id: Id


class HelpOpen(Payload):
    category: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    text: Annotated[str, StringConstraints(strip_whitespace=True, max_length=CHAT_MAX_CHARS)]


class HelpRef(Payload):
    ticket_id: Id


class HelpResolve(Payload):
    ticket_id: Id
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=CHAT_MAX_CHARS)] | None = None


class ChatSend(Payload):
    client_id: ClientId
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=CHAT_MAX_CHARS)]


class ChatHistory(Payload):
    after_seq: Annotated[int, Field(ge=0)] = 0


class Delay(Payload):
    minutes: Annotated[int, Field(ge=1, le=24 * 60)]
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None


class Platform(Payload):
    status: Literal["ok", "degraded", "down"]
    message: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] = ""


M = TypeVar("M", bound=BaseModel)


def parse(model: type[M], data: Any) -> M:
    """Validate a payload, or Invalid naming the first field at fault."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise Invalid("payload: must be an object")
    try:
        return model.model_validate(data)
    except ValidationError as e:
        raise Invalid(describe(e)) from None


def describe(e: ValidationError) -> str:
    err = e.errors(include_url=False)[0]
    where = ".".join(str(p) for p in err["loc"]) or "payload"
    return f"{where}: {err['msg']}"

"""Schemas of client -> server payloads, validated strictly ("1" is not a number)."""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from core.bounds import ID_PATTERN, INT32_MAX, JSON_SAFE_INT, MULTI_LINE, ONE_LINE, PATTERN_WORDS
from core.errors import Invalid

CHAT_MAX_CHARS = 2000
Id = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
ClientId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{8,64}$")]


def _line(max_length: int) -> Any:
    return StringConstraints(strip_whitespace=True, min_length=1, max_length=max_length, pattern=ONE_LINE)


Question = Annotated[str, _line(500)]
Option = Annotated[str, _line(200)]
Category = Annotated[str, _line(100)]
# Free text: trimmed, line breaks kept.
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=CHAT_MAX_CHARS, pattern=MULTI_LINE)]
ChatText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=CHAT_MAX_CHARS, pattern=MULTI_LINE)
]
Short = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500, pattern=MULTI_LINE)]


class Payload(BaseModel):
    # Payloads may carry more fields than a version of the contract names: ignore them.
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


class Empty(Payload):
    pass


class ClockSync(Payload):
    # Client epoch milliseconds: a finite JSON number (int or float, never a string), echoed back.
    # 2^53 ms is beyond the year 285,000: any real clock fits, and the echo is exact in JavaScript.
    t0: Annotated[float, Field(ge=0, le=JSON_SAFE_INT, allow_inf_nan=False)]


class Checkin(Payload):
    code: Annotated[str, StringConstraints(max_length=32, pattern=ONE_LINE)] | None = None


class Mark(Payload):
    participant_id: Id
    status: Literal["present", "late", "excused", "absent"]


class PingLaunch(Payload):
    kind: Literal["poll", "pulse", "rating", "text", "attention"]
    question: Question
    options: Annotated[list[Option], Field(min_length=2, max_length=20)] | None = None
    seconds: Annotated[int, Field(ge=1, le=3600)] | None = None


# What any kind of ping may take (an option index or rating, "ok"/"lost" or a text, true); the core
# checks it against the ping's kind. Typed here so no value the answers column cannot hold gets in.
Answer = Annotated[int, Field(ge=-JSON_SAFE_INT, le=JSON_SAFE_INT)] | bool | Text


class PingAnswer(Payload):
    ping_id: Id
    answer: Answer


class PingRef(Payload):
    ping_id: Id


class HelpOpen(Payload):
    category: Category
    text: Text
    # The setup check sends true: a problem found before the class. Staff see a ticket as pre-class when
    # it was opened before the session went live (Ticket.pre_class), which is exactly when the setup
    # check's claim holds: sent once the class is live, the ticket is a normal one.
    pre_class: bool = False


class HelpRef(Payload):
    ticket_id: Id


class HelpResolve(Payload):
    ticket_id: Id
    note: Text | None = None


class ChatSend(Payload):
    client_id: ClientId
    text: ChatText


class ChatHistory(Payload):
    # seq is an INTEGER column: a larger number names no message, and the database refuses it.
    after_seq: Annotated[int, Field(ge=0, le=INT32_MAX)] = 0


class Delay(Payload):
    minutes: Annotated[int, Field(ge=1, le=24 * 60)]
    reason: Short | None = None


class Platform(Payload):
    status: Literal["ok", "degraded", "down"]
    message: Short = ""


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
    """The first fault as `field: what is wrong`, in words rather than a regular expression."""
    errors = e.errors(include_url=False)
    # A union (an agenda, a ping answer) fails once per member: of the first field's errors, the
    # one that got deepest, and past the type check, says what was meant.
    field = errors[0]["loc"][:1]
    err = max(
        (x for x in errors if x["loc"][:1] == field),
        key=lambda x: (len(x["loc"]), not x["type"].endswith("_type")),
    )
    where = ".".join(str(p) for p in err["loc"] if not _is_branch(p)) or "payload"
    pattern = (err.get("ctx") or {}).get("pattern")
    if err["type"] == "string_pattern_mismatch" and pattern in PATTERN_WORDS:
        return f"{where}: {PATTERN_WORDS[pattern]}"
    return f"{where}: {err['msg']}"


_BRANCHES = frozenset({"str", "int", "float", "bool", "none", "dict", "list"})


def _is_branch(part: int | str) -> bool:
    """pydantic's name for a member of a union in an error's location, not a field."""
    return isinstance(part, str) and ("[" in part or "-" in part or part in _BRANCHES)


# ---- after the class: recording consent (docs/consent.md)

ConsentText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000, pattern=MULTI_LINE)]
OverrideReason = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500, pattern=MULTI_LINE)
]


class ConsentRequest(Payload):
    purpose: Literal["recording"]
    text: ConsentText | None = None  # blank or absent: COMPANION_CONSENT_TEXT


class ConsentAnswer(Payload):
    request_id: Id
    consent: bool


class RecordingStatus(Payload):
    recording: bool
    override_reason: OverrideReason | None = None

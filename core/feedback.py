"""Feedback forms after the class: the form's shape, the answers it accepts, the results, the personal link.

Pure rules, no I/O. A session has two forms: the participants' (`participants`) and the instructor's
own about the session (`instructor`). Each is the built-in default (or COMPANION_FEEDBACK_FORM's) until
staff set one, and is fixed once it has an answer. Results of an anonymous form are shown only from
MIN_ANONYMOUS responses on, and never with a name.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any, Literal

from core import tokens
from core.errors import Invalid

Audience = Literal["participants", "instructor"]
AUDIENCES: tuple[Audience, ...] = ("participants", "instructor")
Kind = Literal["rating", "choice", "multi", "text", "yesno"]
KINDS: tuple[Kind, ...] = ("rating", "choice", "multi", "text", "yesno")
INSTRUCTOR = "instructor"  # the recipient of the instructor's own link (a participant's is their id)

MAX_QUESTIONS = 30
MAX_QUESTION_TEXT = 500
MAX_OPTIONS = 20
MAX_OPTION_TEXT = 200
MAX_TEXT_ANSWER = 2000
RATING_MIN, RATING_MAX = 1, 5
# Below this many responses an anonymous form's results are not shown: with one or two answers, who
# answered what is easy to guess from the roster and the attendance.
MIN_ANONYMOUS = 3
# Answers are taken (and may be changed) this long after the close; then the form is closed.
OPEN_FOR = timedelta(days=14)
# The one reminder goes this long after the close to those who have not answered (COMPANION_FEEDBACK_REMINDER).
REMINDER_AFTER = timedelta(hours=48)

_QUESTION_ID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LINE_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
TOKEN_PREFIX = "fbk"


@dataclass(frozen=True, slots=True)
class Question:
    id: str
    kind: Kind
    text: str
    options: tuple[str, ...] = ()
    required: bool = False

    def public(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "kind": self.kind, "text": self.text, "required": self.required}
        if self.kind in ("choice", "multi"):
            out["options"] = list(self.options)
        return out


@dataclass(frozen=True, slots=True)
class Form:
    anonymous: bool
    questions: tuple[Question, ...]

    def public(self) -> dict[str, Any]:
        return {"anonymous": self.anonymous, "questions": [q.public() for q in self.questions]}


# ---------------------------------------------------------------- the form


def parse_form(raw: object, where: str = "") -> Form:
    """A form from its JSON shape `{anonymous, questions: [...]}`; Invalid naming the first bad field."""
    if not isinstance(raw, dict):
        raise Invalid(f"{where or 'body'}: must be an object {{anonymous, questions}}")
    anonymous = raw.get("anonymous", False)
    if not isinstance(anonymous, bool):
        raise Invalid(f"{where}anonymous: must be true or false")
    questions = raw.get("questions")
    if not isinstance(questions, list):
        raise Invalid(f"{where}questions: must be a list")
    if not questions:
        raise Invalid(f"{where}questions: a form asks at least one question")
    if len(questions) > MAX_QUESTIONS:
        raise Invalid(f"{where}questions: at most {MAX_QUESTIONS} questions")
    parsed = [_question(q, f"{where}questions[{i}]") for i, q in enumerate(questions)]
    seen: set[str] = set()
    for i, q in enumerate(parsed):
        if q.id in seen:
            raise Invalid(f"{where}questions[{i}].id: {q.id!r} is used twice; question ids are unique")
        seen.add(q.id)
    return Form(anonymous=anonymous, questions=tuple(parsed))


def _question(raw: object, where: str) -> Question:
    if not isinstance(raw, dict):
        raise Invalid(f"{where}: must be an object {{id, kind, text, options?, required?}}")
    qid = raw.get("id")
    if not isinstance(qid, str) or not _QUESTION_ID.fullmatch(qid):
        raise Invalid(f"{where}.id: 1 to 40 letters, digits, '-' or '_'")
    kind = raw.get("kind")
    if kind not in KINDS:
        raise Invalid(f"{where}.kind: one of {', '.join(KINDS)}")
    text = raw.get("text")
    if not isinstance(text, str) or not text.strip():
        raise Invalid(f"{where}.text: the question's text is required")
    if len(text) > MAX_QUESTION_TEXT or _LINE_CONTROL.search(text):
        raise Invalid(f"{where}.text: one line of at most {MAX_QUESTION_TEXT} characters")
    required = raw.get("required", False)
    if not isinstance(required, bool):
        raise Invalid(f"{where}.required: must be true or false")
    options: tuple[str, ...] = ()
    given = raw.get("options")
    if kind in ("choice", "multi"):
        if not isinstance(given, list) or not 2 <= len(given) <= MAX_OPTIONS:
            raise Invalid(f"{where}.options: a list of 2 to {MAX_OPTIONS} options")
        for j, o in enumerate(given):
            if not isinstance(o, str) or not o.strip() or len(o) > MAX_OPTION_TEXT or _LINE_CONTROL.search(o):
                raise Invalid(f"{where}.options[{j}]: one line of 1 to {MAX_OPTION_TEXT} characters")
        options = tuple(o.strip() for o in given)
        if len(set(options)) != len(options):
            raise Invalid(f"{where}.options: each option once")
    elif given not in (None, []):
        raise Invalid(f"{where}.options: only choice and multi questions have options")
    assert isinstance(kind, str)
    return Question(id=qid, kind=kind, text=text.strip(), options=options, required=required)  # type: ignore[arg-type]


DEFAULT_PARTICIPANTS = Form(
    anonymous=True,
    questions=(
        Question("overall", "rating", "Overall, how would you rate this session?", required=True),
        Question("worked", "text", "What worked well?"),
        Question("improve", "text", "What could be improved?"),
        Question("technical", "yesno", "Did you have technical problems?"),
    ),
)
DEFAULT_INSTRUCTOR = Form(
    anonymous=False,
    questions=(
        Question("overall", "rating", "Overall, how did the session go?", required=True),
        Question("worked", "text", "What worked well?"),
        Question("improve", "text", "What would you change next time?"),
        Question("technical", "yesno", "Were there technical problems?"),
    ),
)


@dataclass(frozen=True, slots=True)
class Defaults:
    """The forms a session gets when staff set none: built in, or COMPANION_FEEDBACK_FORM's."""

    participants: Form = DEFAULT_PARTICIPANTS
    instructor: Form = DEFAULT_INSTRUCTOR

    def of(self, audience: Audience) -> Form:
        return self.participants if audience == "participants" else self.instructor


def parse_defaults(text: str) -> Defaults:
    """COMPANION_FEEDBACK_FORM's JSON: one form (the participants'), or {participants?, instructor?}."""
    try:
        raw = json.loads(text)
    except ValueError as e:
        raise Invalid(f"not JSON: {e}") from None
    if isinstance(raw, dict) and "questions" not in raw and raw.keys() <= {"participants", "instructor"} and raw:
        return Defaults(
            participants=parse_form(raw["participants"], "participants.")
            if "participants" in raw
            else DEFAULT_PARTICIPANTS,
            instructor=parse_form(raw["instructor"], "instructor.") if "instructor" in raw else DEFAULT_INSTRUCTOR,
        )
    return Defaults(participants=parse_form(raw))


# ---------------------------------------------------------------- answers


def check_answers(form: Form, raw: object) -> dict[str, Any]:
    """The answers `{question_id: value}` as kept; Invalid naming the first bad one (unanswered optional
    questions are left out; null is the same as no answer)."""
    if not isinstance(raw, dict):
        raise Invalid("answers: must be an object {question_id: value}")
    by_id = {q.id: q for q in form.questions}
    for key in raw:
        if key not in by_id:
            raise Invalid(f"answers.{str(key)[:40]}: no such question on this form")
    out: dict[str, Any] = {}
    for q in form.questions:
        value = raw.get(q.id)
        if value is None or value == "" or (q.kind == "multi" and value == [] and not q.required):
            if q.required:
                raise Invalid(f"answers.{q.id}: this question needs an answer")
            continue
        out[q.id] = _answer(q, value, f"answers.{q.id}")
    return out


def _answer(q: Question, value: object, where: str) -> Any:
    if q.kind == "rating":
        if isinstance(value, bool) or not isinstance(value, int) or not RATING_MIN <= value <= RATING_MAX:
            raise Invalid(f"{where}: a whole number from {RATING_MIN} to {RATING_MAX}")
        return value
    if q.kind == "choice":
        if not isinstance(value, str) or value not in q.options:
            raise Invalid(f"{where}: one of the question's options")
        return value
    if q.kind == "multi":
        if not isinstance(value, list) or not all(isinstance(v, str) and v in q.options for v in value):
            raise Invalid(f"{where}: a list of the question's options")
        if len(set(value)) != len(value):
            raise Invalid(f"{where}: each option once")
        if q.required and not value:
            raise Invalid(f"{where}: this question needs an answer")
        return [o for o in q.options if o in value]  # in the form's order
    if q.kind == "yesno":
        if not isinstance(value, bool):
            raise Invalid(f"{where}: true or false")
        return value
    if not isinstance(value, str):
        raise Invalid(f"{where}: a text")
    if len(value) > MAX_TEXT_ANSWER:
        raise Invalid(f"{where}: at most {MAX_TEXT_ANSWER:,} characters")
    if _CONTROL.search(value):
        raise Invalid(f"{where}: must not contain control characters (tab and line breaks are fine)")
    return value.strip()


# ---------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class Response:
    """One person's answers as results see them; `name` None on an anonymous form."""

    answers: dict[str, Any]
    submitted_at: datetime
    name: str | None = None
    participant_id: str | None = None


def results(form: Form, responses: list[Response]) -> dict[str, Any]:
    """`{responses, hidden, per_question}`: per question the counts (and texts); an anonymous form below
    MIN_ANONYMOUS responses shows only how many there are."""
    hidden = form.anonymous and len(responses) < MIN_ANONYMOUS
    out: dict[str, Any] = {"responses": len(responses), "anonymous": form.anonymous, "hidden": hidden}
    out["per_question"] = [] if hidden else [_per_question(q, responses, form.anonymous) for q in form.questions]
    return out


def _per_question(q: Question, responses: list[Response], anonymous: bool) -> dict[str, Any]:
    given = [(r, r.answers[q.id]) for r in responses if q.id in r.answers]
    out: dict[str, Any] = {"id": q.id, "kind": q.kind, "text": q.text, "answered": len(given)}
    if q.kind == "rating":
        counts = Counter(v for _, v in given)
        out["counts"] = [{"value": str(n), "count": counts.get(n, 0)} for n in range(RATING_MIN, RATING_MAX + 1)]
        out["average"] = round(sum(v for _, v in given) / len(given), 2) if given else None
    elif q.kind in ("choice", "multi"):
        counts = Counter(o for _, v in given for o in (v if isinstance(v, list) else [v]))
        out["counts"] = [{"value": o, "count": counts.get(o, 0)} for o in q.options]
    elif q.kind == "yesno":
        yes = sum(1 for _, v in given if v is True)
        out["counts"] = [{"value": "yes", "count": yes}, {"value": "no", "count": len(given) - yes}]
    else:
        texts = [(r, v) for r, v in given if v]
        if anonymous:  # in no order that could tell who wrote which (the time they answered would)
            out["texts"] = [{"text": v} for v in sorted(v for _, v in texts)]
        else:
            out["texts"] = [{"text": v, "name": r.name, "participant_id": r.participant_id} for r, v in texts]
    return out


# ---------------------------------------------------------------- the personal link


def make_token(key: str, session_id: str, recipient: str) -> str:
    """A personal feedback link's token: one session, one recipient (a participant's id, or "instructor"),
    signed for feedback alone (no other kind of token is accepted for it, nor it for another)."""
    mac = tokens.sign(key.encode(), f"feedback:{session_id}:{recipient}", size=18)
    return f"{TOKEN_PREFIX}.{session_id}.{recipient}.{mac}"


def parse_token(token: str, key: str) -> tuple[str, str] | None:
    """(session id, recipient) of a feedback token; None when it is not one the server signed."""
    parts = token.split(".")
    if len(parts) != 4 or parts[0] != TOKEN_PREFIX or not token.isascii() or len(token) > 300:
        return None
    _, session_id, recipient, mac = parts
    if not (_QUESTION_ID.fullmatch(session_id) and _QUESTION_ID.fullmatch(recipient) and mac):
        return None
    if not tokens.signature_matches(key.encode(), f"feedback:{session_id}:{recipient}", mac, size=18):
        return None
    return session_id, recipient


def audience_of(recipient: str) -> Audience:
    return "instructor" if recipient == INSTRUCTOR else "participants"


def open_until(closed_at: datetime | None) -> datetime | None:
    """Until when answers are taken (and may be changed); None before the close."""
    return None if closed_at is None else closed_at + OPEN_FOR


def is_open(status: str, closed_at: datetime | None, now: datetime) -> bool:
    until = open_until(closed_at)
    return status == "closed" and until is not None and now < until


# ---------------------------------------------------------------- the mails


def form_mail(
    *,
    topic: str,
    name: str,
    to: str,
    link: str,
    audience: Audience,
    reminder: bool,
    until: datetime,
    sender: str,
    message_id: str,
    now: datetime,
) -> EmailMessage:
    """The mail with a person's feedback link (or the one reminder to those who have not answered)."""
    title = " ".join(topic.split())
    message = EmailMessage()
    message["Subject"] = (
        f"{'Reminder: ' if reminder else ''}your feedback on “{title}”"
        if audience == "participants"
        else f"{'Reminder: ' if reminder else ''}your notes on the session “{title}”"
    )
    message["From"] = sender
    message["To"] = to
    message["Message-ID"] = message_id
    message["Date"] = format_datetime(now)
    ask = (
        "How was the session? A few questions take a minute or two:"
        if audience == "participants"
        else "As the instructor, how did the session go? A few questions for you:"
    )
    lines = [
        f"Hello {' '.join(name.split())},",
        "",
        f"“{title}” has ended." if not reminder else f"A reminder: your answers on “{title}” would help.",
        ask,
        "",
        link,
        "",
        f"You can change your answers until {until:%d %B %Y, %H:%M} UTC.",
    ]
    if reminder:
        lines += ["", "This is the only reminder."]
    message.set_content("\n".join(lines) + "\n")
    return message

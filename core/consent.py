"""Recording consent: the request, the answers, the counts staff see, and when recording may start.

Pure rules without I/O. A request stays open until the session closes or a newer request replaces
it; a participant may answer again while it is open (the latest answer counts, every answer is
kept); starting the recording while a connected participant's latest answer is "no" needs an
override reason, which is audited.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from core.errors import Conflict, Invalid, NotFound
from core.lifecycle import require_open
from core.model import Emit, SessionState, iso, room_all, room_participant, room_staff

Purpose = Literal["recording"]
MAX_TEXT = 2000  # the request's text, shown in full on a phone: a paragraph or two, not a policy
MAX_OVERRIDE_REASON = 500


@dataclass(slots=True, frozen=True)
class Request:
    """One consent request of a session; `closed_at` is set when it was replaced or the session closed."""

    id: str
    session_id: str
    purpose: Purpose
    text: str
    requested_at: datetime
    requested_by: str
    closed_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    def view(self) -> dict[str, Any]:
        """What every tab is shown (the `consent` event, and `session:state.consent`)."""
        return {
            "request_id": self.id,
            "purpose": self.purpose,
            "text": self.text,
            "requested_at": iso(self.requested_at),
        }


@dataclass(slots=True, frozen=True)
class Answer:
    participant_id: str
    consent: bool
    answered_at: datetime


@dataclass(slots=True, frozen=True)
class Recording:
    """One stretch of recording: who started it, with what consent, and when it stopped."""

    id: str
    session_id: str
    started_at: datetime
    started_by: str
    override_reason: str | None = None
    stopped_at: datetime | None = None
    stopped_by: str | None = None


def new_request(
    session: SessionState,
    *,
    request_id: str,
    purpose: Purpose,
    text: str | None,
    default_text: str,
    requested_by: str,
    now: datetime,
) -> Request:
    """A new open request; the configured default text unless the request gives one. Refused once closed."""
    require_open(session)
    chosen = (text or "").strip() or default_text.strip()
    if not chosen:
        raise Invalid("text: the request needs a text (COMPANION_CONSENT_TEXT is empty)")
    if len(chosen) > MAX_TEXT:
        raise Invalid(f"text: at most {MAX_TEXT} characters")
    return Request(
        id=request_id,
        session_id=session.id,
        purpose=purpose,
        text=chosen,
        requested_at=now,
        requested_by=requested_by,
    )


def check_answer(request: Request | None, session_id: str) -> Request:
    """The request being answered, if it is open; a replaced or closed one is conflict, another session's not found."""
    if request is None or request.session_id != session_id:
        raise NotFound("no such consent request")
    if not request.is_open:
        raise Conflict("this consent request was replaced or has ended")
    return request


def latest(answers: Iterable[Answer]) -> dict[str, bool]:
    """Each participant's latest answer (answers in any order; of two at one time, the later listed wins)."""
    out: dict[str, tuple[datetime, bool]] = {}
    for a in answers:
        seen = out.get(a.participant_id)
        if seen is None or a.answered_at >= seen[0]:
            out[a.participant_id] = (a.answered_at, a.consent)
    return {pid: c for pid, (_, c) in out.items()}


def results(request_id: str, answers: dict[str, bool], connected: set[str]) -> dict[str, Any]:
    """What staff see: latest answers yes and no (connected or not), and connected participants yet to answer."""
    yes = sum(1 for c in answers.values() if c)
    return {
        "request_id": request_id,
        "yes": yes,
        "no": len(answers) - yes,
        "pending": len(connected - answers.keys()),
    }


def declined(answers: dict[str, bool], connected: set[str]) -> set[str]:
    """Connected participants whose latest answer is no: starting the recording needs an override reason."""
    return {pid for pid in connected if answers.get(pid) is False}


def check_start(session: SessionState, *, recording: bool, declined_by: set[str], override_reason: str | None) -> bool:
    """Whether starting changes anything (already recording: no); conflict when someone connected declined."""
    require_live(session)
    if recording:
        return False
    if declined_by and not override_reason:
        n = len(declined_by)
        who = "1 connected participant" if n == 1 else f"{n} connected participants"
        raise Conflict(f"{who} declined to be recorded: give override_reason to start anyway", declined=n)
    return True


def check_stop(session: SessionState, *, recording: bool) -> bool:
    """Whether stopping changes anything (not recording: no)."""
    require_live(session)
    return recording


def require_live(session: SessionState) -> None:
    if session.status != "live":
        raise Conflict(f"the session is {session.status}: recording starts and stops only while it is live")


def request_events(request: Request, counts: dict[str, Any]) -> list[Emit]:
    """A new request: every tab hears it (participants are asked; staff see its text), staff see the counts start."""
    return [
        Emit("consent", request.view(), room_all(request.session_id)),
        results_event(request.session_id, counts),
    ]


def answer_event(request: Request, participant_id: str, consent: bool) -> Emit:
    """An answer: the participant's other tabs show it (staff get the counts batched, `results_event`)."""
    return Emit("consent", {**request.view(), "mine": consent}, room_participant(participant_id))


def results_event(session_id: str, counts: dict[str, Any]) -> Emit:
    return Emit("consent:results", counts, room_staff(session_id))


def recording_event(session_id: str, recording: bool) -> Emit:
    """Every tab of the session, staff and participants: the banner goes up or down."""
    return Emit("recording", {"recording": recording}, room_all(session_id))

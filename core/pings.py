"""Engagement pings: launch, answer, tally and close, without I/O."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from core.errors import Conflict, Invalid
from core.lifecycle import require_open
from core.model import Emit, Ping, PingKind, SessionState, iso, room_participants, room_staff

DEFAULT_SECONDS = 60
MAX_TEXT_ANSWER = 2000


def launch(
    session: SessionState,
    *,
    ping_id: str,
    kind: PingKind,
    question: str,
    options: list[str] | None,
    seconds: int | None,
    connected: set[str],
    now: datetime,
) -> tuple[Ping, list[Emit]]:
    """A new open ping, shown to participants and staff; everyone connected now counts towards its total."""
    require_open(session)
    if kind == "poll":
        if not options or len(options) < 2:
            raise Invalid("options: a poll needs 2 to 20 options")
    else:
        options = None
    closes_at = now + timedelta(seconds=seconds or DEFAULT_SECONDS)
    ping = Ping(
        id=ping_id,
        kind=kind,
        question=question,
        options=options,
        launched_at=now,
        closes_at=closes_at,
        seen=set(connected),
    )
    return ping, [
        Emit("ping", view(ping), room_participants(session.id)),
        Emit("ping:results", results(ping), room_staff(session.id)),
    ]


def check_answer(ping: Ping, answer: Any, now: datetime) -> Any:
    """The answer as stored, or Invalid naming what this kind of ping takes."""
    if not ping.is_open or now >= ping.closes_at:
        raise Conflict("the ping is closed")
    match ping.kind:
        case "poll":
            assert ping.options is not None
            if type(answer) is int and 0 <= answer < len(ping.options):
                return answer
            raise Invalid(f"answer: a poll takes an option index 0..{len(ping.options) - 1}")
        case "pulse":
            if answer in ("ok", "lost") and isinstance(answer, str):
                return answer
            raise Invalid('answer: a pulse takes "ok" or "lost"')
        case "rating":
            if type(answer) is int and 1 <= answer <= 5:
                return answer
            raise Invalid("answer: a rating takes a whole number 1..5")
        case "text":
            if isinstance(answer, str) and 1 <= len(answer.strip()) <= MAX_TEXT_ANSWER:
                return answer.strip()
            raise Invalid(f"answer: a text ping takes 1..{MAX_TEXT_ANSWER} characters")
        case "attention":
            if answer is True:
                return True
            raise Invalid("answer: an attention check takes true")
    raise Invalid(f"unknown ping kind {ping.kind}")


def close(session_id: str, ping: Ping, now: datetime) -> tuple[Ping, list[Emit]]:
    """Close now: staff get the final results, participants take it down. Closing twice keeps the first close."""
    if not ping.is_open:
        return ping, []
    closed = replace(ping, closed_at=now)
    return closed, [
        Emit("ping:results", results(closed), room_staff(session_id)),
        Emit("ping:closed", {"ping_id": closed.id}, room_participants(session_id)),
    ]


def share(session_id: str, ping: Ping) -> list[Emit]:
    """Show a closed ping's results to the participants (the instructor chooses to)."""
    if ping.is_open:
        raise Conflict("close the ping before sharing its results")
    return [Emit("ping:shared", {"ping_id": ping.id, "results": results(ping)}, room_participants(session_id))]


def tally(ping: Ping) -> Any:
    answers = list(ping.answers.values())
    match ping.kind:
        case "poll":
            assert ping.options is not None
            counts = [0] * len(ping.options)
            for a in answers:
                counts[a] += 1
            return counts
        case "pulse":
            return {"ok": answers.count("ok"), "lost": answers.count("lost")}
        case "rating":
            out: dict[str, Any] = {str(r): 0 for r in range(1, 6)}
            for a in answers:
                out[str(a)] += 1
            out["mean"] = round(sum(answers) / len(answers), 2) if answers else None
            return out
        case "text":
            return {"answers": answers}
        case "attention":
            return {"yes": len(answers)}
    return None


def results(ping: Ping) -> dict[str, Any]:
    """What staff see: the ping itself (so a dashboard can draw one it has not seen launched) and its tally."""
    return {
        "ping_id": ping.id,
        "kind": ping.kind,
        "question": ping.question,
        "options": ping.options,
        "closes_at": iso(ping.closes_at),
        "answered": len(ping.answers),
        "total": len(ping.seen),
        "tally": tally(ping),
        "closed": not ping.is_open,
    }


def view(ping: Ping) -> dict[str, Any]:
    """What participants are shown."""
    return {
        "ping_id": ping.id,
        "kind": ping.kind,
        "question": ping.question,
        "options": ping.options,
        "closes_at": iso(ping.closes_at),
    }

"""core.pings: launch, answers (each kind, and after closes_at), tallies, totals, close."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from core import pings
from core.errors import Conflict, Invalid
from core.model import room_participants, room_staff
from tests.core.factories import T0, at, ping, session


def launch(kind: str = "pulse", **kw: Any) -> Any:
    args: dict[str, Any] = {"ping_id": "g1", "kind": kind, "question": "Q?", "options": None, "seconds": None}
    ping, _ = pings.launch(session(status="live", started_at=T0), connected={"p1", "p2"}, now=at(1), **{**args, **kw})
    return ping


def test_a_launch_shows_the_ping_to_participants_and_its_empty_results_to_staff() -> None:
    s = session(status="live", started_at=T0)
    ping, events = pings.launch(
        s, ping_id="g1", kind="poll", question="Q?", options=["a", "b"], seconds=30, connected={"p1"}, now=at(1)
    )
    assert [(e.event, e.room) for e in events] == [
        ("ping", room_participants(s.id)),
        ("ping:results", room_staff(s.id)),
    ]
    assert events[0].payload == pings.view(ping) and "seen" not in events[0].payload
    assert events[1].payload["total"] == 1 and events[1].payload["closed"] is False


def test_launch_closes_after_its_seconds_or_the_default_and_counts_who_is_connected() -> None:
    assert launch().closes_at == at(1) + timedelta(seconds=pings.DEFAULT_SECONDS)
    p = launch(seconds=15)
    assert (p.launched_at, p.closes_at, p.seen, p.is_open) == (at(1), at(1, 15), {"p1", "p2"}, True)
    assert pings.results(p)["total"] == 2


def test_a_poll_needs_two_options_and_only_a_poll_keeps_them() -> None:
    with pytest.raises(Invalid, match="options"):
        launch("poll", options=["only"])
    assert launch("poll", options=["a", "b"]).options == ["a", "b"]
    assert launch("rating", options=["a", "b"]).options is None


def test_a_closed_session_launches_nothing() -> None:
    with pytest.raises(Conflict):
        pings.launch(
            session(status="closed", closed_at=T0),
            ping_id="g",
            kind="pulse",
            question="Q",
            options=None,
            seconds=5,
            connected=set(),
            now=T0,
        )


@pytest.mark.parametrize(
    ("kind", "good", "bad"),
    [
        ("poll", [0, 2], [3, -1, "1", True, 1.0]),
        ("pulse", ["ok", "lost"], ["OK", 1, None]),
        ("rating", [1, 5], [0, 6, "3", True, 2.5]),
        ("text", ["  yes  ", "x" * pings.MAX_TEXT_ANSWER], ["", "   ", "x" * (pings.MAX_TEXT_ANSWER + 1), 3]),
        ("attention", [True], [False, 1, "true"]),
    ],
)
def test_each_kind_takes_its_answers(kind: str, good: list[Any], bad: list[Any]) -> None:
    p = ping(kind, options=["a", "b", "c"] if kind == "poll" else None)
    for answer in good:
        stored = pings.check_answer(p, answer, at(seconds=30))
        assert stored == (answer.strip() if isinstance(answer, str) and kind == "text" else answer)
    for answer in bad:
        with pytest.raises(Invalid, match="answer"):
            pings.check_answer(p, answer, at(seconds=30))


def test_an_answer_at_or_after_closes_at_is_refused_even_before_the_ticker_closes_it() -> None:
    p = ping("pulse")  # closes_at is T0 + 60 s
    assert pings.check_answer(p, "ok", at(seconds=59.999)) == "ok"
    with pytest.raises(Conflict, match="closed"):
        pings.check_answer(p, "ok", at(seconds=60))
    with pytest.raises(Conflict, match="closed"):
        pings.check_answer(pings.close("s1", p, at(seconds=10))[0], "ok", at(seconds=20))


def test_closing_tells_staff_the_final_results_and_participants_to_take_it_down() -> None:
    once, events = pings.close("s1", ping(), at(seconds=10))
    assert once.closed_at == at(seconds=10)
    assert [(e.event, e.room) for e in events] == [
        ("ping:results", room_staff("s1")),
        ("ping:closed", room_participants("s1")),
    ]
    assert events[0].payload["closed"] is True and events[1].payload == {"ping_id": once.id}


def test_closing_twice_keeps_the_first_close_and_announces_nothing() -> None:
    once, _ = pings.close("s1", ping(), at(seconds=10))
    assert pings.close("s1", once, at(seconds=50)) == (once, [])
    assert pings.results(once)["closed"] is True


@pytest.mark.parametrize(
    ("kind", "answers", "tally"),
    [
        ("poll", [0, 2, 2], [1, 0, 2]),
        ("pulse", ["ok", "lost", "ok"], {"ok": 2, "lost": 1}),
        ("rating", [5, 4, 4], {"1": 0, "2": 0, "3": 0, "4": 2, "5": 1, "mean": 4.33}),
        ("rating", [], {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0, "mean": None}),
        ("text", ["a", "b"], {"answers": ["a", "b"]}),
        ("attention", [True, True], {"yes": 2}),
        ("poll", [], [0, 0, 0]),
    ],
)
def test_each_kinds_tally(kind: str, answers: list[Any], tally: Any) -> None:
    p = ping(kind, options=["a", "b", "c"] if kind == "poll" else None, seen={"p1", "p2", "p3", "p4"})
    p.answers.update({f"p{i}": a for i, a in enumerate(answers)})
    r = pings.results(p)
    assert r["tally"] == tally
    assert (r["answered"], r["total"], r["closes_at"], r["closed"]) == (
        len(answers),
        4,
        "2030-01-07T09:01:00.000Z",
        False,
    )


def test_participants_see_the_question_not_the_results() -> None:
    assert pings.view(ping("poll", options=["a", "b"])) == {
        "ping_id": "g1",
        "kind": "poll",
        "question": "Q?",
        "options": ["a", "b"],
        "closes_at": "2030-01-07T09:01:00.000Z",
    }


def test_sharing_shows_a_closed_pings_results_to_participants_only() -> None:
    closed, _ = pings.close("s1", ping("pulse", answers={"p1": "ok", "p2": "lost"}), at(seconds=10))
    (event,) = pings.share("s1", closed)
    assert (event.event, event.room) == ("ping:shared", room_participants("s1"))
    assert event.payload == {"ping_id": closed.id, "results": pings.results(closed)}
    assert event.payload["results"]["tally"] == {"ok": 1, "lost": 1}
    with pytest.raises(Conflict, match="close"):
        pings.share("s1", ping())

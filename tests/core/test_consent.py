"""core.consent: the request and its text, answers (the latest counts), counts, and when recording may start."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from core import consent
from core.errors import Conflict, Invalid, NotFound
from core.model import room_all, room_participant, room_staff
from tests.clock import FakeClock
from tests.core.factories import T0, session

DEFAULT = "May we record this session?"


def ask(clock: FakeClock, text: str | None = None, **fields: object) -> consent.Request:
    return consent.new_request(
        session(**fields),
        request_id="r1",
        purpose="recording",
        text=text,
        default_text=DEFAULT,
        requested_by="Iris",
        now=clock.now(),
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


def test_a_request_takes_the_default_text_unless_it_gives_one(clock: FakeClock) -> None:
    clock.advance(minutes=2)
    req = ask(clock)
    assert (req.text, req.requested_at, req.is_open, req.session_id) == (DEFAULT, T0 + timedelta(minutes=2), True, "s1")
    assert ask(clock, "  Our own words.  ").text == "Our own words."
    assert ask(clock, "   ").text == DEFAULT
    assert req.view() == {
        "request_id": "r1",
        "purpose": "recording",
        "text": DEFAULT,
        "requested_at": "2030-01-07T09:02:00.000Z",
    }


def test_a_request_text_is_bounded_and_a_closed_session_asks_nothing(clock: FakeClock) -> None:
    assert len(ask(clock, "x" * consent.MAX_TEXT).text) == consent.MAX_TEXT
    with pytest.raises(Invalid, match="text"):
        ask(clock, "x" * (consent.MAX_TEXT + 1))
    for status in ("closed", "cancelled"):
        with pytest.raises(Conflict, match=status):
            ask(clock, status=status)
    assert ask(clock, status="live").is_open  # before the start and while live


def test_answers_go_to_the_open_request_of_this_session_only(clock: FakeClock) -> None:
    req = ask(clock)
    assert consent.check_answer(req, "s1") is req
    with pytest.raises(NotFound):
        consent.check_answer(None, "s1")
    with pytest.raises(NotFound):
        consent.check_answer(req, "another-session")
    clock.advance(minutes=5)
    replaced = replace(req, closed_at=clock.now())
    with pytest.raises(Conflict, match="replaced"):
        consent.check_answer(replaced, "s1")


def test_the_latest_answer_counts(clock: FakeClock) -> None:
    first = consent.Answer("p1", False, clock.now())
    clock.advance(seconds=30)
    second = consent.Answer("p1", True, clock.now())
    other = consent.Answer("p2", False, clock.now())
    assert consent.latest([first, second, other]) == {"p1": True, "p2": False}
    assert consent.latest([second, first]) == {"p1": True}  # by time, not by order given
    same_time = consent.Answer("p1", False, clock.now())
    assert consent.latest([second, same_time]) == {"p1": False}  # of two at one time, the later listed


def test_pending_counts_connected_participants_without_an_answer() -> None:
    answers = {"p1": True, "p2": False, "gone": True}
    assert consent.results("r1", answers, {"p1", "p3", "p4"}) == {"request_id": "r1", "yes": 2, "no": 1, "pending": 2}
    assert consent.results("r1", {}, set()) == {"request_id": "r1", "yes": 0, "no": 0, "pending": 0}


def test_a_connected_decliner_needs_an_override_reason() -> None:
    live = session(status="live", started_at=T0)
    declined = consent.declined({"p1": False, "p2": True, "left": False}, {"p1", "p2"})
    assert declined == {"p1"}
    with pytest.raises(Conflict, match="1 connected participant declined") as e:
        consent.check_start(live, recording=False, declined_by=declined, override_reason=None)
    assert e.value.extra == {"declined": 1}
    assert consent.check_start(live, recording=False, declined_by=declined, override_reason="dean asked")
    assert consent.check_start(live, recording=False, declined_by=set(), override_reason=None)
    assert not consent.check_start(live, recording=True, declined_by=declined, override_reason=None)  # already on


def test_recording_starts_and_stops_only_while_live() -> None:
    for status in ("scheduled", "closed", "cancelled"):
        with pytest.raises(Conflict, match=status):
            consent.check_start(session(status=status), recording=False, declined_by=set(), override_reason=None)
        with pytest.raises(Conflict, match=status):
            consent.check_stop(session(status=status), recording=True)
    live = session(status="live")
    assert consent.check_stop(live, recording=True) and not consent.check_stop(live, recording=False)


def test_who_hears_what(clock: FakeClock) -> None:
    req = ask(clock)
    counts = consent.results("r1", {}, {"p1"})
    assert [(e.event, e.room) for e in consent.request_events(req, counts)] == [
        ("consent", room_all("s1")),
        ("consent:results", room_staff("s1")),
    ]
    told = consent.answer_event(req, "p1", True)
    assert (told.event, told.room, told.payload["mine"]) == ("consent", room_participant("p1"), True)
    assert consent.results_event("s1", counts).room == room_staff("s1")
    banner = consent.recording_event("s1", True)
    assert (banner.event, banner.payload, banner.room) == ("recording", {"recording": True}, room_all("s1"))

"""Engagement pings over Socket.IO: launch, answer, results, close, expiry and late joiners."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from tests.clock import FakeClock
from tests.clocked import class_on, clock_at_now, clocked_server
from tests.support import Class, Client

# Each connection may send 20 events a second; loops of refused calls pause to stay under it.
PAUSE = 0.06

KINDS = ["poll", "pulse", "rating", "text", "attention"]
OPTIONS = ["red", "green", "blue"]


def staff(k: Class) -> list[Client]:
    return [k.admin, k.instructor, k.support]


def everyone(k: Class) -> list[Client]:
    return [*staff(k), *k.participants]


def payload_for(kind: str, question: str = "How is it going?", **extra: Any) -> dict[str, Any]:
    """A valid ping:launch payload of this kind."""
    body: dict[str, Any] = {"kind": kind, "question": question, **extra}
    if kind == "poll":
        body.setdefault("options", OPTIONS)
    return body


async def launch(client: Client, kind: str = "poll", **extra: Any) -> str:
    ack = await client.call("ping:launch", payload_for(kind, **extra))
    assert ack["ok"] is True, ack
    return str(ack["ping_id"])


async def answer(client: Client, ping_id: str, value: Any) -> None:
    ack = await client.call("ping:answer", {"ping_id": ping_id, "answer": value})
    assert ack == {"ok": True}, ack


async def refused(client: Client, event: str, data: Any, code: str, field: str | None = None) -> dict[str, Any]:
    """Send an event that must be refused with `code` (and a message naming `field`)."""
    await asyncio.sleep(PAUSE)
    ack = await client.call(event, data)
    assert ack["ok"] is False, (event, data, ack)
    assert ack["error"]["code"] == code, (event, data, ack)
    if field is not None:
        assert field in ack["error"]["message"], (event, data, ack)
    return dict(ack)


def about(ping_id: str) -> Callable[[Any], bool]:
    """A wait_for predicate: the event concerns this ping."""
    return lambda d: bool(d["ping_id"] == ping_id)


async def settle(k: Class) -> None:
    """Send a platform status and wait until everyone has it: what was sent before it has arrived."""
    marker = f"sync-{uuid4().hex[:8]}"
    ack = await k.support.call("platform:status", {"status": "ok", "message": marker})
    assert ack == {"ok": True}, ack
    for c in everyone(k):
        await c.wait_for("platform", lambda d: d["message"] == marker)


async def results_of(client: Client, ping_id: str, **expected: Any) -> dict[str, Any]:
    """The first ping:results for this ping whose fields equal `expected`."""
    found = await client.wait_for(
        "ping:results",
        lambda r: r["ping_id"] == ping_id and all(r.get(f) == v for f, v in expected.items()),
    )
    return dict(found)


# ------------------------------------------------------------ launch


@pytest.mark.parametrize("kind", KINDS)
async def test_instructor_and_admin_launch_each_kind(klass: Class, kind: str) -> None:
    """Instructor and admin launch a ping of each kind; every participant gets `ping`."""
    for who, client in (("instructor", klass.instructor), ("admin", klass.admin)):
        question = f"{kind} from {who}?"
        ack = await client.call("ping:launch", payload_for(kind, question))
        assert ack["ok"] is True, ack
        ping_id = ack["ping_id"]
        assert isinstance(ping_id, str) and ping_id
        for p in klass.participants:
            got = await p.wait_for("ping", about(ping_id))
            assert got == {
                "ping_id": ping_id,
                "kind": kind,
                "question": question,
                "options": OPTIONS if kind == "poll" else None,
                "closes_at": ack["closes_at"],
            }
            assert datetime.fromisoformat(got["closes_at"]).tzinfo is not None


async def test_launch_sets_closes_at_from_seconds(klass: Class) -> None:
    """`seconds` sets closes_at that far ahead of now; the default is 60 seconds."""
    before = datetime.now().astimezone()
    short = await klass.instructor.call("ping:launch", payload_for("pulse", seconds=30))
    default = await klass.instructor.call("ping:launch", payload_for("pulse"))
    assert short["ok"] is True and default["ok"] is True
    short_in = (datetime.fromisoformat(short["closes_at"]) - before).total_seconds()
    default_in = (datetime.fromisoformat(default["closes_at"]) - before).total_seconds()
    assert 29 <= short_in <= 32
    assert 59 <= default_in <= 62


async def test_support_and_participant_may_not_launch(klass: Class) -> None:
    """Support and participants are refused with `forbidden` and nothing is sent."""
    await refused(klass.support, "ping:launch", payload_for("pulse", "from support"), "forbidden")
    await refused(klass.participants[0], "ping:launch", payload_for("pulse", "from participant"), "forbidden")
    ping_id = await launch(klass.instructor, "pulse", question="from instructor")
    for p in klass.participants:
        await p.wait_for("ping", lambda d: d["ping_id"] == ping_id)
        assert [d["question"] for d in p.of("ping")] == ["from instructor"]
    for s in staff(klass):
        await results_of(s, ping_id)
        assert [r["ping_id"] for r in s.of("ping:results")] == [ping_id]


BAD_LAUNCHES: list[tuple[Any, str]] = [
    ({"kind": "quiz", "question": "Q?"}, "kind"),
    ({"kind": 1, "question": "Q?"}, "kind"),
    ({"question": "Q?"}, "kind"),
    ({"kind": "poll", "question": "Q?"}, "options"),
    ({"kind": "poll", "question": "Q?", "options": None}, "options"),
    ({"kind": "poll", "question": "Q?", "options": []}, "options"),
    ({"kind": "poll", "question": "Q?", "options": ["only one"]}, "options"),
    ({"kind": "poll", "question": "Q?", "options": ["a", 2]}, "options"),
    ({"kind": "poll", "question": "Q?", "options": "a,b"}, "options"),
    ({"kind": "pulse"}, "question"),
    ({"kind": "pulse", "question": ""}, "question"),
    ({"kind": "pulse", "question": "   "}, "question"),
    ({"kind": "pulse", "question": 7}, "question"),
    ({"kind": "pulse", "question": "Q?", "seconds": "30"}, "seconds"),
    ({"kind": "pulse", "question": "Q?", "seconds": 0}, "seconds"),
    ({"kind": "pulse", "question": "Q?", "seconds": -5}, "seconds"),
    ({"kind": "pulse", "question": "Q?", "seconds": 1.5}, "seconds"),
    ("pulse", "payload"),
    ([{"kind": "pulse", "question": "Q?"}], "payload"),
    (42, "payload"),
]


async def test_launch_rejects_bad_payloads(klass: Class) -> None:
    """Bad launch payloads answer `invalid` naming the field; nothing is sent; the socket stays usable."""
    for data, field in BAD_LAUNCHES:
        await refused(klass.instructor, "ping:launch", data, "invalid", field)
    await refused(klass.instructor, "ping:launch", None, "invalid", "kind")
    ping_id = await launch(klass.instructor, "poll", question="valid at last")
    for p in klass.participants:
        await p.wait_for("ping", lambda d: d["ping_id"] == ping_id)
        assert len(p.of("ping")) == 1


async def test_options_of_other_kinds_are_dropped(klass: Class) -> None:
    """Options only belong to polls: a pulse launched with options shows none."""
    ping_id = await launch(klass.instructor, "pulse", options=["a", "b"])
    got = await klass.participants[0].wait_for("ping", lambda d: d["ping_id"] == ping_id)
    assert got["options"] is None


# ------------------------------------------------------------ who gets what


async def test_staff_get_results_and_participants_get_the_ping(klass: Class) -> None:
    """Staff get `ping:results` (never `ping`); participants get `ping` (never `ping:results`)."""
    ping_id = await launch(klass.instructor, "poll", question="Pick a colour")
    for s in staff(klass):
        r = await results_of(s, ping_id)
        assert r == {
            "ping_id": ping_id,
            "kind": "poll",
            "question": "Pick a colour",
            "options": OPTIONS,  # the ping itself too, so a dashboard can draw one it did not see launched
            "closes_at": r["closes_at"],
            "answered": 0,
            "total": 3,
            "tally": [0, 0, 0],
            "closed": False,
        }
        assert s.of("ping") == []  # `ping` is sent before `ping:results`
    await answer(klass.participants[0], ping_id, 1)
    for s in staff(klass):
        await results_of(s, ping_id, answered=1, tally=[0, 1, 0])
    ack = await klass.instructor.call("ping:close", {"ping_id": ping_id})
    assert ack["ok"] is True
    for p in klass.participants:
        await p.wait_for("ping:closed", lambda d: d["ping_id"] == ping_id)
    await settle(klass)
    for p in klass.participants:
        assert [d["ping_id"] for d in p.of("ping")] == [ping_id]
        assert p.of("ping:results") == []
    for s in staff(klass):
        assert s.of("ping") == [] and s.of("ping:closed") == []


# ------------------------------------------------------------ answers and tallies

TALLIES: list[tuple[str, list[Any], Any]] = [
    ("poll", [2, 0, 2], [1, 0, 2]),
    ("pulse", ["ok", "lost", "ok"], {"ok": 2, "lost": 1}),
    ("rating", [5, 4, 4], {"1": 0, "2": 0, "3": 0, "4": 2, "5": 1, "mean": 4.33}),
    ("attention", [True, True], {"yes": 2}),
]


@pytest.mark.parametrize(("kind", "answers", "tally"), TALLIES)
async def test_results_tally_each_kind(klass: Class, kind: str, answers: list[Any], tally: Any) -> None:
    """Answers of each kind add up to the contract's tally, sent to every staff member."""
    ping_id = await launch(klass.instructor, kind)
    for p, value in zip(klass.participants, answers, strict=False):
        await answer(p, ping_id, value)
    for s in staff(klass):
        r = await results_of(s, ping_id, answered=len(answers))
        assert r["tally"] == tally
        assert r["total"] == 3 and r["kind"] == kind and r["closed"] is False


async def test_text_answers_are_listed_trimmed(klass: Class) -> None:
    """A text ping's tally lists every answer, trimmed."""
    ping_id = await launch(klass.instructor, "text", question="One word?")
    for p, value in zip(klass.participants, ["fine", "  too fast  ", "lost"], strict=True):
        await answer(p, ping_id, value)
    r = await results_of(klass.admin, ping_id, answered=3)
    assert sorted(r["tally"]["answers"]) == ["fine", "lost", "too fast"]
    assert list(r["tally"]) == ["answers"]


async def test_rating_without_answers_has_no_mean(klass: Class) -> None:
    """A rating nobody answered counts zeros and a null mean."""
    ping_id = await launch(klass.instructor, "rating")
    r = await results_of(klass.support, ping_id)
    assert r["tally"] == {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0, "mean": None}


BAD_ANSWERS: dict[str, tuple[list[Any], Any]] = {
    "poll": (["1", 3, -1, True, 1.0, None, [0]], 2),
    "pulse": (["maybe", "OK", "", 1, True, None], "lost"),
    "rating": ([0, 6, 3.5, "3", True, None, -1], 3),
    "text": (["", "   ", 5, None, ["words"], "x" * 2001], "all good"),
    "attention": ([False, "true", 1, None], True),
}


@pytest.mark.parametrize("kind", KINDS)
async def test_wrong_answers_are_invalid(klass: Class, kind: str) -> None:
    """Answers of the wrong type or range answer `invalid` naming `answer`; a right one then counts."""
    ping_id = await launch(klass.instructor, kind)
    p = klass.participants[0]
    wrong, right = BAD_ANSWERS[kind]
    for value in wrong:
        await refused(p, "ping:answer", {"ping_id": ping_id, "answer": value}, "invalid", "answer")
    await refused(p, "ping:answer", {"ping_id": ping_id}, "invalid", "answer")
    await answer(p, ping_id, right)
    r = await results_of(klass.instructor, ping_id, answered=1)
    assert r["total"] == 3


async def test_answer_payload_must_be_an_object_with_a_ping_id(klass: Class) -> None:
    """A missing or non-string ping_id, or a non-object payload, answers `invalid`."""
    ping_id = await launch(klass.instructor, "attention")
    p = klass.participants[1]
    await refused(p, "ping:answer", {"answer": True}, "invalid", "ping_id")
    await refused(p, "ping:answer", {"ping_id": 5, "answer": True}, "invalid", "ping_id")
    await refused(p, "ping:answer", {"ping_id": "", "answer": True}, "invalid", "ping_id")
    await refused(p, "ping:answer", [ping_id, True], "invalid", "payload")
    await refused(p, "ping:answer", ping_id, "invalid", "payload")
    await answer(p, ping_id, True)


async def test_answering_again_replaces_the_answer(klass: Class) -> None:
    """A second answer replaces the first: the participant is counted once."""
    poll = await launch(klass.instructor, "poll")
    rating = await launch(klass.instructor, "rating")
    p0, p1, _ = klass.participants
    await answer(p0, poll, 0)
    await answer(p0, poll, 2)
    await answer(p1, poll, 2)
    await answer(p0, rating, 1)
    await answer(p0, rating, 5)
    await answer(p1, rating, 4)
    r = await results_of(klass.admin, poll, answered=2)
    assert r["tally"] == [0, 0, 2]
    r = await results_of(klass.admin, rating, answered=2)
    assert r["tally"] == {"1": 0, "2": 0, "3": 0, "4": 1, "5": 1, "mean": 4.5}
    closed = await klass.instructor.call("ping:close", {"ping_id": poll})
    assert closed["results"]["tally"] == [0, 0, 2] and closed["results"]["answered"] == 2


async def test_unknown_ping_is_not_found(klass: Class) -> None:
    """Answering a ping that does not exist answers `not_found`."""
    await refused(klass.participants[0], "ping:answer", {"ping_id": "no-such-ping", "answer": 1}, "not_found")
    ping_id = await launch(klass.instructor, "pulse")
    await answer(klass.participants[0], ping_id, "ok")


async def test_staff_may_not_answer(klass: Class) -> None:
    """Admin, instructor and support answering a ping are refused with `forbidden` and not counted."""
    ping_id = await launch(klass.instructor, "attention")
    for s in staff(klass):
        await refused(s, "ping:answer", {"ping_id": ping_id, "answer": True}, "forbidden")
    await answer(klass.participants[2], ping_id, True)
    r = await results_of(klass.instructor, ping_id, answered=1)
    assert r["tally"] == {"yes": 1}
    closed = await klass.instructor.call("ping:close", {"ping_id": ping_id})
    assert closed["results"]["answered"] == 1


async def test_answer_after_close_is_a_conflict(klass: Class) -> None:
    """Once closed, answering (first time or again) answers `conflict` and the tally stays."""
    ping_id = await launch(klass.instructor, "pulse")
    await answer(klass.participants[0], ping_id, "ok")
    closed = await klass.instructor.call("ping:close", {"ping_id": ping_id})
    assert closed["ok"] is True
    await refused(klass.participants[0], "ping:answer", {"ping_id": ping_id, "answer": "lost"}, "conflict")
    await refused(klass.participants[1], "ping:answer", {"ping_id": ping_id, "answer": "ok"}, "conflict")
    again = await klass.admin.call("ping:close", {"ping_id": ping_id})
    assert again["results"]["tally"] == {"ok": 1, "lost": 0}


# ------------------------------------------------------------ total


async def test_total_counts_participants_connected_while_open(klass: Class) -> None:
    """`total` counts everyone connected while the ping was open, including late arrivals, not absentees."""
    late, never = await klass.server.participants(klass.id, 2, prefix="q")
    ping_id = await launch(klass.instructor, "pulse")
    r = await results_of(klass.instructor, ping_id)
    assert r["total"] == 3
    newcomer = await klass.server.connect(late["token"])
    await results_of(klass.instructor, ping_id, total=4)
    await klass.participants[0].close()  # leaving does not uncount someone who was there
    await answer(newcomer, ping_id, "lost")
    await results_of(klass.instructor, ping_id, answered=1, total=4)
    closed = await klass.instructor.call("ping:close", {"ping_id": ping_id})
    assert closed["results"]["total"] == 4
    await klass.server.connect(never["token"])  # arriving after the close does not count either
    again = await klass.instructor.call("ping:close", {"ping_id": ping_id})
    assert again["results"]["total"] == 4


async def test_second_tab_counts_once(klass: Class) -> None:
    """A participant with two tabs counts once in `total`."""
    await klass.server.connect(klass.people[0]["token"])
    ping_id = await launch(klass.instructor, "attention")
    r = await results_of(klass.admin, ping_id)
    assert r["total"] == 3


# ------------------------------------------------------------ close


async def test_close_answers_results_and_tells_participants(klass: Class) -> None:
    """ping:close answers the results; participants get `ping:closed`, staff the final results."""
    ping_id = await launch(klass.instructor, "rating", question="Rate the pace")
    await answer(klass.participants[0], ping_id, 2)
    await answer(klass.participants[1], ping_id, 3)
    ack = await klass.instructor.call("ping:close", {"ping_id": ping_id})
    assert ack["ok"] is True
    expected = {
        "ping_id": ping_id,
        "kind": "rating",
        "question": "Rate the pace",
        "options": None,
        "closes_at": ack["results"]["closes_at"],
        "answered": 2,
        "total": 3,
        "tally": {"1": 0, "2": 1, "3": 1, "4": 0, "5": 0, "mean": 2.5},
        "closed": True,
    }
    assert ack["results"] == expected
    for p in klass.participants:
        assert await p.wait_for("ping:closed") == {"ping_id": ping_id}
    for s in staff(klass):
        assert await results_of(s, ping_id, closed=True) == expected


async def test_closing_twice_answers_the_same_results(klass: Class) -> None:
    """A second close (by anyone allowed) answers the same results and sends nothing new."""
    ping_id = await launch(klass.admin, "poll")
    await answer(klass.participants[2], ping_id, 0)
    await results_of(klass.admin, ping_id, answered=1)
    first = await klass.admin.call("ping:close", {"ping_id": ping_id})
    for p in klass.participants:
        await p.wait_for("ping:closed")
    second = await klass.instructor.call("ping:close", {"ping_id": ping_id})
    assert first["ok"] is True and second == first
    assert first["results"]["tally"] == [1, 0, 0] and first["results"]["closed"] is True
    await settle(klass)
    for p in klass.participants:
        assert p.of("ping:closed") == [{"ping_id": ping_id}]


async def test_close_refusals(klass: Class) -> None:
    """Support and participants may not close; unknown pings are `not_found`; bad payloads `invalid`."""
    ping_id = await launch(klass.instructor, "pulse")
    await refused(klass.support, "ping:close", {"ping_id": ping_id}, "forbidden")
    await refused(klass.participants[0], "ping:close", {"ping_id": ping_id}, "forbidden")
    await refused(klass.instructor, "ping:close", {"ping_id": "no-such-ping"}, "not_found")
    await refused(klass.instructor, "ping:close", {}, "invalid", "ping_id")
    await refused(klass.instructor, "ping:close", {"ping_id": 3}, "invalid", "ping_id")
    await refused(klass.instructor, "ping:close", ping_id, "invalid", "payload")
    await answer(klass.participants[0], ping_id, "ok")  # still open
    ack = await klass.instructor.call("ping:close", {"ping_id": ping_id})
    assert ack["ok"] is True and ack["results"]["answered"] == 1


@pytest.fixture
async def clocked_klass(tmp_path: Path, backing: dict[str, Any]) -> AsyncIterator[tuple[Class, FakeClock]]:
    """The `klass` fixture's class on a server whose live session reads a FakeClock."""
    clock = clock_at_now()
    async with clocked_server(tmp_path, clock, ticker_seconds=0.2, **backing) as server:
        yield await class_on(server), clock


@pytest.mark.parametrize("status", ["scheduled", "live"])
async def test_a_ping_with_seconds_closes_by_itself(clocked_klass: tuple[Class, FakeClock], status: str) -> None:
    """A ping launched with `seconds: 30` closes on its own: `ping:closed`, final results, then conflict."""
    klass, clock = clocked_klass
    if status == "live":
        started = await klass.instructor.call("session:start", {})
        assert started["session"]["status"] == "live"
    launched = clock.now()
    ping_id = await launch(klass.instructor, "attention", seconds=30)
    await answer(klass.participants[0], ping_id, True)
    clock.advance(seconds=29.999)
    await answer(klass.participants[2], ping_id, True)  # still open, whatever the ticker did meanwhile
    clock.set(launched + timedelta(seconds=30))
    for p in klass.participants:
        assert await p.wait_for("ping:closed", timeout=5) == {"ping_id": ping_id}
    for s in staff(klass):
        r = await results_of(s, ping_id, closed=True)
        assert r["tally"] == {"yes": 2} and r["total"] == 3
    await refused(klass.participants[1], "ping:answer", {"ping_id": ping_id, "answer": True}, "conflict")
    state = await klass.participants[1].call("session:state", {})
    assert state["pings"] == []


async def test_session_close_closes_open_pings(klass: Class) -> None:
    """Closing the session closes every open ping; participants get `ping:closed` for each."""
    first = await launch(klass.instructor, "poll")
    second = await launch(klass.admin, "text")
    await answer(klass.participants[0], second, "bye")
    ack = await klass.instructor.call("session:close", {})
    assert ack["ok"] is True and ack["session"]["status"] == "closed"
    for p in klass.participants:
        await p.wait_for("session", lambda s: s["status"] == "closed")  # sent after the pings closed
        assert sorted(d["ping_id"] for d in p.of("ping:closed")) == sorted([first, second])
        assert p.of("ping:results") == []
    for s in staff(klass):
        await results_of(s, first, closed=True)
        r = await results_of(s, second, closed=True)
        assert r["tally"] == {"answers": ["bye"]}
    await refused(klass.participants[1], "ping:answer", {"ping_id": first, "answer": 0}, "conflict")
    await refused(klass.instructor, "ping:launch", payload_for("pulse"), "conflict")
    closed = await klass.admin.call("ping:close", {"ping_id": second})
    assert closed["results"]["answered"] == 1 and closed["results"]["closed"] is True


# ------------------------------------------------------------ late joiners


async def test_open_pings_are_in_session_state_for_late_joiners(klass: Class) -> None:
    """session:state lists open pings: with my_answer for a participant, with results for staff."""
    poll = await launch(klass.instructor, "poll", question="Which one?")
    pulse = await launch(klass.instructor, "pulse")
    await answer(klass.participants[0], poll, 1)
    assert (await klass.instructor.call("ping:close", {"ping_id": pulse}))["ok"] is True

    second_tab = await klass.server.connect(klass.people[0]["token"])
    state = await second_tab.call("session:state", {})
    assert state["ok"] is True
    assert state["pings"] == [
        {
            "ping_id": poll,
            "kind": "poll",
            "question": "Which one?",
            "options": OPTIONS,
            "closes_at": state["pings"][0]["closes_at"],
            "my_answer": 1,
        }
    ]

    (newcomer,) = await klass.server.participants(klass.id, 1, prefix="late")
    fresh = await klass.server.connect(newcomer["token"])
    state = await fresh.call("session:state", {})
    assert [(p["ping_id"], p["my_answer"]) for p in state["pings"]] == [(poll, None)]
    assert "answered" not in state["pings"][0] and "tally" not in state["pings"][0]
    await answer(fresh, poll, 2)

    admin_tab = await klass.server.connect(klass.server.admin_token, klass.id)
    state = await admin_tab.call("session:state", {})
    assert len(state["pings"]) == 1
    view = state["pings"][0]
    assert view["ping_id"] == poll and view["options"] == OPTIONS
    assert view["answered"] == 2 and view["tally"] == [0, 1, 1] and view["total"] == 4


# ---------------------------------------------------------------- sharing results


async def test_the_instructor_shares_a_closed_pings_results_with_the_participants(klass: Class) -> None:
    p0, p1, p2 = klass.participants
    ping_id = (await klass.instructor.ok("ping:launch", payload_for("poll")))["ping_id"]
    for p in klass.participants:
        await p.wait_for("ping", about(ping_id))
    assert await p0.ok("ping:answer", {"ping_id": ping_id, "answer": 1}) == {"ok": True}
    assert await p1.ok("ping:answer", {"ping_id": ping_id, "answer": 1}) == {"ok": True}
    await klass.instructor.refused("ping:share", {"ping_id": ping_id}, "conflict")  # still open
    results = (await klass.instructor.ok("ping:close", {"ping_id": ping_id}))["results"]
    assert await klass.instructor.ok("ping:share", {"ping_id": ping_id}) == {"ok": True}
    for p in (p0, p1, p2):
        shared = await p.wait_for("ping:shared", about(ping_id))
        assert shared == {"ping_id": ping_id, "results": results}
        assert shared["results"]["tally"] == [0, 2, 0]
    for client in staff(klass):
        assert client.of("ping:shared") == []  # staff have the results already


async def test_only_the_instructor_and_admin_share_and_only_a_ping_of_the_session(klass: Class) -> None:
    ping_id = (await klass.admin.ok("ping:launch", payload_for("pulse")))["ping_id"]
    await klass.admin.ok("ping:close", {"ping_id": ping_id})
    await klass.support.refused("ping:share", {"ping_id": ping_id}, "forbidden")
    await klass.participants[0].refused("ping:share", {"ping_id": ping_id}, "forbidden")
    await klass.admin.refused("ping:share", {"ping_id": "f" * 32}, "not_found")
    await klass.admin.refused("ping:share", {}, "invalid", "ping_id")
    assert await klass.admin.ok("ping:share", {"ping_id": ping_id}) == {"ok": True}  # sharing again is fine

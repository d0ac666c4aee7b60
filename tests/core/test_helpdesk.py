"""core.helpdesk: one open ticket each, positions among the waiting, claim, resolve, end at close."""

from __future__ import annotations

import pytest

from core import helpdesk
from core.errors import Conflict, NotFound
from core.model import iso, room_participant, room_staff
from tests.core.factories import at, session, ticket


def positions(tickets: list) -> dict[str, int | None]:  # type: ignore[type-arg]
    return {t.id: t.position for t in tickets}


def test_positions_count_the_waiting_in_arrival_order_and_tell_whose_place_moved() -> None:
    queue = [ticket("c", "p3", at(3)), ticket("a", "p1", at(1)), ticket("b", "p2", at(2))]
    numbered, events = helpdesk.renumber(queue)
    assert positions(numbered) == {"a": 1, "b": 2, "c": 3}
    assert [(e.event, e.room) for e in events] == [("help:ticket", room_participant(p)) for p in ("p1", "p2", "p3")]

    claimed = [helpdesk.claim(t, "Sam", at(3)) if t.id == "a" else t for t in numbered]
    renumbered, events = helpdesk.renumber(claimed)
    assert positions(renumbered) == {"a": None, "b": 1, "c": 2}
    assert [e.payload["position"] for e in events] == [1, 2]  # only those whose place moved

    again, events = helpdesk.renumber(renumbered)
    assert positions(again) == positions(renumbered) and events == []


def test_one_open_ticket_per_participant() -> None:
    open_one = ticket("a", "p1", at(1))
    with pytest.raises(Conflict, match="already have an open ticket") as e:
        helpdesk.open_ticket(
            [open_one], ticket_id="b", participant_id="p1", name="P", category="x", text="t", now=at(2)
        )
    assert e.value.extra["ticket_id"] == "a"
    resolved = helpdesk.resolve(open_one, "Sam", None)
    new = helpdesk.open_ticket(
        [resolved], ticket_id="b", participant_id="p1", name="P", category="x", text="t", now=at(2)
    )
    assert (new.state, new.created_at, new.position) == ("waiting", at(2), None)


def test_claim_and_resolve() -> None:
    t = ticket("a", "p1", at(1), position=1)
    claimed = helpdesk.claim(t, "Sam", at(3))
    assert (claimed.state, claimed.claimed_by, claimed.position, claimed.claimed_at) == ("claimed", "Sam", None, at(3))
    assert claimed.view(None)["claimed_at"] == iso(at(3)) and t.view(None)["claimed_at"] is None
    with pytest.raises(Conflict, match="the ticket is claimed"):
        helpdesk.claim(claimed, "Kim", at(3))
    done = helpdesk.resolve(claimed, "Kim", "fixed")
    assert (done.state, done.claimed_by, done.note) == ("resolved", "Sam", "fixed")  # the claimer keeps it
    assert helpdesk.resolve(t, "Kim", None).claimed_by == "Kim"
    with pytest.raises(Conflict, match="the ticket is resolved"):
        helpdesk.resolve(done, "Kim", None)


def test_close_ends_open_tickets_unresolved_and_the_queue_shows_only_open_ones() -> None:
    waiting, claimed = ticket("a", "p1", at(1), position=1), ticket("b", "p2", at(0), state="claimed")
    ended = helpdesk.end_unresolved(waiting)
    assert (ended.state, ended.position) == ("unresolved", None)
    view = helpdesk.queue_view(session(), [waiting, ended, claimed])
    assert [t["ticket_id"] for t in view["tickets"]] == ["b", "a"]  # type: ignore[index]


def test_opening_puts_the_ticket_last_tells_its_participant_their_place_and_staff_the_queue() -> None:
    first = helpdesk.renumber([ticket("a", "p1", at(1))])[0]
    queue, new, events = helpdesk.opened(session(), first, ticket("b", "p2", at(2)))
    assert (new.id, new.position) == ("b", 2) and positions(queue) == {"a": 1, "b": 2}
    assert [(e.event, e.room) for e in events] == [
        ("help:ticket", room_participant("p2")),
        ("help:queue", room_staff("s1")),
    ]
    assert [t["ticket_id"] for t in events[-1].payload["tickets"]] == ["a", "b"]  # type: ignore[index]


def test_a_change_tells_the_ticket_holder_then_those_who_moved_then_staff() -> None:
    queue = helpdesk.renumber([ticket("a", "p1", at(1)), ticket("b", "p2", at(2))])[0]
    live = session(status="live", started_at=at(0))
    after, claimed, events = helpdesk.changed(live, queue, "a", lambda t: helpdesk.claim(t, "Sam", at(3)))
    assert (claimed.state, claimed.claimed_by) == ("claimed", "Sam")
    assert positions(after) == {"a": None, "b": 1}
    assert [(e.event, e.room, e.payload.get("position")) for e in events] == [
        ("help:ticket", room_participant("p1"), None),
        ("help:ticket", room_participant("p2"), 1),
        ("help:queue", room_staff("s1"), None),
    ]


def test_a_change_to_an_unknown_ticket_is_not_found_even_after_close_and_a_closed_session_changes_none() -> None:
    queue = helpdesk.renumber([ticket("a", "p1", at(1))])[0]
    closed = session(status="closed", closed_at=at(5))
    with pytest.raises(NotFound):
        helpdesk.changed(closed, queue, "zz", lambda t: t)
    with pytest.raises(Conflict, match="closed"):
        helpdesk.changed(closed, queue, "a", lambda t: helpdesk.claim(t, "Sam", at(3)))


def test_at_close_every_open_ticket_ends_unresolved_and_its_holder_is_told() -> None:
    done = helpdesk.resolve(ticket("r", "p9", at(0)), "Sam", None)
    queue = [done, *helpdesk.renumber([ticket("a", "p1", at(1)), ticket("b", "p2", at(2))])[0]]
    after, ended, events = helpdesk.end_all(session(), queue)
    assert {t.id: t.state for t in after} == {"r": "resolved", "a": "unresolved", "b": "unresolved"}
    assert [t.id for t in ended] == ["a", "b"]
    assert [e.room for e in events] == [room_participant("p1"), room_participant("p2"), room_staff("s1")]
    assert events[-1].payload == {"tickets": []}
    assert helpdesk.end_all(session(), after) == (after, [], [])


def test_a_participant_withdraws_only_their_own_open_ticket() -> None:
    mine = ticket("a", "p1", at(1))
    gone = helpdesk.withdraw(mine, "p1")
    assert (gone.state, gone.position, gone.is_open) == ("withdrawn", None, False)
    assert helpdesk.withdraw(helpdesk.claim(mine, "Sam", at(3)), "p1").state == "withdrawn"
    with pytest.raises(NotFound):
        helpdesk.withdraw(mine, "p2")
    with pytest.raises(Conflict, match="withdrawn"):
        helpdesk.withdraw(gone, "p1")
    with pytest.raises(Conflict, match="resolved"):
        helpdesk.withdraw(helpdesk.resolve(mine, "Sam", None), "p1")


def test_a_ticket_opened_before_the_class_went_live_is_pre_class() -> None:
    before, after = ticket("a", "p1", at(-5)), ticket("b", "p2", at(5))
    scheduled, live = session(), session(status="live", started_at=at(0))
    assert [t["pre_class"] for t in helpdesk.queue_view(scheduled, [before, after])["tickets"]] == [True, True]  # type: ignore[index]
    assert [t["pre_class"] for t in helpdesk.queue_view(live, [before, after])["tickets"]] == [True, False]  # type: ignore[index]


def test_the_participant_is_told_the_support_note() -> None:
    done = helpdesk.resolve(ticket("a", "p1", at(1)), "Sam", "Restart Zoom")
    assert done.mine() == {"ticket_id": "a", "state": "resolved", "position": None, "note": "Restart Zoom"}

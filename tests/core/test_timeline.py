"""core.timeline: connected intervals per participant (tabs merged) and the connected count after each change."""

from __future__ import annotations

from core import timeline
from core.model import iso
from tests.core.factories import at, member


def test_overlapping_tabs_and_touching_reconnects_merge_and_an_open_tab_keeps_it_open() -> None:
    assert timeline.merged([(at(5), at(8)), (at(0), at(6)), (at(10), at(12))]) == [(at(0), at(8)), (at(10), at(12))]
    assert timeline.merged([(at(0), None), (at(2), at(3))]) == [(at(0), None)]
    assert timeline.merged([(at(0), at(3)), (at(3), None)]) == [(at(0), None)]
    assert timeline.merged([]) == []


def test_the_timeline_lists_everyone_in_roster_order_and_counts_each_person_once() -> None:
    people = [member("p1"), member("p2"), member("p3")]
    conns = [
        ("p2", at(2), None),
        ("p1", at(0), at(5)),
        ("p1", at(1), at(4)),  # a second tab inside the first
        ("p1", at(6), None),
    ]
    t = timeline.timeline(people, conns, at(10))
    assert [p["participant_id"] for p in t["participants"]] == ["p1", "p2", "p3"]
    assert t["participants"][0]["intervals"] == [
        {"joined": iso(at(0)), "left": iso(at(5))},
        {"joined": iso(at(6)), "left": None},
    ]
    assert t["participants"][2]["intervals"] == []
    assert [(s["at"], s["connected"]) for s in t["samples"]] == [
        (iso(at(0)), 1),
        (iso(at(2)), 2),
        (iso(at(5)), 1),
        (iso(at(6)), 2),
        (iso(at(10)), 2),
    ]


def test_a_drop_and_a_return_at_the_same_instant_is_no_change() -> None:
    t = timeline.timeline([member("p1"), member("p2")], [("p1", at(0), at(3)), ("p2", at(3), None)], at(4))
    assert [(s["at"], s["connected"]) for s in t["samples"]] == [(iso(at(0)), 1), (iso(at(4)), 1)]

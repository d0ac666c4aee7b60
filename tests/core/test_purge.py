"""The purge's rules (core/purge.py): whose kinds go at a moment, the roster last, batches, reports, counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from core import purge, retention
from core.purge import Candidate, Gathered, SessionPurge

NOW = datetime(2031, 6, 1, 12, 0, tzinfo=UTC)
KEEP = retention.parse("chat=1d,attendance=2d,feedback=3d,records=4d,materials=5d,mail=6d,audit=7d")


def ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def test_each_kind_goes_from_the_end_of_its_session_and_the_roster_with_the_last() -> None:
    plans = purge.plan(
        KEEP,
        [
            Candidate("fresh", ago(0.5), held=False),
            Candidate("two-days", ago(2), held=False),
            Candidate("old", ago(9), held=False),
            Candidate("held", ago(9), held=True),
            Candidate("open", None, held=False),
        ],
        NOW,
    )
    assert [(p.session_id, p.kinds, p.roster, p.count_first) for p in plans] == [
        ("two-days", ("chat", "attendance"), False, True),
        ("old", ("chat", "attendance", "feedback", "records", "materials"), True, True),
    ]


def test_what_went_already_is_not_planned_again_and_the_counts_are_not_written_twice() -> None:
    earlier = Candidate("s", ago(4), held=False, purged=frozenset({"chat", "attendance", "feedback"}), counted=True)
    (p,) = purge.plan(KEEP, [earlier], NOW)
    assert p.kinds == ("records",) and not p.roster and not p.count_first
    last = Candidate(
        "s", ago(5), held=False, purged=frozenset({"chat", "attendance", "feedback", "records"}), counted=True
    )
    (p,) = purge.plan(KEEP, [last], NOW)
    assert p.kinds == ("materials",) and p.roster and p.all_kinds() == ("materials", "roster")
    assert purge.plan(KEEP, [Candidate("s", ago(1.5), held=False, purged=frozenset({"chat"}), counted=True)], NOW) == []


def test_a_session_held_after_part_of_it_went_loses_nothing_more() -> None:
    held = Candidate("s", ago(30), held=True, purged=frozenset({"chat"}), counted=True)
    assert purge.plan(KEEP, [held], NOW) == []


def test_the_check_in_is_cleared_only_from_a_roster_that_stays() -> None:
    stays = SessionPurge("a", ("chat", "attendance"), roster=False, count_first=True)
    goes = SessionPurge("b", ("attendance",), roster=True, count_first=False)
    assert purge.CHECKIN in stays.tables("attendance") and purge.CHECKIN not in goes.tables("attendance")
    assert goes.tables("roster") == ("participants",)


def test_the_latest_end_looked_at_is_the_shortest_kinds_cutoff() -> None:
    assert purge.latest_end(KEEP, NOW) == ago(1)


def test_batches_bound_rows_and_sessions_and_never_split_a_session() -> None:
    plans = [SessionPurge(f"s{i}", ("chat",), roster=False, count_first=True) for i in range(7)]
    rows = {"s0": 40, "s1": 40, "s2": 40, "s3": 500, "s4": 1, "s5": 1, "s6": 1}
    got = purge.batches(plans, rows, max_rows=100, max_sessions=2)
    assert [[p.session_id for p in b] for b in got] == [["s0", "s1"], ["s2"], ["s3"], ["s4", "s5"], ["s6"]]
    assert purge.batches([], {}, max_rows=100, max_sessions=2) == []


@given(st.lists(st.integers(min_value=0, max_value=300), max_size=40), st.integers(1, 200), st.integers(1, 9))
def test_batches_keep_every_plan_once_in_order_within_the_bounds(sizes: list[int], max_rows: int, most: int) -> None:
    plans = [SessionPurge(f"s{i}", ("chat",), roster=False, count_first=False) for i in range(len(sizes))]
    rows = {f"s{i}": n for i, n in enumerate(sizes)}
    got = purge.batches(plans, rows, max_rows=max_rows, max_sessions=most)
    assert [p for b in got for p in b] == plans
    for b in got:
        assert 1 <= len(b) <= most
        assert len(b) == 1 or sum(rows[p.session_id] for p in b) <= max_rows


def test_reports_merge_sessions_once_and_leave_empty_tables_out() -> None:
    report = purge.empty_report()
    assert list(report) == ["chat", "attendance", "feedback", "records", "materials", "roster", "mail", "audit"]
    purge.merge(report, {"chat": {"sessions": ["a"], "rows": {"chat_messages": 3}}})
    purge.merge(
        report, {"chat": {"sessions": ["a", "b"], "rows": {"chat_messages": 2}}, "mail": {"rows": {"mail_outbox": 0}}}
    )
    assert purge.settled(report)["chat"] == {"sessions": ["a", "b"], "rows": {"chat_messages": 5}}
    assert report["mail"] == {"sessions": [], "rows": {}}
    assert purge.total(report) == 5
    text = purge.lines(report)
    assert text[0] == "chat: 2 sessions, 5 rows (chat_messages 5)"
    assert "mail: 0 rows" in text and text[-1] == "total: 5 rows"


def test_the_counts_that_survive() -> None:
    at = NOW
    g = Gathered(
        statuses=["present", "late", "present", "absent"],
        chat_messages=12,
        tickets=[(at, at + timedelta(seconds=90)), (at, None), (at, at + timedelta(seconds=30))],
        questions=[
            {"id": "overall", "kind": "rating", "text": "How was it?"},
            {"id": "again", "kind": "yesno", "text": "Again?"},
            {"id": "pace", "kind": "choice", "text": "Pace", "options": ["slow", "fast"]},
            {"id": "notes", "kind": "text", "text": "Notes"},
        ],
        answers=[{"overall": 5, "again": True, "pace": "slow"}, {"overall": 3, "again": False}, {"notes": "fine"}],
    )
    assert purge.counts(g) == {
        "roster": 4,
        "statuses": {"absent": 1, "late": 1, "present": 2},
        "chat_messages": 12,
        "help": {"tickets": 3, "waits_s": [30, 90]},
        "feedback": {
            "responses": 3,
            "questions": {
                "overall": {"kind": "rating", "text": "How was it?", "n": 2, "sum": 8.0},
                "again": {"kind": "yesno", "text": "Again?", "n": 2, "sum": 1.0},
                "pace": {"kind": "choice", "text": "Pace", "n": 1, "sum": 0.0},
                "notes": {"kind": "text", "text": "Notes", "n": 1, "sum": 0.0},
            },
        },
    }
    assert purge.counts(Gathered())["feedback"] == {"responses": 0, "questions": {}}


def test_the_system_is_who_purges() -> None:
    assert purge.SYSTEM.role == "admin" and purge.SYSTEM.token_id == "system" and purge.SYSTEM.email is None

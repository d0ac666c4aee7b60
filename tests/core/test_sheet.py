"""core.sheet: minutes present from overlapping tabs, clipped to start..close, and the CSV."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core import sheet
from core.model import SessionState
from tests.core.factories import T0, at, member, session

LIVE = session(status="live", started_at=T0)
Connection = tuple[str, datetime, datetime | None]


END = at(60)


def row(connections: list[Connection], s: SessionState = LIVE, now: datetime = END) -> dict[str, Any]:
    return sheet.rows(s, [member("p1")], connections, 3, {"p1": 2}, now)[0]


def test_overlapping_tabs_count_once() -> None:
    tabs = [("p1", at(0), at(10)), ("p1", at(5), at(20)), ("p1", at(30), at(40)), ("p1", at(32), at(35))]
    assert row(tabs)["minutes_present"] == 30.0


def test_time_counts_only_between_the_start_and_the_close() -> None:
    closed = session(status="closed", started_at=at(10), closed_at=at(50))
    r = row([("p1", at(-20), at(15)), ("p1", at(45), None), ("p1", at(48), at(58))], s=closed, now=at(90))
    assert r["minutes_present"] == 10.0  # 10..15 and 45..50
    assert r["first_seen"] == "2030-01-07T08:40:00.000Z"
    assert r["last_seen"] == "2030-01-07T09:50:00.000Z"  # tabs open, or ended later, end at the close


def test_an_open_tab_counts_until_now_while_live() -> None:
    r = row([("p1", at(20), None)], now=at(27, 30))
    assert (r["minutes_present"], r["last_seen"]) == (7.5, "2030-01-07T09:27:30.000Z")


def test_nothing_counts_before_the_start_nor_without_one() -> None:
    assert row([("p1", at(-20), at(-1))])["minutes_present"] == 0.0
    assert row([("p1", at(0), at(30))], s=session())["minutes_present"] == 0.0


def test_a_row_per_member_with_status_and_pings() -> None:
    checked = member("p2", checked_in_at=at(1), checkin_status="present")
    rows = sheet.rows(LIVE, [member("p1"), checked], [], 3, {"p2": 1}, at(60))
    assert [(r["participant_id"], r["status"], r["checked_in_at"], r["first_seen"]) for r in rows] == [
        ("p1", "absent", None, None),
        ("p2", "present", "2030-01-07T09:01:00.000Z", None),
    ]
    assert [(r["pings_answered"], r["pings_total"], r["minutes_present"]) for r in rows] == [(0, 3, 0.0), (1, 3, 0.0)]


def test_csv_has_the_columns_and_neutralises_formulas() -> None:
    rows = sheet.rows(LIVE, [member("p1", name="=1+1")], [], 0, {}, at(60))
    header, line, end = sheet.csv_text(rows).split("\r\n")
    assert header == ",".join(sheet.COLUMNS) and end == ""
    assert line.startswith('p1,"\'=1+1",p1@example.org,absent,')

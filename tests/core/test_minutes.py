"""The rules of notes and minutes: versions, what counts as empty, due dates, and the mail."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from core.minutes import (
    ActionItem,
    Circulation,
    Content,
    Minutes,
    Notes,
    decide,
    local_when,
    minutes_mail,
    minutes_public,
    parse_due,
)
from tests.clock import FakeClock

CONTENT = Content(
    "Line one.\n\nLine <two> & more.",
    ("Point A", "Point <B>"),
    (ActionItem("Read ch. 4", "p@example.org", date(2030, 1, 14)), ActionItem("Ask")),
)


def test_a_save_writes_changes_nothing_or_conflicts() -> None:
    assert decide(0, same=False, expected=None) == "save"
    assert decide(0, same=False, expected=0) == "save"
    assert decide(0, same=True, expected=None) == "save"  # the first save is version 1 even when empty
    assert decide(3, same=False, expected=3) == "save"
    assert decide(3, same=False, expected=None) == "save"
    assert decide(3, same=False, expected=2) == "conflict"
    assert decide(3, same=False, expected=4) == "conflict"
    assert decide(0, same=False, expected=1) == "conflict"
    # The same content is never a conflict, whatever version the tab thought it had.
    assert decide(3, same=True, expected=2) == "unchanged"
    assert decide(3, same=True, expected=None) == "unchanged"


def test_due_dates_are_dates_that_exist() -> None:
    assert parse_due("2030-01-14") == date(2030, 1, 14)
    assert parse_due("2028-02-29") == date(2028, 2, 29)
    for bad in ("2030-02-30", "2030-13-01", "tomorrow", "20300114", "2030-1-4", "2030-01-14T10:00", ""):
        with pytest.raises(ValueError):
            parse_due(bad)


def test_content_is_empty_only_with_nothing_in_it_and_reads_back_what_it_wrote() -> None:
    assert Content().empty
    assert Content("  \n ").empty
    assert not Content("x").empty
    assert not Content("", ("p",)).empty
    assert not Content("", (), (ActionItem("a"),)).empty
    assert Content.of(CONTENT.public()) == CONTENT
    assert CONTENT.public()["action_items"][1] == {"text": "Ask", "owner_email": None, "due": None}
    assert Content("a") != Content("b") and Content("a", ("p",)) != Content("a")


def test_the_public_objects() -> None:
    at = FakeClock().now()
    m = Minutes("s1", CONTENT, 2, at, "Iris")
    out = minutes_public(m, [Circulation(1, at - timedelta(hours=1), 23, "Iris")])
    assert out["version"] == 2 and out["updated_at"] == "2030-01-07T09:00:00.000Z"
    assert out["circulated"] == [{"version": 1, "at": "2030-01-07T08:00:00.000Z", "sent": 23}]
    assert Notes("s1").public() == {"text": "", "version": 0, "saved_at": None}


def test_the_date_is_in_the_recipients_zone_and_falls_back_to_utc() -> None:
    at = datetime(2030, 1, 7, 23, 30, tzinfo=UTC)
    assert local_when(at, "Asia/Tokyo") == ("Tuesday 8 January 2030, 08:30", "Asia/Tokyo")
    assert local_when(at, "America/New_York") == ("Monday 7 January 2030, 18:30", "America/New_York")
    assert local_when(at, None) == ("Monday 7 January 2030, 23:30", "UTC")
    assert local_when(at, "Not/AZone") == ("Monday 7 January 2030, 23:30", "UTC")
    assert local_when(at, "../etc/passwd") == ("Monday 7 January 2030, 23:30", "UTC")


def test_the_mail_says_everything_in_text_and_in_escaped_html() -> None:
    now = FakeClock().now()
    m = minutes_mail(
        topic="Thermo\tdynamics  101",
        starts_at=datetime(2030, 1, 7, 23, 30, tzinfo=UTC),
        zone="Asia/Tokyo",
        content=CONTENT,
        version=3,
        to="p@example.org",
        name="Pat Doe",
        sender="Companion <companion@localhost>",
        message_id="<abc@localhost>",
        now=now,
    )
    assert m["Subject"] == "Minutes: Thermo dynamics 101 (Tuesday 8 January 2030)"
    assert m["To"] == "Pat Doe <p@example.org>" and m["Message-ID"] == "<abc@localhost>"
    assert m["X-Companion-Minutes-Version"] == "3"
    plain = m.get_body(("plain",))
    html = m.get_body(("html",))
    assert plain is not None and html is not None
    text = str(plain.get_content())  # type: ignore[attr-defined]
    assert "Tuesday 8 January 2030, 08:30 (Asia/Tokyo)" in text
    assert "Line one.\n\nLine <two> & more." in text
    assert "- Point <B>" in text
    assert "- Read ch. 4 (owner p@example.org, due 2030-01-14)" in text and "- Ask\n" in text
    assert "Version 3" in text
    markup = str(html.get_content())  # type: ignore[attr-defined]
    assert "<li>Point &lt;B&gt;</li>" in markup and "Line &lt;two&gt; &amp; more." in markup
    assert "<two>" not in markup


def test_a_mail_leaves_out_what_is_empty_and_an_odd_name() -> None:
    m = minutes_mail(
        topic="T",
        starts_at=datetime(2030, 1, 7, 9, 0, tzinfo=UTC),
        zone=None,
        content=Content("", ("Only a point",)),
        version=1,
        to="p@example.org",
        name='Evil "Name" <x@y>',
        sender="c@localhost",
        message_id="<m@localhost>",
        now=FakeClock().now(),
    )
    assert m["To"] == "p@example.org"
    plain = m.get_body(("plain",))
    assert plain is not None
    text = str(plain.get_content())  # type: ignore[attr-defined]
    assert "Summary" not in text and "Action items" not in text and "- Only a point" in text

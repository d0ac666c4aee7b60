"""COMPANION_RETENTION and what is past keeping at a moment (core/retention.py): times are handed in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core import retention

NOW = datetime(2031, 6, 1, 12, 0, tzinfo=UTC)


def test_the_default_is_the_contracts() -> None:
    r = retention.parse(None)
    assert dict(r.keep) == {
        "chat": timedelta(days=365),
        "attendance": timedelta(days=5 * 365),
        "feedback": timedelta(days=2 * 365),
        "records": timedelta(days=5 * 365),
        "materials": timedelta(days=5 * 365),
        "mail": timedelta(days=90),
        "audit": timedelta(days=7 * 365),
    }
    assert retention.parse("  ") == r == retention.parse(r.text())


def test_a_kind_given_replaces_its_default_and_the_others_keep_theirs() -> None:
    r = retention.parse("chat=30d, MAIL=12h")
    assert r.keep["chat"] == timedelta(days=30) and r.keep["mail"] == timedelta(hours=12)
    assert r.keep["records"] == timedelta(days=5 * 365)
    assert r.text().startswith("chat=30d,") and "mail=12h" in r.text()


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("chat=30", "is not kind=duration"),
        ("chat=30w", "is not kind=duration"),
        ("recordings=5y", "'recordings' is not one of"),
        ("chat=0d", "must be kept for some time"),
        ("chat=30d,chat=40d", "chat is given twice"),
        ("audit=201y", "longer than 200 years"),
        ("chat=-1d", "is not kind=duration"),
        ("chat=30d,", "is not kind=duration"),
    ],
)
def test_a_bad_setting_is_refused_naming_what_is_wrong(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        retention.parse(text)


def test_past_keeping_counts_from_the_close_and_never_for_a_held_or_open_session() -> None:
    r = retention.parse("chat=30d")
    closed = NOW - timedelta(days=30)
    assert r.past("chat", closed, NOW)  # exactly at the cutoff: gone
    assert not r.past("chat", closed + timedelta(seconds=1), NOW)
    assert not r.past("chat", closed - timedelta(days=100), NOW, held=True)
    assert not r.past("chat", None, NOW)


@given(
    st.sampled_from([k for k in retention.KINDS]),
    st.integers(min_value=1, max_value=10_000),
    st.sampled_from(list(retention.UNITS)),
)
def test_a_setting_reads_back_as_the_same_durations(kind: str, n: int, unit: str) -> None:
    if timedelta(seconds=n * retention.UNITS[unit]) > retention.LONGEST:
        with pytest.raises(ValueError, match="longer than 200 years"):
            retention.parse(f"{kind}={n}{unit}")
        return
    r = retention.parse(f"{kind}={n}{unit}")
    assert r.keep[kind] == timedelta(seconds=n * retention.UNITS[unit])
    assert retention.parse(r.text()) == r

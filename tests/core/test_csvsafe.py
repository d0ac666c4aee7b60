"""core.csvsafe: every text cell a spreadsheet would run as a formula is shown as text."""

from __future__ import annotations

import pytest

from core import csvsafe


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20"])
def test_a_formula_start_is_quoted_and_prefixed(start: str) -> None:
    assert csvsafe.cell(f"{start}SUM(A1)") == f'"\'{start}SUM(A1)"'


@pytest.mark.parametrize(
    ("value", "out"),
    [
        (None, ""),
        (True, "true"),
        (False, "false"),
        (-3, "-3"),  # a number is data, even when negative
        (2.5, "2.5"),
        ("plain", "plain"),
        ('say "hi", then', '"say ""hi"", then"'),
        ("a;b", '"a;b"'),
        ("two\nlines", '"two\nlines"'),
        ("a=b", "a=b"),  # only the first character matters
    ],
)
def test_cells(value: object, out: str) -> None:
    assert csvsafe.cell(value) == out


def test_table_has_a_header_crlf_line_ends_and_empty_missing_fields() -> None:
    assert csvsafe.table(["a", "b"], [{"a": 1}, {"b": "=x"}]) == 'a,b\r\n1,\r\n,"\'=x"\r\n'

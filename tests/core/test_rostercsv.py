"""core.rostercsv: a roster from a spreadsheet's CSV, every bad row by line number, whole-file refusals."""

from __future__ import annotations

import csv
import io
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import rostercsv
from core.errors import Invalid
from core.rostercsv import MAX_ROWS, RosterRow

SAVE_AS = 'save it as "CSV UTF-8 (Comma delimited)" (in Excel: File > Save As) and upload that'
EMPTY = "the file is empty: the first line must be a header naming the columns name and email"


def refusal(data: bytes) -> Invalid:
    with pytest.raises(Invalid) as caught:
        rostercsv.parse(data)
    return caught.value


def bad_rows(data: bytes) -> list[dict[str, Any]]:
    """The bad rows a file is refused for (it must be refused for bad rows, not as a whole)."""
    error = refusal(data)
    rows: list[dict[str, Any]] = error.extra["rows"]
    assert rows, "a refusal for bad rows lists them"
    n = len(rows)
    assert error.message == f"{n} bad row{'' if n == 1 else 's'} in the file; nothing was imported"
    return rows


def file_error(data: bytes) -> str:
    """The message a file is refused with as a whole: no rows listed."""
    error = refusal(data)
    assert "rows" not in error.extra
    return error.message


def people(n: int, *, start: int = 0) -> str:
    return "".join(f"Person {i},p{i}@example.org\r\n" for i in range(start, start + n))


# Delimiters, encodings, line ends


def test_a_comma_file_gives_each_row_with_its_line() -> None:
    data = b"name,email,timezone\nAda Lovelace,ada@example.org,Europe/London\nAlan Turing,alan@example.org,\n"
    assert rostercsv.parse(data) == [
        RosterRow(line=2, name="Ada Lovelace", email="ada@example.org", timezone="Europe/London"),
        RosterRow(line=3, name="Alan Turing", email="alan@example.org", timezone=None),
    ]


def test_a_semicolon_file_as_excel_writes_it_in_many_locales() -> None:
    # The header has a `;` and no comma, so the comma in a name is part of it.
    data = "name;email;timezone\r\nLovelace, Ada;ada@example.org;Europe/London\r\nGödel, Kurt;kurt@example.org;\r\n"
    assert rostercsv.parse(data.encode()) == [
        RosterRow(line=2, name="Lovelace, Ada", email="ada@example.org", timezone="Europe/London"),
        RosterRow(line=3, name="Gödel, Kurt", email="kurt@example.org", timezone=None),
    ]


def test_a_comma_file_keeps_semicolons_in_its_cells() -> None:
    data = b"name,email\nSmith; Ada,ada@example.org\n"
    assert [r.name for r in rostercsv.parse(data)] == ["Smith; Ada"]


@pytest.mark.parametrize(
    ("data", "name"),
    [
        # A comma inside quotes is not outside them: `;`.
        (b'name;email;"notes, misc"\n"Ada, A.";ada@example.org;x\n', "Ada, A."),
        (b'"name";"email"\nAda, A.;ada@example.org\n', "Ada, A."),
        # A comma outside quotes wins, even beside a `;`.
        (b"name,email,notes;misc\nAda; A.,ada@example.org,x\n", "Ada; A."),
        (b'"notes;misc",email,name\nx,ada@example.org,Ada; A.\n', "Ada; A."),
        # A quote that opens a cell only when `;` delimits: the header spans two lines.
        (b'name;"e\nmail";email\nAda, A.;x;ada@example.org\n', "Ada, A."),
    ],
)
def test_the_delimiter_comes_from_the_header(data: bytes, name: str) -> None:
    assert [(r.name, r.email) for r in rostercsv.parse(data)] == [(name, "ada@example.org")]


def test_a_byte_order_mark_is_not_part_of_the_first_column() -> None:
    data = "\ufeffname;email\r\nAda;ada@example.org\r\n".encode()
    assert rostercsv.parse(data) == [RosterRow(line=2, name="Ada", email="ada@example.org", timezone=None)]


@pytest.mark.parametrize("end", ["\r\n", "\n", "\r"])
@pytest.mark.parametrize("final", [True, False])
def test_line_ends_and_a_final_line_end_or_none(end: str, final: bool) -> None:
    text = end.join(["name,email", "Ada,ada@example.org", "", "Bob,bob@example.org"]) + (end if final else "")
    assert [(r.line, r.name) for r in rostercsv.parse(text.encode())] == [(2, "Ada"), (4, "Bob")]


# The header


def test_header_names_in_any_order_case_spaces_and_aliases() -> None:
    data = b" Time_Zone ;Student ID; E-Mail ;FULL NAME\r\nAsia/Tokyo;17;ada@example.org;Ada\r\n"
    assert rostercsv.parse(data) == [RosterRow(line=2, name="Ada", email="ada@example.org", timezone="Asia/Tokyo")]


@pytest.mark.parametrize(
    ("alias", "field"),
    [
        ("Email Address", "email"),
        ("e-mail address", "email"),
        ("EMAIL", "email"),
        ("Full  Name", "name"),
        ("Time Zone", "timezone"),
        ("TIMEZONE", "timezone"),
    ],
)
def test_each_alias(alias: str, field: str) -> None:
    values = {"name": "Ada", "email": "ada@example.org", "timezone": "UTC"}
    header = [alias if f == field else f for f in values]
    data = f"{','.join(header)}\n{','.join(values.values())}\n".encode()
    assert rostercsv.parse(data) == [RosterRow(line=2, name="Ada", email="ada@example.org", timezone="UTC")]


def test_extra_columns_and_empty_header_cells_are_ignored() -> None:
    data = b"Student ID;name;Notes;email;;\r\n17;Ada;likes =SUM(A1);ada@example.org;;\r\n"
    assert rostercsv.parse(data) == [RosterRow(line=2, name="Ada", email="ada@example.org", timezone=None)]


def test_without_a_timezone_column_every_timezone_is_none() -> None:
    assert [r.timezone for r in rostercsv.parse(b"email,name\na@example.org,A\nb@example.org,B\n")] == [None, None]


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (
            "Vorname,Mail",
            "the header has no name and no email column: the first line must name the columns name and email"
            " (timezone is optional); it has 'Vorname', 'Mail'",
        ),
        (
            "Name,Student ID",
            "the header has no email column: the first line must name the columns name and email"
            " (timezone is optional); it has 'Name', 'Student ID'",
        ),
        (
            "Ada Lovelace,ada@example.org",  # no header: the first row is data
            "the header has no name and no email column: the first line must name the columns name and email"
            " (timezone is optional); it has 'Ada Lovelace', 'ada@example.org'",
        ),
        ("Name,Email,E-mail", "the header names the email column twice: 'Email' (column 2) and 'E-mail' (column 3)"),
        ("name,email,Name", "the header names the name column twice: 'name' (column 1) and 'Name' (column 3)"),
        (
            "tz,name,email,Time Zone,timezone",
            "the header names the timezone column twice: 'Time Zone' (column 4) and 'timezone' (column 5)",
        ),
    ],
)
def test_a_header_that_cannot_be_read_refuses_the_file(header: str, message: str) -> None:
    assert file_error(f"{header}\nAda,ada@example.org\n".encode()) == message


def test_a_long_header_is_named_in_part() -> None:
    header = ",".join(f"column {i} " + "x" * 100 for i in range(20))
    message = file_error(header.encode() + b"\n")
    assert message.endswith(", ...") and "column 9" in message and "column 10" not in message
    assert len(message) < 700


def test_blank_lines_above_the_header_keep_the_lines_numbered() -> None:
    data = b";;\r\n\r\nname,email\r\nAda,ada@example.org\r\n"
    assert rostercsv.parse(data) == [RosterRow(line=4, name="Ada", email="ada@example.org", timezone=None)]


def test_a_line_of_spaces_and_delimiters_above_a_semicolon_header_is_skipped() -> None:
    data = "\u00a0 ;\r\n,,\r\nname;email\r\nLovelace, Ada;ada@example.org\r\n".encode()
    assert rostercsv.parse(data) == [RosterRow(line=4, name="Lovelace, Ada", email="ada@example.org", timezone=None)]


def test_a_header_that_is_not_csv_is_named_with_its_line() -> None:
    assert (
        file_error(b'\nname,"email\n') == "line 2: the header is not readable as CSV: a quoted field is never closed"
        " (a '\"' is missing)"
    )


# Quoting, blank rows, line numbers


def test_quoted_cells_hold_delimiters_quotes_and_line_breaks() -> None:
    data = (
        b"name,email,notes\r\n"
        b'"Lovelace, Ada",ada@example.org,"two\r\nlines"\r\n'
        b'"Ada ""The Countess""; L.",countess@example.org,"a;b,c"\r\n'
        b'Bob,bob@example.org,"three\nlines\nhere"\r\n'
        b"Carol,carol@example.org,\r\n"
    )
    assert [(r.line, r.name) for r in rostercsv.parse(data)] == [
        (2, "Lovelace, Ada"),
        (4, 'Ada "The Countess"; L.'),
        (5, "Bob"),
        (8, "Carol"),  # after a record over lines 5 to 7
    ]


def test_a_bad_row_after_a_multi_line_record_has_its_own_line() -> None:
    data = (
        b'name;email;notes\n"Ada";ada@example.org;"one\ntwo\nthree"\n;bob@example.org;\n"Carol\nSmith";c@example.org;\n'
    )
    assert bad_rows(data) == [
        {"line": 5, "message": "name: required"},
        {"line": 6, "message": "name: must not contain control characters or line breaks"},
    ]


def test_rows_whose_cells_are_all_empty_are_skipped() -> None:
    data = b"name;email;timezone\r\n;;\r\nAda;ada@example.org;\r\n   ;  ; \r\n\r\n;;\r\n;;\r\n"
    assert rostercsv.parse(data) == [RosterRow(line=3, name="Ada", email="ada@example.org", timezone=None)]


def test_cells_are_stripped_of_surrounding_whitespace() -> None:
    data = "name , email , timezone\n  Ada Lovelace\u00a0 ,\tada@example.org  ,  Europe/London \n".encode()
    assert rostercsv.parse(data) == [
        RosterRow(line=2, name="Ada Lovelace", email="ada@example.org", timezone="Europe/London")
    ]


def test_a_space_after_the_delimiter_does_not_hide_a_quoted_cell() -> None:
    data = b'email, name\nada@example.org, "Lovelace, Ada"\n'
    assert [r.name for r in rostercsv.parse(data)] == ["Lovelace, Ada"]


def test_a_name_that_looks_like_a_formula_is_kept_as_text() -> None:
    # Every CSV the server writes neutralises it (core.csvsafe); the roster keeps the real name.
    data = b'name,email\n"=HYPERLINK(""http://x.example"",""x"")",ada@example.org\n+1,bob@example.org\n'
    assert [r.name for r in rostercsv.parse(data)] == ['=HYPERLINK("http://x.example","x")', "+1"]


# Bad rows: every one, in line order, naming the column


def test_every_bad_row_is_listed_in_line_order() -> None:
    data = (
        b"name,email,timezone\n"
        b"Ada,ada@example.org,\n"
        b",bob@example.org,\n"
        b"Carol,carol@example.org,Mars/Base\n"
        b"Dan,dan@example.org,UTC\n"
        b"Eve,not-an-email,\n"
    )
    assert bad_rows(data) == [
        {"line": 3, "message": "name: required"},
        {"line": 4, "message": "timezone: unknown time zone 'Mars/Base'; an IANA name such as 'Europe/Berlin'"},
        {"line": 6, "message": "email: not an email address"},
    ]


def test_every_problem_of_one_row_is_in_its_message() -> None:
    assert bad_rows(b"name,email,timezone\n,,Nowhere/Else\n") == [
        {
            "line": 2,
            "message": "name: required; email: required;"
            " timezone: unknown time zone 'Nowhere/Else'; an IANA name such as 'Europe/Berlin'",
        }
    ]


def test_the_error_body_lists_the_rows() -> None:
    error = refusal(b"name,email\nAda,ada\n")
    assert error.body() == {
        "error": {
            "code": "invalid",
            "message": "1 bad row in the file; nothing was imported",
            "rows": [{"line": 2, "message": "email: not an email address"}],
        }
    }


def test_a_repeated_email_is_a_bad_row_naming_the_first_line_whatever_its_case() -> None:
    data = (
        b"name,email\n"
        b"Ada,ada@example.org\n"
        b"Bob,bob@example.org\n"
        b"Ada again,ADA@Example.org\n"
        b"Ada thrice, ada@example.org \n"
        b"Bob again,Bob@example.org\n"
    )
    assert bad_rows(data) == [
        {"line": 4, "message": "email: also on line 2"},
        {"line": 5, "message": "email: also on line 2"},
        {"line": 6, "message": "email: also on line 3"},
    ]


def test_a_repeat_of_a_bad_rows_email_still_names_that_row() -> None:
    assert bad_rows(b"name,email\n,ada@example.org\nAda,ada@example.org\n") == [
        {"line": 2, "message": "name: required"},
        {"line": 3, "message": "email: also on line 2"},
    ]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "name: required"),
        ("   ", "name: required"),
        ("x" * 201, "name: at most 200 characters"),
        ("Ada\tLovelace", "name: must not contain control characters or line breaks"),
        ("Ada\x7f", "name: must not contain control characters or line breaks"),
        ('"Ada\nLovelace"', "name: must not contain control characters or line breaks"),
    ],
)
def test_a_bad_name(name: str, message: str) -> None:
    assert bad_rows(f"name,email\n{name},ada@example.org\n".encode()) == [{"line": 2, "message": message}]


def test_a_name_of_200_characters_is_fine() -> None:
    assert rostercsv.parse(f"name,email\n{'x' * 200},ada@example.org\n".encode())[0].name == "x" * 200


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("", "email: required"),
        ("ada", "email: not an email address"),
        ("ada@example", "email: not an email address"),
        ("ada@@example.org", "email: not an email address"),
        ("ada lovelace@example.org", "email: not an email address"),
        ("a" * 309 + "@example.org", "email: at most 320 characters"),
    ],
)
def test_a_bad_email(email: str, message: str) -> None:
    assert bad_rows(f"name,email\nAda,{email}\n".encode()) == [{"line": 2, "message": message}]


def test_an_email_of_320_characters_is_fine() -> None:
    email = "a" * 308 + "@example.org"
    assert rostercsv.parse(f"name,email\nAda,{email}\n".encode())[0].email == email


@pytest.mark.parametrize("tz", ["Europe/Berlin", "America/Argentina/Buenos_Aires", "UTC", "Pacific/Chatham"])
def test_a_known_zone_is_kept(tz: str) -> None:
    assert rostercsv.parse(f"name,email,timezone\nAda,ada@example.org,{tz}\n".encode())[0].timezone == tz


@pytest.mark.parametrize("tz", ["Mars/Base", "../etc/passwd", "localtime", "posix/UTC", "CEST", "+01:00"])
def test_an_unknown_zone_is_a_bad_row_naming_it(tz: str) -> None:
    assert bad_rows(f"name,email,timezone\nAda,ada@example.org,{tz}\n".encode()) == [
        {"line": 2, "message": f"timezone: unknown time zone {tz!r}; an IANA name such as 'Europe/Berlin'"}
    ]


def test_a_zone_cell_of_100_kb_is_named_in_part() -> None:
    (row,) = bad_rows(f"name,email,timezone\nAda,ada@example.org,{'Europe/' * 12_000}\n".encode())
    assert row["message"].startswith("timezone: unknown time zone 'Europe/Europe/")
    assert "…'" in row["message"] and len(row["message"]) < 200


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("Ada,ada@example.org,UTC,extra", "a row has 4 fields; the header has 3"),
        ("Ada,ada@example.org", "a row has 2 fields; the header has 3"),
        ("Ada", "a row has 1 field; the header has 3"),
    ],
)
def test_a_row_with_another_number_of_fields(line: str, message: str) -> None:
    assert bad_rows(f"name,email,timezone\n{line}\n".encode()) == [{"line": 2, "message": message}]


def test_rows_that_are_not_csv_are_bad_rows_and_the_rows_after_them_are_read() -> None:
    data = b'name,email\n"Ada" L.,ada@example.org\nBob,bob\nCarol,"carol@example.org\n'
    assert bad_rows(data) == [
        {"line": 2, "message": "a closing '\"' must be followed by ',' or the end of the line"},
        {"line": 3, "message": "email: not an email address"},
        {"line": 4, "message": "a quoted field is never closed (a '\"' is missing)"},
    ]


def test_a_cell_beyond_the_csv_field_limit_is_a_bad_row() -> None:
    data = f"name,email,notes\nAda,ada@example.org,{'x' * 200_000}\nBob,bob@example.org,\n".encode()
    assert bad_rows(data) == [{"line": 2, "message": f"a field is longer than {csv.field_size_limit():,} characters"}]


# How many rows


def test_the_header_alone_is_no_roster() -> None:
    message = "no participants in the file: the header is followed by no rows"
    assert file_error(b"name,email\r\n") == message
    assert file_error(b"name;email;timezone\r\n;;\r\n;;\r\n") == message


def test_5000_rows_are_accepted() -> None:
    rows = rostercsv.parse(("name,email\r\n" + people(MAX_ROWS)).encode())
    assert len(rows) == MAX_ROWS == 5000
    assert rows[-1] == RosterRow(line=5001, name="Person 4999", email="p4999@example.org", timezone=None)


def test_5001_rows_are_refused_even_when_blank_lines_are_in_between() -> None:
    data = ("name,email\r\n" + people(2500) + ",\r\n\r\n" + people(2501, start=2500)).encode()
    assert file_error(data) == "at most 5,000 rows; this file has 5,001"


def test_10000_rows_are_refused_quickly_without_checking_them() -> None:
    # Every row beyond the bound is bad too: the answer is the bound, not 5,000 bad rows.
    data = ("name,email\r\n" + "".join(f",bad{i}\r\n" for i in range(10_000))).encode()
    started = time.perf_counter()
    assert file_error(data) == "at most 5,000 rows; this file has 10,000"
    assert time.perf_counter() - started < 1.0  # about 0.05 s


def test_a_20_mb_body_is_refused_in_a_moment() -> None:
    data = ("name,email\r\n" + people(600_000)).encode()
    assert len(data) > 20_000_000
    started = time.perf_counter()
    assert file_error(data) == "at most 5,000 rows; this file has 600,000"
    assert time.perf_counter() - started < 10.0  # about 0.6 s


# Not a UTF-8 CSV text file


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", b"\r\n\r\n", b"  \n;;\n,,\n"])
def test_an_empty_file(data: bytes) -> None:
    assert file_error(data) == EMPTY


def test_latin_1_is_not_utf_8() -> None:
    data = "name;email\r\nAda;ada@example.org\r\nJosé;jose@example.org\r\n".encode("latin-1")
    assert file_error(data) == f"not UTF-8: the byte 0xE9 on line 3 is not UTF-8 text; {SAVE_AS}"


def test_excel_unicode_text_is_utf_16_and_tab_separated() -> None:
    data = "name\temail\r\nAda\tada@example.org\r\n".encode("utf-16")  # with a byte order mark, as Excel writes it
    message = f'not UTF-8: this file is UTF-16, as Excel saves "Unicode Text"; {SAVE_AS}'
    assert file_error(data) == message
    assert file_error("name,email\r\nAda,ada@example.org\r\n".encode("utf-16-be")) == message  # no mark
    assert file_error("name,email\r\nAda,ada@example.org\r\n".encode("utf-16-le")) == message


def test_utf_8_with_tabs_says_to_save_as_csv() -> None:
    assert file_error(b"name\temail\nAda\tada@example.org\n") == (
        f"the columns are separated by tabs, not commas or semicolons; {SAVE_AS}"
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"name,email\nAda,ada@example.org\x00\n", "not a CSV text file: it has binary content (a NUL byte on line 2)"),
        (b"\x89PNG\r\n\x1a\n", "not a CSV text file: this is a PNG image"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a CSV text file: this is a PNG image"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "not a CSV text file: this is a JPEG image"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "not a CSV text file: this is a PDF document"),
        (
            b"PK\x03\x04\x14\x00\x06\x00[Content_Types].xml",
            f"not a CSV text file: this is a ZIP archive, such as an Excel workbook (.xlsx); {SAVE_AS}",
        ),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00",
            f"not a CSV text file: this is an Excel 97-2003 workbook (.xls); {SAVE_AS}",
        ),
        (b"\x1f\x8b\x08\x00", "not a CSV text file: this is a gzip archive"),
        (bytes(range(256)), "not a CSV text file: it has binary content (a NUL byte on line 1)"),
    ],
)
def test_binary_content_is_not_a_csv_text_file(data: bytes, message: str) -> None:
    assert file_error(data) == message


def test_an_encoded_surrogate_is_not_utf_8() -> None:
    assert file_error(b"name,email\n\xed\xa0\x80,a@example.org\n").startswith("not UTF-8: the byte 0xED on line 2")


# Properties

NAMES = (
    st.text(
        st.characters(exclude_categories=["Cs"], exclude_characters=[chr(c) for c in range(32)] + ["\x7f"]),
        min_size=1,
        max_size=200,
    )
    .map(str.strip)
    .filter(bool)
)
EMAILS = st.builds(
    lambda local, domain: f"{local}@{domain}",
    st.from_regex(r"[A-Za-z0-9._%+=;,\"'!#-]{1,30}", fullmatch=True),
    st.from_regex(r"[a-z0-9-]{1,20}\.[a-z]{2,6}", fullmatch=True),
)
ZONES = st.sampled_from([None, "Europe/Berlin", "America/New_York", "Asia/Kolkata", "UTC", "Pacific/Chatham"])
PEOPLE = st.lists(st.tuples(NAMES, EMAILS, ZONES), min_size=1, max_size=30, unique_by=lambda p: p[1].lower())


def written(
    header: tuple[str, ...], people: list[tuple[str, str, str | None]], delimiter: str, end: str, bom: bool
) -> bytes:
    """The file Python's csv module writes for these people, columns in the header's order."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=end)
    writer.writerow(header)
    for name, email, tz in people:
        cells = {"name": name, "email": email, "timezone": tz or "", "notes": f"{name}{delimiter}\n{email}"}
        writer.writerow([cells[c] for c in header])
    return ("\ufeff" if bom else "").encode() + out.getvalue().encode()


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(
    people=PEOPLE,
    header=st.permutations(["name", "email", "timezone"]),
    delimiter=st.sampled_from([",", ";"]),
    end=st.sampled_from(["\r\n", "\n"]),
    bom=st.booleans(),
)
def test_any_roster_written_by_the_csv_module_reads_back(
    people: list[tuple[str, str, str | None]], header: list[str], delimiter: str, end: str, bom: bool
) -> None:
    data = written(tuple(header), people, delimiter, end, bom)
    assert rostercsv.parse(data) == [
        RosterRow(line=i + 2, name=name, email=email, timezone=tz) for i, (name, email, tz) in enumerate(people)
    ]


@settings(max_examples=100, deadline=None, derandomize=True, database=None)
@given(people=PEOPLE, bad=st.data(), delimiter=st.sampled_from([",", ";"]))
def test_the_bad_rows_listed_are_exactly_the_bad_rows(
    people: list[tuple[str, str, str | None]], bad: st.DataObject, delimiter: str
) -> None:
    # A notes column with a line break in every cell: each record takes two lines.
    broken = bad.draw(st.sets(st.integers(0, len(people) - 1), min_size=1))
    rows = [("", email, tz) if i in broken else (name, email, tz) for i, (name, email, tz) in enumerate(people)]
    data = written(("name", "notes", "email", "timezone"), rows, delimiter, "\r\n", False)
    assert bad_rows(data) == [{"line": 2 + 2 * i, "message": "name: required"} for i in sorted(broken)]

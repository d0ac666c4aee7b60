"""What every input is held to, so nothing a column, a database or a JSON encoder refuses is ever accepted.

Bounds live in the schemas (HTTP bodies and socket payloads alike), so an input beyond them is
answered `invalid` before anything is written: a value that is committed and then cannot be read
back or encoded would break its whole session (issue 9).
"""

from __future__ import annotations

import re

# PostgreSQL INTEGER (int4), the type of every integer column but the passkey sign count.
INT32_MAX = 2**31 - 1
# The largest integer every JSON reader holds exactly (JavaScript's Number.MAX_SAFE_INTEGER); beyond
# it a browser shows another number, and beyond 64 bits orjson cannot encode it at all.
JSON_SAFE_INT = 2**53 - 1

# Text fields as patterns, so the OpenAPI document says what the server checks. PostgreSQL text
# refuses NUL outright; other C0 controls are never meant in a name or a title and only mislead
# (a carriage return that hides the rest of a line in a log or a CSV).
ONE_LINE = r"^[^\x00-\x1f\x7f]*$"
# Free text keeps tab and line breaks.
MULTI_LINE = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
# An identifier the server made (uuid4 hex) or a client id: never more than this alphabet.
ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
# An email address the server keeps: something@domain.tld, no spaces or control characters, at most
# EMAIL_MAX characters (the JSON roster call, the CSV import and staff tokens all read it so).
EMAIL = re.compile(r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+$")
EMAIL_MAX = 320
_ID = re.compile(ID_PATTERN)

PATTERN_WORDS = {
    ONE_LINE: "must not contain control characters or line breaks",
    MULTI_LINE: "must not contain control characters (tab and line breaks are fine)",
    ID_PATTERN: "must be 1 to 64 letters, digits, '-' or '_'",
}


def is_id(value: str) -> bool:
    """Whether a path or payload identifier could name anything the server made."""
    return _ID.fullmatch(value) is not None

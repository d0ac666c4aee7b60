"""core.bounds: which identifiers could name anything the server made."""

from __future__ import annotations

import pytest

from core import bounds


@pytest.mark.parametrize("value", ["a", "A-z_09", "x" * 64, "0f" * 16])
def test_ids(value: str) -> None:
    assert bounds.is_id(value)


@pytest.mark.parametrize("value", ["", "x" * 65, "a b", "a/b", "é", "\na", "a\n", "../x"])
def test_not_ids(value: str) -> None:
    # "a\n": re.match lets `$` match before a final newline; is_id must not.
    assert not bounds.is_id(value)

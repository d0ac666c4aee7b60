"""core.errors: one shape for every refusal, with what an error carries inside `error` (and beside it in an ack)."""

from __future__ import annotations

import pytest

from core.errors import HTTP_STATUS, AppError, Conflict, NotFound, RateLimited


def test_an_error_is_code_and_message() -> None:
    e = NotFound("no such ticket")
    assert e.body() == {"error": {"code": "not_found", "message": "no such ticket"}}
    assert e.ack() == {"ok": False, "error": {"code": "not_found", "message": "no such ticket"}}
    assert e.status == 404


def test_what_an_error_carries_is_inside_it_and_beside_it_in_an_ack() -> None:
    """The contract's "its error carrying the open one's ticket_id": inside `error`; clients that read
    it beside `error` find it there too, the same value."""
    ticket = {"ticket_id": "t1", "state": "waiting", "position": 1}
    e = Conflict("you already have an open ticket", ticket_id="t1", ticket=ticket)
    inside = {"code": "conflict", "message": "you already have an open ticket", "ticket_id": "t1", "ticket": ticket}
    assert e.body() == {"error": inside}
    assert e.ack() == {"ok": False, "error": inside, "ticket_id": "t1", "ticket": ticket}
    assert RateLimited("wait", retry_at="2030-01-07T09:04:00.000Z").ack()["error"]["retry_at"] == (
        "2030-01-07T09:04:00.000Z"
    )


@pytest.mark.parametrize("name", ["code", "ok", "error"])
def test_an_extra_field_may_not_take_a_name_of_the_shape(name: str) -> None:
    with pytest.raises(TypeError, match=name):
        Conflict("clash", **{name: "x"})


def test_every_code_has_its_http_status() -> None:
    codes = {cls.code for cls in AppError.__subclasses__()}
    assert codes == set(HTTP_STATUS)

"""core.model: roles named in sentences, and the rooms sockets are closed through."""

from __future__ import annotations

from core.model import article, room_person, room_token


def test_a_role_is_named_with_the_right_article() -> None:
    assert [article(r) for r in ("admin", "instructor", "support", "participant")] == [
        "an admin",
        "an instructor",
        "a support",
        "a participant",
    ]


def test_a_person_has_one_room_whatever_the_case_of_their_email() -> None:
    assert room_person("Iris@Example.org") == room_person("iris@example.org") == "staff:iris@example.org"
    assert room_token("abc") != room_person("abc")

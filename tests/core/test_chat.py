"""core.chat: a message as kept and who sees it; a closed session takes none."""

from __future__ import annotations

import pytest

from core import chat
from core.errors import Conflict
from core.model import Actor, room_all
from tests.core.factories import T0, at, session

PARTICIPANT = Actor(role="participant", name="Pia", token_id="p1", participant_id="p1", session_id="s1")
INSTRUCTOR = Actor(role="instructor", name="Iris", token_id="t1", email="Iris@Example.org")


def test_a_message_is_kept_with_its_author_seq_and_time_and_goes_to_everyone_in_the_session() -> None:
    message, events = chat.post(
        session(status="live", started_at=T0), PARTICIPANT, message_id="m1", seq=7, client_id="c1", text="hi", now=at(2)
    )
    assert (message.seq, message.author_key, message.author, message.role) == (7, "p:p1", "Pia", "participant")
    assert message.sent_at == at(2)
    assert [(e.event, e.room) for e in events] == [("chat", room_all("s1"))]
    assert events[0].payload == message.view() and "author_key" not in events[0].payload


def test_staff_are_authors_by_email_whatever_token_they_came_in_with() -> None:
    message, _ = chat.post(session(), INSTRUCTOR, message_id="m", seq=1, client_id="c", text="x", now=at(0))
    assert message.author_key == "staff:iris@example.org"


def test_only_participants_are_held_to_the_chat_rate() -> None:
    assert chat.RATE_LIMITED_ROLES == {"participant"}


def test_a_closed_session_takes_no_message() -> None:
    with pytest.raises(Conflict, match="closed"):
        chat.post(
            session(status="closed", closed_at=T0),
            PARTICIPANT,
            message_id="m",
            seq=1,
            client_id="c",
            text="x",
            now=at(0),
        )

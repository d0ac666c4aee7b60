"""The backup chat: who may post, the message as kept, and who is told, without I/O.

Ordering (`seq`) and idempotency (`client_id`) are the live store's: it hands out the next `seq`
for a new `client_id` and answers the first one's id and `seq` for a resend.
"""

from __future__ import annotations

from datetime import datetime

from core.lifecycle import require_open
from core.model import Actor, ChatMessage, Emit, SessionState, room_all

# A participant may send 5 chat messages in 5 seconds (contract); staff are not limited.
RATE_LIMITED_ROLES = frozenset({"participant"})


def post(
    session: SessionState,
    actor: Actor,
    *,
    message_id: str,
    seq: int,
    client_id: str,
    text: str,
    now: datetime,
) -> tuple[ChatMessage, list[Emit]]:
    """A new message from actor, seen by everyone in the session; a closed session takes none."""
    require_open(session)
    message = ChatMessage(
        id=message_id,
        seq=seq,
        client_id=client_id,
        author_key=actor.author_key,
        author=actor.name,
        role=actor.role,
        text=text,
        sent_at=now,
    )
    return message, [Emit("chat", message.view(), room_all(session.id))]

"""The backup chat: post once per client_id, in seq order; the history and the log."""

from __future__ import annotations

from limits import RateLimitItemPerSecond
from limits.aio.strategies import MovingWindowRateLimiter

from core import chat, lifecycle, payloads
from core.errors import RateLimited
from core.model import Actor, ChatMessage
from persistence.identity import new_id
from persistence.repos import chat as chat_repo
from service.unit import Unit

# A participant may send 5 chat messages in 5 seconds (contract).
CHAT_RATE = RateLimitItemPerSecond(5, 5)
CHAT_HISTORY_PAGE = 500


class Chat:
    def __init__(self, unit: Unit, limiter: MovingWindowRateLimiter) -> None:
        self._u = unit
        self._limiter = limiter  # counted in the live store: a person's allowance, whichever process they reach

    async def send(self, actor: Actor, session_id: str, p: payloads.ChatSend) -> tuple[str, int]:
        """Post a message; the same client_id again answers the same id and seq and sends nothing."""
        key = actor.author_key
        store = self._u.store
        async with self._u.session(session_id) as s:
            # A resend is answered even after close: it changes nothing, and the sender's outbox
            # learns that its message did arrive.
            seen = await store.chat_lookup(session_id, key, p.client_id)
            if seen is None:
                lifecycle.require_open(s)  # before a seq is taken: a refused message leaves no hole
                if actor.role in chat.RATE_LIMITED_ROLES and not await self._limiter.hit(CHAT_RATE, "chat", key):
                    raise RateLimited("at most 5 messages in 5 seconds; wait a moment")
                message_id = new_id()
                seq = await store.chat_reserve(session_id, key, p.client_id, message_id)
                message, events = chat.post(
                    s, actor, message_id=message_id, seq=seq, client_id=p.client_id, text=p.text, now=self._u.now()
                )
                pending = await self._u.write(
                    session_id, chat_repo.add_chat(session_id=session_id, message=message), events
                )
        if seen is not None:
            await self._u.barrier()  # the first send of this client_id may still be committing
            return seen
        await pending
        return message_id, seq

    async def history(self, session_id: str, after_seq: int, limit: int | None) -> list[ChatMessage]:
        return await self._u.read(chat_repo.chat_page, session_id=session_id, after_seq=after_seq, limit=limit)

    async def log(self, session_id: str) -> list[ChatMessage]:
        """The whole log in seq order, with every acknowledged message in it."""
        await self._u.barrier()
        return await self.history(session_id, 0, None)

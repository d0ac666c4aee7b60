"""Chat messages: written in batches, read back in sequence order."""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession as DbSession

from core.model import ChatMessage
from persistence.models import ChatRecord
from persistence.repos import _rows
from persistence.writer import Batched


def add_chat(*, session_id: str, message: ChatMessage) -> Batched:
    return Batched(
        "add_chat",
        lambda _: insert(_rows.table(ChatRecord)),
        {
            "id": message.id,
            "session_id": session_id,
            "seq": message.seq,
            "client_id": message.client_id,
            "author_key": message.author_key,
            "author": message.author,
            "role": message.role,
            "text": message.text,
            "sent_at": message.sent_at,
        },
    )


async def chat_page(db: DbSession, *, session_id: str, after_seq: int, limit: int | None) -> list[ChatMessage]:
    query = (
        select(ChatRecord)
        .where(ChatRecord.session_id == session_id, ChatRecord.seq > after_seq)
        .order_by(ChatRecord.seq)
    )
    if limit is not None:
        query = query.limit(limit)
    return [
        ChatMessage(
            id=r.id,
            seq=r.seq,
            client_id=r.client_id,
            author_key=r.author_key,
            author=r.author,
            role=r.role,
            text=r.text,
            sent_at=r.sent_at,
        )
        for r in await db.scalars(query)
    ]

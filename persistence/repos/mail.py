"""The mail outbox: every mail, with its outcome (when it was sent, or the error), for operators and tests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession as DbSession

from persistence.models import OutboxMail


async def add_mail(db: DbSession, *, mail_id: str, recipient: str, subject: str, body: str, now: datetime) -> None:
    db.add(
        OutboxMail(
            id=mail_id, recipient=recipient, subject=subject, body=body, created_at=now, sent_at=None, error=None
        )
    )
    await db.flush()


async def mail_outcome(db: DbSession, *, mail_id: str, sent_at: datetime | None, error: str | None) -> None:
    await db.execute(update(OutboxMail).where(OutboxMail.id == mail_id).values(sent_at=sent_at, error=error))


async def outbox(db: DbSession, *, recipient: str | None = None) -> list[dict[str, Any]]:
    """The mails, newest last (for operators and tests)."""
    query = select(OutboxMail).order_by(OutboxMail.created_at)
    if recipient is not None:
        query = query.where(OutboxMail.recipient == recipient)
    return [
        {
            "id": m.id,
            "recipient": m.recipient,
            "subject": m.subject,
            "body": m.body,
            "created_at": m.created_at,
            "sent_at": m.sent_at,
            "error": m.error,
        }
        for m in (await db.execute(query)).scalars()
    ]

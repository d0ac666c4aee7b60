"""Staff: the members, their API tokens, invitations, passkeys, ceremony challenges and web sessions.

Emails are kept lower-cased, but a token's as it was given (disable_staff compares it lower-cased). Tokens and
invitations keep only their secret's digest (core.tokens.digest).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession as DbSession

from persistence.models import (
    ApiToken,
    Passkey,
    StaffInvitation,
    StaffMember,
    StaffSession,
    WebAuthnChallenge,
)

ChallengeCheck = Literal["ok", "unknown", "used", "expired", "wrong_purpose"]

# ---------------------------------------------------------------- staff


async def upsert_staff(db: DbSession, *, email: str, name: str, now: datetime) -> StaffMember:
    """The staff member with this email, created if new (the first name given is kept)."""
    member = await db.get(StaffMember, email.lower())
    if member is None:
        member = StaffMember(email=email.lower(), name=name, created_at=now, disabled_at=None)
        db.add(member)
        await db.flush()
    return member


async def get_staff(db: DbSession, *, email: str) -> StaffMember | None:
    return await db.get(StaffMember, email.lower())


async def set_timezone(db: DbSession, *, email: str, timezone: str | None) -> bool:
    """A staff member's own zone; False when there is no such staff member."""
    member = await db.get(StaffMember, email.lower())
    if member is None:
        return False
    member.timezone = timezone
    await db.flush()
    return True


async def enrol_staff(
    db: DbSession, *, email: str, name: str, role: str, user_handle: str, now: datetime
) -> StaffMember:
    """Create the staff member, or give an existing one the invited role (and a user handle if new)."""
    member = await db.get(StaffMember, email.lower())
    if member is None:
        member = StaffMember(
            email=email.lower(), name=name, created_at=now, disabled_at=None, role=role, user_handle=user_handle
        )
        db.add(member)
    else:
        member.role = role
        member.name = name
        if member.user_handle is None:
            member.user_handle = user_handle
    await db.flush()
    return member


async def list_staff(db: DbSession) -> list[tuple[StaffMember, int]]:
    """Every staff member with their number of passkeys, by email."""
    counts = select(Passkey.email, func.count().label("n")).group_by(Passkey.email).subquery()
    rows = await db.execute(
        select(StaffMember, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.email == StaffMember.email)
        .order_by(StaffMember.email)
    )
    return [(member, int(n)) for member, n in rows.all()]


@dataclass(slots=True)
class Disabled:
    """What disabling ended: the sessions and tokens whose sockets must close too."""

    session_ids: list[str]
    token_ids: list[str]


async def disable_staff(db: DbSession, *, email: str, now: datetime) -> Disabled | None:
    """Disable a staff member, end their web sessions and revoke their tokens; None when unknown."""
    member = await db.get(StaffMember, email.lower())
    if member is None:
        return None
    if member.disabled_at is None:
        member.disabled_at = now
    session_ids = list(
        (
            await db.execute(
                select(StaffSession.id).where(StaffSession.email == member.email, StaffSession.ended_at.is_(None))
            )
        ).scalars()
    )
    await db.execute(
        update(StaffSession)
        .where(StaffSession.email == member.email, StaffSession.ended_at.is_(None))
        .values(ended_at=now, ended_reason="disabled")
    )
    token_ids = list(
        (
            await db.execute(
                select(ApiToken.id).where(func.lower(ApiToken.email) == member.email, ApiToken.revoked_at.is_(None))
            )
        ).scalars()
    )
    await db.execute(
        update(ApiToken)
        .where(func.lower(ApiToken.email) == member.email, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return Disabled(session_ids=session_ids, token_ids=token_ids)


async def enable_staff(db: DbSession, *, email: str) -> bool:
    """Let a disabled staff member sign in again (their old sessions and tokens stay ended)."""
    member = await db.get(StaffMember, email.lower())
    if member is None:
        return False
    member.disabled_at = None
    return True


# ---------------------------------------------------------------- API tokens


async def add_token(
    db: DbSession, *, token_id: str, secret_hash: str, role: str, name: str, email: str | None, now: datetime
) -> ApiToken:
    row = ApiToken(
        id=token_id,
        secret_hash=secret_hash,
        role=role,
        name=name,
        email=email,
        created_at=now,
        revoked_at=None,
    )
    db.add(row)
    await db.flush()
    return row


async def get_token(db: DbSession, *, token_id: str) -> ApiToken | None:
    return await db.get(ApiToken, token_id)


async def revoke_token(db: DbSession, *, token_id: str, now: datetime) -> bool:
    """True when the token existed (revoking twice is fine)."""
    row = await db.get(ApiToken, token_id)
    if row is None:
        return False
    if row.revoked_at is None:
        row.revoked_at = now
    return True


# ---------------------------------------------------------------- invitations


async def add_invitation(
    db: DbSession,
    *,
    invitation_id: str,
    secret_hash: str,
    email: str,
    name: str,
    role: str,
    invited_by: str | None,
    now: datetime,
    expires_at: datetime,
) -> StaffInvitation:
    row = StaffInvitation(
        id=invitation_id,
        secret_hash=secret_hash,
        email=email.lower(),
        name=name,
        role=role,
        invited_by=invited_by,
        created_at=now,
        expires_at=expires_at,
        used_at=None,
    )
    db.add(row)
    await db.flush()
    return row


async def get_invitation(db: DbSession, *, invitation_id: str) -> StaffInvitation | None:
    return await db.get(StaffInvitation, invitation_id)


async def use_invitation(db: DbSession, *, invitation_id: str, now: datetime) -> bool:
    """Mark the invitation used, once: False when it was already used or has expired."""
    result = await db.execute(
        update(StaffInvitation)
        .where(
            StaffInvitation.id == invitation_id,
            StaffInvitation.used_at.is_(None),
            StaffInvitation.expires_at > now,
        )
        .values(used_at=now)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


# ---------------------------------------------------------------- ceremony challenges


async def add_challenge(
    db: DbSession,
    *,
    challenge_id: str,
    challenge: str,
    purpose: str,
    email: str | None,
    user_handle: str | None,
    now: datetime,
    expires_at: datetime,
) -> None:
    db.add(
        WebAuthnChallenge(
            id=challenge_id,
            challenge=challenge,
            purpose=purpose,
            email=email.lower() if email else None,
            user_handle=user_handle,
            created_at=now,
            expires_at=expires_at,
            used_at=None,
        )
    )
    await db.flush()


async def consume_challenge(
    db: DbSession, *, challenge_id: str, purpose: str, now: datetime
) -> tuple[ChallengeCheck, WebAuthnChallenge | None]:
    """Take the challenge for one use (atomically, across processes) and say whether it may be used.

    A challenge is consumed by its first answer whatever the outcome, so it never verifies twice.
    """
    result = await db.execute(
        update(WebAuthnChallenge)
        .where(WebAuthnChallenge.id == challenge_id, WebAuthnChallenge.used_at.is_(None))
        .values(used_at=now)
    )
    row = await db.get(WebAuthnChallenge, challenge_id)
    if row is None:
        return "unknown", None
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return "used", row
    if row.purpose != purpose:
        return "wrong_purpose", row
    if row.expires_at <= now:
        return "expired", row
    return "ok", row


async def delete_old_challenges(db: DbSession, *, before: datetime) -> None:
    """Forget challenges that expired long enough ago that nobody can be told about them any more."""
    await db.execute(delete(WebAuthnChallenge).where(WebAuthnChallenge.expires_at < before))


# ---------------------------------------------------------------- passkeys


async def add_passkey(
    db: DbSession,
    *,
    passkey_id: str,
    credential_id: str,
    email: str,
    public_key: bytes,
    sign_count: int,
    label: str,
    aaguid: str,
    transports: list[str] | None,
    backed_up: bool,
    now: datetime,
) -> Passkey:
    row = Passkey(
        id=passkey_id,
        credential_id=credential_id,
        email=email.lower(),
        public_key=public_key,
        sign_count=sign_count,
        label=label,
        aaguid=aaguid,
        transports=transports,
        backed_up=backed_up,
        created_at=now,
        last_used_at=None,
    )
    db.add(row)
    await db.flush()
    return row


async def passkey_by_credential(db: DbSession, *, credential_id: str) -> tuple[Passkey, StaffMember] | None:
    row = (
        await db.execute(
            select(Passkey, StaffMember)
            .join(StaffMember, StaffMember.email == Passkey.email)
            .where(Passkey.credential_id == credential_id)
        )
    ).first()
    return None if row is None else (row[0], row[1])


async def credential_exists(db: DbSession, *, credential_id: str) -> bool:
    found = await db.execute(select(Passkey.id).where(Passkey.credential_id == credential_id))
    return found.first() is not None


async def passkeys_of(db: DbSession, *, email: str) -> list[Passkey]:
    rows = await db.execute(select(Passkey).where(Passkey.email == email.lower()).order_by(Passkey.created_at))
    return list(rows.scalars())


async def record_passkey_use(db: DbSession, *, passkey_id: str, sign_count: int, now: datetime) -> None:
    await db.execute(update(Passkey).where(Passkey.id == passkey_id).values(sign_count=sign_count, last_used_at=now))


async def rename_passkey(db: DbSession, *, email: str, passkey_id: str, label: str) -> Passkey | None:
    row = await db.get(Passkey, passkey_id)
    if row is None or row.email != email.lower():
        return None
    row.label = label
    return row


async def remove_passkey(db: DbSession, *, email: str, passkey_id: str) -> Literal["removed", "unknown", "last"]:
    """Remove one of a person's passkeys; the last one stays, or nobody could sign in as them again."""
    mine = await passkeys_of(db, email=email)
    if passkey_id not in {p.id for p in mine}:
        return "unknown"
    if len(mine) == 1:
        return "last"
    await db.execute(delete(Passkey).where(Passkey.id == passkey_id))
    return "removed"


# ---------------------------------------------------------------- web sessions


async def add_web_session(
    db: DbSession,
    *,
    session_id: str,
    email: str,
    csrf_token: str,
    passkey_id: str | None,
    now: datetime,
    expires_at: datetime,
) -> StaffSession:
    row = StaffSession(
        id=session_id,
        email=email.lower(),
        csrf_token=csrf_token,
        passkey_id=passkey_id,
        created_at=now,
        seen_at=now,
        expires_at=expires_at,
        ended_at=None,
        ended_reason=None,
    )
    db.add(row)
    await db.flush()
    return row


async def get_web_session(db: DbSession, *, session_id: str) -> tuple[StaffSession, StaffMember] | None:
    row = (
        await db.execute(
            select(StaffSession, StaffMember)
            .join(StaffMember, StaffMember.email == StaffSession.email)
            .where(StaffSession.id == session_id)
        )
    ).first()
    return None if row is None else (row[0], row[1])


async def touch_web_session(db: DbSession, *, session_id: str, now: datetime) -> None:
    await db.execute(
        update(StaffSession).where(StaffSession.id == session_id, StaffSession.ended_at.is_(None)).values(seen_at=now)
    )


async def end_web_session(db: DbSession, *, session_id: str, now: datetime, reason: str) -> bool:
    """End a session once; True when it was open."""
    result = await db.execute(
        update(StaffSession)
        .where(StaffSession.id == session_id, StaffSession.ended_at.is_(None))
        .values(ended_at=now, ended_reason=reason)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def open_web_sessions(db: DbSession, *, email: str) -> list[StaffSession]:
    rows = await db.execute(
        select(StaffSession).where(StaffSession.email == email.lower(), StaffSession.ended_at.is_(None))
    )
    return list(rows.scalars())

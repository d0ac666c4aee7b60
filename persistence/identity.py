"""Tokens and who they stand for: staff API tokens (hashed, revocable) and participant links."""

from __future__ import annotations

import base64
import re
import secrets
import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession as DbSession

from core import tokens
from core.errors import Unauthorized
from core.model import Actor, Member
from persistence.repos import roster, staff

STAFF_PREFIX = "cmp"
PARTICIPANT_PREFIX = "cpt"
RSVP_PREFIX = "rsv"
CALENDAR_PREFIX = "cal"
MATERIAL_PREFIX = "mat"
# Every token the server makes is hex and URL-safe base64 joined by "_" and ".": anything else is
# refused before it is compared or looked up (PostgreSQL refuses a NUL; compare_digest non-ASCII).
_TOKEN = re.compile(r"^[A-Za-z0-9_.-]{1,300}$")


def new_id() -> str:
    return uuid.uuid4().hex


def _participant_mac(key: str, ident: str) -> str:
    return tokens.sign(key.encode(), f"participant:{ident}", size=24)


def participant_token(key: str, session_id: str, participant_id: str) -> str:
    """A participant's personal token, derived from the server key: adding them again gives the same one.

    It names its session and participant and is signed, so a connection is checked without a query.
    """
    ident = f"{session_id}.{participant_id}"
    return f"{PARTICIPANT_PREFIX}_{ident}_{_participant_mac(key, ident)}"


def parse_participant_token(token: str, key: str) -> tuple[str, str] | None:
    """(session id, participant id) of a participant token; None for another kind; Unauthorized if forged."""
    prefix, _, rest = token.partition("_")
    ident, _, mac = rest.partition("_")
    if prefix != PARTICIPANT_PREFIX:
        return None
    if _TOKEN.fullmatch(token) is None:
        raise Unauthorized("unknown token")
    session_id, _, participant_id = ident.partition(".")
    if not (session_id and participant_id and mac) or not tokens.signature_matches(
        key.encode(), f"participant:{ident}", mac, size=24
    ):
        raise Unauthorized("unknown token")
    return session_id, participant_id


def rsvp_token(key: str, invitation_id: str) -> str:
    """An invitee's RSVP link token: it names their invitation and is signed for that purpose alone."""
    return f"{RSVP_PREFIX}_{invitation_id}_{tokens.sign(key.encode(), f'rsvp:{invitation_id}', size=18)}"


def parse_rsvp_token(token: str, key: str) -> str | None:
    """The invitation id an RSVP token names; None when it is not one the server signed."""
    prefix, _, rest = token.partition("_")
    invitation_id, _, mac = rest.partition("_")
    if prefix != RSVP_PREFIX or _TOKEN.fullmatch(token) is None or not (invitation_id and mac):
        return None
    if not tokens.signature_matches(key.encode(), f"rsvp:{invitation_id}", mac, size=18):
        return None
    return invitation_id


def calendar_token(key: str, email: str) -> str:
    """A person's calendar feed token: their address (lower-cased), signed for the feed alone."""
    address = base64.urlsafe_b64encode(email.lower().encode()).decode().rstrip("=")
    # Dots between the parts: URL-safe base64 has "_" and "-" but never ".".
    return f"{CALENDAR_PREFIX}.{address}.{tokens.sign(key.encode(), f'calendar:{email.lower()}', size=18)}"


def material_token(key: str, material_id: str, recipient: str) -> str:
    """A personal download link's token: one material for one recipient (a participant's id, or "instructor")."""
    mac = tokens.sign(key.encode(), f"material:{material_id}:{recipient}", size=18)
    return f"{MATERIAL_PREFIX}.{material_id}.{recipient}.{mac}"


def parse_material_token(token: str, key: str) -> tuple[str, str] | None:
    """(material id, recipient) of a download token; None when it is not one the server signed."""
    parts = token.split(".")
    if len(parts) != 4 or parts[0] != MATERIAL_PREFIX or _TOKEN.fullmatch(token) is None:
        return None
    _, material_id, recipient, mac = parts
    if not (material_id and recipient and mac):
        return None
    if not tokens.signature_matches(key.encode(), f"material:{material_id}:{recipient}", mac, size=18):
        return None
    return material_id, recipient


def parse_calendar_token(token: str, key: str) -> str | None:
    """The address a calendar feed token names; None when it is not one the server signed."""
    prefix, address, mac = token.split(".") if token.count(".") == 2 else ("", "", "")
    if prefix != CALENDAR_PREFIX or _TOKEN.fullmatch(token) is None or not (address and mac):
        return None
    try:
        email = base64.urlsafe_b64decode(address + "=" * (-len(address) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    if not tokens.signature_matches(key.encode(), f"calendar:{email}", mac, size=18):
        return None
    return email


def participant_actor(session_id: str, member: Member) -> Actor:
    return Actor(
        role="participant",
        name=member.name,
        token_id=member.id,
        email=member.email,
        participant_id=member.id,
        session_id=session_id,
    )


async def create_staff_token(
    db: DbSession, *, role: str, name: str, email: str | None, now: datetime
) -> tuple[str, str]:
    """A new API token (id, token); the token is shown once, only its hash is kept."""
    token_id = secrets.token_hex(8)
    secret = tokens.new_secret()
    if email is not None:
        await staff.upsert_staff(db, email=email, name=name, now=now)
    await staff.add_token(
        db, token_id=token_id, secret_hash=tokens.digest(secret), role=role, name=name, email=email, now=now
    )
    return token_id, f"{STAFF_PREFIX}_{token_id}_{secret}"


async def resolve(db: DbSession, *, token: str, key: str) -> Actor:
    """The actor behind a token, or Unauthorized saying why."""
    if _TOKEN.fullmatch(token) is None:
        raise Unauthorized("unknown token")
    participant = parse_participant_token(token, key)
    if participant is not None:
        found = await roster.get_member(db, participant_id=participant[1])
        if found is None or found[0] != participant[0]:
            raise Unauthorized("unknown token: that participant is no longer on a roster")
        return participant_actor(found[0], found[1])
    prefix, _, rest = token.partition("_")
    ident, _, secret = rest.partition("_")
    if prefix == STAFF_PREFIX and ident and secret:
        row = await staff.get_token(db, token_id=ident)
        if row is None or not tokens.digest_matches(row.secret_hash, secret):
            raise Unauthorized("unknown token")
        if row.revoked_at is not None:
            raise Unauthorized("token revoked")
        name = row.name
        if row.email is not None:
            member = await staff.get_staff(db, email=row.email)
            if member is not None:
                if member.disabled_at is not None:
                    raise Unauthorized("this staff member is disabled")
                name = member.name
        return Actor(role=row.role, name=name, token_id=row.id, email=row.email)  # type: ignore[arg-type]
    raise Unauthorized("unknown token")

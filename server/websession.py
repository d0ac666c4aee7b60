"""Staff web sessions: a signed cookie naming a server-side session, with idle and absolute expiry.

The cookie holds only a random session id and its HMAC under the server key: HttpOnly (no script
reads it), SameSite=Lax (not sent with cross-site POSTs), Secure and `__Host-` prefixed when the
public URL is https. The session itself lives in the database, so signing out, an administrator
disabling someone, or an expiry ends it everywhere at once. Cookie-authenticated calls that change
something must also carry the session's CSRF token in the X-CSRF-Token header (pages read it from
GET /api/me), and an Origin header, when present, must be the public URL's.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from starlette.requests import Request, cookie_parser
from starlette.responses import Response

from core import tokens
from core.clock import Clock
from core.errors import Forbidden, Unauthorized
from core.model import Actor, Role
from core.settings import Settings
from persistence.repos import staff
from server.passkeys import RelyingParty
from service.records import Records

log = logging.getLogger("companion.websession")

COOKIE = "companion_session"
# Browsers accept a __Host- cookie only when Secure, for Path=/ and without Domain: it cannot be
# planted by a sibling subdomain.
SECURE_COOKIE = "__Host-companion_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# seen_at is written at most this often: enough precision for the idle expiry, without a write per request.
TOUCH_AT_MOST_EVERY = timedelta(seconds=60)
# Sockets of a web session carry this token id, so ending the session can close them.
TOKEN_PREFIX = "web_"


@dataclass(frozen=True, slots=True)
class WebSession:
    """A live session and who it is."""

    id: str
    csrf_token: str
    actor: Actor
    expires_at: datetime


def socket_token_id(session_id: str) -> str:
    return f"{TOKEN_PREFIX}{session_id}"


class WebSessions:
    """Creates, reads and ends staff web sessions; checks CSRF on cookie-authenticated changes."""

    def __init__(self, settings: Settings, *, records: Records, clock: Clock) -> None:
        self._key = tokens.derive_key("staff-session", settings.secret_key)
        self._records = records
        self._clock = clock
        self.origin = RelyingParty.from_public_url(settings.public_url).origin
        self.secure = settings.public_url.startswith("https://")
        self.cookie_name = SECURE_COOKIE if self.secure else COOKIE
        self.idle = timedelta(seconds=settings.session_idle_s)
        self.absolute = timedelta(seconds=settings.session_absolute_s)
        self._touch_every = min(TOUCH_AT_MOST_EVERY, self.idle / 10)

    # ------------------------------------------------------------ the cookie

    def _mac(self, session_id: str) -> str:
        return tokens.sign(self._key, session_id)

    def _session_id(self, value: str) -> str | None:
        """The session id of a cookie value whose signature holds, else None."""
        session_id, _, mac = value.partition(".")
        if not session_id or not mac or not tokens.signature_matches(self._key, session_id, mac):
            return None
        return session_id

    def set_cookie(self, response: Response, session_id: str) -> None:
        response.set_cookie(
            self.cookie_name,
            f"{session_id}.{self._mac(session_id)}",
            max_age=int(self.absolute.total_seconds()),
            path="/",
            secure=self.secure,
            httponly=True,
            samesite="lax",
        )

    def clear_cookie(self, response: Response) -> None:
        response.delete_cookie(self.cookie_name, path="/", secure=self.secure, httponly=True, samesite="lax")

    def cookie_of(self, request: Request) -> str | None:
        return request.cookies.get(self.cookie_name)

    # ------------------------------------------------------------ sessions

    async def create(self, *, email: str, passkey_id: str | None) -> WebSession:
        """A new session for a person who just proved who they are."""
        session_id = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        now = self._clock.now()
        await self._records.write(
            lambda db: staff.add_web_session(
                db,
                session_id=session_id,
                email=email,
                csrf_token=csrf,
                passkey_id=passkey_id,
                now=now,
                expires_at=now + self.absolute,
            )
        )
        return await self.resolve(f"{session_id}.{self._mac(session_id)}")

    async def resolve(self, value: str) -> WebSession:
        """The session a cookie value names, or Unauthorized saying why it is not (any more) valid."""
        session_id = self._session_id(value)
        if session_id is None:
            raise Unauthorized("the session cookie is not valid; sign in again")
        found = await self._records.read(staff.get_web_session, session_id=session_id)
        if found is None:
            raise Unauthorized("unknown session; sign in again")
        row, member = found
        now = self._clock.now()
        if row.ended_at is not None:
            why = {
                "logout": "you signed out",
                "disabled": "this staff member is disabled",
                "idle": "the session ended after a while without activity",
                "expired": "the session reached its maximum length",
            }.get(row.ended_reason or "", "the session ended")
            raise Unauthorized(f"{why}; sign in again")
        if member.disabled_at is not None:
            raise Unauthorized("this staff member is disabled")
        if now >= row.expires_at:
            await self.end(session_id, "expired")
            hours = self.absolute.total_seconds() / 3600
            raise Unauthorized(f"the session reached its maximum length ({hours:g} h); sign in again")
        if now - row.seen_at >= self.idle:
            await self.end(session_id, "idle")
            minutes = self.idle.total_seconds() / 60
            raise Unauthorized(f"the session ended after {minutes:g} minutes without activity; sign in again")
        if member.role is None:
            raise Unauthorized("this person has no staff role")
        if now - row.seen_at >= self._touch_every:
            await self._records.write(lambda db: staff.touch_web_session(db, session_id=session_id, now=now))
        actor = Actor(
            role=cast(Role, member.role), name=member.name, token_id=socket_token_id(session_id), email=member.email
        )
        return WebSession(id=session_id, csrf_token=row.csrf_token, actor=actor, expires_at=row.expires_at)

    async def end(self, session_id: str, reason: str) -> bool:
        """End a session (sign-out, expiry); True when it was open."""
        now = self._clock.now()
        ended: bool = await self._records.write(
            lambda db: staff.end_web_session(db, session_id=session_id, now=now, reason=reason)
        )
        if ended:
            log.info("web session ended: %s", reason)
        return ended

    # ------------------------------------------------------------ requests and sockets

    async def for_request(self, request: Request) -> WebSession:
        """The request's session, with the CSRF and Origin checks for a method that changes something."""
        value = self.cookie_of(request)
        if not value:
            raise Unauthorized("missing bearer token or session cookie: sign in")
        session = await self.resolve(value)
        if request.method not in SAFE_METHODS:
            self.check_origin(request)
            sent = request.headers.get(CSRF_HEADER, "")
            if not sent or not tokens.same(sent, session.csrf_token):
                log.warning("CSRF refusal: %s %s by %s", request.method, request.url.path, session.actor.email)
                raise Forbidden(
                    f"missing or wrong {CSRF_HEADER} header: changes made with the session cookie need "
                    "the session's CSRF token (csrf_token in GET /api/me)"
                )
        return session

    def check_origin(self, request: Request) -> None:
        """A browser names the page that sent a request: it must be one of ours."""
        origin = request.headers.get("origin")
        if origin is not None and origin != self.origin:
            log.warning("cross-origin refusal: %s %s from %s", request.method, request.url.path, origin)
            raise Forbidden(f"requests from {origin} are not accepted here")

    async def actor_for_handshake(self, cookie_header: str) -> Actor | None:
        """The staff member behind a Socket.IO handshake's Cookie header; None when it has no session cookie."""
        value = cookie_parser(cookie_header).get(self.cookie_name)
        if not value:
            return None
        return (await self.resolve(value)).actor

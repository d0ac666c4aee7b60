"""Staff sign-in routes: invitations, enrolment with a passkey, /login, /logout, /api/me, passkeys, admin.

Handlers are thin: rate-limit, parse, call the ceremonies (server/passkeys.py) or the sessions
(server/websession.py), write through the service's records, answer. Every answer that carries who
someone is is marked no-store.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from limits import RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter
from pydantic import StringConstraints
from sqlalchemy.ext.asyncio import AsyncSession as DbSession
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from core import tokens
from core.bounds import ONE_LINE, is_id
from core.errors import Conflict, Forbidden, Invalid, NotFound, RateLimited, Unauthorized
from core.model import Actor, iso
from core.settings import Settings
from persistence.models import Passkey, StaffInvitation
from persistence.repos import staff
from server.jsonresponse import json
from server.mail import Mailer
from server.passkeys import Ceremonies, RelyingParty, new_user_handle
from server.routes import ADMIN, PUBLIC, STAFF, Endpoint, Operation, body, caller, caller_session
from server.routes import routes as routes_of
from server.schemas import Body, Email, Name, TimeZone, is_email
from server.websession import WebSession, WebSessions, socket_token_id
from service.service import Service

log = logging.getLogger("companion.staff")

STATIC = Path(__file__).resolve().parent.parent / "static"
# An enrolment link is good for one passkey and for settings.invitation_ttl_s (a day by default):
# long enough to reach someone's inbox across time zones, short enough that an old mail is useless.
INVITATION_PREFIX = "inv"
NO_STORE = {"cache-control": "no-store"}

Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=ONE_LINE)]
# Challenge ids and invitation tokens are hex and URL-safe base64, made here: nothing else names one
# (and a NUL would reach PostgreSQL, which refuses it).
Ident = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_-]+$")]


# ---------------------------------------------------------------- request bodies


class InviteCreate(Body):
    email: Email
    role: Literal["admin", "instructor", "support"]
    name: Name | None = None


class EnrolBegin(Body):
    token: Ident


class EnrolFinish(Body):
    token: Ident
    challenge_id: Ident
    credential: dict[str, Any]
    name: Name | None = None
    label: Label | None = None


class LoginFinish(Body):
    challenge_id: Ident
    credential: dict[str, Any]


class PasskeyFinish(Body):
    challenge_id: Ident
    credential: dict[str, Any]
    label: Label | None = None


class PasskeyRename(Body):
    label: Label


class MyZone(Body):
    timezone: TimeZone | None


# ---------------------------------------------------------------- invitations (also used by the CLI)


def enrolment_link(public_url: str, token: str) -> str:
    """The link in the fragment, so the token stays out of server logs and Referer headers."""
    return f"{public_url}/enroll#token={token}"


async def create_invitation(
    db: DbSession,
    *,
    email: str,
    role: str,
    name: str | None,
    invited_by: str | None,
    now: datetime,
    ttl: timedelta,
) -> tuple[StaffInvitation, str]:
    """A new one-time invitation and its token (shown once; only its hash is kept)."""
    invitation_id = secrets.token_hex(8)
    secret = tokens.new_secret()
    row = await staff.add_invitation(
        db,
        invitation_id=invitation_id,
        secret_hash=tokens.digest(secret),
        email=email,
        name=name or email.split("@", 1)[0],
        role=role,
        invited_by=invited_by,
        now=now,
        expires_at=now + ttl,
    )
    return row, f"{INVITATION_PREFIX}_{invitation_id}_{secret}"


# ---------------------------------------------------------------- the service


class StaffAuth:
    """What the staff routes share: ceremonies, sessions, mail and the sign-in rate limit."""

    def __init__(self, settings: Settings, service: Service) -> None:
        self.settings = settings
        self.records = service.records
        self.access = service.access
        self.clock = service.clock
        rp = RelyingParty.from_public_url(settings.public_url)
        self.ceremonies = Ceremonies(
            rp, records=self.records, clock=self.clock, challenge_ttl=timedelta(seconds=settings.challenge_ttl_s)
        )
        self.sessions = WebSessions(settings, records=self.records, clock=self.clock)
        self.mailer = Mailer(settings, records=self.records, clock=self.clock)
        # Per process and client address; a cluster multiplies it by the number of processes, which
        # still stops guessing at invitation tokens or hammering the database.
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._rate = RateLimitItemPerMinute(settings.signin_attempts_per_minute)

    async def limit(self, request: Request) -> str:
        """Count a sign-in attempt of this client; refuse past the budget. Answers the client's address."""
        client = request.client.host if request.client else "unknown"
        if not await self._limiter.hit(self._rate, "signin", client):
            log.warning("sign-in rate limit reached by %s", client)
            raise RateLimited(
                f"more than {self.settings.signin_attempts_per_minute} sign-in attempts a minute; wait a moment"
            )
        return client

    async def invitation(self, token: str) -> StaffInvitation:
        """The invitation a token names, if it can still be used."""
        prefix, _, rest = token.partition("_")
        ident, _, secret = rest.partition("_")
        row = None
        if prefix == INVITATION_PREFIX and ident and secret:
            row = await self.records.read(staff.get_invitation, invitation_id=ident)
        if row is None or not tokens.digest_matches(row.secret_hash, secret):
            raise Unauthorized("unknown invitation: ask an administrator for a new link")
        if row.used_at is not None:
            raise Unauthorized("this invitation was already used: sign in, or ask for a new link")
        if row.expires_at <= self.clock.now():
            raise Unauthorized("this invitation has expired: ask an administrator for a new link")
        member = await self.records.read(staff.get_staff, email=row.email)
        if member is not None and member.disabled_at is not None:
            raise Unauthorized("this staff member is disabled")
        return row

    async def signed_in(self, email: str, passkey_id: str, status: int = 200) -> Response:
        """Open a web session, answer who it is and set the cookie."""
        session = await self.sessions.create(email=email, passkey_id=passkey_id)
        response = json(_me(session.actor, session), status, headers=NO_STORE)
        self.sessions.set_cookie(response, session.id)
        return response


def _auth(request: Request) -> StaffAuth:
    auth: StaffAuth = request.app.state.staff_auth
    return auth


def _me(actor: Actor, session: WebSession | None) -> dict[str, Any]:
    me: dict[str, Any] = {"email": actor.email, "name": actor.name, "role": actor.role}
    if session is not None:
        me["csrf_token"] = session.csrf_token
        me["session_expires_at"] = iso(session.expires_at)
    return me


def _passkey(p: Passkey) -> dict[str, Any]:
    return {
        "id": p.id,
        "label": p.label,
        "created_at": iso(p.created_at),
        "last_used_at": iso(p.last_used_at),
        "backed_up": p.backed_up,
    }


def _person(request: Request) -> str:
    """The email of a signed-in staff member: passkeys belong to people, not to bare tokens."""
    actor = caller(request)
    if actor.email is None:
        raise Forbidden("a token without an email has no passkeys")
    return actor.email


# ---------------------------------------------------------------- pages


def _path_passkey(request: Request) -> str:
    value: str = request.path_params["passkey_id"]
    if not is_id(value):
        raise NotFound("no such passkey")
    return value


def _path_email(request: Request) -> str:
    """An email from the path, lower-cased; one no staff member could have names nobody."""
    value: str = request.path_params["email"]
    if not is_email(value):
        raise NotFound("no such staff member")
    return value.lower()


def _page(name: str) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        return FileResponse(STATIC / name, headers={"cache-control": "no-cache"})

    endpoint.__name__ = f"page_{name.split('.')[0]}"
    return endpoint


# ---------------------------------------------------------------- sign-in and out


async def login_begin(request: Request) -> Response:
    auth = _auth(request)
    await auth.limit(request)
    return json(await auth.ceremonies.start_authentication(), headers=NO_STORE)


async def login_finish(request: Request) -> Response:
    auth = _auth(request)
    client = await auth.limit(request)
    auth.sessions.check_origin(request)
    b = await body(request, LoginFinish)
    done = await auth.ceremonies.finish_authentication(
        challenge_id=b.challenge_id, credential=b.credential, client=client
    )
    return await auth.signed_in(done.staff.email, done.passkey.id)


async def logout(request: Request) -> Response:
    auth = _auth(request)
    response = json({"signed_out": True}, headers=NO_STORE)
    if auth.sessions.cookie_of(request):
        try:
            session = await auth.sessions.for_request(request)
        except Unauthorized:
            pass  # already ended or never valid: there is nothing to end but the cookie
        else:
            await auth.sessions.end(session.id, "logout")
            await auth.access.disconnect_token(socket_token_id(session.id))
    auth.sessions.clear_cookie(response)
    return response


async def me(request: Request) -> Response:
    # The guard has already read the session (or the token): it is not looked up a second time.
    actor = caller(request)
    answer = _me(actor, caller_session(request))
    member = await _auth(request).records.read(staff.get_staff, email=actor.email) if actor.email else None
    answer["timezone"] = member.timezone if member is not None else None
    return json(answer, headers=NO_STORE)


async def set_my_timezone(request: Request) -> Response:
    """One's own time zone: mail and pages show times in it (null: the browser's)."""
    actor = caller(request)
    b = await body(request, MyZone)
    if actor.email is None:
        raise Invalid("this token names no person: there is nobody to keep a time zone for")
    email = actor.email
    changed = await _auth(request).records.write(lambda db: staff.set_timezone(db, email=email, timezone=b.timezone))
    if not changed:
        raise NotFound("no staff record for this email")
    return json({**_me(actor, caller_session(request)), "timezone": b.timezone}, headers=NO_STORE)


# ---------------------------------------------------------------- enrolment


async def enrol_begin(request: Request) -> Response:
    auth = _auth(request)
    await auth.limit(request)
    b = await body(request, EnrolBegin)
    invitation = await auth.invitation(b.token)
    member = await auth.records.read(staff.get_staff, email=invitation.email)
    existing = await auth.records.read(staff.passkeys_of, email=invitation.email)
    options = await auth.ceremonies.start_registration(
        purpose="enrol",
        email=invitation.email,
        name=invitation.name,
        user_handle=(member.user_handle if member is not None and member.user_handle else new_user_handle()),
        exclude=[p.credential_id for p in existing],
    )
    who = {"email": invitation.email, "name": invitation.name, "role": invitation.role}
    return json({**options, **who, "expires_at": iso(invitation.expires_at)}, headers=NO_STORE)


async def enrol_finish(request: Request) -> Response:
    auth = _auth(request)
    client = await auth.limit(request)
    auth.sessions.check_origin(request)
    b = await body(request, EnrolFinish)
    invitation = await auth.invitation(b.token)
    new = await auth.ceremonies.finish_registration(
        challenge_id=b.challenge_id, purpose="enrol", email=invitation.email, credential=b.credential, client=client
    )
    now = auth.clock.now()
    passkey_id = secrets.token_hex(12)

    async def enrol(db: DbSession) -> None:
        if not await staff.use_invitation(db, invitation_id=invitation.id, now=now):
            raise Conflict("this invitation was just used or has expired")
        await staff.enrol_staff(
            db,
            email=invitation.email,
            name=b.name or invitation.name,
            role=invitation.role,
            user_handle=new.user_handle or new_user_handle(),
            now=now,
        )
        await staff.add_passkey(
            db,
            passkey_id=passkey_id,
            credential_id=new.credential_id,
            email=invitation.email,
            public_key=new.public_key,
            sign_count=new.sign_count,
            label=b.label or "First passkey",
            aaguid=new.aaguid,
            transports=new.transports,
            backed_up=new.backed_up,
            now=now,
        )

    await auth.records.write(enrol)
    log.info("%s enrolled as %s", invitation.email, invitation.role)
    return await auth.signed_in(invitation.email, passkey_id, 201)


async def create_invitation_route(request: Request) -> Response:
    actor = caller(request)
    auth = _auth(request)
    b = await body(request, InviteCreate)
    now = auth.clock.now()
    ttl = timedelta(seconds=auth.settings.invitation_ttl_s)
    row, token = await auth.records.write(
        lambda db: create_invitation(
            db, email=b.email, role=b.role, name=b.name, invited_by=actor.email, now=now, ttl=ttl
        )
    )
    link = enrolment_link(auth.settings.public_url, token)
    mailed = await auth.mailer.send(
        to=row.email,
        subject="Your Companion staff access",
        body=(
            f"Hello {row.name},\n\n{actor.name} invited you to Companion as {row.role}.\n"
            f"Open this link before {iso(row.expires_at)} to create your passkey (it works once):\n\n{link}\n"
        ),
    )
    answer = {
        "id": row.id,
        "email": row.email,
        "name": row.name,
        "role": row.role,
        "expires_at": iso(row.expires_at),
        "link": link,
        "mailed": mailed,
    }
    return json(answer, 201, headers=NO_STORE)


# ---------------------------------------------------------------- one's own passkeys


async def my_passkeys(request: Request) -> Response:
    email = _person(request)
    rows = await _auth(request).records.read(staff.passkeys_of, email=email)
    return json({"passkeys": [_passkey(p) for p in rows]}, headers=NO_STORE)


async def add_passkey_begin(request: Request) -> Response:
    email = _person(request)
    auth = _auth(request)
    await auth.limit(request)
    member = await auth.records.read(staff.get_staff, email=email)
    if member is None or member.user_handle is None:
        raise Forbidden("enrol from an invitation first")
    existing = await auth.records.read(staff.passkeys_of, email=email)
    options = await auth.ceremonies.start_registration(
        purpose="add",
        email=email,
        name=member.name,
        user_handle=member.user_handle,
        exclude=[p.credential_id for p in existing],
    )
    return json(options, headers=NO_STORE)


async def add_passkey_finish(request: Request) -> Response:
    email = _person(request)
    auth = _auth(request)
    client = await auth.limit(request)
    b = await body(request, PasskeyFinish)
    new = await auth.ceremonies.finish_registration(
        challenge_id=b.challenge_id, purpose="add", email=email, credential=b.credential, client=client
    )
    now = auth.clock.now()
    count = len(await auth.records.read(staff.passkeys_of, email=email))
    row = await auth.records.write(
        lambda db: staff.add_passkey(
            db,
            passkey_id=secrets.token_hex(12),
            credential_id=new.credential_id,
            email=email,
            public_key=new.public_key,
            sign_count=new.sign_count,
            label=b.label or f"Passkey {count + 1}",
            aaguid=new.aaguid,
            transports=new.transports,
            backed_up=new.backed_up,
            now=now,
        )
    )
    return json(_passkey(row), 201, headers=NO_STORE)


async def rename_passkey(request: Request) -> Response:
    email = _person(request)
    b = await body(request, PasskeyRename)
    passkey_id = _path_passkey(request)
    row = await _auth(request).records.write(
        lambda db: staff.rename_passkey(db, email=email, passkey_id=passkey_id, label=b.label)
    )
    if row is None:
        raise NotFound("you have no such passkey")
    return json(_passkey(row), headers=NO_STORE)


async def remove_passkey(request: Request) -> Response:
    email = _person(request)
    passkey_id = _path_passkey(request)
    outcome = await _auth(request).records.write(
        lambda db: staff.remove_passkey(db, email=email, passkey_id=passkey_id)
    )
    if outcome == "unknown":
        raise NotFound("you have no such passkey")
    if outcome == "last":
        raise Conflict("this is your only passkey: add another before removing it")
    return json({"id": passkey_id, "removed": True}, headers=NO_STORE)


# ---------------------------------------------------------------- administrators


async def list_staff(request: Request) -> Response:
    rows = await _auth(request).records.read(staff.list_staff)
    people = [
        {
            "email": m.email,
            "name": m.name,
            "role": m.role,
            "disabled_at": iso(m.disabled_at),
            "passkeys": n,
        }
        for m, n in rows
    ]
    return json({"staff": people}, headers=NO_STORE)


async def disable_staff(request: Request) -> Response:
    actor = caller(request)
    email = _path_email(request)
    if actor.email is not None and actor.email.lower() == email:
        raise Conflict("you cannot disable yourself")
    done = await _auth(request).access.disable_staff(email)
    if done is None:
        raise NotFound("no such staff member")
    log.warning(
        "%s disabled %s: %d sessions ended, %d tokens revoked",
        actor.email or actor.name,
        email,
        len(done.session_ids),
        len(done.token_ids),
    )
    answer = {
        "email": email,
        "disabled": True,
        "sessions_ended": len(done.session_ids),
        "tokens_revoked": len(done.token_ids),
    }
    return json(answer, headers=NO_STORE)


async def enable_staff(request: Request) -> Response:
    email = _path_email(request)
    found = await _auth(request).records.write(lambda db: staff.enable_staff(db, email=email))
    if not found:
        raise NotFound("no such staff member")
    return json({"email": email, "disabled": False}, headers=NO_STORE)


# ---------------------------------------------------------------- the table

# The staff side's API: who may call each route is enforced from this table (server.routes), and the
# OpenAPI document is built from it with server.api.API.
STAFF_API: list[Operation] = [
    Operation(
        "POST",
        "/api/login/begin",
        login_begin,
        PUBLIC,
        None,
        "Start a passkey sign-in: {challenge_id, publicKey}",
        rate_limited=True,
    ),
    Operation(
        "POST",
        "/api/login/finish",
        login_finish,
        PUBLIC,
        LoginFinish,
        "Finish a passkey sign-in: sets the session cookie; answers {email, name, role, csrf_token}",
        rate_limited=True,
    ),
    Operation("POST", "/logout", logout, PUBLIC, None, "Sign out: ends the session and its sockets, clears the cookie"),
    Operation(
        "GET", "/api/me", me, STAFF, None, "Who is signed in: {email, name, role, timezone, csrf_token?}; 401 otherwise"
    ),
    Operation("PATCH", "/api/me", set_my_timezone, STAFF, MyZone, "Set one's own time zone (IANA, or null)"),
    Operation(
        "POST",
        "/api/invitations",
        create_invitation_route,
        ADMIN,
        InviteCreate,
        "Invite a staff member: a one-time enrolment link (24 h), mailed or kept in the outbox",
        answer=("201", "The invitation: {id, email, name, role, expires_at, link, mailed}"),
    ),
    Operation(
        "POST",
        "/api/enrol/begin",
        enrol_begin,
        PUBLIC,
        EnrolBegin,
        "Start enrolment from an invitation: registration options and who it is for",
        rate_limited=True,
    ),
    Operation(
        "POST",
        "/api/enrol/finish",
        enrol_finish,
        PUBLIC,
        EnrolFinish,
        "Finish enrolment: stores the passkey, uses the invitation, signs in",
        answer=("201", "Signed in: {email, name, role, csrf_token}"),
        rate_limited=True,
    ),
    Operation("GET", "/api/me/passkeys", my_passkeys, STAFF, None, "One's own passkeys"),
    Operation(
        "POST",
        "/api/me/passkeys/begin",
        add_passkey_begin,
        STAFF,
        None,
        "Start adding another passkey",
        rate_limited=True,
    ),
    Operation(
        "POST",
        "/api/me/passkeys/finish",
        add_passkey_finish,
        STAFF,
        PasskeyFinish,
        "Finish adding another passkey",
        answer=("201", "The new passkey"),
        rate_limited=True,
    ),
    Operation(
        "PATCH", "/api/me/passkeys/{passkey_id}", rename_passkey, STAFF, PasskeyRename, "Name one of one's passkeys"
    ),
    Operation(
        "DELETE",
        "/api/me/passkeys/{passkey_id}",
        remove_passkey,
        STAFF,
        None,
        "Remove one of one's passkeys (not the last one)",
    ),
    Operation("GET", "/api/staff", list_staff, ADMIN, None, "Staff members, their roles and number of passkeys"),
    Operation(
        "POST",
        "/api/staff/{email}/disable",
        disable_staff,
        ADMIN,
        None,
        "Disable a staff member: their sessions, tokens and sockets end at once",
    ),
    Operation(
        "POST", "/api/staff/{email}/enable", enable_staff, ADMIN, None, "Let a disabled staff member sign in again"
    ),
]


def routes() -> list[Route]:
    """The staff pages and the staff API."""
    pages = [
        Route("/login", _page("login.html")),
        Route("/enroll", _page("enroll.html")),
        Route("/home", _page("home.html")),
        Route("/audit", _page("audit.html")),  # admins: the audit log, filtered (the page asks /api/me)
    ]
    # Starlette goes on to the next route of the same path when the method differs.
    return pages + routes_of(STAFF_API)

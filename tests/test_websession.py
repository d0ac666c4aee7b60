"""Staff web sessions: the cookie, expiry, CSRF, sign-out, /api/me, disabling, sockets, invitations, mail, headers."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
import socketio
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import Envelope, Session
from sqlalchemy import select

from core.settings import Settings, SettingsError
from persistence.db import create_engine, sessionmaker
from persistence.models import Base, StaffInvitation, StaffSession, UTCDateTime
from persistence.repos import mail
from tests.staff_flows import Browser, begin_enrol, enrol, enrolled, invite, new_browser, sign_in
from tests.support import Client, Server, free_port, running_server


@pytest.fixture
async def ada(server: Server) -> AsyncIterator[Browser]:
    """Ada, an enrolled administrator, signed in with her passkey."""
    b = await enrolled(server, "ada@example.org", "admin", "Ada Lovelace")
    yield b
    await b.close()


@pytest.fixture
async def iris(server: Server) -> AsyncIterator[Browser]:
    """Iris, an enrolled instructor, signed in with her passkey."""
    b = await enrolled(server, "iris@example.org", "instructor", "Iris Instructor")
    yield b
    await b.close()


def cookie_attributes(set_cookie: str) -> tuple[str, set[str]]:
    """The cookie's name and its attributes (lower-cased, values kept)."""
    first, *attrs = [part.strip() for part in set_cookie.split(";")]
    return first.split("=", 1)[0], {a.lower() for a in attrs}


async def connect_with_cookie(server: Server, cookie: str, session_id: str, **headers: str) -> Client:
    client = Client(server.url)
    await client.sio.connect(
        server.url,
        auth={"session": session_id},
        headers={"Cookie": f"companion_session={cookie}", **headers},
        transports=["websocket"],
        wait_timeout=10,
    )
    server.clients.append(client)
    return client


async def refused_connect(server: Server, auth: dict[str, Any], headers: dict[str, str]) -> str:
    """Connect and expect a refusal; answers the message the server refused with."""
    client = socketio.AsyncClient(reconnection=False)
    messages: list[Any] = []
    client.on("connect_error", lambda data=None: messages.append(data))
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect(server.url, auth=auth, headers=headers, transports=["websocket"], wait_timeout=10)
    await client.disconnect()
    assert len(messages) == 1, messages
    data = messages[0]
    return str(data["message"] if isinstance(data, dict) else data)


async def disconnected(client: Client) -> bool:
    """True once the server has closed this socket (waiting up to 5 s for it)."""
    gone = asyncio.Event()
    client.sio.on("disconnect", lambda *_: gone.set())
    if client.sio.connected:
        try:
            async with asyncio.timeout(5):
                await gone.wait()
        except TimeoutError:
            pass
    return not client.sio.connected


# ---------------------------------------------------------------- the cookie


async def test_session_cookie_is_httponly_lax_and_not_secure_on_http(server: Server) -> None:
    """On an http public URL the cookie is HttpOnly, SameSite=Lax, Path=/, lasts the absolute expiry."""
    b = new_browser(server)
    r = await enrol(b, await invite(server, "ada@example.org"))
    assert r.status_code == 201
    name, attrs = cookie_attributes(r.headers["set-cookie"])
    assert name == "companion_session"
    assert {"httponly", "samesite=lax", "path=/", f"max-age={12 * 3600}"} <= attrs
    assert "secure" not in attrs
    assert r.headers["cache-control"] == "no-store"
    await b.close()


async def test_session_cookie_is_secure_and_host_prefixed_on_https(tmp_path: Path) -> None:
    """On an https public URL the cookie is Secure and named __Host-, and HSTS is sent."""
    async with running_server(tmp_path, public_url="https://localhost:8443") as srv:
        b = new_browser(srv)
        r = await enrol(b, await invite(srv, "ada@example.org"))
        assert r.status_code == 201, r.text
        name, attrs = cookie_attributes(r.headers["set-cookie"])
        assert name == "__Host-companion_session"
        assert {"secure", "httponly", "samesite=lax", "path=/"} <= attrs
        assert r.headers["strict-transport-security"] == "max-age=31536000"
        await b.close()


async def test_me_answers_401_without_a_session_and_the_person_with_one(server: Server, ada: Browser) -> None:
    """/api/me: 401 without cookie or with a forged one; {email, name, role, csrf_token} with Ada's."""
    r = await server.http.get("/api/me")
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
    assert ada.cookie is not None
    session_id = ada.cookie.split(".")[0]
    r = await server.http.get("/api/me", headers={"cookie": f"companion_session={session_id}.forged"})
    assert r.status_code == 401 and "not valid" in r.json()["error"]["message"]
    r = await ada.me()
    assert r.status_code == 200
    me = r.json()
    assert (me["email"], me["name"], me["role"]) == ("ada@example.org", "Ada Lovelace", "admin")
    assert len(me["csrf_token"]) >= 32


async def test_me_answers_a_token_holder_too(server: Server) -> None:
    """A bearer token of a staff member answers its person, without a CSRF token."""
    token = await server.token("support", "Sam Support", "sam@example.org")
    r = await server.api("GET", "/api/me", token=token)
    assert r.status_code == 200
    assert r.json() == {"email": "sam@example.org", "name": "Sam Support", "role": "support", "timezone": None}


# ---------------------------------------------------------------- CSRF


async def test_cookie_changes_need_the_csrf_header(server: Server, ada: Browser) -> None:
    """POST with the cookie: refused without or with a wrong X-CSRF-Token, accepted with the right one."""
    body = {"email": "bob@example.org", "role": "support"}
    r = await ada.send("POST", "/api/invitations", body, csrf=False)
    assert r.status_code == 403 and "x-csrf-token" in r.json()["error"]["message"]
    r = await ada.send("POST", "/api/invitations", body, csrf=False, headers={"x-csrf-token": "guess"})
    assert r.status_code == 403
    r = await ada.send("POST", "/api/invitations", body)
    assert r.status_code == 201, r.text
    assert r.json()["email"] == "bob@example.org"


async def test_cookie_works_on_the_session_api_with_csrf_and_reads_need_none(server: Server, ada: Browser) -> None:
    """The existing HTTP API accepts the cookie: a GET without CSRF, a POST with it."""
    session = await server.session()
    r = await ada.http.get(f"/api/sessions/{session['id']}")
    assert r.status_code == 200 and r.json()["id"] == session["id"]
    body = {
        "topic": "Cookies",
        "instructor_email": "iris@example.org",
        "starts_at": session["starts_at"],
        "duration_minutes": 30,
    }
    assert (await ada.send("POST", "/api/sessions", body, csrf=False)).status_code == 403
    r = await ada.send("POST", "/api/sessions", body)
    assert r.status_code == 201 and r.json()["topic"] == "Cookies"


async def test_cookie_changes_from_another_origin_are_refused(server: Server, ada: Browser) -> None:
    """Even with the right CSRF token, an Origin other than the public URL is refused."""
    body = {"email": "bob@example.org", "role": "support"}
    r = await ada.send("POST", "/api/invitations", body, headers={"origin": "https://evil.example"})
    assert r.status_code == 403 and "evil.example" in r.json()["error"]["message"]
    r = await ada.send("POST", "/api/invitations", body, headers={"origin": server.settings.public_url})
    assert r.status_code == 201


async def test_roles_hold_for_cookie_sessions(server: Server, iris: Browser) -> None:
    """An instructor signed in with a passkey may not invite or list staff."""
    r = await iris.send("POST", "/api/invitations", {"email": "bob@example.org", "role": "admin"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    assert (await iris.http.get("/api/staff")).status_code == 403


# ---------------------------------------------------------------- sign-out and expiry


async def test_logout_needs_csrf_then_ends_the_session_and_its_sockets(server: Server, iris: Browser) -> None:
    """POST /logout without the header is refused; with it, the cookie is cleared and the session is over."""
    session = await server.session(instructor_email="iris@example.org")
    cookie = iris.cookie
    assert cookie is not None
    socket = await connect_with_cookie(server, cookie, session["id"])
    assert (await socket.call("clock:sync", {"t0": 1}))["ok"] is True

    assert (await iris.send("POST", "/logout", csrf=False)).status_code == 403
    assert (await iris.me()).status_code == 200

    r = await iris.send("POST", "/logout")
    assert r.status_code == 200 and r.json() == {"signed_out": True}
    name, attrs = cookie_attributes(r.headers["set-cookie"])
    assert name == "companion_session" and "max-age=0" in attrs
    assert await disconnected(socket)
    r = await server.http.get("/api/me", headers={"cookie": f"companion_session={cookie}"})
    assert r.status_code == 401 and "signed out" in r.json()["error"]["message"]
    assert (await iris.me()).status_code == 401


async def test_logout_without_a_session_is_harmless(server: Server) -> None:
    """POST /logout with no cookie answers signed_out and clears nothing else."""
    r = await server.http.post("/logout")
    assert r.status_code == 200 and r.json() == {"signed_out": True}


async def back_in_time(server: Server, row_type: type[Base], by: timedelta, **match: Any) -> None:
    """Move every time of the matching rows `by` into the past: as if that much time had gone by for them.

    The server reads the clock once per request and compares it with these rows, so this stands
    for waiting (without a wall-clock sleep, and with the production limits, not tiny ones).
    """
    times = [c.name for c in row_type.__table__.columns if isinstance(c.type, UTCDateTime)]
    assert times, row_type.__name__
    engine = create_engine(server.settings.database_url)
    try:
        async with sessionmaker(engine)() as db, db.begin():
            rows = (await db.execute(select(row_type).filter_by(**match))).scalars().all()
            assert rows, (row_type.__name__, match)
            for row in rows:
                for name in times:
                    if getattr(row, name) is not None:
                        setattr(row, name, getattr(row, name) - by)
    finally:
        await engine.dispose()


def session_id_of(b: Browser) -> str:
    assert b.cookie is not None
    return b.cookie.partition(".")[0]


async def test_idle_sessions_end_and_activity_keeps_them(server: Server) -> None:
    """Requests less than the idle limit apart keep the session, past the limit in all; silence ends it."""
    b = await enrolled(server, "ada@example.org")
    idle = timedelta(seconds=server.settings.session_idle_s)
    for _ in range(3):  # 3 x 0.7 of the limit: more than the limit in all, kept by the requests between
        await back_in_time(server, StaffSession, idle * 0.7, id=session_id_of(b))
        assert (await b.me()).status_code == 200
    await back_in_time(server, StaffSession, idle + timedelta(seconds=1), id=session_id_of(b))
    r = await b.me()
    assert r.status_code == 401 and "without activity" in r.json()["error"]["message"]
    r = await b.me()
    assert r.status_code == 401  # ended for good, not just late
    assert (await sign_in(b)).status_code == 200
    await b.close()


async def test_sessions_end_at_their_absolute_expiry_whatever_the_activity(server: Server) -> None:
    """A busy session (never idle) still ends at its maximum length."""
    b = await enrolled(server, "ada@example.org")
    # The browser drops the cookie at its Max-Age; the server must refuse it all the same.
    kept = {"cookie": f"companion_session={b.cookie}"}
    absolute = timedelta(seconds=server.settings.session_absolute_s)
    step = timedelta(seconds=server.settings.session_idle_s) * 0.9
    gone = timedelta(0)
    while gone + step < absolute:
        await back_in_time(server, StaffSession, step, id=session_id_of(b))
        gone += step
        assert (await server.http.get("/api/me", headers=kept)).status_code == 200
    await back_in_time(server, StaffSession, absolute - gone, id=session_id_of(b))
    r = await server.http.get("/api/me", headers=kept)
    assert r.status_code == 401 and "maximum length" in r.json()["error"]["message"]
    await b.close()


# ---------------------------------------------------------------- disabling a staff member


async def test_disabling_ends_sessions_tokens_and_sockets_at_once(server: Server, ada: Browser, iris: Browser) -> None:
    """Iris disabled: her cookie, her token and both her sockets end; a participant's socket stays."""
    session = await server.session(instructor_email="iris@example.org")
    [person] = await server.participants(session["id"], 1)
    token = await server.token("instructor", "Iris Instructor", "iris@example.org")
    assert iris.cookie is not None
    by_cookie = await connect_with_cookie(server, iris.cookie, session["id"])
    by_token = await server.connect(token, session["id"])
    participant = await server.connect(person["token"])
    assert (await by_cookie.call("session:state", {}))["ok"] is True

    r = await ada.send("POST", "/api/staff/iris@example.org/disable")
    assert r.status_code == 200, r.text
    assert r.json() == {"email": "iris@example.org", "disabled": True, "sessions_ended": 1, "tokens_revoked": 1}
    assert await disconnected(by_cookie) and await disconnected(by_token)
    assert (await participant.call("clock:sync", {"t0": 5}))["ok"] is True
    assert participant.sio.connected

    r = await iris.me()
    assert r.status_code == 401 and "disabled" in r.json()["error"]["message"]
    r = await server.api("GET", f"/api/sessions/{session['id']}", token=token)
    assert r.status_code == 401
    message = await refused_connect(server, {"session": session["id"]}, {"Cookie": f"companion_session={iris.cookie}"})
    assert "disabled" in message
    staff = {s["email"]: s for s in (await ada.http.get("/api/staff")).json()["staff"]}
    assert staff["iris@example.org"]["disabled_at"] is not None


async def test_only_admins_disable_and_never_themselves(server: Server, ada: Browser, iris: Browser) -> None:
    """An instructor may not disable; an admin may not disable herself; unknown people are not found."""
    assert (await iris.send("POST", "/api/staff/ada@example.org/disable")).status_code == 403
    r = await ada.send("POST", "/api/staff/ada@example.org/disable")
    assert r.status_code == 409 and r.json()["error"]["code"] == "conflict"
    assert (await ada.send("POST", "/api/staff/nobody@example.org/disable")).status_code == 404
    assert (await ada.me()).status_code == 200 and (await iris.me()).status_code == 200


# ---------------------------------------------------------------- sockets


async def test_socket_connects_with_the_cookie_alone(server: Server, iris: Browser) -> None:
    """A signed-in instructor connects with the cookie and acts as herself in her session."""
    session = await server.session(instructor_email="iris@example.org")
    assert iris.cookie is not None
    client = await connect_with_cookie(server, iris.cookie, session["id"], Origin=server.settings.public_url)
    state = await client.call("session:state", {})
    assert state["ok"] is True and state["session"]["id"] == session["id"]
    assert state["me"]["role"] == "instructor"


async def test_socket_refuses_a_cookie_outside_its_rights(server: Server, iris: Browser) -> None:
    """An instructor's cookie does not open a session of another instructor."""
    session = await server.session(instructor_email="someone@example.org")
    message = await refused_connect(server, {"session": session["id"]}, {"Cookie": f"companion_session={iris.cookie}"})
    assert "may not act" in message


async def test_socket_refuses_another_origin_and_no_credentials(server: Server) -> None:
    """A handshake from another site is refused, even with a valid token; so is one with nothing."""
    session = await server.session()
    message = await refused_connect(
        server, {"token": server.admin_token, "session": session["id"]}, {"Origin": "https://evil.example"}
    )
    assert "origin" in message
    message = await refused_connect(server, {"session": session["id"]}, {})
    assert "missing token" in message
    ok = await server.connect(server.admin_token, session["id"])
    assert (await ok.call("clock:sync", {"t0": 1}))["ok"] is True


# ---------------------------------------------------------------- invitations


async def test_invitation_works_once(server: Server) -> None:
    """A second enrolment with the same link is refused as already used."""
    token = await invite(server, "ada@example.org")
    first = new_browser(server)
    assert (await enrol(first, token)).status_code == 201
    second = new_browser(server)
    r = await second.http.post("/api/enrol/begin", json={"token": token})
    assert r.status_code == 401 and "already used" in r.json()["error"]["message"]
    await first.close()
    await second.close()


async def test_invitation_used_between_begin_and_finish_is_refused(server: Server) -> None:
    """Two tabs start with one link; the second to finish is refused and gets no session."""
    token = await invite(server, "ada@example.org")
    one, two = new_browser(server), new_browser(server)
    begun_one, begun_two = await begin_enrol(one, token), await begin_enrol(two, token)
    finish = {"token": token}
    r = await one.http.post(
        "/api/enrol/finish",
        json={
            **finish,
            "challenge_id": begun_one["challenge_id"],
            "credential": one.authenticator.create(begun_one["publicKey"]),
        },
    )
    assert r.status_code == 201
    r = await two.http.post(
        "/api/enrol/finish",
        json={
            **finish,
            "challenge_id": begun_two["challenge_id"],
            "credential": two.authenticator.create(begun_two["publicKey"]),
        },
    )
    assert r.status_code == 401 and "set-cookie" not in r.headers
    assert len((await one.http.get("/api/me/passkeys")).json()["passkeys"]) == 1
    await one.close()
    await two.close()


async def test_invitation_expires(server: Server) -> None:
    """A link older than its lifetime is refused as expired (and not a second sooner)."""
    token = await invite(server, "ada@example.org")
    ttl = timedelta(seconds=server.settings.invitation_ttl_s)
    await back_in_time(server, StaffInvitation, ttl - timedelta(seconds=30), email="ada@example.org")
    r = await server.http.post("/api/enrol/begin", json={"token": token})
    assert r.status_code == 200, r.text
    await back_in_time(server, StaffInvitation, timedelta(seconds=31), email="ada@example.org")
    r = await server.http.post("/api/enrol/begin", json={"token": token})
    assert r.status_code == 401 and "expired" in r.json()["error"]["message"]


async def test_invitations_are_for_admins_with_a_valid_role(server: Server) -> None:
    """Only an admin invites; the role must be one of the staff roles."""
    token = await server.token("instructor", "Iris", "iris@example.org")
    r = await server.api("POST", "/api/invitations", {"email": "bob@example.org", "role": "support"}, token=token)
    assert r.status_code == 403
    r = await server.api("POST", "/api/invitations", {"email": "bob@example.org", "role": "participant"})
    assert r.status_code == 400 and "role" in r.json()["error"]["message"]
    r = await server.api("POST", "/api/invitations", {"email": "not-an-email", "role": "support"})
    assert r.status_code == 400 and "email" in r.json()["error"]["message"]


async def test_cli_invite_prints_a_working_link_alone_on_the_last_line(server: Server) -> None:
    """`companion staff invite` prints the link last; it enrols an admin once."""
    env = {
        **os.environ,
        "COMPANION_DATABASE_URL": server.settings.database_url,
        "COMPANION_PUBLIC_URL": server.settings.public_url,
        "COMPANION_SECRET_KEY": server.settings.secret_key,
        "COMPANION_DATA_DIR": str(server.settings.data_dir),
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "server.cli",
        "staff",
        "invite",
        "--email",
        "root@example.org",
        "--role",
        "admin",
        "--name",
        "Root",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    last = out.decode().strip().splitlines()[-1]
    assert re.fullmatch(re.escape(server.settings.public_url) + r"/enroll#token=inv_[0-9a-f]+_[\w-]+", last), last
    b = new_browser(server)
    r = await enrol(b, last.split("#token=")[1])
    assert r.status_code == 201 and r.json()["role"] == "admin" and r.json()["name"] == "Root"
    await b.close()


# ---------------------------------------------------------------- mail


class Inbox:
    """An aiosmtpd handler keeping what it receives."""

    def __init__(self) -> None:
        self.mails: list[Envelope] = []

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        self.mails.append(envelope)
        return "250 Message accepted for delivery"


async def outbox_of(settings: Settings) -> list[dict[str, Any]]:
    engine = create_engine(settings.database_url)
    try:
        async with sessionmaker(engine)() as db:
            return await mail.outbox(db)
    finally:
        await engine.dispose()


async def test_invitation_is_mailed_over_smtp_when_configured(tmp_path: Path) -> None:
    """With COMPANION_SMTP_URL the link goes out by mail (a real SMTP server) and is marked sent."""
    inbox = Inbox()
    port = free_port()
    smtpd = Controller(inbox, hostname="127.0.0.1", port=port)
    smtpd.start()
    try:
        async with running_server(tmp_path, smtp_url=f"smtp://127.0.0.1:{port}") as srv:
            r = await srv.api("POST", "/api/invitations", {"email": "bob@example.org", "role": "support"})
            assert r.status_code == 201 and r.json()["mailed"] is True
            link = r.json()["link"]
            assert len(inbox.mails) == 1
            delivered = inbox.mails[0]
            assert delivered.rcpt_tos == ["bob@example.org"]
            assert isinstance(delivered.content, bytes)
            text = message_from_bytes(delivered.content, policy=policy.default)
            assert text["Subject"] == "Your Companion staff access"
            assert link in text.get_body().get_content()  # type: ignore[union-attr]
            [kept] = await outbox_of(srv.settings)
            assert kept["recipient"] == "bob@example.org" and kept["sent_at"] is not None and kept["error"] is None
    finally:
        smtpd.stop()


async def test_invitation_is_logged_and_kept_in_the_outbox_without_smtp(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    """Without SMTP the mail is logged with its link and kept, unsent, in the outbox."""
    with caplog.at_level(logging.INFO, logger="companion.mail"):
        r = await server.api("POST", "/api/invitations", {"email": "bob@example.org", "role": "support"})
    assert r.status_code == 201 and r.json()["mailed"] is False
    link = r.json()["link"]
    assert any(link in rec.getMessage() for rec in caplog.records)
    [kept] = await outbox_of(server.settings)
    assert kept["recipient"] == "bob@example.org" and link in kept["body"] and kept["sent_at"] is None


async def test_unreachable_smtp_keeps_the_mail_with_its_error(tmp_path: Path) -> None:
    """An SMTP server that does not answer: the invitation is made, mailed is false, the outbox says why."""
    async with running_server(tmp_path, smtp_url=f"smtp://127.0.0.1:{free_port()}") as srv:
        r = await srv.api("POST", "/api/invitations", {"email": "bob@example.org", "role": "support"})
        assert r.status_code == 201 and r.json()["mailed"] is False
        [kept] = await outbox_of(srv.settings)
        assert kept["sent_at"] is None and kept["error"]


# ---------------------------------------------------------------- pages and headers


async def test_sign_in_pages_carry_a_strict_policy_and_no_inline_script(server: Server) -> None:
    """/login, /enroll and /home: CSP without inline script, nosniff, no referrer; every script has a src."""
    for path in ("/login", "/enroll", "/home"):
        r = await server.http.get(path)
        assert r.status_code == 200, path
        csp = r.headers["content-security-policy"]
        assert "script-src 'self';" in csp and "unsafe-inline" not in csp and "frame-ancestors 'self'" in csp
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "no-referrer"
        scripts = re.findall(r"<script\b[^>]*>", r.text)
        assert scripts and all(" src=" in s for s in scripts), scripts
        assert not re.search(r"\son[a-z]+=", r.text), path  # no inline event handlers either


async def test_frame_ancestors_come_from_the_settings(tmp_path: Path) -> None:
    """COMPANION_FRAME_ANCESTORS lets an LMS embed the pages."""
    async with running_server(tmp_path, frame_ancestors="'self' https://lms.example.edu") as srv:
        csp = (await srv.http.get("/login")).headers["content-security-policy"]
        assert csp.endswith("frame-ancestors 'self' https://lms.example.edu")
    base = {"COMPANION_SECRET_KEY": "k" * 40, "COMPANION_DATA_DIR": str(tmp_path)}
    assert Settings.from_env({**base, "COMPANION_FRAME_ANCESTORS": "https://lms.example.edu"}).frame_ancestors == (
        "https://lms.example.edu"
    )
    with pytest.raises(SettingsError):
        Settings.from_env({**base, "COMPANION_FRAME_ANCESTORS": "'self'; script-src *"})


async def test_openapi_lists_the_staff_routes(server: Server) -> None:
    """The OpenAPI document names the sign-in routes and the session cookie scheme."""
    doc = (await server.http.get("/api/openapi.json")).json()
    for path, method in (
        ("/api/login/begin", "post"),
        ("/api/login/finish", "post"),
        ("/logout", "post"),
        ("/api/me", "get"),
        ("/api/invitations", "post"),
        ("/api/enrol/finish", "post"),
        ("/api/me/passkeys/{passkey_id}", "delete"),
        ("/api/staff/{email}/disable", "post"),
    ):
        assert method in doc["paths"][path], (path, method)
    assert "201" in doc["paths"]["/api/invitations"]["post"]["responses"]
    assert doc["components"]["securitySchemes"]["session"]["in"] == "cookie"

"""Driving staff sign-in over real HTTP: a browser is a cookie jar plus a software authenticator."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from tests.support import Server
from tests.webauthn_soft import SoftAuthenticator


@dataclass
class Browser:
    """One person's browser: its own cookies, its own authenticator, the CSRF token it last read."""

    http: httpx.AsyncClient
    authenticator: SoftAuthenticator
    csrf: str = ""

    async def me(self) -> httpx.Response:
        r = await self.http.get("/api/me")
        if r.status_code == 200:
            self.csrf = r.json()["csrf_token"]
        return r

    async def send(self, method: str, path: str, json: Any = None, *, csrf: bool = True, **kw: Any) -> httpx.Response:
        """A cookie-authenticated call; with csrf=True it carries the session's X-CSRF-Token."""
        headers = dict(kw.pop("headers", {}))
        if csrf and self.csrf:
            headers["x-csrf-token"] = self.csrf
        return await self.http.request(method, path, json=json, headers=headers, **kw)

    @property
    def cookie(self) -> str | None:
        for cookie in self.http.cookies.jar:
            if cookie.name.endswith("companion_session"):
                return cookie.value
        return None

    async def close(self) -> None:
        await self.http.aclose()


def new_browser(server: Server) -> Browser:
    return Browser(httpx.AsyncClient(base_url=server.url, timeout=10), SoftAuthenticator(server.settings.public_url))


async def invite(server: Server, email: str, role: str = "instructor", name: str | None = None) -> str:
    """An invitation made by the admin token; answers the token from its link."""
    body: dict[str, Any] = {"email": email, "role": role}
    if name is not None:
        body["name"] = name
    r = await server.api("POST", "/api/invitations", body)
    assert r.status_code == 201, r.text
    link = str(r.json()["link"])
    assert link.startswith(f"{server.settings.public_url}/enroll#token=")
    return link.split("#token=", 1)[1]


async def begin_enrol(b: Browser, token: str) -> dict[str, Any]:
    r = await b.http.post("/api/enrol/begin", json={"token": token})
    assert r.status_code == 200, r.text
    return dict(r.json())


async def finish_enrol(
    b: Browser, token: str, begun: dict[str, Any], credential: dict[str, Any], **extra: Any
) -> httpx.Response:
    body = {"token": token, "challenge_id": begun["challenge_id"], "credential": credential, **extra}
    return await b.http.post("/api/enrol/finish", json=body)


async def enrol(b: Browser, token: str, **extra: Any) -> httpx.Response:
    """The whole enrolment ceremony from an invitation token; the browser keeps the cookie it is given."""
    begun = await begin_enrol(b, token)
    return await finish_enrol(b, token, begun, b.authenticator.create(begun["publicKey"]), **extra)


async def begin_login(b: Browser) -> dict[str, Any]:
    r = await b.http.post("/api/login/begin")
    assert r.status_code == 200, r.text
    return dict(r.json())


async def finish_login(b: Browser, begun: dict[str, Any], credential: dict[str, Any]) -> httpx.Response:
    return await b.http.post(
        "/api/login/finish", json={"challenge_id": begun["challenge_id"], "credential": credential}
    )


async def sign_in(b: Browser, **knobs: Any) -> httpx.Response:
    """The whole sign-in ceremony with the browser's authenticator (knobs go to SoftAuthenticator.get)."""
    begun = await begin_login(b)
    return await finish_login(b, begun, b.authenticator.get(begun["publicKey"], **knobs))


async def enrolled(server: Server, email: str, role: str = "instructor", name: str | None = None) -> Browser:
    """A browser signed in as a freshly enrolled staff member, with its CSRF token read."""
    b = new_browser(server)
    r = await enrol(b, await invite(server, email, role, name))
    assert r.status_code == 201, r.text
    assert (await b.me()).status_code == 200
    return b

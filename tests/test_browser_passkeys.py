"""End to end in a real browser: Debian's Chromium with its virtual authenticator, driven by Playwright.

Enrol from the link `companion staff invite` prints, land on the staff page, sign out, sign in
again, and be refused once an administrator has disabled you. The public URL uses `localhost`:
WebAuthn needs a secure context, and http://localhost is one.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from server.app import create_app
from server.cli import _create_token
from server.settings import Settings
from tests.support import Server, free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# A platform authenticator with resident keys and user verification, as a laptop's.
AUTHENTICATOR = {
    "protocol": "ctap2",
    "transport": "internal",
    "hasResidentKey": True,
    "hasUserVerification": True,
    "isUserVerified": True,
    "automaticPresenceSimulation": True,
}

pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (make test installs it)"
)


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Server]:
    """A server whose public URL is http://localhost:PORT."""
    port = free_port()
    env = {
        "COMPANION_DATA_DIR": str(tmp_path),
        "COMPANION_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'test.db'}",
        "COMPANION_SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "COMPANION_PUBLIC_URL": f"http://localhost:{port}",
    }
    settings = replace(Settings.from_env(env, port=port), ticker_seconds=0.2)
    _, admin = await _create_token(settings, "admin", "Root Admin", None)
    uv = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, lifespan="on", log_level="warning")
    )
    task = asyncio.create_task(uv.serve())
    while not uv.started:
        assert not task.done(), "the server did not start"
        await asyncio.sleep(0.02)
    http = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10)
    try:
        yield Server(settings.public_url, settings, admin, http)
    finally:
        await http.aclose()
        uv.should_exit = True
        await task


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            await b.close()


async def with_authenticator(browser: Browser) -> tuple[BrowserContext, Page]:
    """A fresh browser profile whose page has a virtual platform authenticator."""
    context = await browser.new_context()
    context.set_default_timeout(15_000)
    page = await context.new_page()
    cdp = await context.new_cdp_session(page)
    await cdp.send("WebAuthn.enable")
    await cdp.send("WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR})
    return context, page


async def printed_invitation(site: Server, email: str, role: str, name: str) -> str:
    """Run `companion staff invite` against the site's database; answers the last line it printed."""
    env = {
        **os.environ,
        "COMPANION_DATABASE_URL": site.settings.database_url,
        "COMPANION_PUBLIC_URL": site.settings.public_url,
        "COMPANION_SECRET_KEY": site.settings.secret_key,
        "COMPANION_DATA_DIR": str(site.settings.data_dir),
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server.cli", "staff", "invite", "--email", email, "--role", role, "--name", name,
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    return out.decode().strip().splitlines()[-1]


async def text_of(page: Page, selector: str) -> str:
    return (await page.locator(selector).text_content()) or ""


async def test_enrol_sign_out_sign_in_and_be_refused_once_disabled(site: Server, browser: Browser) -> None:
    """The whole life of a staff passkey in Chromium, from the printed link to being disabled."""
    link = await printed_invitation(site, "ada@example.org", "admin", "Ada Lovelace")
    assert link.startswith(f"{site.settings.public_url}/enroll#token=")
    context, page = await with_authenticator(browser)

    # Enrol from the link: the page shows the invitation, the authenticator makes the passkey.
    await page.goto(link)
    await page.locator("#enrol-form").wait_for(state="visible")
    assert "ada@example.org" in await text_of(page, "#invitation")
    assert "#token=" not in page.url  # taken out of the address bar
    await page.fill("#label", "Virtual laptop")
    await page.click("#create")
    await page.wait_for_url(f"{site.settings.public_url}/home")
    await page.locator("#whoami").filter(has_text="ada@example.org").wait_for()
    assert "administrator" in await text_of(page, "#whoami")
    await page.locator("#passkeys li").filter(has=page.locator("input[value='Virtual laptop']")).wait_for()

    [cookie] = [c for c in await context.cookies() if c["name"] == "companion_session"]
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Lax" and cookie["secure"] is False
    assert (await page.evaluate("document.cookie")) == ""  # scripts cannot read it

    # Sign out, then sign in again with the same passkey, typing no name.
    await page.click("#signout")
    await page.wait_for_url(f"{site.settings.public_url}/login")
    assert not [c for c in await context.cookies() if c["name"] == "companion_session"]
    await page.goto(f"{site.settings.public_url}/home")
    await page.wait_for_url(f"{site.settings.public_url}/login?next=%2Fhome")
    await page.click("#signin")
    await page.wait_for_url(f"{site.settings.public_url}/home")
    await page.locator("#whoami").filter(has_text="Ada Lovelace").wait_for()

    # An administrator disables Ada: her open page loses its session, and her passkey is refused.
    r = await site.api("POST", "/api/staff/ada@example.org/disable")
    assert r.status_code == 200 and r.json()["sessions_ended"] == 1
    await page.reload()
    await page.wait_for_url(f"{site.settings.public_url}/login?next=%2Fhome")
    await page.click("#signin")
    problem = page.locator("#problem")
    await problem.wait_for(state="visible")
    assert "disabled" in await text_of(page, "#problem")
    assert page.url.startswith(f"{site.settings.public_url}/login")
    await context.close()


async def test_sign_in_goes_to_next_and_a_second_passkey_works(site: Server, browser: Browser) -> None:
    """?next= is honoured after sign-in; a passkey added on a second device signs in there too."""
    link = await printed_invitation(site, "iris@example.org", "instructor", "Iris Instructor")
    context, page = await with_authenticator(browser)
    await page.goto(link)
    await page.locator("#enrol-form").wait_for(state="visible")
    await page.click("#create")
    await page.wait_for_url(f"{site.settings.public_url}/home")
    await page.locator("#admin").wait_for(state="hidden")  # an instructor sees no staff administration

    # A second device: its own profile and authenticator; Iris adds a passkey for it from the first.
    other, other_page = await with_authenticator(browser)
    cookies: list[Any] = await context.cookies()
    await other.add_cookies(cookies)  # as if she had signed in there by other means, to add the passkey
    await other_page.goto(f"{site.settings.public_url}/home")
    await other_page.locator("#passkeys li").first.wait_for()
    await other_page.click("#add-passkey")
    await other_page.locator("#passkeys li").nth(1).wait_for()
    await other.clear_cookies()

    await other_page.goto(f"{site.settings.public_url}/login?next=/dashboard/abc")
    await other_page.click("#signin")
    await other_page.wait_for_url(f"{site.settings.public_url}/dashboard/abc")
    me = await other_page.evaluate("fetch('/api/me').then((r) => r.json())")
    assert me["email"] == "iris@example.org"
    await other.close()
    await context.close()

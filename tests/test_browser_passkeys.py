"""End to end in a real browser: Debian's Chromium with its virtual authenticator, driven by Playwright.

Enrol from the link `companion staff invite` prints, land on the staff page, sign out, sign in
again, and be refused once an administrator has disabled you. The public URL uses `localhost`:
WebAuthn needs a secure context and a host name, and http://localhost is both. The first test runs
`companion serve` as `make run` does and enrols on the address it prints.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from tests.browser import CHROMIUM, CHROMIUM_ARGS, axe_violations
from tests.support import Server, free_port, running_server

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
    """A server whose public URL (and the address the browser opens) is http://localhost:PORT."""
    async with running_server(tmp_path, public_host="localhost", ticker_seconds=0.2) as srv:
        yield srv


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


class Served:
    """`companion serve` in its own process, as `make run` starts it, on the embedded default."""

    def __init__(self, data_dir: Path) -> None:
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("COMPANION_")},
            "COMPANION_DATA_DIR": str(data_dir),  # the database and key under it, as in ./var
        }
        self.port = free_port()
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> str:
        """Start it; answers the URL it printed once it listens."""
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "server.cli", "serve", "--port", str(self.port),
            env=self.env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        assert self.proc.stdout is not None
        line = (await asyncio.wait_for(self.proc.stdout.readline(), 60)).decode()
        found = re.fullmatch(r"Companion serving on (\S+)\n", line)
        assert found, line
        return found.group(1)

    async def cli(self, *args: str) -> str:
        """Run another `companion` command beside it (same data directory); answers its last line."""
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "server.cli", *args, env=self.env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await proc.communicate()
        assert proc.returncode == 0, err.decode()
        return out.decode().strip().splitlines()[-1]

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            await asyncio.wait_for(self.proc.wait(), 20)


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    srv = Served(tmp_path / "var")
    try:
        yield srv
    finally:
        await srv.stop()


SHOTS = Path(os.environ.get("COMPANION_SIGNIN_SCREENSHOTS", ""))
WIDTHS = {"phone": {"width": 360, "height": 740}, "laptop": {"width": 1280, "height": 800}}


async def test_enrol_on_the_address_companion_serve_prints(served: Served, browser: Browser, tmp_path: Path) -> None:
    """`companion serve` prints http://localhost:PORT; the invitation printed beside it names that port,
    and a passkey made there signs in. The pages pass axe-core at 360 and 1280 px."""
    url = await served.start()
    assert url == f"http://localhost:{served.port}"
    link = await served.cli("staff", "invite", "--email", "ada@example.org", "--role", "admin", "--name", "Ada")
    assert link.startswith(f"{url}/enroll#token="), link  # the port really served, with no configuration

    # The root page leads staff to sign-in.
    context, page = await with_authenticator(browser)
    await page.goto(url + "/")
    await page.click("text=Staff sign-in")
    await page.wait_for_url(f"{url}/login")

    await page.goto(link)
    await page.locator("#enrol-form").wait_for(state="visible")
    await page.fill("#label", "Virtual laptop")
    await page.click("#create")
    await page.wait_for_url(f"{url}/home")
    await page.locator("#whoami").filter(has_text="ada@example.org").wait_for()
    await page.click("#signout")
    await page.wait_for_url(f"{url}/login")
    await page.click("#signin")
    await page.wait_for_url(f"{url}/home")
    await page.locator("#staff tr").first.wait_for()

    # How the staff pages look and read, on a phone and a laptop (COMPANION_SIGNIN_SCREENSHOTS=DIR keeps them).
    folder = SHOTS if SHOTS.parts else tmp_path / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=folder / "home-1280.png", full_page=True)
    await context.close()
    spare = await served.cli("staff", "invite", "--email", "bo@example.org", "--role", "support", "--name", "Bo")
    for name, viewport in WIDTHS.items():
        view = await browser.new_context(viewport=viewport, bypass_csp=True)  # bypass: to inject axe-core
        tab = await view.new_page()
        await tab.goto(f"{url}/login")
        await tab.locator("#signin").wait_for()
        assert await axe_violations(tab) == [], f"login at {name} width"
        await tab.screenshot(path=folder / f"login-{viewport['width']}.png", full_page=True)
        await tab.goto(spare)
        await tab.locator("#enrol-form").wait_for(state="visible")
        assert await axe_violations(tab) == [], f"enroll at {name} width"
        await tab.screenshot(path=folder / f"enroll-{viewport['width']}.png", full_page=True)
        await view.close()


async def test_a_passkey_asked_for_on_the_ip_address_says_which_address_works(served: Served, browser: Browser) -> None:
    """On http://127.0.0.1:PORT (not the printed address) the page says to open localhost, not a vague error."""
    url = await served.start()
    link = await served.cli("staff", "invite", "--email", "iris@example.org", "--role", "instructor")
    context, page = await with_authenticator(browser)
    await page.goto(link.replace("://localhost:", "://127.0.0.1:"))
    await page.locator("#enrol-form").wait_for(state="visible")
    await page.click("#create")
    await page.locator("#problem").wait_for(state="visible")
    problem = await text_of(page, "#problem")
    assert f"work at localhost, not at 127.0.0.1:{served.port}" in problem, problem
    assert f"open {url}/enroll" in problem, problem
    await context.close()


# Where the sign-in page would go after signing in, asked of the page's own module.
NEXT_PATH = "import('/static/js/signin/http.js').then((m) => m.nextPath())"


@pytest.mark.parametrize(
    "next_",
    [
        "/%09/evil.example",
        "/%0A/evil.example",
        "/%0D/evil.example",
        "/%5Cevil.example",
        "/%5C%5Cevil.example",
        "//evil.example",
        "/%2F/evil.example",
        "https://evil.example/home",
        "javascript:alert(1)",
    ],
)
async def test_next_never_leads_off_site(site: Server, browser: Browser, next_: str) -> None:
    """?next= with a tab, newline, carriage return or backslash after the slash still goes to the staff home."""
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(f"{site.settings.public_url}/login?next={next_}")
    target = await page.evaluate(NEXT_PATH)
    assert target == "/home"
    # What sign-in would then open stays on this site.
    resolved = await page.evaluate("(path) => new URL(path, location.origin).origin", target)
    assert resolved == site.settings.public_url
    await context.close()


async def test_next_keeps_a_page_of_this_site(site: Server, browser: Browser) -> None:
    """A path of this site, with its query and fragment, is kept."""
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(f"{site.settings.public_url}/login?next=%2Fdashboard%2Fabc%3Fview%3Dx%23chat")
    assert await page.evaluate(NEXT_PATH) == "/dashboard/abc?view=x#chat"
    await context.close()


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

"""Browser test helpers: Debian's Chromium driven by Playwright, axe-core checks, people and pages.

Never a browser downloaded by Playwright: `/usr/bin/chromium` (scripts/services.sh installs it).
axe-core comes from its npm release, installed by tests/axe/fetch.sh into tests/.cache/axe.
"""

from __future__ import annotations

import functools
import subprocess
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from playwright.async_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Locator,
    Page,
    Route,
    ViewportSize,
    async_playwright,
    expect,
)

from tests.support import Server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PHONE: ViewportSize = {"width": 360, "height": 800}
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
TESTS = Path(__file__).resolve().parent
# The README's screenshots are retaken with COMPANION_SCREENSHOTS=docs (`make screenshots`); other runs
# still take them (a screenshot that fails is a failure) but into the test's own folder.
SCREENSHOTS = TESTS.parent / "docs" / "screenshots"
# Console noise that going offline is expected to cause (failed socket and polling requests).
NETWORK_NOISE = ("ERR_INTERNET_DISCONNECTED", "ERR_BLOCKED_BY_LOCAL_NETWORK_ACCESS_CHECKS", "WebSocket connection to")

expect.set_options(timeout=10_000)


@asynccontextmanager
async def chromium(args: Sequence[str] = ()) -> AsyncIterator[Browser]:
    """Debian's Chromium with the usual flags, and `args` after them (e.g. fake media devices)."""
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *args])
        try:
            yield browser
        finally:
            await browser.close()


@functools.cache
def axe_script() -> Path:
    """axe.min.js from the npm release of axe-core 4 (installed once into tests/.cache/axe)."""
    out = subprocess.run(
        ["bash", str(TESTS / "axe" / "fetch.sh")], check=True, capture_output=True, text=True, timeout=180
    )
    path = Path(out.stdout.strip().splitlines()[-1])
    assert path.is_file(), out.stderr
    return path


@dataclass
class Tab:
    """One page in its own browser context (own storage, own network switch), with what went wrong in it."""

    name: str
    context: BrowserContext
    page: Page
    errors: list[str] = field(default_factory=list)

    @property
    def chat(self) -> Locator:
        """The chat log (role log, named "Chat messages")."""
        return self.page.get_by_role("log", name="Chat messages")

    def said(self, text: str) -> Locator:
        """The chat messages that contain `text`."""
        return self.chat.get_by_role("listitem").filter(has_text=text)

    async def send_chat(self, text: str) -> None:
        """Write in the labelled "Message" box and press "Send"."""
        await self.page.get_by_label("Message", exact=True).fill(text)
        await self.page.get_by_role("button", name="Send", exact=True).click()

    async def connected(self) -> None:
        await expect(self.page.locator("#connection")).to_have_text("Connected", timeout=15_000)

    def assert_no_script_errors(self) -> None:
        assert self.errors == [], f"{self.name}: {self.errors}"


async def open_tab(
    browser: Browser,
    name: str,
    url: str,
    viewport: ViewportSize,
    *,
    bypass_csp: bool = False,
    color_scheme: Literal["light", "dark"] = "light",
) -> Tab:
    """Open `url` in a fresh context; records uncaught exceptions and console errors other than network noise."""
    context = await browser.new_context(viewport=viewport, bypass_csp=bypass_csp, color_scheme=color_scheme)
    context.set_default_timeout(15_000)
    page = await context.new_page()
    tab = Tab(name, context, page)

    def on_console(message: ConsoleMessage) -> None:
        if message.type in ("error", "warning") and not any(n in message.text for n in NETWORK_NOISE):
            tab.errors.append(f"console.{message.type}: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: tab.errors.append(f"uncaught: {exc}"))
    await page.goto(url)
    await tab.connected()
    return tab


async def serve_from_cache(server: Server, route: Route) -> None:
    """Answer a page or static file from the server over the test's own connection (the browser is offline),
    as a browser cache or service worker would."""
    r = await server.http.get(route.request.url)
    headers = {k: v for k, v in r.headers.items() if k.lower() not in ("content-encoding", "content-length")}
    await route.fulfill(status=r.status_code, headers=headers, body=r.content)


async def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Run axe-core on the page; answers its serious and critical violations (the context must bypass CSP)."""
    if not await page.evaluate("() => typeof window.axe === 'object'"):
        await page.add_script_tag(path=axe_script())
    violations: list[dict[str, Any]] = await page.evaluate(
        """async () => {
            const result = await axe.run(document, { resultTypes: ['violations'] });
            return result.violations.map((v) => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map((n) => `${n.target.join(' ')}: ${n.failureSummary}`),
            }));
        }"""
    )
    return [v for v in violations if v["impact"] in ("serious", "critical")]


async def enrol(server: Server, session_id: str, names: list[str]) -> list[dict[str, Any]]:
    """Add people by name to the roster; answers each with its token and join_url."""
    people = [{"name": n, "email": f"{n.split()[0].lower()}@example.org"} for n in names]
    r = await server.api("POST", f"/api/sessions/{session_id}/participants", {"participants": people})
    assert r.status_code == 200, r.text
    return list(r.json()["participants"])


async def chat_texts(server: Server, session_id: str) -> list[str]:
    """The texts of the saved chat, in seq order (GET /api/sessions/{id}/chat)."""
    r = await server.api("GET", f"/api/sessions/{session_id}/chat")
    assert r.status_code == 200, r.text
    return [m["text"] for m in r.json()["messages"]]

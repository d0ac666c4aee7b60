"""The instructor's dashboard beside a video call, in Debian's Chromium driven by Playwright.

A class of 30 and one of 300, seeded over the HTTP API, seen at 1280x800 and at 480x900 (a window
beside Zoom): what the instructor needs mid-class is in the first screen, found by accessible names;
axe-core finds nothing serious; notices and the title count follow a help request and a mention. Then
one test per mended rough edge (labels, "Not checked in", minutes and seconds, the attention prompt,
far countdowns, the check-in code before it opens, Start once live, a join link without its token,
the participant's end of class, a claimed ticket's running time), and the pure modules through
Chromium (the project has no JS test runner). Browser tests run on the embedded default (SQLite) only.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Locator, Page, ViewportSize, expect

from tests.browser import CHROMIUM, PHONE, SCREENSHOTS, Tab, axe_violations, chromium, enrol, open_tab
from tests.support import Client, Server, iso_in, running_server

pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (make test installs it)"
)

WIDE: ViewportSize = {"width": 1280, "height": 800}
BESIDE_ZOOM: ViewportSize = {"width": 480, "height": 900}
COUNTS = ["Expected", "Connected", "Checked in", "Late", "Not checked in"]


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Server]:
    async with running_server(tmp_path, ticker_seconds=0.2) as srv:
        yield srv


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as b:
        yield b


def folder(tmp_path: Path) -> Path:
    """docs/screenshots with COMPANION_SCREENSHOTS=docs, else the test's own folder."""
    out = SCREENSHOTS if os.environ.get("COMPANION_SCREENSHOTS") == "docs" else tmp_path / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    return out


async def in_first_screen(page: Page, locator: Locator, what: str) -> None:
    """Visible and inside the viewport without scrolling (its box within the window's height)."""
    await expect(locator).to_be_visible()
    box = await locator.bounding_box()
    height = page.viewport_size["height"] if page.viewport_size else 0
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height, f"{what}: {box} beyond {height}"


def bar(page: Page) -> Locator:
    return page.get_by_role("region", name="Class at a glance")


def count(page: Page, label: str) -> Locator:
    """One figure of the class bar ("12 Checked in"), found by its label."""
    items = bar(page).get_by_role("list", name="Counts").get_by_role("listitem")
    return items.filter(has=page.get_by_text(label, exact=True))


async def a_class(site: Server, n: int, **fields: Any) -> tuple[str, list[dict[str, Any]], str]:
    session = await site.session(topic="Distributed systems: consistency", platform="Zoom", **fields)
    people = await site.participants(str(session["id"]), n)
    instructor = await site.token("instructor", "Iris Instructor", "teacher@example.org")
    return str(session["id"]), people, instructor


# --- the first screen -----------------------------------------------------------------------------


@pytest.mark.parametrize("size", [30, 300])
async def test_first_screen_beside_the_call(site: Server, browser: Browser, size: int, tmp_path: Path) -> None:
    """State, countdown, counts, the ping's result, help and unread chat, Start/Launch/Close: no scrolling."""
    sid, people, instructor = await a_class(site, size)
    teacher = await site.connect(instructor, sid)
    here = [await site.connect(p["token"]) for p in people[:12]]
    for c in here[:8]:
        assert (await c.call("attendance:checkin", {}))["ok"]
    url = f"{site.url}/dashboard/{sid}#token={instructor}"
    wide, narrow = await asyncio.gather(
        open_tab(browser, "wide", url, WIDE, bypass_csp=True), open_tab(browser, "narrow", url, BESIDE_ZOOM, bypass_csp=True)
    )
    tabs = (wide, narrow)

    # Before the start: Start is there, with the countdown and every count.
    for tab in tabs:
        page = tab.page
        await expect(count(page, "Expected")).to_contain_text(str(size))
        await expect(count(page, "Checked in")).to_contain_text("8")
        await expect(count(page, "Not checked in")).to_contain_text(str(size - 8))
        state = bar(page).get_by_role("group", name="Session state")
        await expect(state).to_contain_text("Not started yet")
        await in_first_screen(page, state, "session state")
        await in_first_screen(page, state.get_by_role("timer"), "countdown")
        for label in COUNTS:
            await in_first_screen(page, count(page, label), label)
        for name in ("Start now", "Close session", "Launch"):
            await in_first_screen(page, page.get_by_role("button", name=name, exact=True), name)

    # Live, a ping answered, a help request and chat: the same screen shows them.
    await teacher.ok("session:start", {})
    ack = await teacher.ok(
        "ping:launch", {"kind": "poll", "question": "Which model fits a cart?", "options": ["Strong", "Eventual"], "seconds": 600}
    )
    for c in here[:3]:
        await c.ok("ping:answer", {"ping_id": ack["ping_id"], "answer": 1})
    await here[0].ok("help:open", {"category": "audio", "text": "No sound"})
    await here[1].ok("chat:send", {"client_id": "mention-iris-1", "text": "Iris, could you repeat the last slide?"})
    for tab in tabs:
        page = tab.page
        await expect(bar(page).get_by_role("group", name="Session state")).to_contain_text("Live")
        # Once live there is nothing to start.
        await expect(page.get_by_role("button", name="Start now")).to_have_count(0)
        card = page.get_by_role("article", name="Which model fits a cart?")
        await expect(card).to_contain_text("3 of 12 answered")
        await in_first_screen(page, card.get_by_role("listitem").filter(has_text="Eventual"), "the ping's result")
        help_badge = page.get_by_role("button", name="1 waiting for help")
        await in_first_screen(page, help_badge, "help badge")
        await in_first_screen(page, page.get_by_role("button", name=re.compile(r"^\d+ unread in chat$")), "chat badge")
        for name in ("Close session", "Launch"):
            await in_first_screen(page, page.get_by_role("button", name=name, exact=True), name)
        # Notices: the help request and the mention, dismissable, and the title counts what is unseen.
        notices = page.get_by_role("list", name="New in the class")
        await expect(notices.get_by_role("listitem").filter(has_text="Help request from Person p0")).to_be_visible()
        await expect(notices.get_by_role("listitem").filter(has_text="Iris, could you repeat")).to_be_visible()
        await expect(page).to_have_title(re.compile(r"^\(\d+\) Distributed systems"))
    if size == 30:  # the README's screenshots, with the notices showing
        out = folder(tmp_path)
        await wide.page.screenshot(path=out / "dashboard.png", animations="disabled")
        await narrow.page.screenshot(path=out / "dashboard-480.png", animations="disabled")
    # Beside the call the chat is below the fold: its message is unread.
    await expect(narrow.page.get_by_role("button", name="1 unread in chat")).to_be_visible()
    await narrow.page.get_by_role("button", name="Dismiss: Help request from Person p0 (audio)").click()
    await expect(narrow.page.get_by_role("list", name="New in the class").get_by_role("listitem")).to_have_count(1)
    # Opening the chat reads it.
    await narrow.page.get_by_role("button", name="1 unread in chat").click()
    await expect(narrow.page.get_by_role("button", name="0 unread in chat")).to_be_visible()

    # The roster: search finds one of hundreds; its render stays far under 100 ms.
    roster = narrow.page.get_by_role("table", name="Participants")
    await narrow.page.get_by_label("Search").fill(f"p{size - 1}")
    await expect(roster.get_by_role("row").filter(has_text=f"Person p{size - 1}")).to_have_count(1)
    await expect(roster.get_by_role("row").filter(has_text=f"Person p{size - 1}").get_by_role("cell").nth(1)).to_have_text(
        "Not checked in"
    )
    slowest = await wide.page.evaluate("() => Math.max(...performance.getEntriesByName('roster-render').map((e) => e.duration))")
    assert slowest < 100, f"rendering the roster of {size} took {slowest} ms"
    drawn = await wide.page.locator("#roster-body tr").count()
    assert drawn <= 60, f"{drawn} rows in the DOM for {size} people: the roster is not windowed"

    found = {tab.name: await axe_violations(tab.page) for tab in tabs}
    await narrow.page.emulate_media(color_scheme="dark")
    found["narrow, dark"] = await axe_violations(narrow.page)
    await narrow.page.set_viewport_size(PHONE)
    width = await narrow.page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the dashboard is {width} px wide on a 360 px screen"
    for name, violations in found.items():
        for v in violations:
            print(f"{name}: {v['impact']} {v['id']}: {v['help']}\n    " + "\n    ".join(v["nodes"]))
    assert {name: [v["id"] for v in vs] for name, vs in found.items() if vs} == {}
    for tab in tabs:
        tab.assert_no_script_errors()

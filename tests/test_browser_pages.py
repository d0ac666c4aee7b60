"""The three pages in a real browser: Debian's Chromium driven by Playwright against a real server.

One class: two participants on their phones, the instructor's dashboard and the support console open
at once, driven through accessible names (which also checks the controls are labelled). Then axe-core
on each page: no serious or critical accessibility violations. Browser tests run on the embedded
default (SQLite) only: the pages do not know what is behind the server.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Locator, expect

from tests.browser import (
    CHROMIUM,
    DESKTOP,
    PHONE,
    SCREENSHOTS,
    Tab,
    axe_violations,
    chat_texts,
    chromium,
    enrol,
    open_tab,
    serve_from_cache,
)
from tests.support import Server, running_server

pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (make test installs it)"
)

AGENDA = [
    {"time": "10:00", "title": "Replication recap", "minutes": 15},
    {"time": "10:15", "title": "Consistency models", "minutes": 30},
    {"time": "10:45", "title": "Questions", "minutes": 15},
]


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Server]:
    """A real server on SQLite with a fast ticker."""
    async with running_server(tmp_path, ticker_seconds=0.2) as srv:
        yield srv


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as b:
        yield b


async def a_class(site: Server) -> tuple[str, list[dict[str, Any]], str, str]:
    """A session starting in 10 minutes with two participants; answers its id, the people and staff tokens."""
    session = await site.session(
        topic="Distributed systems: consistency", platform="other", join_url="https://meet.example.org/ds-101",
        agenda=AGENDA,
    )  # fmt: skip
    people = await enrol(site, session["id"], ["Ana Lima", "Bo Chen"])
    instructor = await site.token("instructor", "Iris Instructor", "teacher@example.org")
    support = await site.token("support", "Sam Support", "support@example.org")
    return str(session["id"]), people, instructor, support


# --- one class, four pages ---------------------------------------------------------------------------


async def test_a_class_in_four_pages(site: Server, browser: Browser, tmp_path: Path) -> None:
    """Check-in, a poll, help tickets, chat, the offline outbox and the platform banner, across four pages."""
    sid, (ana_link, bo_link), instructor, support = await a_class(site)
    ana = await open_tab(browser, "ana", ana_link["join_url"], PHONE)
    bo = await open_tab(browser, "bo", bo_link["join_url"], PHONE)
    dash = await open_tab(browser, "dashboard", f"{site.url}/dashboard/{sid}#token={instructor}", DESKTOP)
    desk = await open_tab(browser, "support", f"{site.url}/support/{sid}#token={support}", DESKTOP)
    tabs = [ana, bo, dash, desk]

    await expect(ana.page.get_by_role("heading", level=1)).to_have_text("Distributed systems: consistency")
    await expect(ana.page.get_by_role("link", name="Join the class")).to_have_attribute(
        "href", "https://meet.example.org/ds-101"
    )
    await expect(dash.page.locator("#count-connected")).to_have_text("2")
    # The staff token leaves the address bar (staff pages are screen-shared).
    assert "token=" not in dash.page.url and "token=" not in desk.page.url

    # Check-in, seen on the dashboard.
    await ana.page.get_by_role("button", name="Check in").click()
    await expect(ana.page.locator("#checkin-result")).to_contain_text("on time")
    await expect(dash.page.locator("#count-checked-in")).to_have_text("1")
    await expect(roster_cell(dash, "Ana Lima", "Attendance")).to_have_text("Present")
    await expect(roster_cell(dash, "Ana Lima", "Checked in")).not_to_have_text("—")
    await expect(roster_cell(dash, "Bo Chen", "Attendance")).to_have_text("Not checked in")
    await expect(roster_cell(dash, "Bo Chen", "Connection")).to_have_text("Online")
    # The chart of connected and checked-in counts over the session follows, with its numbers in words.
    await expect(dash.page.locator("#history-caption")).to_contain_text("checked in 1 of 2")
    await expect(dash.page.locator("#history-figure polyline")).to_have_count(2)

    # Chat both ways.
    await ana.send_chat("Is the lecture recorded?")
    await expect(dash.said("Is the lecture recorded?")).to_have_count(1)
    await dash.send_chat("Yes, the recording is in the materials afterwards.")
    for tab in (ana, bo):
        await expect(tab.said("the recording is in the materials")).to_contain_text("Instructor")

    # A poll launched from the dashboard, answered on both phones, its chart updated.
    launch = dash.page.locator("#launch-form")
    await launch.get_by_label("Kind").select_option("poll")
    await launch.get_by_label("Question", exact=True).fill("Which model fits a shopping cart?")
    await launch.get_by_label("Options, one per line").fill("Strong\nEventual\nCausal")
    await launch.get_by_label("Open for (seconds)").fill("600")
    await launch.get_by_role("button", name="Launch").click()
    card = dash.page.get_by_role("article", name="Which model fits a shopping cart?")
    await expect(card).to_contain_text("0 of 2 answered")
    for tab in (ana, bo):
        question = tab.page.get_by_role("article", name="Which model fits a shopping cart?")
        await question.get_by_role("button", name="Eventual").click()
        await expect(question).to_contain_text("Your answer: Eventual")
        await expect(question.get_by_role("button", name="Eventual")).to_have_attribute("aria-pressed", "true")
    await expect(card).to_contain_text("2 of 2 answered")
    await expect(card.get_by_role("listitem").filter(has_text="Eventual")).to_contain_text("2 (100%)")
    await expect(card.get_by_role("listitem").filter(has_text="Strong")).to_contain_text("0 (0%)")

    # Help: read the self-help steps first, then file; the place in the queue shows.
    await ana.page.get_by_role("button", name="Ask for help").click()
    await ana.page.get_by_label("Microphone").check()
    await expect(ana.page.locator("#help-steps-list")).to_contain_text("Check you are not muted")
    await ana.page.get_by_label("Still not working?").fill("Nobody hears me")
    await ana.page.get_by_role("button", name="Send to support").click()
    await expect(ana.page.locator("#help-status-text")).to_contain_text("you are number 1")
    await bo.page.get_by_role("button", name="Ask for help").click()
    await bo.page.get_by_label("Camera").check()
    await bo.page.get_by_role("button", name="Send to support").click()
    await expect(bo.page.locator("#help-status-text")).to_contain_text("you are number 2")
    waiting = desk.page.locator("#queue-waiting")
    await expect(waiting.get_by_role("article")).to_have_count(2)
    await expect(waiting.get_by_role("article").first).to_contain_text("Ana Lima")
    await expect(waiting.get_by_role("article", name="Ana Lima")).to_contain_text("Nobody hears me")
    await expect(dash.page.locator("#queue-waiting").get_by_role("article")).to_have_count(2)

    # A meaningful state for the screenshots: checked in, a poll with results, tickets waiting, some chat.
    await bo.send_chat("Slides are on page 12 for me.")
    await expect(dash.said("page 12")).to_have_count(1)
    folder = SCREENSHOTS if os.environ.get("COMPANION_SCREENSHOTS") == "docs" else tmp_path / "screenshots"
    await save_screenshots(ana, dash, desk, folder)

    # Claimed and resolved from the support console; both participants' views follow.
    ticket = desk.page.get_by_role("article", name="Ana Lima")
    await ticket.get_by_role("button", name="Claim").click()
    await expect(ana.page.locator("#help-status-text")).to_contain_text("Someone from support is working on")
    await expect(bo.page.locator("#help-status-text")).to_contain_text("you are number 1")
    await expect(desk.page.locator("#queue-claimed").get_by_role("article", name="Ana Lima")).to_contain_text(
        "Claimed by Sam Support"
    )
    await ticket.get_by_label("Note (optional)").fill("Picked the headset microphone")
    await ticket.get_by_role("button", name="Resolve").click()
    await expect(ana.page.locator("#help-status-text")).to_contain_text("marked resolved")
    await expect(ana.page.get_by_role("button", name="Ask for help")).to_be_visible()
    await expect(desk.page.get_by_role("article", name="Ana Lima")).to_have_count(0)
    await expect(desk.page.locator("#queue-summary")).to_contain_text("1 waiting · 0 in progress")

    # The offline outbox: written offline, it waits, then goes exactly once.
    offline_text = "Written in a tunnel"
    await ana.context.set_offline(True)
    await expect(ana.page.locator("#connection")).to_have_text("Reconnecting…")
    await ana.send_chat(offline_text)
    await expect(pending(ana, offline_text)).to_have_count(1)
    await bo.send_chat("Still following.")
    await expect(dash.said("Still following.")).to_have_count(1)
    await expect(dash.said(offline_text)).to_have_count(0)
    assert offline_text not in await chat_texts(site, sid)
    await ana.context.set_offline(False)
    await ana.connected()
    await expect(dash.said(offline_text)).to_have_count(1)
    await expect(ana.said(offline_text)).to_have_count(1)
    await expect(pending(ana, offline_text)).to_have_count(0)

    # Again across a reload while offline: the outbox is in localStorage, shown after the reload, sent once.
    reload_text = "Written before a reload"
    await ana.context.set_offline(True)
    await expect(ana.page.locator("#connection")).to_have_text("Reconnecting…")
    await ana.send_chat(reload_text)
    await expect(pending(ana, reload_text)).to_have_count(1)
    for pattern in ("**/join/**", "**/static/**"):
        await ana.page.route(pattern, lambda route: serve_from_cache(site, route))
    await ana.page.reload()
    await expect(ana.page.locator("#connection")).to_have_text("Reconnecting…")
    await expect(pending(ana, reload_text)).to_have_count(1)
    await bo.send_chat("Back from the break.")
    await expect(dash.said("Back from the break.")).to_have_count(1)
    assert reload_text not in await chat_texts(site, sid)
    await ana.context.set_offline(False)
    await ana.page.unroute_all()
    await ana.connected()
    await expect(dash.said(reload_text)).to_have_count(1)
    await expect(ana.said(reload_text)).to_have_count(1)
    await expect(pending(ana, reload_text)).to_have_count(0)
    # The reloaded page fetched the chat it had missed, each message once.
    await expect(ana.said("Back from the break.")).to_have_count(1)
    await expect(ana.said(offline_text)).to_have_count(1)
    texts = await chat_texts(site, sid)
    assert texts.count(offline_text) == 1 and texts.count(reload_text) == 1, texts
    assert await ana.page.evaluate("() => Object.keys(localStorage).filter((k) => k.includes('outbox'))") == []

    # The platform banner: support says the video platform is down; participants see the backup plan.
    await desk.page.get_by_label("Down", exact=True).check()
    await desk.page.get_by_label("Message to everyone (optional)").fill("Dial in: +1 555 0100, PIN 4242")
    await desk.page.get_by_role("button", name="Update status").click()
    for tab in (ana, bo):
        banner = tab.page.get_by_role("alert").filter(has_text="The video platform is down")
        await expect(banner).to_contain_text("Dial in: +1 555 0100, PIN 4242")
        await expect(banner).to_contain_text("Keep this tab open")
    await expect(dash.page.get_by_role("alert").filter(has_text="The video platform is down")).to_be_visible()
    await expect(dash.page.get_by_label("Down", exact=True)).to_be_checked()

    for tab in tabs:
        tab.assert_no_script_errors()


ROSTER_COLUMNS = ["Connection", "Attendance", "Checked in", "Mark"]  # after the row header (the name)


def roster_cell(dash: Tab, name: str, column: str) -> Locator:
    """One cell of the dashboard's roster table ("Participants")."""
    row = dash.page.get_by_role("table", name="Participants").get_by_role("row").filter(has_text=name)
    return row.get_by_role("cell").nth(ROSTER_COLUMNS.index(column))


def pending(tab: Tab, text: str) -> Locator:
    """My messages in the chat that still wait in the outbox ("sending…")."""
    return tab.said("sending…").filter(has_text=text)


async def save_screenshots(ana: Tab, dash: Tab, desk: Tab, folder: Path) -> None:
    """The companion tab on a phone, the dashboard and the support console on a laptop."""
    folder.mkdir(parents=True, exist_ok=True)
    await ana.page.screenshot(path=folder / "companion.png", full_page=True, animations="disabled")
    await dash.page.screenshot(path=folder / "dashboard.png", full_page=True, animations="disabled")
    await desk.page.screenshot(path=folder / "support.png", full_page=True, animations="disabled")


# --- accessibility -----------------------------------------------------------------------------------


async def test_no_serious_accessibility_violations(site: Server, browser: Browser) -> None:
    """axe-core finds no serious or critical violation on each page in use, on a laptop and at 360 px wide."""
    sid, (ana_link, bo_link), instructor, support = await a_class(site)
    # Something on every page: a check-in, a poll, a help request, chat, the platform banner.
    teacher = await site.connect(instructor, sid)
    ana = await site.connect(ana_link["token"])
    bo = await site.connect(bo_link["token"])
    assert (await ana.call("attendance:checkin", {}))["ok"]
    assert (await teacher.call("platform:status", {"status": "degraded", "message": "Audio drops"}))["ok"]
    ack = await teacher.call(
        "ping:launch", {"kind": "poll", "question": "Ready?", "options": ["Yes", "No"], "seconds": 600}
    )
    assert ack["ok"], ack
    assert (await bo.call("ping:answer", {"ping_id": ack["ping_id"], "answer": 0}))["ok"]
    assert (await bo.call("help:open", {"category": "camera", "text": "Black screen"}))["ok"]
    assert (await bo.call("chat:send", {"client_id": "bo-hello-1", "text": "Hello from Bo"}))["ok"]

    companion = ana_link["join_url"]
    pages = {
        "companion": companion,
        "dashboard": f"{site.url}/dashboard/{sid}#token={instructor}",
        "support": f"{site.url}/support/{sid}#token={support}",
    }

    async def check(name: str, url: str) -> dict[str, list[dict[str, Any]]]:
        """Violations by page and how it was seen; also checks nothing sticks out sideways at 360 px."""
        tab = await open_tab(browser, name, url, DESKTOP, bypass_csp=True)
        if url == companion:
            await expect(tab.page.get_by_role("article", name="Ready?")).to_be_visible()
            await expect(tab.page.locator("#checkin-result")).to_contain_text("on time")
            await tab.page.get_by_role("button", name="Ask for help").click()
            await tab.page.get_by_label("Connection", exact=True).check()
        else:
            await expect(tab.page.locator("#queue-waiting").get_by_role("article")).to_have_count(1)
            await expect(tab.chat.get_by_role("listitem")).to_have_count(1)
        await expect(tab.page.get_by_role("alert").filter(has_text="having problems")).to_be_visible()
        found = {name: await axe_violations(tab.page)}
        await tab.page.set_viewport_size(PHONE)
        if url == companion:
            found[f"{name} at 360 px"] = await axe_violations(tab.page)
            await tab.page.emulate_media(color_scheme="dark")
            found[f"{name} at 360 px, dark"] = await axe_violations(tab.page)
        width = await tab.page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{name} is {width} px wide on a 360 px screen"
        tab.assert_no_script_errors()
        await tab.context.close()
        return found

    found: dict[str, list[dict[str, Any]]] = {}
    for part in await asyncio.gather(*(check(name, url) for name, url in pages.items())):
        found.update(part)
    assert len(found) == 5
    for name, violations in found.items():
        for v in violations:
            print(f"{name}: {v['impact']} {v['id']}: {v['help']}\n    " + "\n    ".join(v["nodes"]))
    assert {name: [v["id"] for v in vs] for name, vs in found.items() if vs} == {}

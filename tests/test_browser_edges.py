"""The page side of the server's newer edges, in Debian's Chromium driven by Playwright.

A participant withdraws their help request and reads the support note of a resolved one; a request
opened before the start is marked on the support console; the instructor shares a closed poll's
results and two participants see them; the dashboard's presence chart and a person's join, drop and
return times come from the server's history, so they survive a reload. Each page touched: axe-core
finds nothing serious, and nothing scrolls sideways at 360 px. Browser tests run on SQLite only.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from tests.browser import CHROMIUM, PHONE, Tab, axe_violations, chromium, enrol, open_tab
from tests.support import Server, running_server
from tests.test_browser_dashboard import WIDE, folder

TIME = r"\d\d:\d\d(?:\s?[AP]M)?"  # a clock time as the browser's locale writes it

pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (make test installs it)"
)


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Server]:
    async with running_server(tmp_path, ticker_seconds=0.2) as srv:
        yield srv


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as b:
        yield b


async def a_class(site: Server, names: list[str]) -> tuple[str, list[dict[str, Any]], str, str]:
    """A session starting in 10 minutes; answers its id, the people and the instructor's and support's tokens."""
    session = await site.session(topic="Distributed systems: consistency", platform="zoom")
    people = await enrol(site, session["id"], names)
    instructor = await site.token("instructor", "Iris Instructor", "teacher@example.org")
    support = await site.token("support", "Sam Support", "support@example.org")
    return str(session["id"]), people, instructor, support


async def ask_for_help(page: Page, topic: str, text: str) -> None:
    await page.get_by_role("button", name="Ask for help").click()
    await page.get_by_label(topic).check()
    await page.get_by_label("Still not working?").fill(text)
    await page.get_by_role("button", name="Send to support").click()


async def clean_and_narrow(tabs: list[Tab]) -> None:
    """No serious or critical axe violation, light and dark, wide and at 360 px; nothing scrolls sideways."""
    found: dict[str, list[str]] = {}

    async def check(name: str, page: Page) -> None:
        violations = await axe_violations(page)
        for v in violations:
            print(f"{name}: {v['impact']} {v['id']}: {v['help']}\n    " + "\n    ".join(v["nodes"]))
        found[name] = [v["id"] for v in violations]

    for tab in tabs:
        page = tab.page
        await check(tab.name, page)
        await page.set_viewport_size(PHONE)
        width = await page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{tab.name} is {width} px wide on a 360 px screen"
        await check(f"{tab.name} at 360 px", page)
        await page.emulate_media(color_scheme="dark")
        await check(f"{tab.name} at 360 px, dark", page)
        await page.emulate_media(color_scheme="light")
    assert {name: ids for name, ids in found.items() if ids} == {}
    for tab in tabs:
        tab.assert_no_script_errors()


# --- help: before class, withdraw, the support note ------------------------------------------------


async def test_withdraw_and_the_support_note(site: Server, browser: Browser) -> None:
    """Before the start a request is marked "Before class"; withdrawn it leaves the queue; resolved, its note shows."""
    sid, (ana_link, _bo), instructor, support = await a_class(site, ["Ana Lima", "Bo Chen"])
    ana = await open_tab(browser, "ana", ana_link["join_url"], PHONE, bypass_csp=True)
    desk = await open_tab(browser, "support", f"{site.url}/support/{sid}#token={support}", WIDE, bypass_csp=True)
    waiting = desk.page.locator("#queue-waiting")

    # Before the start: a setup problem, marked as one on the support console.
    await ask_for_help(ana.page, "Microphone", "Nobody hears me")
    await expect(ana.page.locator("#help-status-text")).to_contain_text("you are number 1")
    ticket = waiting.get_by_role("article", name="Ana Lima")
    await expect(ticket.get_by_text("Before class")).to_be_visible()
    await expect(ticket).to_contain_text("Nobody hears me")

    # Found it herself: she withdraws, the queue empties, and she may ask again.
    await ana.page.get_by_role("button", name="Withdraw request").click()
    await expect(ana.page.locator("#help-status-text")).to_contain_text("You withdrew your request")
    await expect(ana.page.get_by_role("button", name="Withdraw request")).to_be_hidden()
    await expect(waiting.get_by_role("article")).to_have_count(0)
    await expect(desk.page.get_by_text("Nobody is waiting.")).to_be_visible()

    # Mid-class, a new request: not marked; claimed, it can still be withdrawn; this time it is resolved with a note.
    teacher = await site.connect(instructor, sid)
    await teacher.ok("session:start", {})
    await ask_for_help(ana.page, "Camera", "Black screen")
    ticket = waiting.get_by_role("article", name="Ana Lima")
    await expect(ticket).to_contain_text("Black screen")
    await expect(ticket.get_by_text("Before class")).to_be_hidden()
    await ticket.get_by_role("button", name="Claim").click()
    claimed = desk.page.locator("#queue-claimed").get_by_role("article", name="Ana Lima")
    await expect(claimed).to_contain_text("Claimed by Sam Support")
    await expect(ana.page.get_by_role("button", name="Withdraw request")).to_be_visible()
    note = "Close the other app that uses the camera, then reload."
    await claimed.get_by_label("Note (optional)").fill(note)
    await claimed.get_by_role("button", name="Resolve").click()
    await expect(ana.page.locator("#help-status-text")).to_contain_text("marked resolved")
    await expect(ana.page.get_by_role("region", name="Technical help").get_by_text(f"Support: {note}")).to_be_visible()
    await expect(ana.page.get_by_role("button", name="Withdraw request")).to_be_hidden()
    await expect(ana.page.get_by_role("button", name="Ask for help")).to_be_visible()
    await expect(desk.page.locator("#queue-claimed").get_by_role("article")).to_have_count(0)

    # A reload keeps the note (it comes with the snapshot).
    await ana.page.reload()
    await ana.connected()
    await expect(ana.page.get_by_role("region", name="Technical help").get_by_text(f"Support: {note}")).to_be_visible()

    # One more request on screen for the checks below.
    await ask_for_help(ana.page, "Connection", "Echo")
    await expect(waiting.get_by_role("article", name="Ana Lima")).to_contain_text("Echo")
    await clean_and_narrow([ana, desk])


# --- sharing a closed ping's results ----------------------------------------------------------------


async def test_share_results_with_the_class(site: Server, browser: Browser, tmp_path: Path) -> None:
    """Close a poll, share it from the "just closed" line; share an open question from the closed fold."""
    sid, (ana_link, bo_link), instructor, _support = await a_class(site, ["Ana Lima", "Bo Chen"])
    dash = await open_tab(browser, "dashboard", f"{site.url}/dashboard/{sid}#token={instructor}", WIDE, bypass_csp=True)
    ana = await open_tab(browser, "ana", ana_link["join_url"], PHONE, bypass_csp=True)
    bo = await open_tab(browser, "bo", bo_link["join_url"], PHONE, bypass_csp=True)
    teacher = await site.connect(instructor, sid)
    await teacher.ok("session:start", {})
    question = "Which model fits a shopping cart?"
    await teacher.ok(
        "ping:launch",
        {"kind": "poll", "question": question, "options": ["Strong", "Eventual", "Causal"], "seconds": 600},
    )
    await ana.page.get_by_role("article", name=question).get_by_role("button", name="Eventual").click()
    await bo.page.get_by_role("article", name=question).get_by_role("button", name="Eventual").click()
    card = dash.page.get_by_role("article", name=question)
    await expect(card).to_contain_text("2 of 2 answered")
    # An open ping cannot be shared yet.
    await expect(card.get_by_role("button", name="Share results")).to_be_hidden()

    # Closed, it leaves a line in its place with Share results; sharing says so where it was asked.
    await card.get_by_role("button", name="Close ping").click()
    just = dash.page.get_by_role("group", name=re.compile("^Just closed"))
    await expect(just).to_contain_text(f"Just closed: {question} (2 of 2 answered)")
    await just.get_by_role("button", name="Share results").click()
    await expect(just).to_contain_text(re.compile(r"Shared with the participants at \d\d:\d\d"))
    await expect(just.get_by_role("button", name="Share again")).to_be_visible()

    # Both participants see the results with the dashboard's kind label and numbers.
    for tab in (ana, bo):
        shared = tab.page.get_by_role("article", name=question)
        await expect(shared.locator(".ping-kind")).to_have_text("Poll · results")
        await expect(shared).to_contain_text("2 of 2 answered")
        await expect(shared.get_by_role("listitem").filter(has_text="Eventual")).to_contain_text("2 (100%)")
        await expect(shared.get_by_role("listitem").filter(has_text="Strong")).to_contain_text("0 (0%)")
    await ana.page.screenshot(path=folder(tmp_path) / "companion-shared.png", full_page=True, animations="disabled")

    # An open question, closed elsewhere: shared from its card in the closed fold; the answers are listed.
    prompt = "One thing to revisit?"
    ack = await teacher.ok("ping:launch", {"kind": "text", "question": prompt, "seconds": 600})
    mine = ana.page.get_by_role("article", name=prompt)
    await mine.get_by_label("Your answer").fill("Vector clocks")
    await mine.get_by_role("button", name="Send answer").click()
    await expect(dash.page.get_by_role("article", name=prompt)).to_contain_text("1 of 2 answered")
    await teacher.ok("ping:close", {"ping_id": ack["ping_id"]})
    await expect(just).to_contain_text(f"Just closed: {prompt}")
    fold = dash.page.locator("#closed-pings")
    await fold.locator("summary").click()
    closed = fold.get_by_role("article", name=prompt)
    await closed.get_by_role("button", name="Share results").click()
    await expect(closed).to_contain_text("Shared with the participants at")
    for tab in (ana, bo):
        shared = tab.page.get_by_role("article", name=prompt)
        await expect(shared.locator(".ping-kind")).to_have_text("Open question · results")
        await expect(shared.get_by_role("listitem")).to_have_text(["Vector clocks"])
    # The earlier poll is still there, below the newer results; it can be put away.
    await expect(bo.page.locator("#shared-list").get_by_role("article")).to_have_count(2)
    await bo.page.get_by_role("article", name=question).get_by_role("button", name="Hide results").click()
    await expect(bo.page.get_by_role("article", name=question)).to_have_count(0)
    await clean_and_narrow([dash, ana])


# --- presence over time, from the server's history ---------------------------------------------------


async def test_presence_story_survives_a_reload(site: Server, browser: Browser, tmp_path: Path) -> None:
    """Join, drop out and come back; after a reload the chart still has those points and Bo's times show."""
    sid, (ana_link, bo_link), instructor, _support = await a_class(site, ["Ana Lima", "Bo Chen"])
    url = f"{site.url}/dashboard/{sid}#token={instructor}"
    dash = await open_tab(browser, "dashboard", url, WIDE, bypass_csp=True)
    ana = await open_tab(browser, "ana", ana_link["join_url"], PHONE)
    await ana.page.get_by_role("button", name="Check in").click()
    bo = await open_tab(browser, "bo", bo_link["join_url"], PHONE)
    connection = dash.page.get_by_role("table", name="Participants").get_by_role("row").filter(has_text="Bo Chen")
    await expect(connection.get_by_role("cell").nth(0)).to_have_text("Online")
    # Bo's tab closes (a dropped laptop lid), then he comes back.
    await bo.context.close()
    await expect(connection.get_by_role("cell").nth(0)).to_have_text("Offline")
    await asyncio.sleep(1.1)  # the return is a separate moment on the server's clock
    bo = await open_tab(browser, "bo again", bo_link["join_url"], PHONE)
    await expect(connection.get_by_role("cell").nth(0)).to_have_text("Online")

    # A reload: everything is drawn from the server's history.
    await dash.page.reload()
    await dash.connected()
    await dash.page.get_by_text("Connected and checked in over time").click()
    chart = dash.page.get_by_role("img", name="Connected and checked in over time")
    await expect(chart).to_be_visible()
    server = (await site.api("GET", f"/api/sessions/{sid}/presence", token=instructor)).json()
    assert len(server["samples"]) >= 5, server["samples"]  # Ana, Bo, Bo's drop, his return, now
    await expect(chart).to_have_attribute("data-points", re.compile(r"^([5-9]|\d\d+)$"))
    caption = dash.page.locator("#history-caption")
    await expect(caption).to_contain_text(
        re.compile(rf"^(From {TIME} to|Since) {TIME}: connected now 2 of 2, peak 2 at")
    )
    await expect(caption).to_contain_text("lowest since 1 at")
    await expect(caption).to_contain_text("checked in 1 of 2")
    # Labelled axes: clock times along x, whole numbers of people up y.
    await expect(chart.locator(".history-axis-title")).to_have_text(["Time", "People"])
    await expect(chart.locator(".history-tick-x").first).to_have_text(re.compile(r"^\d\d:\d\d(:\d\d)?(?:\s?[AP]M)?$"))
    await expect(chart.locator(".history-tick-y")).to_have_text(["0", "1", "2"])

    # Bo's row opens his times: joined, dropped, back.
    await dash.page.get_by_role("button", name="Bo Chen").click()
    detail = dash.page.get_by_role("region", name="Connection times of Bo Chen")
    times = f"Joined {TIME} · dropped {TIME} · back {TIME}"
    await expect(detail).to_contain_text(re.compile(times + " · online now"))
    await expect(dash.page.get_by_role("button", name="Bo Chen")).to_have_attribute("aria-expanded", "true")
    await dash.page.set_viewport_size({"width": 1280, "height": 1000})
    await dash.page.get_by_role("region", name="Roster").scroll_into_view_if_needed()
    await dash.page.screenshot(path=folder(tmp_path) / "dashboard-presence.png", animations="disabled")
    await dash.page.set_viewport_size(WIDE)

    # Live again: he drops out once more, and both the chart and his times follow without a reload.
    points = int(await chart.get_attribute("data-points") or 0)
    await bo.context.close()
    await expect(detail).to_contain_text(re.compile(f"{times} · dropped {TIME} · offline now"))
    await expect(caption).to_contain_text("connected now 1 of 2")
    await expect(chart).not_to_have_attribute("data-points", str(points))
    await dash.page.get_by_role("button", name="Close", exact=True).click()
    await expect(detail).to_be_hidden()
    await expect(dash.page.get_by_role("button", name="Bo Chen")).to_be_focused()
    await clean_and_narrow([dash])

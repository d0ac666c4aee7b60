"""Notes and minutes on the dashboard in Chromium: notes typed mid-lecture save themselves and survive a
reload (even one straight after typing), two tabs do not overwrite each other unseen, the minutes are
written from the notes and circulated (the mails counted at a real SMTP server), support reads but does
not write. Controls are found by their accessible names; axe-core clean; checked at 360 px.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Locator, Page, Route, expect
from playwright.async_api import Error as PlaywrightError

from tests.browser import CHROMIUM, PHONE, axe_violations, chromium
from tests.fakes.smtp import FakeSmtp
from tests.support import Server, iso_in, ok, running_server
from tests.test_browser_schedule import shots, signed_in

pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (make test installs it)"
)

INSTRUCTOR = "teacher@example.org"
SAVED = re.compile(r"^Saved \d\d:\d\d$")


@pytest.fixture
async def site(tmp_path: Path, smtp_server: FakeSmtp) -> AsyncIterator[Server]:
    async with running_server(
        tmp_path, ticker_seconds=0.2, jobs_every_s=0.1, smtp_url=f"smtp://127.0.0.1:{smtp_server.port}"
    ) as srv:
        yield srv


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as b:
        yield b


def panel(page: Page) -> Locator:
    return page.get_by_role("region", name="Notes and minutes")


def notes_box(page: Page) -> Locator:
    return panel(page).get_by_role("textbox", name="Notes", exact=True)


def notes_status(page: Page) -> Locator:
    return panel(page).get_by_role("status").first


async def notes_on_server(site: Server, session_id: str) -> dict[str, Any]:
    return ok(await site.api("GET", f"/api/sessions/{session_id}/notes"))


async def fits(page: Page) -> None:
    await page.set_viewport_size(PHONE)
    wide = await page.evaluate("() => document.documentElement.scrollWidth")
    assert wide <= PHONE["width"], f"the page is {wide} px wide at 360 px"


async def test_notes_save_as_they_are_typed_and_are_there_after_a_reload(
    site: Server, browser: Browser, tmp_path: Path
) -> None:
    s = await site.session(starts_at=iso_in(10 * 24 * 60), topic="Thermodynamics")
    staff = await signed_in(
        site, browser, f"/dashboard/{s['id']}", email=INSTRUCTOR, role="instructor", name="Iris Instructor"
    )
    page = staff.page
    # Open for the instructor without a click: the box is there to type into.
    await expect(page.locator("#minutes-fold")).to_have_attribute("open", "")
    box = notes_box(page)
    await box.click()
    await box.press_sequentially("Carnot cycle: two isotherms, two adiabats.", delay=15)
    await expect(notes_status(page)).to_have_text(SAVED)
    assert (await notes_on_server(site, s["id"]))["text"] == "Carnot cycle: two isotherms, two adiabats."
    await expect(page.locator("#minutes-summary")).to_contain_text("notes saved")

    await page.reload()
    await expect(notes_box(page)).to_have_value("Carnot cycle: two isotherms, two adiabats.")
    await expect(notes_status(page)).to_have_text(SAVED)

    # Typing, then reloading at once (before the save a second later): the words are not lost.
    await notes_box(page).press("End")
    await notes_box(page).press_sequentially(" Efficiency 1 - Tc/Th.")
    await page.reload()
    whole = "Carnot cycle: two isotherms, two adiabats. Efficiency 1 - Tc/Th."
    await expect(notes_box(page)).to_have_value(whole)
    await expect(notes_status(page)).to_have_text(SAVED)
    assert (await notes_on_server(site, s["id"]))["text"] == whole

    # Typing on without a pause of a second: saved every few seconds all the same, not only at the end.
    typing = asyncio.create_task(notes_box(page).press_sequentially(" Entropy never decreases" * 3, delay=110))
    for _ in range(200):
        if typing.done() or (await notes_on_server(site, s["id"]))["text"] != whole:
            break
        await asyncio.sleep(0.1)
    assert not typing.done(), "nothing was saved while typing on"
    await typing
    await expect(notes_status(page)).to_have_text(SAVED)
    assert (await notes_on_server(site, s["id"]))["text"] == whole + " Entropy never decreases" * 3

    assert await axe_violations(page) == []
    await page.screenshot(path=shots(tmp_path) / "dashboard-notes-1280.png", full_page=True)
    await fits(page)
    await notes_box(page).scroll_into_view_if_needed()
    await page.screenshot(path=shots(tmp_path) / "dashboard-notes-360.png")  # what a phone shows there
    assert await axe_violations(page) == []
    staff.assert_no_script_errors()
    await staff.context.close()


async def test_a_save_over_another_tabs_notes_is_offered_both_texts(
    site: Server, browser: Browser, tmp_path: Path
) -> None:
    s = await site.session(starts_at=iso_in(10 * 24 * 60))
    staff = await signed_in(
        site, browser, f"/dashboard/{s['id']}", email=INSTRUCTOR, role="instructor", name="Iris Instructor"
    )
    page = staff.page
    await notes_box(page).fill("Mine, first.")
    await expect(notes_status(page)).to_have_text(SAVED)
    # Another tab (here: the API) saves over it.
    ok(await site.api("PUT", f"/api/sessions/{s['id']}/notes", {"text": "Theirs.", "version": 1}))
    await notes_box(page).press("End")
    await notes_box(page).press_sequentially(" And more.")
    conflict = panel(page).get_by_role("group", name="The notes were changed in another tab.")
    await expect(conflict).to_contain_text("“Theirs.”")
    await expect(notes_status(page)).to_have_text("Not saved — changed in another tab")
    assert (await notes_on_server(site, s["id"]))["text"] == "Theirs."
    assert await axe_violations(page) == []
    await fits(page)
    await conflict.scroll_into_view_if_needed()
    await page.screenshot(path=shots(tmp_path) / "dashboard-notes-conflict-360.png")
    await conflict.get_by_role("button", name="Keep mine").click()
    await expect(notes_status(page)).to_have_text(SAVED)
    got = await notes_on_server(site, s["id"])
    assert got["text"] == "Mine, first. And more." and got["version"] == 3
    staff.assert_no_script_errors()
    await staff.context.close()


async def test_minutes_are_written_from_the_notes_and_circulated_once_per_version(
    site: Server, browser: Browser, smtp_server: FakeSmtp, tmp_path: Path
) -> None:
    s = await site.session(starts_at=iso_in(10 * 24 * 60), topic="Thermodynamics", timezone="Europe/Berlin")
    await site.participants(s["id"], 2)
    staff = await signed_in(
        site, browser, f"/dashboard/{s['id']}", email=INSTRUCTOR, role="instructor", name="Iris Instructor"
    )
    page = staff.page
    await notes_box(page).fill("We derived the Carnot efficiency.")
    await expect(notes_status(page)).to_have_text(SAVED)

    form = panel(page).get_by_role("form", name="Minutes")
    await form.get_by_role("button", name="Start from notes").click()
    await expect(form.get_by_label("Summary")).to_have_value("We derived the Carnot efficiency.")
    await form.get_by_label("Key points").fill("Efficiency is 1 - Tc/Th\nNo engine beats Carnot\n")
    item = form.get_by_role("listitem", name="Action item 1")
    await item.get_by_label("Action", exact=True).fill("Read chapter 4")
    await item.get_by_label("Owner email").fill("p0@example.org")
    await item.get_by_label("Due").fill("2030-01-14")
    await form.get_by_role("button", name="Add action item").click()
    await form.get_by_role("listitem", name="Action item 2").get_by_label("Action", exact=True).fill("Post the slides")
    await form.get_by_role("button", name="Save minutes").click()
    result = form.get_by_role("status")
    await expect(result).to_have_text("Minutes saved, version 1.")
    saved = ok(await site.api("GET", f"/api/sessions/{s['id']}/minutes"))
    assert saved["key_points"] == ["Efficiency is 1 - Tc/Th", "No engine beats Carnot"]
    assert saved["action_items"] == [
        {"text": "Read chapter 4", "owner_email": "p0@example.org", "due": "2030-01-14"},
        {"text": "Post the slides", "owner_email": None, "due": None},
    ]

    await form.get_by_role("button", name="Circulate").click()
    await expect(result).to_have_text("Sent to 3 people, version 1.")
    await expect(form.get_by_text(re.compile(r"^Last circulated: version 1 to 3 people"))).to_be_visible()
    await form.get_by_role("button", name="Circulate").click()
    await expect(result).to_have_text(re.compile(r"^Already sent: version 1"))
    for _ in range(100):
        if smtp_server.count() >= 3:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)
    mails = [m for m in smtp_server.messages() if m["X-Companion-Minutes-Version"]]
    assert len(mails) == 3

    # An edit is a new version: circulating saves it first and sends it again.
    await form.get_by_role("listitem", name="Action item 2").get_by_role("button", name="Remove action item 2").click()
    await form.get_by_role("button", name="Circulate").click()
    await expect(result).to_have_text("Sent to 3 people, version 2.")
    assert await axe_violations(page) == []
    await page.screenshot(path=shots(tmp_path) / "dashboard-minutes-1280.png", full_page=True)
    await fits(page)
    await form.get_by_role("button", name="Circulate").scroll_into_view_if_needed()
    await page.screenshot(path=shots(tmp_path) / "dashboard-minutes-360.png")
    assert await axe_violations(page) == []
    staff.assert_no_script_errors()
    await staff.context.close()


async def test_support_reads_the_notes_and_minutes_but_cannot_change_them(site: Server, browser: Browser) -> None:
    s = await site.session(starts_at=iso_in(10 * 24 * 60))
    ok(await site.api("PUT", f"/api/sessions/{s['id']}/notes", {"text": "What Iris wrote."}))
    ok(await site.api("PUT", f"/api/sessions/{s['id']}/minutes", {"summary": "The summary.", "key_points": ["One"]}))
    staff = await signed_in(site, browser, f"/dashboard/{s['id']}", email="sam@example.org", role="support", name="Sam")
    page = staff.page
    await page.locator("#minutes-fold > summary").click()
    await expect(notes_box(page)).to_have_value("What Iris wrote.")
    await expect(notes_box(page)).not_to_be_editable()
    form = panel(page).get_by_role("form", name="Minutes")
    await expect(form.get_by_label("Summary")).to_have_value("The summary.")
    await expect(form.get_by_role("button", name="Circulate")).to_be_hidden()
    await expect(form.get_by_role("button", name="Save minutes")).to_be_hidden()
    assert await axe_violations(page) == []
    staff.assert_no_script_errors()
    await staff.context.close()


async def test_a_save_that_does_not_reach_the_server_says_so_and_is_retried(site: Server, browser: Browser) -> None:
    s = await site.session(starts_at=iso_in(10 * 24 * 60))
    staff = await signed_in(
        site, browser, f"/dashboard/{s['id']}", email=INSTRUCTOR, role="instructor", name="Iris Instructor"
    )
    page = staff.page
    await expect(notes_status(page)).to_have_text("")
    refused: list[str] = []

    async def drop_saves(route: Route) -> None:
        if route.request.method == "PUT" and len(refused) < 2:
            refused.append(route.request.url)
            await route.abort("connectionreset")
        else:
            await route.continue_()

    await page.route("**/notes", drop_saves)
    await notes_box(page).fill("Said while the network was away.")
    await expect(notes_status(page)).to_have_text("Not saved — retrying")
    assert (await notes_on_server(site, s["id"]))["version"] == 0
    await expect(notes_status(page)).to_have_text(SAVED, timeout=20_000)  # 2 s, then 4 s later
    assert len(refused) == 2
    assert (await notes_on_server(site, s["id"]))["text"] == "Said while the network was away."
    assert all("Failed to load resource" in e for e in staff.errors), staff.errors
    await staff.context.close()


async def test_a_reload_while_a_save_is_on_its_way_is_no_conflict_with_itself(site: Server, browser: Browser) -> None:
    s = await site.session(starts_at=iso_in(10 * 24 * 60))
    staff = await signed_in(
        site, browser, f"/dashboard/{s['id']}", email=INSTRUCTOR, role="instructor", name="Iris Instructor"
    )
    page = staff.page
    await expect(notes_status(page)).to_have_text("")
    held: list[str] = []

    async def answer_late(route: Route) -> None:
        if route.request.method != "PUT" or held:
            await route.continue_()
            return
        held.append(route.request.url)
        response = await route.fetch()  # the server has it, and commits it ...
        await asyncio.sleep(3)  # ... but the page hears nothing before it reloads
        with contextlib.suppress(PlaywrightError):
            await route.fulfill(response=response)

    await page.route("**/notes", answer_late)
    await notes_box(page).fill("First part.")
    for _ in range(100):
        if (await notes_on_server(site, s["id"]))["version"] == 1:
            break
        await asyncio.sleep(0.05)
    assert (await notes_on_server(site, s["id"]))["text"] == "First part."
    await notes_box(page).press("End")
    await notes_box(page).press_sequentially(" Second part.")
    await page.reload()
    await expect(notes_box(page)).to_have_value("First part. Second part.")
    await expect(notes_status(page)).to_have_text(SAVED)
    await expect(panel(page).get_by_role("group", name="The notes were changed in another tab.")).to_be_hidden()
    got = await notes_on_server(site, s["id"])
    assert got["text"] == "First part. Second part." and got["version"] == 2
    await staff.context.close()


async def test_a_save_whose_answer_was_lost_is_known_as_its_own(site: Server, browser: Browser) -> None:
    s = await site.session(starts_at=iso_in(10 * 24 * 60))
    staff = await signed_in(
        site, browser, f"/dashboard/{s['id']}", email=INSTRUCTOR, role="instructor", name="Iris Instructor"
    )
    page = staff.page
    await expect(notes_status(page)).to_have_text("")
    lost: list[str] = []

    async def lose_first_answer(route: Route) -> None:
        if route.request.method == "PUT" and not lost:
            lost.append(route.request.url)
            await route.fetch()  # saved on the server ...
            await route.abort("connectionreset")  # ... and the answer never arrives
        else:
            await route.continue_()

    await page.route("**/notes", lose_first_answer)
    await notes_box(page).fill("Said once.")
    await expect(notes_status(page)).to_have_text("Not saved — retrying")
    assert (await notes_on_server(site, s["id"]))["text"] == "Said once."
    await notes_box(page).press("End")
    await notes_box(page).press_sequentially(" Said twice.")
    await expect(notes_status(page)).to_have_text(SAVED)
    await expect(panel(page).get_by_role("group", name="The notes were changed in another tab.")).to_be_hidden()
    got = await notes_on_server(site, s["id"])
    assert got["text"] == "Said once. Said twice." and got["version"] == 2
    assert all("Failed to load resource" in e or "409" in e for e in staff.errors), staff.errors
    await staff.context.close()

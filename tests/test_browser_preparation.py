"""Preparation in Chromium: readiness at a glance, sharing files and links, the platform run-through on the
schedule page and the dashboard, and the materials in the participant's companion tab (live when one
is withdrawn). Controls are found by their accessible names; axe-core clean; checked at 360 px.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from tests.browser import CHROMIUM, PHONE, axe_violations, chromium, open_tab
from tests.support import Server, iso_in, running_server
from tests.test_browser_schedule import shots, signed_in

pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (make test installs it)"
)

PDF = b"%PDF-1.7\n" + b"1 0 obj << /Type /Catalog >> endobj\n" * 50 + b"%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(200)


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Server]:
    async with running_server(tmp_path, ticker_seconds=0.2, jobs_every_s=0.1) as srv:
        yield srv


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as b:
        yield b


def region(page: Page) -> object:
    return page.get_by_role("region", name="Preparation")


async def fits(page: Page) -> None:
    await page.set_viewport_size(PHONE)
    wide = await page.evaluate("() => document.documentElement.scrollWidth")
    assert wide <= PHONE["width"], f"the page is {wide} px wide at 360 px"


async def test_the_schedule_shares_materials_records_a_run_through_and_shows_readiness(
    site: Server, browser: Browser, tmp_path: Path
) -> None:
    s = await site.session(starts_at=iso_in(10 * 24 * 60), topic="Thermodynamics", timezone="Europe/Berlin")
    staff = await signed_in(site, browser, f"/schedule?week={s['starts_at'][:10]}")
    page = staff.page
    await page.get_by_role("button", name=re.compile("Thermodynamics")).click()
    panel = page.get_by_role("region", name="Preparation")
    await expect(panel.get_by_role("status").first).to_have_text(
        "Not ready: Roster, Invitations, Materials, Platform check."
    )
    checks = panel.get_by_role("list", name="Readiness checks")
    await expect(checks.get_by_role("listitem").filter(has_text="Roster")).to_contain_text("nobody on the roster")

    # A file, then a link.
    upload = panel.get_by_role("form", name="Upload a file")
    await upload.get_by_label("File").set_input_files(
        {"name": "week 1 notes.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    await upload.get_by_label("Title (optional)").fill("Week 1 notes")
    await upload.get_by_role("button", name="Upload").click()
    await expect(panel.get_by_text("Shared week 1 notes.pdf.")).to_be_visible()
    notes = panel.get_by_role("link", name="Week 1 notes")
    await expect(notes).to_have_attribute("href", re.compile(r"/api/sessions/.+/materials/.+/file$"))
    link = panel.get_by_role("form", name="Share a link")
    await link.get_by_label("Link title").fill("Reading list")
    await link.get_by_label("Address").fill("https://library.example.edu/reading")
    await link.get_by_role("button", name="Share link").click()
    await expect(panel.get_by_role("link", name="Reading list")).to_have_attribute(
        "href", "https://library.example.edu/reading"
    )
    # A file whose content is not what its name says is refused, with the server's reason.
    await upload.get_by_label("File").set_input_files(
        {"name": "slides.pdf", "mimeType": "application/pdf", "buffer": PNG}
    )
    await upload.get_by_role("button", name="Upload").click()
    await expect(panel.get_by_text(re.compile(r"^Not done: file: the content is a PNG image"))).to_be_visible()

    # The run-through: screen sharing failed, then fixed.
    run = panel.get_by_role("form", name="Record a run-through")
    await run.get_by_role("group", name="Screen sharing").get_by_label("Failed").check()
    await run.get_by_role("group", name="Breakout rooms").get_by_label("Not needed").check()
    await run.get_by_label("Notes (optional)").fill("sharing froze after a minute")
    await run.get_by_role("button", name="Record run-through").click()
    await expect(
        panel.get_by_text(re.compile(r"^Last run-through by Ada Admin, .*: Screen sharing failed"))
    ).to_be_visible()
    await expect(checks.get_by_role("listitem").filter(has_text="Platform check")).to_contain_text(
        "screen sharing failed"
    )
    await expect(checks.get_by_role("listitem").filter(has_text="Materials")).to_contain_text("2 shared")
    await page.screenshot(path=shots(tmp_path) / "schedule-preparation-1280.png", full_page=True)
    assert await axe_violations(page) == []

    await panel.get_by_role("button", name="Stop sharing Reading list").click()
    await expect(panel.get_by_role("link", name="Reading list")).to_have_count(0)
    await fits(page)
    await page.screenshot(path=shots(tmp_path) / "schedule-preparation-360.png", full_page=True)
    staff.assert_no_script_errors()
    await staff.context.close()


async def test_the_companion_tab_lists_the_materials_and_loses_one_withdrawn(
    site: Server, browser: Browser, tmp_path: Path
) -> None:
    s = await site.session(topic="Optics")
    (person,) = await site.participants(s["id"], 1)
    r = await site.http.post(
        f"/api/sessions/{s['id']}/materials",
        files={"file": ("lens.pdf", PDF, "application/pdf")},
        data={"title": "Lens diagrams"},
        headers={"authorization": f"Bearer {site.admin_token}"},
    )
    assert r.status_code == 201, r.text
    r = await site.api(
        "POST", f"/api/sessions/{s['id']}/materials", {"title": "Simulator", "url": "https://sim.example.org/"}
    )
    assert r.status_code == 201, r.text
    link_id = r.json()["id"]
    tab = await open_tab(browser, "participant", person["join_url"], PHONE, bypass_csp=True)
    materials = tab.page.get_by_role("region", name="Materials")
    diagram = materials.get_by_role("link", name="Lens diagrams")
    await expect(diagram).to_have_attribute("href", re.compile(r"/files/mat\..+"))
    got = await site.http.get(str(await diagram.get_attribute("href")))
    assert got.status_code == 200 and got.content == PDF
    await expect(materials.get_by_role("link", name="Simulator")).to_be_visible()
    assert await axe_violations(tab.page) == []
    await fits(tab.page)
    await tab.page.screenshot(path=shots(tmp_path) / "companion-materials-360.png", full_page=True)

    r = await site.api("DELETE", f"/api/sessions/{s['id']}/materials/{link_id}")
    assert r.status_code == 204, r.text
    await expect(materials.get_by_role("link", name="Simulator")).to_have_count(0)  # live, no reload
    await expect(diagram).to_be_visible()
    tab.assert_no_script_errors()
    await tab.context.close()


async def test_the_dashboard_fold_unfolds_for_a_session_tomorrow_that_is_not_ready(
    site: Server, browser: Browser
) -> None:
    s = await site.session(starts_at=iso_in(20 * 60), topic="Acoustics")
    staff = await signed_in(
        site, browser, f"/dashboard/{s['id']}", email="teacher@example.org", role="instructor", name="Iris"
    )
    page = staff.page
    await expect(page.locator("#preparation-fold")).to_have_attribute("open", "")
    await expect(page.locator("#preparation-summary")).to_have_text(
        "Not ready: Roster, Invitations, Materials, Platform check."
    )
    panel = page.get_by_role("region", name="Preparation")
    await expect(panel.get_by_role("status").first).to_contain_text("It starts within 24 hours.")
    # The instructor shares; support could record a run-through but not share (checked over HTTP elsewhere).
    await expect(panel.get_by_role("form", name="Upload a file")).to_be_visible()
    assert await axe_violations(page) == []
    staff.assert_no_script_errors()
    await staff.context.close()
    support = await signed_in(
        site, browser, f"/dashboard/{s['id']}", email="sam@example.org", role="support", name="Sam"
    )
    panel = support.page.get_by_role("region", name="Preparation")
    await expect(panel.get_by_role("form", name="Record a run-through")).to_be_visible()
    await expect(panel.get_by_role("form", name="Upload a file")).to_be_hidden()
    support.assert_no_script_errors()
    await support.context.close()

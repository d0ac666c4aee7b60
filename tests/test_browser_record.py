"""The session record on the dashboard, in Chromium: made at close, downloaded by its button's name as the
zip the API serves (the download audited), hidden from support; axe-core clean; usable at 360 px."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from tests.browser import CHROMIUM, PHONE, axe_violations, chromium
from tests.support import Server, iso_in, running_server
from tests.test_browser_schedule import shots, signed_in

pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (make test installs it)"
)


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Server]:
    async with running_server(tmp_path, ticker_seconds=0.2, jobs_every_s=0.1) as srv:
        yield srv


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as b:
        yield b


async def test_the_instructor_downloads_the_record_once_the_session_closes(
    site: Server, browser: Browser, tmp_path: Path
) -> None:
    s = await site.session(starts_at=iso_in(5), topic="Optics")
    await site.participants(s["id"], 3)
    staff = await signed_in(
        site, browser, f"/dashboard/{s['id']}", email="teacher@example.org", role="instructor", name="Iris"
    )
    page = staff.page
    fold = page.locator("#record-fold")
    await expect(fold).to_be_visible()
    await expect(page.locator("#record-summary")).to_have_text("At close")
    await fold.locator("summary").click()
    panel = page.get_by_role("region", name="Session record")
    await expect(panel.get_by_role("status")).to_contain_text("The record is made when the session closes")

    assert (await site.api("POST", f"/api/sessions/{s['id']}/close")).status_code == 200
    button = panel.get_by_role("button", name="Download version 1")
    await expect(button).to_be_visible(timeout=15_000)  # made by a job straight after the close; the panel looks again
    await expect(page.locator("#record-summary")).to_have_text("Version 1")
    await expect(button).to_have_accessible_description(re.compile(r"KB, 10 files, made "))
    async with page.expect_download() as waiting:
        await button.click()
    download = await waiting.value
    assert download.suggested_filename == f"record-{s['id']}-v1.zip"
    saved = tmp_path / "record.zip"
    await download.save_as(saved)
    versions = (await site.api("GET", f"/api/sessions/{s['id']}/record")).json()["versions"]
    assert hashlib.sha256(saved.read_bytes()).hexdigest() == versions[0]["sha256"]
    audit = (await site.api("GET", f"/api/audit?session_id={s['id']}&action=download")).json()["entries"]
    assert [e["detail"]["version"] for e in audit] == [1]

    assert await axe_violations(page) == []
    await page.set_viewport_size(PHONE)
    await button.scroll_into_view_if_needed()
    wide = await page.evaluate("() => document.documentElement.scrollWidth")
    assert wide <= PHONE["width"], f"the page is {wide} px wide at 360 px"
    await page.screenshot(path=str(shots(tmp_path) / "dashboard-record-360.png"), full_page=False)
    staff.assert_no_script_errors()
    await staff.context.close()

    support = await signed_in(
        site, browser, f"/dashboard/{s['id']}", email="sam@example.org", role="support", name="Sam"
    )
    await expect(support.page.get_by_role("heading", name="Chat")).to_be_visible()
    await expect(support.page.locator("#record-fold")).to_be_hidden()
    support.assert_no_script_errors()
    await support.context.close()

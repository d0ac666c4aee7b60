"""The audit log page (/audit) in Chromium: an administrator filters the log by action and session, pages
on, and sees people by internal id; anyone else is told it is for administrators; axe-core clean, 360 px."""

from __future__ import annotations

import os
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
    async with running_server(tmp_path, ticker_seconds=0.2) as srv:
        yield srv


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as b:
        yield b


async def test_an_admin_filters_the_audit_log_and_others_are_told_it_is_not_theirs(
    site: Server, browser: Browser, tmp_path: Path
) -> None:
    sessions = [await site.session(starts_at=iso_in(60 * 24 * (n + 1)), topic=f"Topic {n}") for n in range(3)]
    for s in sessions:
        r = await site.api("POST", f"/api/sessions/{s['id']}/cancel", {"reason": "Room flooded"})
        assert r.status_code == 200, r.text
    held = sessions[0]["id"]
    r = await site.api("POST", f"/api/sessions/{held}/legal-hold", {"hold": True, "reason": "Complaint 17"})
    assert r.status_code == 200, r.text

    admin = await signed_in(site, browser, "/audit")
    page = admin.page
    table = page.get_by_role("table")
    await expect(table.get_by_role("row")).to_have_count(1 + 4)  # the header, three cancels and the hold
    await page.get_by_label("Action").select_option("hold")
    await page.get_by_role("button", name="Show").click()
    await expect(table.get_by_role("row")).to_have_count(2)
    row = table.get_by_role("row").nth(1)
    await expect(row).to_contain_text("hold")
    await expect(row).to_contain_text(f"session:{held}")
    await expect(row).to_contain_text("Complaint 17")
    await expect(row).to_contain_text("token:")  # named by internal id, not by email
    await page.get_by_label("Action").select_option("")
    await page.get_by_label("Session id").fill(sessions[1]["id"])
    await page.get_by_role("button", name="Show").click()
    await expect(table.get_by_role("row")).to_have_count(2)
    await expect(table.get_by_role("row").nth(1)).to_contain_text("cancel")
    await expect(page.get_by_role("status")).to_have_text("1 entry.")
    assert await axe_violations(page) == []
    await page.set_viewport_size(PHONE)
    wide = await page.evaluate("() => document.documentElement.scrollWidth")
    assert wide <= PHONE["width"], f"the page is {wide} px wide at 360 px"
    await page.screenshot(path=str(shots(tmp_path) / "audit-360.png"), full_page=True)
    admin.assert_no_script_errors()
    await admin.context.close()

    support = await signed_in(site, browser, "/audit", email="sam@example.org", role="support", name="Sam")
    await expect(support.page.get_by_role("alert")).to_have_text("Only administrators can read the audit log.")
    await expect(support.page.get_by_role("table")).to_be_hidden()
    support.assert_no_script_errors()
    await support.context.close()

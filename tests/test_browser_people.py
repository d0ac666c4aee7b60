"""A person's data (/people) in Chromium: an administrator finds a participant by email, sees what is kept,
downloads the export, opens "Erase…", reads what will be removed (the dry run), must give a reason, erases,
and sees the result; anyone else is told the page is for administrators; axe-core clean, 360 px."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from tests.browser import CHROMIUM, PHONE, axe_violations, chromium
from tests.support import Server, running_server
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


async def test_an_admin_exports_and_erases_a_person_after_a_confirmation_naming_what_goes(
    site: Server, browser: Browser, tmp_path: Path
) -> None:
    for topic in ("Algebra", "Geometry"):
        s = await site.session(topic=topic)
        people = [
            {"name": "Grace Hopper", "email": "grace@example.org"},
            {"name": "Alan Turing", "email": "alan@example.org"},
        ]
        r = await site.api("POST", f"/api/sessions/{s['id']}/participants", {"participants": people})
        assert r.status_code == 200, r.text
        grace = r.json()["participants"][0]
        tab = await site.connect(grace["token"])
        staff = await site.connect(site.admin_token, s["id"])
        await staff.ok("session:start", {})
        await tab.ok("chat:send", {"client_id": f"grace-{topic}", "text": f"Grace asks about {topic}"})

    admin = await signed_in(site, browser, "/people")
    page = admin.page
    await page.get_by_label("Email").fill("Grace@Example.org")
    await page.get_by_role("button", name="Find").click()
    summary = page.get_by_role("region", name="What is kept")
    await expect(summary.get_by_role("listitem").filter(has_text="2 sessions")).to_be_visible()
    await expect(summary.get_by_role("listitem").filter(has_text="2 chat messages")).to_be_visible()
    async with page.expect_download() as info:
        await page.get_by_role("button", name="Download export").click()
    exported = json.loads(Path(await (await info.value).path()).read_text())
    assert exported["email"] == "grace@example.org" and len(exported["chat"]) == 2
    assert "alan" not in json.dumps(exported).lower()
    assert await axe_violations(page) == []
    await page.screenshot(path=str(shots(tmp_path) / "people-summary.png"), full_page=True)

    await page.get_by_role("button", name="Erase…").click()
    dialog = page.get_by_role("dialog", name="Erase this person?")
    await expect(dialog).to_be_visible()
    await expect(dialog.get_by_role("listitem").filter(has_text="2 roster entries renamed")).to_be_visible()
    await expect(dialog.get_by_role("listitem").filter(has_text="2 chat messages emptied")).to_be_visible()
    await page.get_by_role("button", name="Erase permanently").click()  # no reason yet: refused, nothing done
    await expect(dialog.get_by_role("alert")).to_have_text("Give a reason: it is kept in the audit log.")
    assert (await site.api("GET", "/api/audit?action=erase")).json()["entries"] == []
    assert await axe_violations(page) == []
    await page.set_viewport_size(PHONE)
    await page.screenshot(path=str(shots(tmp_path) / "people-confirm-360.png"), full_page=True)
    await dialog.get_by_label("Reason (kept in the audit log)").fill("Her request by mail, ticket 88")
    await page.get_by_role("button", name="Erase permanently").click()
    result = page.get_by_role("region", name="Erased")
    await expect(result.get_by_role("listitem").filter(has_text="2 chat messages emptied")).to_be_visible()
    await expect(page.get_by_role("status")).to_have_text("Grace@Example.org was erased.")
    await expect(dialog).to_be_hidden()
    wide = await page.evaluate("() => document.documentElement.scrollWidth")
    assert wide <= PHONE["width"], f"the page is {wide} px wide at 360 px"
    assert await axe_violations(page) == []
    await page.screenshot(path=str(shots(tmp_path) / "people-erased-360.png"), full_page=True)
    # Found again: nothing is kept under that address.
    await page.get_by_role("button", name="Find").click()
    await expect(page.get_by_text("Nothing is kept about this address.")).to_be_visible()
    await expect(page.get_by_role("button", name="Erase…")).to_be_hidden()
    admin.assert_no_script_errors()
    await admin.context.close()

    support = await signed_in(site, browser, "/people", email="sam@example.org", role="support", name="Sam")
    await expect(support.page.get_by_role("alert")).to_have_text(
        "Only administrators can see and erase a person's data."
    )
    await expect(support.page.get_by_label("Email")).to_be_hidden()
    support.assert_no_script_errors()
    await support.context.close()

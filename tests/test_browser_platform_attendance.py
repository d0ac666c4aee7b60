"""Platform attendance on the dashboard, in Chromium: the instructor imports a Zoom report, matches the row
nobody could be matched to by the accessible names, and sees the check-in beside the call (who was in the
call but never checked in, who checked in but was not in it); axe-core clean; usable at 360 px."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, expect

from tests.browser import CHROMIUM, PHONE, axe_violations, chromium
from tests.clock import FakeClock
from tests.clocked import clock_at_now, clocked_server
from tests.support import Server, ok
from tests.test_browser_schedule import shots, signed_in
from tests.test_platform_attendance import ROSTER, zoom_csv

pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (make test installs it)"
)


@pytest.fixture
def fake() -> FakeClock:
    clock = clock_at_now()
    clock.set(clock.now().replace(microsecond=0))
    return clock


@pytest.fixture
async def site(tmp_path: Path, fake: FakeClock) -> AsyncIterator[Server]:
    async with clocked_server(tmp_path, fake, ticker_seconds=0.2) as srv:
        yield srv


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as b:
        yield b


async def closed_class(site: Server, fake: FakeClock) -> tuple[dict[str, Any], Any]:
    s = await site.session(topic="Optics")
    people = ok(await site.api("POST", f"/api/sessions/{s['id']}/participants", {"participants": ROSTER}))
    jose = next(p for p in people["participants"] if p["email"] == "jose@example.org")
    admin = await site.connect(site.admin_token, s["id"])
    await admin.ok("session:start")
    await admin.ok("attendance:mark", {"participant_id": jose["id"], "status": "present"})
    t0 = fake.now()
    fake.advance(minutes=60)
    ok(await site.api("POST", f"/api/sessions/{s['id']}/close"))
    return s, t0


async def test_the_instructor_imports_a_report_matches_a_row_and_sees_the_merged_sheet(
    site: Server, browser: Browser, fake: FakeClock, tmp_path: Path
) -> None:
    s, t0 = await closed_class(site, fake)
    report = tmp_path / "participants_85746065432.csv"
    report.write_bytes(
        zoom_csv(
            t0,
            [
                ("Ada Lovelace", "ada@example.org", 0, 40),
                ("Hopper, Grace", "", 0, 30),
                ("Phone User 2", "", 5, 25),
            ],
        )
    )
    staff = await signed_in(
        site, browser, f"/dashboard/{s['id']}", email="teacher@example.org", role="instructor", name="Iris"
    )
    page = staff.page
    fold = page.locator("#platform-attendance-fold")
    await expect(fold).to_be_visible()
    await expect(page.locator("#platform-attendance-summary")).to_have_text("No report yet")
    await fold.locator("summary").click()
    panel = page.get_by_role("region", name="Platform attendance")
    await panel.get_by_label("Attendance report (Zoom participants CSV or Teams attendance report)").set_input_files(
        str(report)
    )
    await panel.get_by_role("button", name="Import report").click()
    await expect(panel.get_by_role("status")).to_have_text("Imported the Zoom report: 2 rows matched, 1 not matched.")
    unmatched = panel.get_by_role("list", name="Rows not matched to the roster")
    await expect(unmatched.get_by_role("listitem")).to_have_count(1)
    await page.screenshot(path=str(shots(tmp_path) / "dashboard-platform-attendance-unmatched.png"), full_page=True)

    await panel.get_by_label("Phone User 2, Zoom line 7").select_option(label="Alan Turing")
    await panel.get_by_role("button", name="Match Phone User 2").click()
    await expect(panel.get_by_role("status")).to_have_text("Matched Phone User 2 to Alan Turing.")
    await expect(unmatched.get_by_role("listitem")).to_have_count(0)

    table = panel.get_by_role("table", name="Checked in beside the call")
    rows = {
        "Ada Lovelace": ("In the call, never checked in", ["absent", "0", "40"]),
        "José Müller": ("Checked in, not in the call", ["present", "0", "—"]),
        "Grace Hopper": ("In the call, never checked in", ["absent", "0", "30"]),
        "Alan Turing": ("In the call, never checked in", ["absent", "0", "20"]),
    }
    for name, (flag, cells) in rows.items():
        row = table.get_by_role("row", name=name)
        await expect(row.get_by_role("rowheader")).to_have_text(name + flag)
        await expect(row.get_by_role("cell")).to_have_text(cells)
    await expect(page.locator("#platform-attendance-summary")).to_have_text("4 to look at")
    sheet = {
        r["email"]: r["platform_minutes"]
        for r in ok(await site.api("GET", f"/api/sessions/{s['id']}/attendance"))["rows"]
    }
    assert sheet == {
        "ada@example.org": 40.0,
        "jose@example.org": None,
        "grace@example.org": 30.0,
        "alan@example.org": 20.0,
    }

    assert await axe_violations(page) == []
    await page.screenshot(path=str(shots(tmp_path) / "dashboard-platform-attendance.png"), full_page=True)
    await fold.screenshot(path=str(shots(tmp_path) / "platform-attendance-panel.png"))
    await page.set_viewport_size(PHONE)
    await table.scroll_into_view_if_needed()
    wide = await page.evaluate("() => document.documentElement.scrollWidth")
    assert wide <= PHONE["width"], f"the page is {wide} px wide at 360 px"
    assert await axe_violations(page) == []
    await page.screenshot(path=str(shots(tmp_path) / "dashboard-platform-attendance-360.png"), full_page=False)
    await fold.screenshot(path=str(shots(tmp_path) / "platform-attendance-panel-360.png"))
    staff.assert_no_script_errors()
    await staff.context.close()


async def test_a_report_that_cannot_be_read_is_said_so_and_support_sees_but_does_not_import(
    site: Server, browser: Browser, fake: FakeClock, tmp_path: Path
) -> None:
    s, _ = await closed_class(site, fake)
    bad = tmp_path / "notes.csv"
    bad.write_bytes(b"name,email\nAda,ada@example.org\n")
    staff = await signed_in(
        site, browser, f"/dashboard/{s['id']}", email="teacher@example.org", role="instructor", name="Iris"
    )
    page = staff.page
    await page.locator("#platform-attendance-fold summary").click()
    panel = page.get_by_role("region", name="Platform attendance")
    await panel.get_by_label("Attendance report (Zoom participants CSV or Teams attendance report)").set_input_files(
        str(bad)
    )
    await panel.get_by_role("button", name="Import report").click()
    await expect(panel.get_by_role("alert")).to_contain_text("The report was not imported: this is not a Zoom")
    await staff.context.close()

    support = await signed_in(
        site, browser, f"/dashboard/{s['id']}", email="sam@example.org", role="support", name="Sam"
    )
    await support.page.locator("#platform-attendance-fold summary").click()
    spanel = support.page.get_by_role("region", name="Platform attendance")
    await expect(spanel.get_by_role("status")).to_contain_text("No report yet")
    await expect(spanel.get_by_role("button", name="Import report")).to_be_hidden()
    support.assert_no_script_errors()
    await support.context.close()

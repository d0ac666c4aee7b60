"""The reports page (/reports) in Chromium: an admin picks a series and reads attendance (a low-attendance row
named in words), punctuality, help waits and the feedback trend (a chart with its figures in words and a
table), and downloads a table as CSV; an instructor sees only their own series and is refused another's;
axe-core clean, 360 px (each table scrolls sideways inside its region)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, expect

from core import feedback as feedback_rules
from tests.browser import CHROMIUM, PHONE, axe_violations, chromium
from tests.support import Server, ok, running_server
from tests.test_browser_schedule import shots, signed_in

pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (make test installs it)"
)

TEACHER = "teacher@example.org"
PEOPLE = [
    {"name": "Ada Attends", "email": "ada@example.org"},
    {"name": "Bo Busy", "email": "bo@example.org"},
    {"name": "Cy Crowd", "email": "cy@example.org"},
]


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Server]:
    async with running_server(tmp_path, ticker_seconds=0.2) as srv:
        yield srv


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as b:
        yield b


async def run_series(
    site: Server, topic: str, instructor: str, marks: list[list[str]], ratings: list[list[int]]
) -> str:
    """A weekly series whose first sessions are run now: marked, started, a ticket claimed, closed, answered."""
    body = {
        "topic": topic,
        "instructor_email": instructor,
        "starts_at": (datetime.now(UTC) + timedelta(minutes=40)).isoformat(),
        "duration_minutes": 60,
        "recurrence": {"freq": "weekly", "count": len(marks) + 1},
        "override_reason": "tests run sessions side by side",
    }
    r = await site.api("POST", "/api/sessions", body)
    assert r.status_code == 201, r.text
    made = r.json()
    for s, statuses, given in zip(made["sessions"], marks, ratings, strict=False):
        people = (await site.api("POST", f"/api/sessions/{s['id']}/participants", {"participants": PEOPLE})).json()
        staff = await site.connect(site.admin_token, s["id"])
        tab = await site.connect(people["participants"][0]["token"])
        opened = ok(await tab.call("help:open", {"category": "audio", "text": "no sound"}))
        ok(await staff.call("help:claim", {"ticket_id": opened["ticket_id"]}))
        for p, status in zip(people["participants"], statuses, strict=True):
            ok(await staff.call("attendance:mark", {"participant_id": p["id"], "status": status}))
        ok(await staff.call("session:start", {}))
        ok(await site.api("POST", f"/api/sessions/{s['id']}/close"))
        for p, rating in zip(people["participants"], given, strict=True):
            token = feedback_rules.make_token(site.settings.secret_key, s["id"], p["id"])
            answers: dict[str, Any] = {"overall": rating, "technical": rating < 3}
            r = await site.http.post(f"/api/feedback/{token}", json={"answers": answers})
            assert r.status_code == 200, r.text
        await staff.close()
        await tab.close()
    return str(made["series_id"])


async def test_an_admin_reads_a_series_report_and_an_instructor_only_their_own(
    site: Server, browser: Browser, tmp_path: Path
) -> None:
    marks = [["present", "present", "absent"], ["present", "excused", "absent"], ["late", "present", "absent"]]
    ratings = [[4, 5, 3], [3, 4, 2], [5, 5, 4]]
    series_id = await run_series(site, "Weekly lab", TEACHER, marks, ratings)
    other = await run_series(site, "Other lab", "other@example.org", [["present"] * 3], [[4, 4, 4]])

    admin = await signed_in(site, browser, "/reports")
    page = admin.page
    await expect(page.get_by_role("status")).to_have_text("Choose a series or an instructor.")
    await page.get_by_label("Series", exact=True).select_option(series_id)
    await page.get_by_role("button", name="Show report").click()
    await expect(page.get_by_role("heading", name="Series “Weekly lab” (teacher@example.org)")).to_be_visible()
    await expect(page.get_by_text("4 sessions, 3 closed.", exact=False)).to_be_visible()

    attendance = page.get_by_role("table").filter(has=page.get_by_role("columnheader", name="Excused"))
    cy = attendance.get_by_role("row", name="Cy Crowd")
    await expect(cy).to_contain_text("0%")
    await expect(cy.get_by_role("cell").nth(1)).to_contain_text("Low attendance")  # in words, not colour alone
    bo = attendance.get_by_role("row", name="Bo Busy")
    await expect(bo).to_contain_text("100%")  # an excused absence counts neither way
    await expect(bo.get_by_role("cell").nth(1)).to_have_text("")

    punctuality = page.get_by_role("table").filter(has=page.get_by_role("columnheader", name="Late by"))
    await expect(punctuality.get_by_role("row")).to_have_count(1 + 3)
    await expect(punctuality.get_by_role("row").nth(1)).to_contain_text("early")
    help_ = page.get_by_role("table").filter(has=page.get_by_role("columnheader", name="Median wait"))
    await expect(help_.get_by_role("row").nth(1).get_by_role("cell").nth(0)).to_have_text("1")

    chart = page.get_by_role("figure", name="Ratings, 1 to 5 (mean per session)")
    await expect(chart).to_be_visible()
    await expect(chart.locator("svg.trend-chart polyline")).to_have_count(1)
    words = await chart.get_attribute("aria-describedby")
    assert words is not None
    assert "4.0; " in (await page.locator(f"#{words}").text_content() or "")
    feedback = page.get_by_role("table").filter(has=page.get_by_role("columnheader", name="Responses"))
    await expect(feedback.get_by_role("row").nth(1)).to_contain_text("4.0 of 5")
    await expect(feedback.get_by_role("row").nth(3)).to_contain_text("4.7 of 5")

    async with page.expect_download() as info:
        await page.get_by_role("link", name="Download CSV of attendance").click()
    download = await info.value
    assert download.suggested_filename == f"series-{series_id}-attendance.csv"
    text = Path(await download.path()).read_text()
    assert text.splitlines()[0].startswith("participant,name,email,sessions,attended")
    assert "cy@example.org,Cy Crowd,cy@example.org,3,0,0,0,3,0,0.0,true" in text

    assert await axe_violations(page) == []
    await page.screenshot(path=str(shots(tmp_path) / "reports-desktop.png"), full_page=True)
    await page.set_viewport_size(PHONE)
    await page.wait_for_timeout(300)  # the charts redraw at the new width
    wide = await page.evaluate("() => document.documentElement.scrollWidth")
    assert wide <= PHONE["width"], f"the page is {wide} px wide at 360 px"
    assert await axe_violations(page) == []
    await page.screenshot(path=str(shots(tmp_path) / "reports-360.png"), full_page=True)
    for part, heading in (("attendance", "Attendance per participant"), ("feedback", "Feedback over time")):
        await page.get_by_role("heading", name=heading).evaluate("(h) => h.scrollIntoView()")
        await page.screenshot(path=str(shots(tmp_path) / f"reports-360-{part}.png"))

    # An admin may pick an instructor too.
    await page.get_by_label("An instructor").check()
    await page.get_by_label("Instructor", exact=True).select_option("other@example.org")
    await page.get_by_role("button", name="Show report").click()
    await expect(page.get_by_role("heading", name="Instructor other@example.org")).to_be_visible()
    admin.assert_no_script_errors()
    await admin.context.close()

    teacher = await signed_in(site, browser, "/home", email=TEACHER, role="instructor", name="Iris")
    tpage = teacher.page
    await tpage.get_by_role("link", name="Reports across sessions").click()  # linked from the staff home
    await tpage.wait_for_url(f"{site.url}/reports")
    await expect(tpage.get_by_role("status")).to_have_text("Choose a series or an instructor.")
    await tpage.goto(f"{site.url}/reports?series={series_id}")  # as the warning mail links it
    await expect(tpage.get_by_role("heading", name="Series “Weekly lab” (teacher@example.org)")).to_be_visible()
    options = await tpage.get_by_label("Series", exact=True).locator("option").all_text_contents()
    assert len(options) == 1 and options[0].startswith("Weekly lab")
    await tpage.goto(f"{site.url}/reports?series={other}")
    await expect(tpage.get_by_role("alert")).to_have_text(
        "That series is not one you may read reports of, or there is no such series."
    )
    teacher.assert_no_script_errors()
    await teacher.context.close()

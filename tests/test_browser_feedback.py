"""Feedback forms in Chromium: the participant answers in their tab at 360 px after the close and again at
the mail link; the instructor edits a form on the dashboard and reads the results with charts (and the
anonymous rule below 3 responses). Controls are found by their accessible names; axe-core clean.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from core import feedback as rules
from tests.browser import CHROMIUM, PHONE, axe_violations, chromium, open_tab
from tests.support import Server, running_server
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


async def fits(page: Page) -> None:
    wide = await page.evaluate("() => document.documentElement.scrollWidth")
    assert wide <= PHONE["width"], f"the page is {wide} px wide at 360 px"


async def answers_of(site: Server, token: str) -> object:
    r = await site.http.get(f"/api/feedback/{token}")
    assert r.status_code == 200, r.text
    return r.json()["answers"]


async def test_a_participant_answers_in_the_tab_at_360_px_and_changes_it_at_the_mail_link(
    site: Server, browser: Browser, tmp_path: Path
) -> None:
    s = await site.session(topic="Optics")
    (person,) = await site.participants(s["id"], 1)
    tab = await open_tab(browser, "participant", person["join_url"], PHONE, bypass_csp=True)
    page = tab.page
    assert (await site.api("POST", f"/api/sessions/{s['id']}/close")).status_code == 200

    card = page.get_by_role("region", name="Your feedback")
    await expect(card).to_be_visible()
    give = card.get_by_role("link", name="Give feedback")
    await expect(give).to_have_attribute("href", re.compile(r"/feedback/fbk\..+"))
    token = str(await give.get_attribute("href")).rsplit("/", 1)[1]
    assert rules.parse_token(token, site.settings.secret_key) == (s["id"], person["id"])

    overall = card.get_by_role("group", name=re.compile(r"^Overall, how would you rate this session\? \(required\)"))
    await overall.get_by_role("radio", name="4").check()
    await card.get_by_label("What worked well?").fill("The live demo")
    await card.get_by_role("group", name="Did you have technical problems?").get_by_role("radio", name="No").check()
    box = await overall.get_by_role("radio", name="4").locator("xpath=..").bounding_box()
    assert box is not None and box["height"] >= 44, "a touch target is at least 44 px high"
    await card.get_by_role("button", name="Send my feedback").click()
    await expect(card.get_by_role("status")).to_have_text(re.compile(r"^Thanks — you can change your answers until "))
    assert await answers_of(site, token) == {"overall": 4, "worked": "The live demo", "technical": False}
    assert await axe_violations(page) == []
    await fits(page)
    await page.screenshot(path=shots(tmp_path) / "companion-feedback-360.png", full_page=True)
    tab.assert_no_script_errors()

    # The mail's link under the server's own Content-Security-Policy: it draws, and nothing is refused.
    strict = await browser.new_context(viewport=PHONE)
    csp_page = await strict.new_page()
    console: list[str] = []
    csp_page.on("console", lambda m: console.append(m.text) if m.type in ("error", "warning") else None)
    await csp_page.goto(f"{site.url}/feedback/{token}")
    await expect(csp_page.get_by_role("button", name="Update my answers")).to_be_visible()
    assert console == []
    await strict.close()

    # The mail's link: the same form, with the answers given, changed once more.
    context = await browser.new_context(viewport=PHONE, bypass_csp=True)
    context.set_default_timeout(15_000)
    mail = await context.new_page()
    errors: list[str] = []
    mail.on("pageerror", lambda exc: errors.append(str(exc)))
    await mail.goto(f"{site.url}/feedback/{token}")
    await expect(mail.get_by_role("heading", level=1)).to_have_text("Your feedback on “Optics”")
    again = mail.get_by_role("group", name=re.compile(r"^Overall, how would you rate"))
    await expect(again.get_by_role("radio", name="4")).to_be_checked()
    await expect(mail.get_by_label("What worked well?")).to_have_value("The live demo")
    await again.get_by_role("radio", name="5").check()
    await mail.get_by_label("What could be improved?").fill("More time for questions")
    await mail.get_by_role("button", name="Update my answers").click()
    await expect(mail.get_by_role("status")).to_have_text(re.compile(r"^Thanks — you can change your answers until "))
    assert await answers_of(site, token) == {
        "overall": 5,
        "worked": "The live demo",
        "improve": "More time for questions",
        "technical": False,
    }
    assert await axe_violations(mail) == []
    await fits(mail)
    await mail.screenshot(path=shots(tmp_path) / "feedback-link-360.png", full_page=True)
    await mail.goto(f"{site.url}/feedback/fbk.not.a.token")
    await expect(mail.get_by_text("This link is not valid.")).to_be_visible()
    assert errors == []
    await context.close()
    await tab.context.close()


async def test_the_instructor_edits_the_form_and_reads_the_results_with_charts(
    site: Server, browser: Browser, tmp_path: Path
) -> None:
    s = await site.session(topic="Acoustics")
    people = await site.participants(s["id"], 3)
    staff = await signed_in(
        site, browser, f"/dashboard/{s['id']}", email="teacher@example.org", role="instructor", name="Iris"
    )
    page = staff.page
    await page.locator("#feedback-fold > summary").click()
    panel = page.get_by_role("region", name="Feedback", exact=True)
    editor = panel.get_by_role("form", name="Edit the feedback form")
    await expect(editor.get_by_role("group", name="Question 4")).to_be_visible()
    await expect(panel.get_by_text("This is the default form")).to_be_visible()

    # A choice question added, moved to the top; the second text question removed.
    await editor.get_by_role("button", name="Add a question").click()
    fifth = editor.get_by_role("group", name="Question 5")
    await fifth.get_by_label("Kind").select_option(label="One choice")
    await fifth.get_by_label("Question", exact=True).fill("The pace was")
    await fifth.get_by_label("Options, one per line").fill("too slow\nright\ntoo fast")
    for n in (5, 4, 3, 2):
        await editor.get_by_role("button", name=f"Move up question {n}").click()
    await editor.get_by_role("button", name="Remove question 4").click()
    await editor.get_by_role("button", name="Save form").click()
    await expect(panel.get_by_text("Saved.")).to_be_visible()
    got = (await site.api("GET", f"/api/sessions/{s['id']}/feedback-form")).json()
    assert [q["text"] for q in got["questions"]] == [
        "The pace was",
        "Overall, how would you rate this session?",
        "What worked well?",
        "Did you have technical problems?",
    ]
    assert got["questions"][0]["options"] == ["too slow", "right", "too fast"] and got["anonymous"] is True
    assert await axe_violations(page) == []
    await page.locator("#feedback-fold").screenshot(path=shots(tmp_path) / "dashboard-feedback-editor.png")

    # Closed and answered: below 3 responses an anonymous form shows no results; at 3 it does, with charts.
    assert (await site.api("POST", f"/api/sessions/{s['id']}/close")).status_code == 200
    tokens = [rules.make_token(site.settings.secret_key, s["id"], p["id"]) for p in people]
    picks = [("right", 5), ("too fast", 4), ("right", 2)]
    for token, (pace, overall) in list(zip(tokens, picks, strict=True))[:2]:
        r = await site.http.post(f"/api/feedback/{token}", json={"answers": {"q5": pace, "overall": overall}})
        assert r.status_code == 200, r.text
    await panel.get_by_role("button", name="Refresh results").click()
    await expect(panel.get_by_text("Results appear at 3 responses (the form is anonymous); 2 so far.")).to_be_visible()
    await expect(panel.get_by_role("list").filter(has_text="right")).to_have_count(0)
    r = await site.http.post(
        f"/api/feedback/{tokens[2]}",
        json={"answers": {"q5": "right", "overall": 2, "worked": "the sound demo"}},
    )
    assert r.status_code == 200, r.text
    await panel.get_by_role("button", name="Refresh results").click()
    await expect(panel.get_by_text("3 responses (anonymous).")).to_be_visible()
    pace = panel.get_by_role("region", name="The pace was")
    await expect(pace.get_by_role("listitem").filter(has_text="right")).to_contain_text("2 (67%)")
    await expect(pace.get_by_role("listitem").filter(has_text="too fast")).to_contain_text("1 (33%)")
    await pace.get_by_text("As a table").click()
    await expect(pace.get_by_role("table").get_by_role("row", name="too slow 0")).to_be_visible()
    overall_region = panel.get_by_role("region", name="Overall, how would you rate this session?")
    await expect(overall_region.get_by_text("3 answered; average 3.67 of 5")).to_be_visible()
    await expect(panel.get_by_role("region", name="What worked well?").get_by_text("the sound demo")).to_be_visible()
    await expect(page.locator("#feedback-summary")).to_have_text("3 responses")

    # Answered, the form is fixed: the editor says why and takes no change.
    await page.reload()
    await page.locator("#feedback-fold > summary").click()
    await expect(panel.get_by_text(re.compile(r"^This form is fixed: 3 people have answered it"))).to_be_visible()
    await expect(editor.get_by_role("button", name="Save form")).to_be_disabled()
    assert await axe_violations(page) == []
    await page.locator("#feedback-fold").screenshot(path=shots(tmp_path) / "dashboard-feedback-results.png")
    staff.assert_no_script_errors()
    await staff.context.close()

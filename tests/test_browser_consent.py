"""Recording consent in Chromium: the instructor asks on the dashboard, a participant on a 360 px tab
answers by the buttons' names and sees the "being recorded" banner, the instructor starts with an
override reason after the conflict is explained inline. axe-core clean; screenshots into /tmp.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from tests.browser import CHROMIUM, PHONE, axe_violations, chromium, enrol, open_tab
from tests.support import Server, iso_in, ok, running_server
from tests.test_browser_schedule import signed_in

pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (make test installs it)"
)

SHOTS = Path("/tmp/consent-shots")
BANNER = "This session is being recorded"


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Server]:
    async with running_server(tmp_path, ticker_seconds=0.2) as srv:
        yield srv


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as b:
        yield b


async def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=SHOTS / f"{name}.png")


async def fits(page: Page) -> None:
    wide = await page.evaluate("() => document.documentElement.scrollWidth")
    assert wide <= PHONE["width"], f"the page is {wide} px wide at 360 px"


async def banner_changes(page: Page) -> int:
    """How often the banner's content changed since the observer was installed."""
    return int(await page.evaluate("() => window.__bannerChanges"))


async def test_a_participant_answers_and_the_instructor_records_with_an_override(
    site: Server, browser: Browser
) -> None:
    s = await site.session(starts_at=iso_in(5), topic="Optics", instructor_email="teacher@example.org")
    ana, ben = await enrol(site, s["id"], ["Ana Lima", "Ben Ode"])
    other = await site.connect(ben["token"])  # a second participant, connected, who does not answer
    admin = await site.connect(site.admin_token, s["id"])
    ok(await admin.call("session:start", {}))

    staff = await signed_in(
        site, browser, f"/dashboard/{s['id']}", email="teacher@example.org", role="instructor", name="Iris"
    )
    dash = staff.page
    tab = await open_tab(browser, "participant", ana["join_url"], PHONE, bypass_csp=True)
    page = tab.page
    # Count changes of the banner's text from here on: it must be announced once, not on every render.
    await page.evaluate(
        """() => {
            window.__bannerChanges = 0;
            new MutationObserver(() => { window.__bannerChanges += 1; }).observe(
                document.getElementById('recording-banner'), { subtree: true, childList: true, characterData: true });
        }"""
    )
    await expect(page.get_by_role("region", name="May we record you?")).to_be_hidden()

    # The instructor asks, with a text of their own.
    await dash.locator("#consent-fold > summary").click()
    panel = dash.get_by_role("region", name="Recording consent")
    await expect(panel.get_by_text("Consent has not been asked yet.")).to_be_visible()
    await panel.get_by_label("Text of the request (optional)").fill("We record the lab demo for absent students.")
    await panel.get_by_role("button", name="Ask for consent to record").click()
    answers = panel.get_by_role("list", name="Answers")
    await expect(answers).to_contain_text("0yes")
    await expect(answers).to_contain_text("2pending")

    # The participant is asked, at 360 px, and declines by the button's name.
    prompt = page.get_by_role("region", name="May we record you?")
    await expect(prompt).to_be_visible()
    await expect(prompt).to_contain_text("Purpose: Recording this session")
    await expect(prompt).to_contain_text("We record the lab demo for absent students.")
    await fits(page)
    assert await axe_violations(page) == []
    await shot(page, "participant-asked-360")
    await prompt.get_by_role("button", name="I do not agree").click()
    await expect(prompt.get_by_text("Your answer: you do not agree to be recorded.")).to_be_visible()
    await expect(prompt.get_by_role("button", name="I agree")).to_be_hidden()
    await expect(answers).to_contain_text("1no")
    await expect(answers).to_contain_text("1pending")
    await expect(dash.locator("#consent-summary")).to_have_text("0 yes, 1 no, 1 pending")

    # Starting is refused: the conflict is explained and the reason asked inline; with it, it starts.
    await panel.get_by_role("button", name="Start recording").click()
    override = panel.get_by_role("form", name="1 connected participant declined to be recorded.", exact=False)
    await expect(override).to_be_visible()
    await expect(override).to_contain_text("kept in the audit log")
    assert await axe_violations(dash) == []
    await shot(dash, "dashboard-override")
    await override.get_by_label("Reason for recording anyway").fill("The dean asked for the demo to be kept")
    await override.get_by_role("button", name="Start recording anyway").click()
    await expect(panel.get_by_text("Recording is on.")).to_be_visible()
    await expect(panel.get_by_role("button", name="Stop recording")).to_be_visible()
    await expect(dash.get_by_role("status").filter(has_text=BANNER)).to_be_visible()

    # Every tab shows the banner; on the phone it stays at the top when scrolled.
    banner = page.get_by_role("status").filter(has_text=BANNER)
    await expect(banner).to_be_visible()
    await page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
    box = await banner.bounding_box()
    assert box is not None and box["y"] <= 1 and box["height"] > 20, box
    assert await axe_violations(page) == []
    await shot(page, "participant-recorded-360")
    await page.evaluate("() => window.scrollTo(0, 0)")
    await shot(dash, "dashboard-recording")
    changes = await banner_changes(page)
    assert changes >= 1

    # The participant changes their mind; other renders do not touch the banner again.
    await prompt.get_by_role("button", name="Change my answer").click()
    await prompt.get_by_role("button", name="I agree").click()
    await expect(prompt.get_by_text("Your answer: you agree to be recorded.")).to_be_visible()
    await expect(answers).to_contain_text("1yes")
    await expect(answers).to_contain_text("0no")
    ok(await admin.call("platform:status", {"status": "ok", "message": "renders everything"}))
    await other.close()
    await expect(answers).to_contain_text("0pending")
    assert await banner_changes(page) == changes

    # Stopping takes the banner down everywhere.
    await panel.get_by_role("button", name="Stop recording").click()
    await expect(banner).to_be_hidden()
    await expect(dash.get_by_role("status").filter(has_text=BANNER)).to_have_count(0)

    entries = ok(await site.api("GET", "/api/audit", params={"session_id": s["id"], "action": "recording"}))
    assert [e["detail"]["override_reason"] for e in entries["entries"]] == ["The dean asked for the demo to be kept"]
    tab.assert_no_script_errors()
    staff.assert_no_script_errors()
    await tab.context.close()
    await staff.context.close()


async def test_a_late_joiner_is_asked_and_sees_the_banner_and_support_sees_it_too(
    site: Server, browser: Browser
) -> None:
    s = await site.session(starts_at=iso_in(5), topic="Acoustics")
    [ana] = await enrol(site, s["id"], ["Ana Lima"])
    admin = await site.connect(site.admin_token, s["id"])
    ok(await admin.call("session:start", {}))
    ok(await admin.call("consent:request", {"purpose": "recording"}))
    ok(await admin.call("recording:status", {"recording": True}))

    tab = await open_tab(browser, "participant", ana["join_url"], PHONE, bypass_csp=True, color_scheme="dark")
    page = tab.page
    prompt = page.get_by_role("region", name="May we record you?")
    await expect(prompt).to_contain_text("Do you agree to being recorded?")  # the default text
    await expect(page.get_by_role("status").filter(has_text=BANNER)).to_be_visible()
    assert await axe_violations(page) == []
    await shot(page, "late-joiner-dark-360")
    await prompt.get_by_role("button", name="I agree").click()
    await expect(prompt.get_by_text("Your answer: you agree to be recorded.")).to_be_visible()

    support = await signed_in(site, browser, f"/support/{s['id']}", email="sam@example.org", role="support", name="Sam")
    await expect(support.page.get_by_role("status").filter(has_text=BANNER)).to_be_visible()
    assert await axe_violations(support.page) == []
    await shot(support.page, "support-recording")

    ok(await admin.call("session:close", {}))
    await expect(page.get_by_role("status").filter(has_text=BANNER)).to_have_count(0)
    await expect(prompt).to_be_hidden()
    await expect(support.page.get_by_role("status").filter(has_text=BANNER)).to_have_count(0)
    tab.assert_no_script_errors()
    support.assert_no_script_errors()
    await tab.context.close()
    await support.context.close()

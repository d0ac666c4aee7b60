"""The participants' setup check in Chromium with fake media devices: microphone level, camera preview, a
test sound, the connection figures and the browser verdict, then the result sent to support as a pre-class
help request; and the same page when the browser may not use the microphone or camera. Controls are
found by their accessible names; axe-core clean; usable at 360 px without sideways scrolling.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Locator, Page, expect

from tests.browser import CHROMIUM, DESKTOP, PHONE, Tab, axe_violations, chromium, open_tab
from tests.support import Client, Server, running_server

pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (make test installs it)"
)

# Chromium's own stand-ins: a beeping microphone and a moving test picture. Without the "fake UI" flag
# the browser asks, and an unanswered ask in a context without the permission is a refusal.
FAKE_DEVICES = "--use-fake-device-for-media-stream"
ALLOW_WITHOUT_ASKING = "--use-fake-ui-for-media-stream"


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Server]:
    async with running_server(tmp_path, ticker_seconds=0.2) as srv:
        yield srv


def folder(tmp_path: Path) -> Path:
    out = tmp_path / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    return out


async def a_class(site: Server, platform: str = "zoom") -> tuple[str, dict[str, Any], Client]:
    """A scheduled session on `platform`, one participant, and support connected to it."""
    session = await site.session(topic="Signals and systems", platform=platform)
    sid = str(session["id"])
    person = (await site.participants(sid, 1))[0]
    support = await site.connect(await site.token("support", "Sam Support", "support@example.org"), sid)
    return sid, person, support


def check(page: Page, title: str) -> Locator:
    """A check's section, by its heading."""
    return page.get_by_role("region", name=title, exact=True)


def status(page: Page, title: str) -> Locator:
    return check(page, title).locator(".check-status")


async def no_sideways_scroll(page: Page) -> None:
    width = await page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert width[0] <= width[1], f"the page scrolls sideways: {width}"


async def clean(tab: Tab) -> None:
    assert await axe_violations(tab.page) == []
    await no_sideways_scroll(tab.page)
    tab.assert_no_script_errors()


async def open_setup(browser: Browser, site: Server, sid: str, token: str, **kw: Any) -> Tab:
    return await open_tab(browser, "participant", f"{site.url}/setup/{sid}#token={token}", PHONE, bypass_csp=True, **kw)


async def sent_ticket(support: Client, pred: Any) -> dict[str, Any]:
    queue = await support.wait_for("help:queue", lambda q: any(pred(t) for t in q["tickets"]))
    return next(t for t in queue["tickets"] if pred(t))


# ---------------------------------------------------------------- everything allowed


async def test_every_check_with_devices_allowed_then_send_to_support(site: Server, tmp_path: Path) -> None:
    """Meter moves, preview plays, the chime plays to its end, the connection has figures, Chromium is
    supported by Zoom; the result reaches support as a pre-class request; axe-clean at 360 px."""
    sid, person, support = await a_class(site)
    shots = folder(tmp_path)
    async with chromium([FAKE_DEVICES, ALLOW_WITHOUT_ASKING]) as browser:
        tab = await open_setup(browser, site, sid, person["token"])
        page = tab.page
        await tab.context.grant_permissions(["microphone", "camera"], origin=site.url)
        await expect(page.get_by_text(re.compile("For “Signals and systems”, which starts"))).to_be_visible()
        await expect(page.get_by_role("link", name="Back to the class page")).to_have_attribute(
            "href", f"/join/{sid}#token={person['token']}"
        )

        # Browser and connection are checked at once, without asking.
        await expect(status(page, "Browser")).to_have_text("Working")
        await expect(check(page, "Browser")).to_contain_text("supported by Zoom")
        await expect(status(page, "Connection")).to_have_text("Working")
        await expect(page.locator("#network-rtt")).to_have_text(re.compile(r"^\d+ ms$"))
        await expect(page.locator("#network-download")).to_have_text(re.compile(r"^[\d.]+ Mbit/s$"))
        guide = page.get_by_role("region", name="If something does not work in Zoom")
        await expect(guide).to_contain_text("Join from your browser")
        await expect(guide.get_by_role("listitem")).to_have_count(4)

        # Microphone: the fake device beeps, so the level meter moves and the check says it works.
        await page.get_by_role("button", name="Test microphone").click()
        await expect(status(page, "Microphone")).to_have_text("Working", timeout=10_000)
        meter = page.get_by_role("meter", name="Microphone level")
        await expect(meter).to_be_visible()
        assert float(await meter.get_attribute("data-peak") or 0) >= 0.3
        await expect(page.get_by_role("button", name="Stop microphone")).to_be_visible()

        # Camera: the preview plays the fake picture.
        await page.get_by_role("button", name="Test camera").click()
        await expect(status(page, "Camera")).to_have_text("Working", timeout=10_000)
        preview = page.get_by_label("Camera preview")
        await expect(preview).to_have_attribute("data-playing", "true")
        assert await preview.evaluate("v => v.videoWidth > 0 && !v.paused")
        await expect(check(page, "Camera")).to_contain_text(re.compile(r"\d+\u00d7\d+"))

        # Speakers: nobody hears a headless browser; that the chime played to its end is what shows.
        speakers = check(page, "Speakers or headphones")
        await page.get_by_role("button", name="Play test sound").click()
        await expect(speakers).to_have_attribute("data-played", "true", timeout=10_000)
        await expect(status(page, "Speakers or headphones")).to_have_text("Your answer, please")
        question = page.get_by_role("group", name="Did you hear the chime?")
        await question.get_by_role("button", name="No, I heard nothing").click()
        await expect(status(page, "Speakers or headphones")).to_have_text("Problem")
        await expect(speakers.get_by_role("listitem").first).to_contain_text("Turn the volume up")
        await page.get_by_role("button", name="Play test sound again").click()
        await page.get_by_role("button", name="Yes, I heard it").click()
        await expect(status(page, "Speakers or headphones")).to_have_text("Working")

        results = page.get_by_role("list", name="Results")
        await expect(results.get_by_role("listitem")).to_have_text(
            [f"{name}: Working" for name in ("Browser", "Microphone", "Camera", "Speakers", "Connection")]
        )
        await page.wait_for_timeout(500)  # let the meter and the preview draw a frame
        await page.screenshot(path=str(shots / "setup-all-working.png"), full_page=True)
        await clean(tab)

        # Send to support: a pre-class ticket that support sees in its queue, with every result.
        await page.get_by_label("Anything to add? (optional)").fill("Just checking before the class")
        await page.get_by_role("button", name="Send to support").click()
        await expect(page.locator("#send-status")).to_contain_text("You are number 1 in line")
        await expect(page.get_by_role("button", name="Send to support")).to_be_hidden()  # one open request each
        await expect(page.get_by_text("Once support has answered, you can send a new result")).to_be_visible()
        ticket = await sent_ticket(support, lambda t: t["participant_id"] == person["id"])
        assert ticket["pre_class"] is True and ticket["category"] == "setup check"
        assert ticket["text"].startswith("Just checking before the class\n\nSetup check:\n")
        for line in ("Microphone: Working", "Camera: Working", "Speakers: Working", "Connection: Working"):
            assert line in ticket["text"], ticket["text"]
        assert "supported by Zoom" in ticket["text"]

        # Support claims it: the page follows.
        assert (await support.call("help:claim", {"ticket_id": ticket["ticket_id"]}))["ok"]
        await expect(page.locator("#send-status")).to_have_text("Support is looking at your request now.")
        await page.screenshot(path=str(shots / "setup-sent.png"), full_page=True)
        await clean(tab)


async def test_wide_and_dark(site: Server, tmp_path: Path) -> None:
    """The same page at desktop width in the dark scheme: axe-clean (contrast included)."""
    sid, person, _ = await a_class(site, platform="bbb")
    async with chromium([FAKE_DEVICES, ALLOW_WITHOUT_ASKING]) as browser:
        tab = await open_tab(
            browser,
            "wide",
            f"{site.url}/setup/{sid}#token={person['token']}",
            DESKTOP,
            bypass_csp=True,
            color_scheme="dark",
        )
        page = tab.page
        await expect(status(page, "Connection")).to_have_text("Working")
        await expect(page.get_by_role("region", name="If something does not work in BigBlueButton")).to_contain_text(
            "Listen only"
        )
        await page.get_by_role("button", name="Test microphone").click()
        await expect(status(page, "Microphone")).to_have_text("Working", timeout=10_000)
        await page.screenshot(path=str(folder(tmp_path) / "setup-wide-dark.png"), full_page=True)
        await clean(tab)


# ---------------------------------------------------------------- permission refused


async def test_refused_permissions_say_how_to_allow_and_reach_support(site: Server, tmp_path: Path) -> None:
    """Without permission, microphone and camera say so and how to allow them; the request sent to
    support is about the microphone and marked pre-class."""
    sid, person, support = await a_class(site, platform="teams")
    shots = folder(tmp_path)
    async with chromium([FAKE_DEVICES]) as browser:
        tab = await open_setup(browser, site, sid, person["token"])
        page = tab.page
        await tab.context.clear_permissions()
        await expect(status(page, "Browser")).to_have_text("Working")
        await expect(check(page, "Browser")).to_contain_text("supported by Microsoft Teams")

        await page.get_by_role("button", name="Test microphone").click()
        await expect(status(page, "Microphone")).to_have_text("Problem", timeout=10_000)
        mic = check(page, "Microphone")
        await expect(mic).to_contain_text("The browser is not allowed to use your microphone.")
        await expect(mic.get_by_role("listitem").first).to_contain_text("set Microphone to Allow")
        await expect(page.get_by_role("meter", name="Microphone level")).to_be_hidden()
        await expect(page.get_by_role("button", name="Test microphone again")).to_be_visible()

        await page.get_by_role("button", name="Test camera").click()
        await expect(status(page, "Camera")).to_have_text("Problem", timeout=10_000)
        camera = check(page, "Camera")
        await expect(camera).to_contain_text("The browser is not allowed to use your camera.")
        await expect(camera.get_by_role("listitem").first).to_contain_text("set Camera to Allow")
        await expect(page.get_by_label("Camera preview")).to_be_hidden()

        await expect(page.get_by_role("region", name="If something does not work in Microsoft Teams")).to_contain_text(
            "Continue on this browser"
        )
        await page.screenshot(path=str(shots / "setup-refused.png"), full_page=True)
        await clean(tab)

        await page.get_by_label("Anything to add? (optional)").fill("my microphone shows no signal")
        await page.get_by_role("button", name="Send to support").click()
        await expect(page.locator("#send-status")).to_contain_text("Sent to support before the class")
        ticket = await sent_ticket(support, lambda t: t["participant_id"] == person["id"])
        assert (ticket["category"], ticket["pre_class"]) == ("microphone", True)
        assert "Microphone: Problem \u2013 The browser is not allowed to use your microphone." in ticket["text"]
        assert "Camera: Problem" in ticket["text"] and "Speakers: Not checked yet" in ticket["text"]
        state = await support.call("session:state", {})
        assert [(t["ticket_id"], t["pre_class"]) for t in state["tickets"]] == [(ticket["ticket_id"], True)]
        tab.assert_no_script_errors()


async def test_once_live_the_request_is_an_ordinary_one(site: Server, tmp_path: Path) -> None:
    """After the start the page says so, and the request it sends is not marked pre-class."""
    sid, person, support = await a_class(site)
    instructor = await site.connect(await site.token("instructor", "Iris", "teacher@example.org"), sid)
    assert (await instructor.call("session:start", {}))["ok"]
    async with chromium() as browser:
        tab = await open_setup(browser, site, sid, person["token"])
        page = tab.page
        await expect(page.get_by_text("For “Signals and systems”, which has started.")).to_be_visible()
        await expect(
            page.get_by_text(re.compile("The class has started: your request goes to support"))
        ).to_be_visible()
        await page.get_by_role("button", name="Send to support").click()
        await expect(page.locator("#send-status")).to_contain_text("Sent to support. You are number 1 in line")
        ticket = await sent_ticket(support, lambda t: t["participant_id"] == person["id"])
        assert ticket["pre_class"] is False
        tab.assert_no_script_errors()

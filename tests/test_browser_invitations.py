"""Invitations in Chromium: "Send invitations" with its short-notice prompt on the schedule page, the
list of who answered what, the RSVP page an invitee opens on a phone, the answers arriving live on the
dashboard, a mail given up, and "Add to calendar" with a reminder in the companion tab.

A real server whose mails go to a real SMTP server (aiosmtpd, tests/fakes/smtp.py); the RSVP links are
taken from the mails the invitees got. Controls are found by their accessible names; axe-core finds
nothing serious; every page is checked at 360 px. Browser tests run on the embedded default only.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from core.settings import Offset
from tests.browser import CHROMIUM, PHONE, axe_violations, chromium, open_tab
from tests.clock import FakeClock
from tests.clocked import clocked_server
from tests.fakes.smtp import FakeSmtp
from tests.support import Server, iso_in, running_server
from tests.test_browser_schedule import ADMIN, shots, signed_in

pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (make test installs it)"
)

PEOPLE = [
    {"name": "Ana Tanaka", "email": "ana@example.org", "timezone": "Asia/Tokyo"},
    {"name": "Ben Okafor", "email": "ben@example.org", "timezone": "Africa/Lagos"},
    {"name": "Cy Dubois", "email": "cy@example.org"},
]


@pytest.fixture
async def site(tmp_path: Path, smtp_server: FakeSmtp) -> AsyncIterator[Server]:
    async with running_server(
        tmp_path, ticker_seconds=0.2, smtp_url=f"smtp://127.0.0.1:{smtp_server.port}", jobs_every_s=0.05
    ) as srv:
        yield srv


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as b:
        yield b


async def a_session(site: Server, *, days: float, **fields: Any) -> dict[str, Any]:
    """A session `days` ahead (Berlin) with PEOPLE on its roster."""
    s = await site.session(starts_at=iso_in(days * 24 * 60), timezone="Europe/Berlin", **fields)
    r = await site.api("POST", f"/api/sessions/{s['id']}/participants", {"participants": PEOPLE})
    assert r.status_code == 200, r.text
    return s


def calendar_mails(smtp: FakeSmtp) -> list[EmailMessage]:
    """The mails with a calendar part (signing staff in also mails them their enrolment link)."""
    return [m for m in smtp.messages() if any(p.get_content_type() == "text/calendar" for p in m.walk())]


async def mails(smtp: FakeSmtp, n: int) -> list[EmailMessage]:
    """Wait until `n` calendar mails have arrived; answers them."""
    for _ in range(150):
        got = calendar_mails(smtp)
        if len(got) >= n:
            break
        await asyncio.sleep(0.1)
    assert len(got) == n, [m["Subject"] for m in got]
    return got


def rsvp_link(mail: EmailMessage) -> str:
    part = mail.get_body(("plain",))
    assert part is not None
    found = re.search(r"(http://\S+/rsvp/\S+)", str(part.get_content()))
    assert found is not None
    return found.group(1)


def invitations(page: Page) -> Any:
    return page.get_by_role("region", name="Invitations")


async def fits(page: Page, width: int = 360) -> None:
    """Nothing sticks out sideways at this width (the page does not scroll horizontally)."""
    wide = await page.evaluate("() => document.documentElement.scrollWidth")
    assert wide <= width, f"the page is {wide} px wide at {width} px"


async def clean(page: Page) -> None:
    assert await axe_violations(page) == []


async def on_a_phone(page: Page, shot: Path) -> None:
    """At 360 px: nothing sticks out sideways; a full-page screenshot to look at."""
    await page.set_viewport_size(PHONE)
    await fits(page)
    await page.screenshot(path=shot, full_page=True)


async def test_the_schedule_sends_invitations_at_short_notice_with_a_reason(
    site: Server, browser: Browser, smtp_server: FakeSmtp, tmp_path: Path
) -> None:
    # Two days ahead: inside the 3-day lead, so it is not ready and inviting asks for a reason.
    s = await a_session(site, days=2, topic="Signals and systems")
    day = s["starts_at"][:10]
    staff = await signed_in(site, browser, f"/schedule?week={day}")
    page = staff.page
    card = page.get_by_role("button", name=re.compile("Signals and systems"))
    await expect(card).to_contain_text("Not ready")
    await card.click()
    panel = invitations(page)
    await expect(panel.get_by_role("status").first).to_have_text("Not invited yet.")
    await expect(panel.get_by_text(re.compile("^Not ready: the invitations have not gone out"))).to_be_visible()
    await expect(panel.get_by_text("Nobody invited yet.")).to_be_visible()
    await expect(panel.get_by_text(re.compile(r"^24h before, .*: due$"))).to_be_visible()

    await panel.get_by_role("button", name="Send invitations").click()
    await expect(panel.get_by_role("alert")).to_have_text(
        "This is short notice: invitations should go out at least 3d before the start."
    )
    assert calendar_mails(smtp_server) == []  # refused: nothing went out
    await panel.get_by_label("Reason for inviting at short notice (kept with the session)").fill(
        "Room change, new date"
    )
    await panel.get_by_role("button", name="Send anyway").click()
    await expect(panel.get_by_text("Invitations are going out to 4 people.")).to_be_visible()
    got = {str(m["To"].addresses[0].addr_spec): m for m in await mails(smtp_server, 4)}
    assert set(got) == {p["email"] for p in PEOPLE} | {"teacher@example.org"}

    table = panel.get_by_role("table", name="Who is invited")
    await expect(table.get_by_role("row")).to_have_count(5)  # the header and four people
    ana = table.get_by_role("row", name=re.compile("Ana Tanaka"))
    await expect(ana.get_by_role("cell").nth(1)).to_have_text("No answer yet")
    for row in await table.get_by_role("row").all():  # the panel reads again while mails are queued
        if await row.get_by_role("cell").count():
            await expect(row.get_by_role("cell").nth(2)).to_have_text("Sent")
    await expect(panel.get_by_text("Invited at short notice because: Room change, new date")).to_be_visible()
    await expect(panel.get_by_text(re.compile("^Not ready"))).to_have_count(0)
    await expect(panel.get_by_role("button", name="Send to those not yet invited")).to_be_visible()
    await expect(card).not_to_contain_text("Not ready")
    await clean(page)
    await page.screenshot(path=shots(tmp_path) / "schedule-invitations-1280.png", full_page=True)

    # Ana answers from her phone; the page shows the session in her zone, not the browser's.
    phone = await browser.new_context(viewport=PHONE, bypass_csp=True, timezone_id="America/New_York")
    rsvp = await phone.new_page()
    await rsvp.goto(rsvp_link(got["ana@example.org"]))
    await expect(rsvp.get_by_role("heading", name="Signals and systems")).to_be_visible()
    await expect(rsvp.get_by_text(re.compile(r"\(Asia/Tokyo\), 60 minutes; .* in Europe/Berlin"))).to_be_visible()
    answers = rsvp.get_by_role("group", name="Will you come?")
    await expect(answers.get_by_role("button", name="Accept")).to_have_attribute("aria-pressed", "false")
    await clean(rsvp)
    await fits(rsvp)
    await rsvp.screenshot(path=shots(tmp_path) / "rsvp-360.png", full_page=True)
    await answers.get_by_role("button", name="Accept").click()
    await expect(rsvp.get_by_role("status")).to_have_text("Saved. You accepted.")
    await expect(answers.get_by_role("button", name="Accept")).to_have_attribute("aria-pressed", "true")
    await expect(rsvp.get_by_role("link", name="Add all my sessions to my calendar")).to_have_attribute(
        "href", re.compile(r"/calendar/cal\..+\.ics$")
    )
    await rsvp.reload()  # opening the link again keeps the answer and shows it
    await expect(rsvp.get_by_role("status")).to_have_text("You accepted.")
    await phone.close()

    # The schedule reads the answer when the session is opened again, counts first.
    await page.get_by_role("button", name="Close details").click()
    await card.click()
    await expect(panel.get_by_role("status").first).to_have_text("1 accepted · 0 maybe · 0 declined · 2 no answer")
    await expect(ana.get_by_role("cell").nth(1)).to_have_text("Accepted")

    # At 360 px the details and the list still fit.
    await on_a_phone(page, shots(tmp_path) / "schedule-invitations-360.png")
    staff.assert_no_script_errors()
    await staff.context.close()


async def test_a_series_can_be_invited_as_one_calendar_event_from_the_schedule(
    site: Server, browser: Browser, smtp_server: FakeSmtp
) -> None:
    start = (datetime.now(UTC) + timedelta(days=8)).replace(hour=9, minute=0, second=0, microsecond=0)
    r = await site.api(
        "POST",
        "/api/sessions",
        {
            "topic": "Weekly seminar",
            "instructor_email": "teacher@example.org",
            "starts_at": start.isoformat(),
            "duration_minutes": 60,
            "timezone": "Europe/Berlin",
            "recurrence": {"freq": "weekly", "count": 3},
        },
    )
    assert r.status_code == 201, r.text
    first = r.json()["sessions"][0]
    staff = await signed_in(site, browser, f"/schedule?week={first['starts_at'][:10]}")
    page = staff.page
    await page.get_by_role("button", name=re.compile("Weekly seminar")).click()
    panel = invitations(page)
    await panel.get_by_label("The whole series, as one calendar event").check()
    await panel.get_by_role("button", name="Send invitations").click()
    await expect(panel.get_by_text("Invitations are going out to one person.")).to_be_visible()
    (mail,) = await mails(smtp_server, 1)  # the instructor alone, once for the three sessions
    calendar = next(p for p in mail.walk() if p.get_content_type() == "text/calendar")
    assert b"RRULE:FREQ=WEEKLY" in calendar.get_payload(decode=True)
    staff.assert_no_script_errors()
    await staff.context.close()


async def test_instructors_and_support_read_the_list_but_only_administrators_send(
    site: Server, browser: Browser
) -> None:
    s = await a_session(site, days=10)
    for role, email in (("instructor", "teacher@example.org"), ("support", "sam@example.org")):
        staff = await signed_in(site, browser, f"/dashboard/{s['id']}", email=email, role=role, name="Someone")
        page = staff.page
        await page.locator("#invitations-fold > summary").click()
        await expect(page.locator("#invitations-summary")).to_have_text("Not invited yet.")
        await expect(page.get_by_role("button", name="Send invitations")).to_have_count(0)
        staff.assert_no_script_errors()
        await staff.context.close()


async def test_the_dashboard_shows_answers_live_and_invites_from_its_fold(
    site: Server, browser: Browser, smtp_server: FakeSmtp, tmp_path: Path
) -> None:
    s = await a_session(site, days=10, topic="Compilers")
    staff = await signed_in(site, browser, f"/dashboard/{s['id']}", email=ADMIN)
    page = staff.page
    await expect(page.locator("#connection")).to_have_text("Connected")
    fold = page.locator("#invitations-fold")
    await expect(page.locator("#invitations-summary")).to_have_text("Not invited yet.")
    await fold.locator("summary").click()
    panel = page.get_by_role("region", name="Invitations")
    await panel.get_by_role("button", name="Send invitations").click()  # ten days ahead: no reason asked
    await expect(panel.get_by_text("Invitations are going out to 4 people.")).to_be_visible()
    got = {str(m["To"].addresses[0].addr_spec): m for m in await mails(smtp_server, 4)}
    await expect(page.locator("#invitations-summary")).to_have_text("0 accepted · 0 maybe · 0 declined · 3 no answer")

    # Two invitees answer from their mail; the dashboard hears it without a reload.
    for who, answer in (("ben@example.org", "declined"), ("teacher@example.org", "tentative")):
        token = rsvp_link(got[who]).rsplit("/", 1)[1]
        r = await site.http.post(f"/rsvp/{token}", json={"answer": answer})
        assert r.status_code == 200, r.text
    # The instructor's "maybe" is in the list, not in the participants' counts (the server counts the same).
    await expect(page.locator("#invitations-summary")).to_have_text("0 accepted · 0 maybe · 1 declined · 2 no answer")
    counted = (await site.api("GET", f"/api/sessions/{s['id']}")).json()["rsvp"]
    assert counted == {"accepted": 0, "tentative": 0, "declined": 1, "needs_action": 2}
    table = panel.get_by_role("table", name="Who is invited")
    await expect(table.get_by_role("row", name=re.compile("Ben Okafor")).get_by_role("cell").nth(1)).to_have_text(
        "Declined"
    )
    await expect(table.get_by_role("row", name=re.compile(r"\(instructor\)")).get_by_role("cell").nth(1)).to_have_text(
        "Maybe"
    )
    await clean(page)
    await on_a_phone(page, shots(tmp_path) / "dashboard-invitations-360.png")
    staff.assert_no_script_errors()
    await staff.context.close()


async def test_a_mail_given_up_unfolds_the_dashboard_panel_with_the_error(
    tmp_path: Path, browser: Browser, smtp_server: FakeSmtp
) -> None:
    clock = FakeClock(datetime.now(UTC))
    async with clocked_server(
        tmp_path, clock, ticker_seconds=0.2, smtp_url=f"smtp://127.0.0.1:{smtp_server.port}", jobs_every_s=0.05
    ) as site:
        s = await a_session(site, days=10, topic="Doomed mail")
        smtp_server.behaviour = "refuse_permanent"
        r = await site.api("POST", f"/api/sessions/{s['id']}/invitations", {})
        assert r.status_code == 200, r.text
        for _ in range(40):  # eight attempts with doubling back-off: the clock is moved, not slept through
            await asyncio.sleep(0.1)
            clock.advance(seconds=3600)
            rows = (await site.api("GET", f"/api/sessions/{s['id']}/invitations")).json()["invitations"]
            if all(row["mail"] == "failed" for row in rows):
                break
        else:
            raise AssertionError(f"the mails were not given up: {rows}")
        staff = await signed_in(site, browser, f"/dashboard/{s['id']}", email=ADMIN)
        page = staff.page
        panel = page.get_by_role("region", name="Invitations")
        await expect(panel.get_by_text("4 invitation mails could not be delivered (see the list).")).to_be_visible()
        await expect(page.locator("#invitations-fold")).to_have_attribute("open", "")
        row = panel.get_by_role("row", name=re.compile("Ana Tanaka"))
        await expect(row.get_by_role("cell").nth(2)).to_have_text(re.compile("^Failed: "))
        await clean(page)
        staff.assert_no_script_errors()
        await staff.context.close()


async def test_the_companion_tab_offers_add_to_calendar_and_shows_a_reminder(
    tmp_path: Path, browser: Browser, smtp_server: FakeSmtp
) -> None:
    # Reminders 30 s before a session that starts in 40 s: the tab is open when one arrives.
    async with running_server(
        tmp_path,
        ticker_seconds=0.2,
        smtp_url=f"smtp://127.0.0.1:{smtp_server.port}",
        jobs_every_s=0.05,
        reminders=(Offset("30s", timedelta(seconds=30)),),
    ) as site:
        s = await site.session(starts_at=iso_in(40 / 60), topic="Networks")
        (person,) = await site.participants(s["id"], 1)
        tab = await open_tab(browser, "participant", person["join_url"], PHONE, bypass_csp=True)
        link = tab.page.get_by_role("link", name="Add to calendar")
        await expect(link).to_have_attribute("href", re.compile(r"/calendar/cal\..+\.ics$"))
        setup = tab.page.get_by_role("link", name="Check your setup")
        await expect(setup).to_have_attribute("href", re.compile(rf"^/setup/{s['id']}#token=.+"))
        feed = await site.http.get(str(await link.get_attribute("href")))
        assert feed.status_code == 200 and "Networks" in feed.text
        await expect(tab.page.get_by_text(re.compile(r"^Reminder: the class starts at \d"))).to_be_visible(
            timeout=30_000
        )
        await clean(tab.page)
        await fits(tab.page)
        await tab.page.screenshot(path=shots(tmp_path) / "companion-reminder-360.png", full_page=True)
        tab.assert_no_script_errors()
        await tab.context.close()

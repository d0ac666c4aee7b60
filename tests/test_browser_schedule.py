"""The administrators' schedule (/schedule) and the instructors' upcoming sessions (/home) in Chromium.

A real server; staff signed in with a passkey over HTTP (tests/staff_flows.py) and their session cookie
handed to the browser; every control found by its accessible name. The viewer sits in a named zone
(Playwright's timezone_id) so the times on the page can be checked against the instants the server keeps.
Browser tests run on the embedded default (SQLite) only: the pages do not know what is behind the server.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Locator, Page, ViewportSize, expect

from tests.browser import CHROMIUM, DESKTOP, PHONE, SCREENSHOTS, axe_violations, chromium
from tests.staff_flows import enrolled
from tests.support import Server, running_server

pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (make test installs it)"
)

Q = "\u2019"  # the typographic apostrophe of the page's labels ("Instructor\u2019s email")
INSTRUCTOR = "lecturer@example.org"
ADMIN = "ada@example.org"
# Refusals the tests provoke on purpose: Chromium logs each answer as a failed resource.
EXPECTED_REFUSALS = re.compile(r"Failed to load resource: the server responded with a status of (400|409|413)")


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Server]:
    async with running_server(tmp_path, ticker_seconds=0.2) as srv:
        yield srv


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as b:
        yield b


@dataclass
class Staff:
    """A signed-in staff member's page, with what went wrong in it."""

    context: BrowserContext
    page: Page
    errors: list[str] = field(default_factory=list)

    def assert_no_script_errors(self) -> None:
        assert self.errors == [], self.errors


async def signed_in(
    site: Server,
    browser: Browser,
    path: str,
    *,
    email: str = ADMIN,
    role: str = "admin",
    name: str = "Ada Admin",
    viewport: ViewportSize = DESKTOP,
    zone: str = "Europe/Berlin",
) -> Staff:
    """Enrol and sign in with a passkey over HTTP, then open `path` in a browser holding that session cookie."""
    signed = await enrolled(site, email, role, name)
    context = await browser.new_context(viewport=viewport, bypass_csp=True, timezone_id=zone, locale="en-GB")
    context.set_default_timeout(15_000)
    await context.add_cookies(
        [{"name": c.name, "value": c.value or "", "url": site.url} for c in signed.http.cookies.jar]
    )
    await signed.close()
    page = await context.new_page()
    staff = Staff(context, page)

    def on_console(message: ConsoleMessage) -> None:
        if message.type in ("error", "warning") and not EXPECTED_REFUSALS.search(message.text):
            staff.errors.append(f"console.{message.type}: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: staff.errors.append(f"uncaught: {exc}"))
    await page.goto(f"{site.url}{path}")
    return staff


def week(page: Page) -> Locator:
    return page.get_by_role("region", name=re.compile(r"^Week of "))


def form(page: Page, name: str) -> Locator:
    return page.get_by_role("form", name=name, exact=True)


def shots(tmp_path: Path) -> Path:
    """docs/screenshots with COMPANION_SCREENSHOTS=docs (`make screenshots`), else the test's own folder."""
    out = SCREENSHOTS if os.environ.get("COMPANION_SCREENSHOTS") == "docs" else tmp_path / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    return out


async def book(site: Server, starts_at: str, **fields: Any) -> dict[str, Any]:
    """A session booked over the API by the admin token (Berlin, an hour, the usual instructor)."""
    body = {
        "topic": "Linear algebra",
        "instructor_email": INSTRUCTOR,
        "starts_at": starts_at,
        "duration_minutes": 60,
        "timezone": "Europe/Berlin",
        **fields,
    }
    r = await site.api("POST", "/api/sessions", body)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def listed(site: Server, **params: str) -> list[dict[str, Any]]:
    r = await site.api("GET", "/api/sessions", params=params)
    assert r.status_code == 200, r.text
    return list(r.json()["sessions"])


async def fill_session(page: Page, topic: str, date: str, time: str, *, duration: int = 60, **more: str) -> Locator:
    """Fill the create form's topic, instructor, date, time and duration; answers the form."""
    create = form(page, "New session")
    await create.get_by_label("Topic").fill(topic)
    await create.get_by_label(f"Instructor{Q}s email").fill(more.get("instructor", INSTRUCTOR))
    await create.get_by_label("Date", exact=True).fill(date)
    await create.get_by_label("Start time").fill(time)
    await create.get_by_label("Duration (minutes)").fill(str(duration))
    return create


def in_week(page: Page, text: str) -> Locator:
    """The week's session buttons whose text holds `text`."""
    return week(page).get_by_role("button").filter(has_text=text)


# --- booking ------------------------------------------------------------------------------------------


async def test_a_session_booked_in_berlin_shows_in_the_week_of_a_viewer_in_new_york(
    site: Server, browser: Browser
) -> None:
    """A New York admin books 10:00 Berlin time: stored as 08:00 UTC, shown at 04:00 in the week, and both
    zones in its details; the platform picker shows each platform's capacity and features."""
    admin = await signed_in(site, browser, "/schedule?week=2027-07-06", zone="America/New_York")
    page = admin.page
    await expect(page.get_by_role("heading", name="Week of Mon, 5 Jul 2027")).to_be_visible()
    await expect(page.get_by_text("Times are in America/New_York")).to_be_visible()
    create = await fill_session(page, "Linear algebra", "2027-07-06", "10:00", duration=90)
    await create.get_by_label("Time zone", exact=True).select_option("Europe/Berlin")
    await expect(create.locator("#create-when")).to_contain_text("for you, Tue 6 Jul, 04:00 (America/New_York)")
    zoom = create.get_by_role("radio", name="Zoom")
    await expect(zoom).to_have_accessible_description(re.compile(r"up to 300 people · Screen sharing, Breakout rooms"))
    await create.get_by_label("Expected participants").fill("400")
    await expect(zoom).to_have_accessible_description(re.compile("Would not fit: holds 300, fewer than 400"))
    await create.get_by_label("Expected participants").fill("40")
    await zoom.check()
    await create.get_by_label("Recording").check()
    await create.get_by_role("button", name="Book session").click()
    await expect(create.get_by_role("status")).to_contain_text("Booked “Linear algebra”, Tue 6 Jul, 04:00")

    [stored] = await listed(site)
    assert stored["starts_at"] == "2027-07-06T08:00:00.000Z" and stored["timezone"] == "Europe/Berlin"
    assert stored["platform"] == "zoom" and stored["required_features"] == ["recording"]
    assert stored["expected_participants"] == 40 and stored["duration_minutes"] == 90
    button = in_week(page, "Linear algebra")
    await expect(button).to_have_count(1)
    await expect(button).to_contain_text("04:00–05:30")
    await expect(button).to_contain_text(f"{INSTRUCTOR} · 0 participants")
    await expect(button).to_contain_text("Scheduled")
    await expect(week(page).get_by_role("listitem").filter(has_text="Tuesday 6 July")).to_contain_text("Linear algebra")

    await button.click()
    details = page.get_by_role("region", name="Linear algebra")
    await expect(page.get_by_role("heading", name="Linear algebra", level=2)).to_be_focused()
    await expect(details).to_contain_text("Tue, 6 Jul 2027, 04:00–05:30")
    await expect(details).to_contain_text("When in the session’s zone (Europe/Berlin)")
    await expect(details).to_contain_text("Tue, 6 Jul 2027, 10:00–11:30")
    await expect(details.get_by_role("link", name="Open the dashboard")).to_have_attribute(
        "href", f"/dashboard/{stored['id']}"
    )
    await expect(button).to_have_attribute("aria-pressed", "true")
    admin.assert_no_script_errors()


async def test_a_weekly_series_in_berlin_keeps_its_local_time_across_daylight_saving(
    site: Server, browser: Browser
) -> None:
    """Tuesdays and Thursdays at 10:00 in Berlin from 16 March 2027, six times, booked from New York: 09:00
    UTC until Berlin changes on 28 March, 08:00 UTC after; the page converts summer and winter alike."""
    admin = await signed_in(site, browser, "/schedule?week=2027-03-16", zone="America/New_York")
    page = admin.page
    # The conversion itself, in the page's own module: winter, summer, the skipped and the repeated hour.
    got = await page.evaluate(
        """async () => {
            const z = await import('/static/js/schedule/zones.js');
            return [
                z.instantOf('2027-01-12', '10:00', 'Europe/Berlin').iso,
                z.instantOf('2027-07-06', '10:00', 'Europe/Berlin').iso,
                z.instantOf('2027-03-28', '02:30', 'Europe/Berlin'),
                z.instantOf('2027-10-31', '02:30', 'Europe/Berlin').iso,
                z.instantOf('2027-03-02', '09:30', 'America/New_York').iso,
                z.instantOf('2027-03-02', '09:30', 'Asia/Kolkata').iso,
                z.wallTime(Date.parse('2027-03-30T08:00:00Z'), 'Europe/Berlin'),
            ];
        }"""
    )
    assert got[0] == "2027-01-12T10:00:00+01:00"
    assert got[1] == "2027-07-06T10:00:00+02:00"
    assert got[2]["iso"] == "2027-03-28T03:30:00+02:00" and got[2]["shifted"] == "03:30"  # RFC 5545: the offset before
    assert got[3] == "2027-10-31T02:30:00+02:00"  # the first of the two
    assert got[4] == "2027-03-02T09:30:00-05:00"
    assert got[5] == "2027-03-02T09:30:00+05:30"
    assert got[6] == {"date": "2027-03-30", "time": "10:00", "weekday": 1}

    create = await fill_session(page, "Numerical methods", "2027-03-16", "10:00")
    await create.get_by_label("Time zone", exact=True).select_option("Europe/Berlin")
    await create.get_by_label("Repeats weekly").check()
    days = create.get_by_role("group", name="On these days")
    await expect(days.get_by_label("Tuesday")).to_be_checked()  # the first date's weekday
    await days.get_by_label("Thursday").check()
    await create.get_by_label("Number of sessions", exact=True).fill("6")
    await create.get_by_role("button", name="Book series").click()
    await expect(create.get_by_role("status")).to_contain_text("Booked 6 sessions of “Numerical methods”")

    starts = [s["starts_at"] for s in await listed(site)]
    assert starts == [
        "2027-03-16T09:00:00.000Z",
        "2027-03-18T09:00:00.000Z",
        "2027-03-23T09:00:00.000Z",
        "2027-03-25T09:00:00.000Z",
        "2027-03-30T08:00:00.000Z",
        "2027-04-01T08:00:00.000Z",
    ]
    # Seen from New York (on summer time since 14 March): 05:00 before Berlin's change, 04:00 after.
    await expect(in_week(page, "Numerical methods")).to_have_count(2)
    await expect(in_week(page, "Numerical methods").first).to_contain_text("05:00–06:00")
    await page.get_by_role("button", name="Next week").click()
    await page.get_by_role("button", name="Next week").click()
    await expect(page.get_by_role("heading", name="Week of Mon, 29 Mar 2027")).to_be_visible()
    await expect(in_week(page, "Numerical methods").first).to_contain_text("04:00–05:00")
    assert "week=2027-03-29" in page.url  # a reload shows the same week

    # An end date instead of a count, and a first date the chosen days leave out, read as the admin meant.
    bodies = await page.evaluate(
        """async () => {
            const f = await import('/static/js/schedule/create-form.js');
            const v = { topic: 'T', instructor: 'i@example.org', date: '2027-03-16', time: '10:00',
              zone: 'Europe/Berlin', duration: '60', expected: '', platform: null, features: [],
              repeats: true, days: ['TU'], ends: 'until', count: '', until: '2027-04-06' };
            return [f.sessionBody(v), f.sessionBody({ ...v, days: ['WE'] })];
        }"""
    )
    assert bodies[0]["body"]["recurrence"] == {"freq": "weekly", "byday": ["TU"], "until": "2027-04-06"}
    assert bodies[0]["body"]["starts_at"] == "2027-03-16T10:00:00+01:00"
    assert "tick Tuesday too" in bodies[1]["problem"]
    admin.assert_no_script_errors()


async def test_a_refusal_is_shown_beside_the_form_and_booked_anyway_with_a_reason(
    site: Server, browser: Browser
) -> None:
    """The instructor's other session and the platform's capacity: both reasons inline, the session in the
    way listed; "Book anyway" with a reason books it, and the audit log keeps the override."""
    office = await book(site, "2027-07-06T10:00:00+02:00", topic="Office hours")
    admin = await signed_in(site, browser, "/schedule?week=2027-07-06")
    page = admin.page
    create = await fill_session(page, "Guest lecture", "2027-07-06", "10:30")
    # A server 400 first: an end date before the start, in the server's words beside the form.
    await create.get_by_label("Repeats weekly").check()
    await create.get_by_label("On a date").check()
    await create.get_by_label("Last date (included)").fill("2027-07-01")
    await create.get_by_role("button", name="Book series").click()
    await expect(create.get_by_role("alert")).to_contain_text("Not booked: Recurrence.until")
    await create.get_by_label("Repeats weekly").uncheck()
    # Then the conflict.
    await create.get_by_label("Expected participants").fill("150")
    await create.get_by_role("radio", name="BigBlueButton").check()
    await create.get_by_role("button", name="Book session").click()
    alert = create.get_by_role("alert")
    await expect(alert).to_contain_text("Not booked:")
    await expect(alert.get_by_role("listitem").filter(has_text="already teaches 'Office hours'")).to_have_count(1)
    await expect(alert.get_by_role("listitem").filter(has_text="BigBlueButton holds 100 people")).to_have_count(1)
    await expect(alert).to_contain_text("Office hours, Tue 6 Jul, 10:00")
    assert len(await listed(site)) == 1
    await create.get_by_role("button", name="Book anyway").click()  # no reason yet: nothing is sent
    await expect(create.get_by_label(re.compile("^Reason for going ahead anyway"))).to_be_focused()
    await create.get_by_label(re.compile("^Reason for going ahead anyway")).fill("the dean's lecture")
    await create.get_by_role("button", name="Book anyway").click()
    await expect(create.get_by_role("status")).to_contain_text("Booked “Guest lecture”")
    await expect(create.get_by_role("alert")).to_have_count(0)
    await expect(in_week(page, "Guest lecture")).to_contain_text("10:30–11:30")

    made = next(s for s in await listed(site) if s["topic"] == "Guest lecture")
    assert made["override_reason"] == "the dean's lecture"
    r = await site.api("GET", "/api/audit", params={"action": "override"})
    [entry] = r.json()["entries"]
    assert entry["session_id"] == made["id"] and entry["detail"]["reason"] == "the dean's lecture"
    assert [p["kind"] for p in entry["detail"]["overridden"]] == ["instructor_busy", "capacity"]
    assert entry["actor"] != f"session:{office['id']}"

    # "Show" on a session in the way opens it.
    await fill_session(page, "Third", "2027-07-06", "10:15")
    await create.get_by_role("button", name="Book session").click()
    await create.get_by_role("button", name="Show Office hours").click()
    await expect(page.get_by_role("heading", name="Office hours", level=2)).to_be_focused()
    admin.assert_no_script_errors()

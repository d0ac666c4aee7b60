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
from tests.support import Server, iso_in, running_server

pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (make test installs it)"
)

Q = "\u2019"  # the typographic apostrophe of the page's labels ("Instructor\u2019s email")
DASH = "\u2013"  # between the start and the end of a time ("10:00\u201311:00")
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
    admin = await signed_in(site, browser, "/schedule?week=2038-07-06", zone="America/New_York")
    page = admin.page
    await expect(page.get_by_role("heading", name="Week of Mon, 5 Jul 2038")).to_be_visible()
    await expect(page.get_by_text("Times are in America/New_York")).to_be_visible()
    create = await fill_session(page, "Linear algebra", "2038-07-06", "10:00", duration=90)
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
    assert stored["starts_at"] == "2038-07-06T08:00:00.000Z" and stored["timezone"] == "Europe/Berlin"
    assert stored["platform"] == "zoom" and stored["required_features"] == ["recording"]
    assert stored["expected_participants"] == 40 and stored["duration_minutes"] == 90
    button = in_week(page, "Linear algebra")
    await expect(button).to_have_count(1)
    await expect(button).to_contain_text(f"04:00{DASH}05:30")
    await expect(button).to_contain_text(f"{INSTRUCTOR} 0 participants")
    await expect(button).to_contain_text("Scheduled")
    await expect(week(page).get_by_role("listitem").filter(has_text="Tuesday 6 July")).to_contain_text("Linear algebra")

    await button.click()
    details = page.get_by_role("region", name="Linear algebra")
    await expect(page.get_by_role("heading", name="Linear algebra", level=2)).to_be_focused()
    await expect(details).to_contain_text(f"Tue, 6 Jul 2038, 04:00{DASH}05:30")
    await expect(details).to_contain_text(f"When in the session{Q}s zone (Europe/Berlin)")
    await expect(details).to_contain_text(f"Tue, 6 Jul 2038, 10:00{DASH}11:30")
    await expect(details.get_by_role("link", name="Open the dashboard")).to_have_attribute(
        "href", f"/dashboard/{stored['id']}"
    )
    await expect(button).to_have_attribute("aria-pressed", "true")
    admin.assert_no_script_errors()


async def test_a_weekly_series_in_berlin_keeps_its_local_time_across_daylight_saving(
    site: Server, browser: Browser
) -> None:
    """Tuesdays and Thursdays at 10:00 in Berlin from 16 March 2038, six times, booked from New York: 09:00
    UTC until Berlin changes on 28 March, 08:00 UTC after; the page converts summer and winter alike."""
    admin = await signed_in(site, browser, "/schedule?week=2038-03-16", zone="America/New_York")
    page = admin.page
    # The conversion itself, in the page's own module: winter, summer, the skipped and the repeated hour.
    got = await page.evaluate(
        """async () => {
            const z = await import('/static/js/schedule/zones.js');
            return [
                z.instantOf('2038-01-12', '10:00', 'Europe/Berlin').iso,
                z.instantOf('2038-07-06', '10:00', 'Europe/Berlin').iso,
                z.instantOf('2038-03-28', '02:30', 'Europe/Berlin'),
                z.instantOf('2038-10-31', '02:30', 'Europe/Berlin').iso,
                z.instantOf('2038-03-02', '09:30', 'America/New_York').iso,
                z.instantOf('2038-03-02', '09:30', 'Asia/Kolkata').iso,
                z.wallTime(Date.parse('2038-03-30T08:00:00Z'), 'Europe/Berlin'),
            ];
        }"""
    )
    assert got[0] == "2038-01-12T10:00:00+01:00"
    assert got[1] == "2038-07-06T10:00:00+02:00"
    assert got[2]["iso"] == "2038-03-28T03:30:00+02:00" and got[2]["shifted"] == "03:30"  # RFC 5545: the offset before
    assert got[3] == "2038-10-31T02:30:00+02:00"  # the first of the two
    assert got[4] == "2038-03-02T09:30:00-05:00"
    assert got[5] == "2038-03-02T09:30:00+05:30"
    assert got[6] == {"date": "2038-03-30", "time": "10:00", "weekday": 1}

    create = await fill_session(page, "Numerical methods", "2038-03-16", "10:00")
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
        "2038-03-16T09:00:00.000Z",
        "2038-03-18T09:00:00.000Z",
        "2038-03-23T09:00:00.000Z",
        "2038-03-25T09:00:00.000Z",
        "2038-03-30T08:00:00.000Z",
        "2038-04-01T08:00:00.000Z",
    ]
    # Seen from New York (on summer time since 14 March): 05:00 before Berlin's change, 04:00 after.
    await expect(in_week(page, "Numerical methods")).to_have_count(2)
    await expect(in_week(page, "Numerical methods").first).to_contain_text(f"05:00{DASH}06:00")
    await page.get_by_role("button", name="Next week").click()
    await page.get_by_role("button", name="Next week").click()
    await expect(page.get_by_role("heading", name="Week of Mon, 29 Mar 2038")).to_be_visible()
    await expect(in_week(page, "Numerical methods").first).to_contain_text(f"04:00{DASH}05:00")
    assert "week=2038-03-29" in page.url  # a reload shows the same week

    # An end date instead of a count, and a first date the chosen days leave out, read as the admin meant.
    bodies = await page.evaluate(
        """async () => {
            const f = await import('/static/js/schedule/create-form.js');
            const v = { topic: 'T', instructor: 'i@example.org', date: '2038-03-16', time: '10:00',
              zone: 'Europe/Berlin', duration: '60', expected: '', platform: null, features: [],
              repeats: true, days: ['TU'], ends: 'until', count: '', until: '2038-04-06' };
            return [f.sessionBody(v), f.sessionBody({ ...v, days: ['WE'] })];
        }"""
    )
    assert bodies[0]["body"]["recurrence"] == {"freq": "weekly", "byday": ["TU"], "until": "2038-04-06"}
    assert bodies[0]["body"]["starts_at"] == "2038-03-16T10:00:00+01:00"
    assert "tick Tuesday too" in bodies[1]["problem"]
    admin.assert_no_script_errors()


async def test_a_refusal_is_shown_beside_the_form_and_booked_anyway_with_a_reason(
    site: Server, browser: Browser
) -> None:
    """The instructor's other session and the platform's capacity: both reasons inline, the session in the
    way listed; "Book anyway" with a reason books it, and the audit log keeps the override."""
    office = await book(site, "2038-07-06T10:00:00+02:00", topic="Office hours")
    admin = await signed_in(site, browser, "/schedule?week=2038-07-06")
    page = admin.page
    create = await fill_session(page, "Guest lecture", "2038-07-06", "10:30")
    # A server 400 first: an end date before the start, in the server's words beside the form.
    await create.get_by_label("Repeats weekly").check()
    await create.get_by_label("On a date").check()
    await create.get_by_label("Last date (included)").fill("2038-07-01")
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
    await expect(in_week(page, "Guest lecture")).to_contain_text(f"10:30{DASH}11:30")

    made = next(s for s in await listed(site) if s["topic"] == "Guest lecture")
    assert made["override_reason"] == "the dean's lecture"
    r = await site.api("GET", "/api/audit", params={"action": "override"})
    [entry] = r.json()["entries"]
    assert entry["session_id"] == made["id"] and entry["detail"]["reason"] == "the dean's lecture"
    assert [p["kind"] for p in entry["detail"]["overridden"]] == ["instructor_busy", "capacity"]
    assert entry["actor"] != f"session:{office['id']}"

    # "Show" on a session in the way opens it.
    await fill_session(page, "Third", "2038-07-06", "10:15")
    await create.get_by_role("button", name="Book session").click()
    await create.get_by_role("button", name="Show Office hours").click()
    await expect(page.get_by_role("heading", name="Office hours", level=2)).to_be_focused()
    admin.assert_no_script_errors()


async def open_details(page: Page, topic: str) -> Locator:
    """Click the session in the week; answers its details panel."""
    await in_week(page, topic).first.click()
    await expect(page.get_by_role("heading", name=topic, level=2)).to_be_focused()
    return page.get_by_role("region", name=topic, exact=True)


# --- a session's roster ---------------------------------------------------------------------------------


async def test_a_roster_file_with_bad_rows_shows_each_line_and_imports_nothing_then_a_good_one_imports(
    site: Server, browser: Browser
) -> None:
    session = await book(site, "2038-07-06T10:00:00+02:00")
    other = await book(site, "2038-07-06T10:30:00+02:00", topic="Statistics", instructor_email="other@example.org")
    r = await site.api(
        "POST",
        f"/api/sessions/{other['id']}/participants",
        {"participants": [{"name": "Ana Lima", "email": "ana@example.org"}]},
    )
    assert r.status_code == 200, r.text
    admin = await signed_in(site, browser, "/schedule?week=2038-07-06")
    page = admin.page
    details = await open_details(page, "Linear algebra")
    await expect(details.get_by_text("Nobody on the roster yet.")).to_be_visible()
    importer = form(page, "Import a roster file")

    bad = (
        "name,email,timezone\nAna Lima,ana@example.org,Asia/Tokyo\nBo Chen,not-an-address,\nCy Diaz,ANA@example.org,\n"
    )
    await importer.get_by_label("Roster file (CSV)").set_input_files(
        {"name": "roster.csv", "mimeType": "text/csv", "buffer": bad.encode()}
    )
    await importer.get_by_role("button", name="Import").click()
    alert = importer.get_by_role("alert")
    await expect(alert).to_contain_text("Nothing imported from roster.csv")
    rows = alert.get_by_role("list", name="Rows to fix").get_by_role("listitem")
    await expect(rows).to_have_count(2)
    await expect(rows.nth(0)).to_have_text(re.compile(r"^Line 3: email: "))
    await expect(rows.nth(1)).to_have_text(re.compile(r"^Line 4: email: also on line 2"))
    r = await site.api("GET", f"/api/sessions/{session['id']}/participants")
    assert r.json()["participants"] == []
    await expect(details.get_by_text("Nobody on the roster yet.")).to_be_visible()

    # A file that is not CSV at all: one message for the file.
    await importer.get_by_label("Roster file (CSV)").set_input_files(
        {"name": "roster.xlsx", "mimeType": "application/octet-stream", "buffer": b"PK\x03\x04rest of a workbook"}
    )
    await importer.get_by_role("button", name="Import").click()
    await expect(importer.get_by_role("alert")).to_contain_text("Not a CSV text file")

    good = (
        "name;email;timezone\nAna Lima;ana@example.org;Asia/Tokyo\nBo Chen;bo@example.org;\nCy Diaz;cy@example.org;\n"
    )
    await importer.get_by_label("Roster file (CSV)").set_input_files(
        {"name": "roster.csv", "mimeType": "text/csv", "buffer": good.encode()}
    )
    await importer.get_by_role("button", name="Import").click()
    await expect(importer.get_by_role("status")).to_have_text("Imported 3 participants from roster.csv.")
    await expect(importer.get_by_role("alert")).to_have_count(0)
    roster = details.get_by_role("list").filter(has_text="bo@example.org").first
    await expect(roster.get_by_role("listitem").filter(has_text="@example.org")).to_have_count(3)
    ana = details.get_by_role("listitem").filter(has_text="ana@example.org").first
    await expect(ana).to_contain_text("Asia/Tokyo")
    await expect(ana).to_contain_text("Also booked then: “Statistics”, Tue 6 Jul, 10:30")
    await expect(details).to_contain_text("3 participants; 1 also booked elsewhere at this time.")
    await expect(in_week(page, "Linear algebra")).to_contain_text("3 participants")
    r = await site.api("GET", f"/api/sessions/{session['id']}/participants")
    assert sorted(p["email"] for p in r.json()["participants"]) == [
        "ana@example.org",
        "bo@example.org",
        "cy@example.org",
    ]

    # Taking someone off.
    await details.get_by_role("button", name="Remove Bo Chen").click()
    await expect(details.get_by_role("status").filter(has_text="Bo Chen is off the roster")).to_be_visible()
    await expect(in_week(page, "Linear algebra")).to_contain_text("2 participants")
    admin.assert_no_script_errors()


# --- changing and cancelling ----------------------------------------------------------------------------


async def test_rescheduling_this_and_the_following_sessions_of_a_series(site: Server, browser: Browser) -> None:
    """The second of four Tuesdays moves from 10:00 to 11:30 Berlin time with the rest, across Berlin's change."""
    r = await site.api(
        "POST",
        "/api/sessions",
        {
            "topic": "Linear algebra",
            "instructor_email": INSTRUCTOR,
            "starts_at": "2038-03-16T10:00:00+01:00",
            "duration_minutes": 60,
            "timezone": "Europe/Berlin",
            "recurrence": {"freq": "weekly", "count": 4},
        },
    )
    assert r.status_code == 201, r.text
    ids = [s["id"] for s in r.json()["sessions"]]
    admin = await signed_in(site, browser, "/schedule?week=2038-03-23", zone="Asia/Tokyo")
    page = admin.page
    details = await open_details(page, "Linear algebra")
    await expect(details).to_contain_text("part of a weekly series")
    move = form(page, "Reschedule")
    await expect(move.get_by_label("Date", exact=True)).to_have_value("2038-03-23")
    await expect(move.get_by_label("Start time")).to_have_value("10:00")  # the session's own zone, not Tokyo's
    await expect(move).to_contain_text(f"in the session{Q}s zone, Europe/Berlin")
    await move.get_by_label("Start time").fill("11:30")
    await move.get_by_label("This and the following sessions of the series").check()
    await move.get_by_role("button", name="Reschedule").click()
    await expect(
        page.get_by_role("status").filter(has_text="Rescheduled it and the following sessions")
    ).to_be_visible()

    after = {s["id"]: s for s in await listed(site)}
    assert [after[i]["starts_at"] for i in ids] == [
        "2038-03-16T09:00:00.000Z",
        "2038-03-23T10:30:00.000Z",
        "2038-03-30T09:30:00.000Z",
        "2038-04-06T09:30:00.000Z",
    ]
    await expect(in_week(page, "Linear algebra")).to_contain_text(f"19:30{DASH}20:30")  # Tokyo
    await expect(details).to_contain_text(f"Tue, 23 Mar 2038, 11:30{DASH}12:30")  # Berlin
    # A move into the instructor's other session: refused beside the form, then moved anyway.
    await book(site, "2038-03-23T15:00:00+01:00", topic="Seminar")
    await move.get_by_label("Start time").fill("15:00")
    await move.get_by_role("button", name="Reschedule").click()
    await expect(move.get_by_role("alert")).to_contain_text("already teaches 'Seminar'")
    assert {s["id"]: s for s in await listed(site)}[ids[1]]["starts_at"] == "2038-03-23T10:30:00.000Z"
    await move.get_by_label(re.compile("^Reason for going ahead anyway")).fill("the seminar is cancelled soon")
    await move.get_by_role("button", name="Reschedule anyway").click()
    await expect(details).to_contain_text(f"Tue, 23 Mar 2038, 15:00{DASH}16:00")
    assert {s["id"]: s for s in await listed(site)}[ids[1]]["starts_at"] == "2038-03-23T14:00:00.000Z"
    admin.assert_no_script_errors()


async def test_cancelling_with_a_reason_shows_the_session_cancelled(site: Server, browser: Browser) -> None:
    session = await book(site, "2038-07-07T09:00:00+02:00", topic="Room 101 tutorial")
    admin = await signed_in(site, browser, "/schedule?week=2038-07-07")
    page = admin.page
    details = await open_details(page, "Room 101 tutorial")
    cancel = form(page, "Cancel")
    await cancel.get_by_role("button", name="Cancel session").click()  # no reason: nothing happens
    await expect(cancel.get_by_label("Reason for cancelling")).to_be_focused()
    assert (await listed(site))[0]["status"] == "scheduled"
    await cancel.get_by_label("Reason for cancelling").fill("room closed")
    await cancel.get_by_role("button", name="Cancel session").click()

    button = in_week(page, "Room 101 tutorial")
    await expect(button).to_contain_text("Cancelled")
    topic = button.locator(".week-session-topic")
    assert "line-through" in await topic.evaluate("(n) => getComputedStyle(n).textDecorationLine")
    await expect(details).to_contain_text("Cancelled because")
    await expect(details).to_contain_text("room closed")
    await expect(form(page, "Reschedule")).to_be_hidden()  # nothing more to change
    [stored] = await listed(site)
    assert (
        stored["id"] == session["id"] and stored["status"] == "cancelled" and stored["cancel_reason"] == "room closed"
    )
    admin.assert_no_script_errors()


# --- suggested times ------------------------------------------------------------------------------------


async def test_suggested_times_are_ranked_and_one_fills_the_create_form(site: Server, browser: Browser) -> None:
    """A roster in Tokyo, London and New York with a Berlin instructor: no hour suits all four within
    08:00-20:00 each, so the best is 3 of 4, the earliest first, naming who cannot and why."""
    session = await book(site, "2038-07-01T10:00:00+02:00", topic="Planning")
    people = [
        {"name": "Ana Lima", "email": "ana@example.org", "timezone": "Asia/Tokyo"},
        {"name": "Bo Chen", "email": "bo@example.org", "timezone": "America/New_York"},
        {"name": "Cy Diaz", "email": "cy@example.org", "timezone": "Europe/London"},
    ]
    r = await site.api("POST", f"/api/sessions/{session['id']}/participants", {"participants": people})
    assert r.status_code == 200, r.text
    admin = await signed_in(site, browser, "/schedule?week=2038-07-01")
    page = admin.page
    await in_week(page, "Planning").click()
    await page.get_by_role("button", name="Suggest other times").click()
    suggest = form(page, "Suggest times")
    await expect(suggest.get_by_label(f"Instructor{Q}s email")).to_have_value(INSTRUCTOR)
    await expect(suggest.get_by_label("Participants: the roster of")).to_have_value(session["id"])
    await expect(suggest.get_by_label("First day")).to_be_focused()
    await suggest.get_by_label("First day").fill("2038-07-06")
    await suggest.get_by_label("Last day (included)").fill("2038-07-06")
    await suggest.get_by_role("button", name="Suggest times").click()

    slots = page.get_by_role("list", name="Suggested times, best first").get_by_role("listitem")
    await expect(slots.first).to_contain_text("3 of 4 can attend")
    # 07:00 UTC: 09:00 in Berlin, 08:00 in London, 16:00 in Tokyo; 03:00 in New York.
    first = slots.first
    await expect(first).to_contain_text(f"Tue, 6 Jul 2038, 09:00{DASH}10:00")
    await first.get_by_text("Who cannot (1)").click()
    await expect(first).to_contain_text("Bo Chen (bo@example.org): outside their working hours")
    await expect(first).to_contain_text("in America/New_York is outside 08:00-20:00")
    await expect(page.get_by_role("button", name=re.compile("^Use this time"))).to_have_count(10)  # the default limit
    counts = [int(t.split(" of ")[0]) for t in await page.locator(".slot-count").all_text_contents()]
    assert counts == sorted(counts, reverse=True), counts

    await first.get_by_role("button", name=re.compile("^Use this time")).click()
    create = form(page, "New session")
    await expect(create.get_by_label("Topic")).to_be_focused()
    await expect(create.get_by_label("Date", exact=True)).to_have_value("2038-07-06")
    await expect(create.get_by_label("Start time")).to_have_value("09:00")
    await expect(create.get_by_label("Duration (minutes)")).to_have_value("60")
    await expect(create.get_by_label(f"Instructor{Q}s email")).to_have_value(INSTRUCTOR)
    await create.get_by_label("Topic").fill("Planning, again")
    await create.get_by_role("button", name="Book session").click()
    await expect(create.get_by_role("status")).to_contain_text("Booked “Planning, again”, Tue 6 Jul, 09:00")
    assert any(s["starts_at"] == "2038-07-06T07:00:00.000Z" for s in await listed(site))

    # Pasted emails instead of a roster, and a refusal in the server's words.
    await suggest.get_by_label("Participants: the roster of").select_option("")
    await suggest.get_by_label(f"Participants{Q} emails").fill("dee@example.org, not an address")
    await suggest.get_by_role("button", name="Suggest times").click()
    await expect(suggest.get_by_role("alert")).to_contain_text("No suggestions: Emails")
    admin.assert_no_script_errors()


# --- who sees what --------------------------------------------------------------------------------------


async def test_an_instructor_sees_their_upcoming_sessions_on_home(site: Server, browser: Browser) -> None:
    """Their own in the next fortnight, live ones included, each with its local time and dashboard link;
    no schedule link. An admin sees everyone's and the way to the schedule."""
    soon = await book(site, iso_in(90), topic="Signals and systems", instructor_email="iris@example.org")
    await book(site, iso_in(60 * 24 * 3), topic="Control theory", instructor_email="iris@example.org")
    await book(site, iso_in(60 * 24 * 20), topic="Too far ahead", instructor_email="iris@example.org")
    await book(site, iso_in(120), topic="Someone else's", instructor_email="other@example.org")
    teacher = await site.connect(site.admin_token, soon["id"])
    await teacher.ok("session:start", {})
    iris = await signed_in(
        site, browser, "/home", email="iris@example.org", role="instructor", name="Iris Instructor", viewport=PHONE
    )
    page = iris.page
    upcoming = page.get_by_role("region", name="Upcoming sessions")
    items = upcoming.get_by_role("listitem")
    await expect(items).to_have_count(2)
    await expect(items.first).to_contain_text("Signals and systems")
    await expect(items.first).to_contain_text("Live now")
    link = upcoming.get_by_role("link", name="Open the dashboard of Signals and systems")
    await expect(link).to_have_attribute("href", f"/dashboard/{soon['id']}")
    when = await page.evaluate(
        """async (iso) => {
            const t = await import('/static/js/schedule/times.js');
            return t.clockIn(Date.parse(iso), 'Europe/Berlin');
        }""",
        soon["starts_at"],
    )
    await expect(items.first).to_contain_text(when)
    await expect(upcoming).to_contain_text("in your time zone (Europe/Berlin)")
    await expect(upcoming).not_to_contain_text("Someone else's")
    await expect(upcoming.get_by_role("link", name="Schedule sessions")).to_be_hidden()
    await expect(page.get_by_role("heading", name="Open a session")).to_be_visible()  # the rest of home is there
    await expect(page.locator("#passkeys li")).to_have_count(1)
    width = await page.evaluate("() => document.scrollingElement.scrollWidth")
    assert width <= PHONE["width"], width
    # The dashboard link opens the class for her, signed in by the cookie alone.
    await link.click()
    await page.wait_for_url(f"**/dashboard/{soon['id']}")
    await expect(page.get_by_role("heading", name="Signals and systems")).to_be_visible()
    iris.assert_no_script_errors()

    admin = await signed_in(site, browser, "/home")
    upcoming = admin.page.get_by_role("region", name="Upcoming sessions")
    await expect(upcoming.get_by_role("listitem")).to_have_count(3)
    await upcoming.get_by_role("link", name="Schedule sessions").click()
    await admin.page.wait_for_url("**/schedule")
    await expect(admin.page.get_by_role("heading", name=re.compile("^Week of"))).to_be_visible()
    admin.assert_no_script_errors()


async def test_only_administrators_schedule(site: Server, browser: Browser) -> None:
    """Support signed in is told plainly and pointed home; nobody signed in goes to sign-in and back."""
    sam = await signed_in(site, browser, "/schedule", email="sam@example.org", role="support", name="Sam Support")
    page = sam.page
    await expect(page.get_by_role("heading", name="Only administrators schedule sessions")).to_be_visible()
    await expect(page.get_by_text("You are signed in as technical support.")).to_be_visible()
    await expect(page.get_by_role("link", name="Back to your home page")).to_have_attribute("href", "/home")
    await expect(page.get_by_role("form", name="New session")).to_have_count(0)
    await expect(page.get_by_role("region", name=re.compile("^Week"))).to_be_hidden()
    sam.assert_no_script_errors()

    context = await browser.new_context()
    stranger = await context.new_page()
    await stranger.goto(f"{site.url}/schedule?week=2038-07-06")
    await stranger.wait_for_url(re.compile(r"/login\?next=%2Fschedule%3Fweek%3D2038-07-06$"))
    await context.close()


# --- accessibility, phones, screenshots -----------------------------------------------------------------


async def test_no_serious_accessibility_violations_usable_at_360_px_and_screenshots(
    site: Server, browser: Browser, tmp_path: Path
) -> None:
    """axe-core on the week, the form with a refusal shown, the details panel with its roster and a refused
    file, and /home; nothing wider than 360 px; the create form reached and used on a phone."""
    office = await book(site, "2038-07-06T10:00:00+02:00", topic="Office hours", platform="zoom")
    await book(site, "2038-07-06T14:00:00+02:00", topic="Statistics", instructor_email="other@example.org")
    gone = await book(site, "2038-07-08T09:30:00+02:00", topic="Distributed systems: consistency")
    r = await site.api("POST", f"/api/sessions/{gone['id']}/cancel", {"reason": "room closed"})
    assert r.status_code == 200, r.text
    people = [{"name": f"Person {i}", "email": f"p{i}@example.org"} for i in range(12)]
    r = await site.api("POST", f"/api/sessions/{office['id']}/participants", {"participants": people})
    assert r.status_code == 200, r.text
    out = shots(tmp_path)
    found: dict[str, list[str]] = {}

    async def check(staff: Staff, what: str) -> None:
        found[what] = [f"{v['id']}: {v['nodes']}" for v in await axe_violations(staff.page)]
        width = await staff.page.evaluate("() => document.scrollingElement.scrollWidth")
        assert width <= (staff.page.viewport_size or PHONE)["width"], f"{what}: {width} px wide"

    for viewport in (DESKTOP, PHONE):
        px = viewport["width"]
        admin = await signed_in(
            site, browser, "/schedule?week=2038-07-06", viewport=viewport, email=f"ada{px}@example.org"
        )
        page = admin.page
        await expect(in_week(page, "Office hours")).to_contain_text("12 participants")
        await check(admin, f"week at {px} px")
        await page.screenshot(path=out / f"schedule-{px}.png", full_page=True, animations="disabled")

        # The create form, reached from the week's "New session" link, with a refusal shown.
        await page.get_by_role("link", name="New session").click()
        create = form(page, "New session")
        topic = create.get_by_label("Topic")
        await expect(topic).to_be_focused()
        await expect(topic).to_be_in_viewport()
        await fill_session(page, "Guest lecture", "2038-07-06", "10:30")
        await create.get_by_label("Expected participants").fill("150")
        await create.get_by_role("radio", name="BigBlueButton").check()
        await create.get_by_role("button", name="Book session").click()
        await expect(create.get_by_role("alert")).to_contain_text("already teaches 'Office hours'")
        await check(admin, f"form with a refusal at {px} px")
        await create.screenshot(path=out / f"schedule-refusal-{px}.png", animations="disabled")

        # The details panel with its roster, overlap warnings and a refused file.
        details = await open_details(page, "Office hours")
        importer = form(page, "Import a roster file")
        await importer.get_by_label("Roster file (CSV)").set_input_files(
            {"name": "roster.csv", "mimeType": "text/csv", "buffer": b"name,email\nAna,ana@example.org\nBo,bo@\n"}
        )
        await importer.get_by_role("button", name="Import").click()
        await expect(importer.get_by_role("alert")).to_contain_text("Line 3: email")
        await expect(details.get_by_role("listitem").filter(has_text="p11@example.org")).to_have_count(1)
        await check(admin, f"details at {px} px")
        await page.screenshot(path=out / f"schedule-details-{px}.png", full_page=True, animations="disabled")

        # Booked anyway, on a phone too.
        await create.get_by_label(re.compile("^Reason for going ahead anyway")).fill(f"booked at {px} px")
        await create.get_by_role("button", name="Book anyway").click()
        await expect(create.get_by_role("status")).to_contain_text("Booked “Guest lecture”")
        admin.assert_no_script_errors()
        await admin.context.close()

        iris = await signed_in(
            site, browser, "/home", viewport=viewport, email=f"iris{px}@example.org", role="instructor", name="Iris"
        )
        await expect(iris.page.get_by_role("region", name="Upcoming sessions")).to_contain_text("Nothing in the next")
        await check(iris, f"home at {px} px")
        iris.assert_no_script_errors()
        await iris.context.close()

    home = await signed_in(site, browser, "/home", email="lee@example.org", role="admin", name="Lee Admin")
    await book(site, iso_in(60), topic="Signals and systems", instructor_email="iris@example.org")
    await home.page.reload()
    await expect(home.page.get_by_role("region", name="Upcoming sessions").get_by_role("listitem")).to_have_count(1)
    await check(home, "home of an admin")
    await home.page.screenshot(path=out / "home-upcoming-1280.png", full_page=True, animations="disabled")
    await home.page.set_viewport_size(PHONE)
    await check(home, "home of an admin at 360 px")
    await home.page.screenshot(path=out / "home-upcoming-360.png", full_page=True, animations="disabled")
    home.assert_no_script_errors()
    assert len(found) == 10
    assert {what: v for what, v in found.items() if v} == {}

"""The instructor's dashboard beside a video call, in Debian's Chromium driven by Playwright.

A class of 30 and one of 300, seeded over the HTTP API, seen at 1280x800 and at 480x900 (a window
beside Zoom): what the instructor needs mid-class is in the first screen, found by accessible names;
axe-core finds nothing serious; notices and the title count follow a help request and a mention. Then
one test per mended rough edge (labels, "Not checked in", minutes and seconds, the attention prompt,
far countdowns, the check-in code before it opens, Start once live, a join link without its token,
the participant's end of class, a claimed ticket's running time), and the pure modules through
Chromium (the project has no JS test runner). Browser tests run on the embedded default (SQLite) only.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Locator, Page, ViewportSize, expect

from tests.browser import CHROMIUM, PHONE, SCREENSHOTS, axe_violations, chromium, open_tab
from tests.support import Server, iso_in, running_server

pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (make test installs it)"
)

WIDE: ViewportSize = {"width": 1280, "height": 800}
BESIDE_ZOOM: ViewportSize = {"width": 480, "height": 900}
Q = "\u2019"  # the typographic apostrophe of the page's labels ("I\u2019m here")
COUNTS = ["Expected", "Connected", "Checked in", "Late", "Not checked in"]


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Server]:
    async with running_server(tmp_path, ticker_seconds=0.2) as srv:
        yield srv


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as b:
        yield b


def folder(tmp_path: Path) -> Path:
    """docs/screenshots with COMPANION_SCREENSHOTS=docs, else the test's own folder."""
    out = SCREENSHOTS if os.environ.get("COMPANION_SCREENSHOTS") == "docs" else tmp_path / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    return out


async def in_first_screen(page: Page, locator: Locator, what: str) -> None:
    """Visible and inside the viewport without scrolling (its box within the window's height)."""
    await expect(locator).to_be_visible()
    box = await locator.bounding_box()
    height = page.viewport_size["height"] if page.viewport_size else 0
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height, f"{what}: {box} beyond {height}"


def bar(page: Page) -> Locator:
    return page.get_by_role("region", name="Class at a glance")


def count(page: Page, label: str) -> Locator:
    """One figure of the class bar ("12 Checked in"), found by its label."""
    items = bar(page).get_by_role("list", name="Counts").get_by_role("listitem")
    return items.filter(has=page.get_by_text(label, exact=True))


async def a_class(site: Server, n: int, **fields: Any) -> tuple[str, list[dict[str, Any]], str]:
    session = await site.session(topic="Distributed systems: consistency", platform="zoom", **fields)
    people = await site.participants(str(session["id"]), n)
    instructor = await site.token("instructor", "Iris Instructor", "teacher@example.org")
    return str(session["id"]), people, instructor


# --- the first screen -----------------------------------------------------------------------------


@pytest.mark.parametrize("size", [30, 300])
async def test_first_screen_beside_the_call(site: Server, browser: Browser, size: int, tmp_path: Path) -> None:
    """State, countdown, counts, the ping's result, help and unread chat, Start/Launch/Close: no scrolling."""
    sid, people, instructor = await a_class(site, size)
    teacher = await site.connect(instructor, sid)
    here = [await site.connect(p["token"]) for p in people[:12]]
    for c in here[:8]:
        assert (await c.call("attendance:checkin", {}))["ok"]
    url = f"{site.url}/dashboard/{sid}#token={instructor}"
    wide, narrow = await asyncio.gather(
        open_tab(browser, "wide", url, WIDE, bypass_csp=True),
        open_tab(browser, "narrow", url, BESIDE_ZOOM, bypass_csp=True),
    )
    tabs = (wide, narrow)

    # Before the start: Start is there, with the countdown and every count.
    for tab in tabs:
        page = tab.page
        await expect(count(page, "Expected")).to_contain_text(str(size))
        await expect(count(page, "Checked in")).to_contain_text("8")
        await expect(count(page, "Not checked in")).to_contain_text(str(size - 8))
        state = bar(page).get_by_role("group", name="Session state")
        await expect(state).to_contain_text("Not started yet")
        await in_first_screen(page, state, "session state")
        await in_first_screen(page, state.get_by_role("timer"), "countdown")
        for label in COUNTS:
            await in_first_screen(page, count(page, label), label)
        for name in ("Start now", "Close session", "Launch"):
            await in_first_screen(page, page.get_by_role("button", name=name, exact=True), name)

    # Live, a ping answered, a help request and chat: the same screen shows them.
    await teacher.ok("session:start", {})
    ack = await teacher.ok(
        "ping:launch",
        {"kind": "poll", "question": "Which model fits a cart?", "options": ["Strong", "Eventual"], "seconds": 600},
    )
    for c in here[:3]:
        await c.ok("ping:answer", {"ping_id": ack["ping_id"], "answer": 1})
    await here[0].ok("help:open", {"category": "audio", "text": "No sound"})
    await here[1].ok("chat:send", {"client_id": "mention-iris-1", "text": "Iris, could you repeat the last slide?"})
    for tab in tabs:
        page = tab.page
        await expect(bar(page).get_by_role("group", name="Session state")).to_contain_text("Live")
        # Once live there is nothing to start.
        await expect(page.get_by_role("button", name="Start now")).to_have_count(0)
        card = page.get_by_role("article", name="Which model fits a cart?")
        await expect(card).to_contain_text("3 of 12 answered")
        await in_first_screen(page, card.get_by_role("listitem").filter(has_text="Eventual"), "the ping's result")
        help_badge = page.get_by_role("button", name="1 waiting for help")
        await in_first_screen(page, help_badge, "help badge")
        await in_first_screen(page, page.get_by_role("button", name=re.compile(r"^\d+ unread in chat$")), "chat badge")
        for name in ("Close session", "Launch"):
            await in_first_screen(page, page.get_by_role("button", name=name, exact=True), name)
        # Notices: the help request and the mention, dismissable, and the title counts what is unseen.
        notices = page.get_by_role("list", name="New in the class")
        await expect(notices.get_by_role("listitem").filter(has_text="Help request from Person p0")).to_be_visible()
        await expect(notices.get_by_role("listitem").filter(has_text="Iris, could you repeat")).to_be_visible()
        await expect(page).to_have_title(re.compile(r"^\(\d+\) Distributed systems"))
    if size == 30:  # the README's screenshots, with the notices showing
        out = folder(tmp_path)
        await wide.page.screenshot(path=out / "dashboard.png", animations="disabled")
        await narrow.page.screenshot(path=out / "dashboard-480.png", animations="disabled")
    # Beside the call the chat is below the fold: its message is unread.
    await expect(narrow.page.get_by_role("button", name="1 unread in chat")).to_be_visible()
    await narrow.page.get_by_role("button", name="Dismiss: Help request from Person p0 (audio)").click()
    await expect(narrow.page.get_by_role("list", name="New in the class").get_by_role("listitem")).to_have_count(1)
    # Opening the chat reads it.
    await narrow.page.get_by_role("button", name="1 unread in chat").click()
    await expect(narrow.page.get_by_role("button", name="0 unread in chat")).to_be_visible()

    # The roster: search finds one of hundreds. How long it takes to draw is the benchmark's to say
    # (bench/dashboard_render.py, docs/performance.md), not a test's: here only that the page records it.
    roster = narrow.page.get_by_role("table", name="Participants")
    await narrow.page.get_by_label("Search").fill(f"p{size - 1}")
    await expect(roster.get_by_role("row").filter(has_text=f"Person p{size - 1}")).to_have_count(1)
    await expect(
        roster.get_by_role("row").filter(has_text=f"Person p{size - 1}").get_by_role("cell").nth(1)
    ).to_have_text("Not checked in")
    measured = await wide.page.evaluate("() => performance.getEntriesByName('roster-render').length")
    assert measured > 0, "the dashboard no longer measures its roster render (bench/dashboard_render.py reads it)"
    drawn = await wide.page.locator("#roster-body tr").count()
    assert drawn <= 60, f"{drawn} rows in the DOM for {size} people: the roster is not windowed"

    found = {tab.name: await axe_violations(tab.page) for tab in tabs}
    await narrow.page.emulate_media(color_scheme="dark")
    found["narrow, dark"] = await axe_violations(narrow.page)
    await narrow.page.set_viewport_size(PHONE)
    width = await narrow.page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the dashboard is {width} px wide on a 360 px screen"
    for name, violations in found.items():
        for v in violations:
            print(f"{name}: {v['impact']} {v['id']}: {v['help']}\n    " + "\n    ".join(v["nodes"]))
    assert {name: [v["id"] for v in vs] for name, vs in found.items() if vs} == {}
    for tab in tabs:
        tab.assert_no_script_errors()


# --- the pure modules, through Chromium -----------------------------------------------------------

PURE_CHECKS = """async () => {
  const f = await import('/static/js/lib/format.js');
  const att = await import('/static/js/shared/attendance.js');
  const kinds = await import('/static/js/shared/ping-kinds.js');
  const order = await import('/static/js/staff/roster-order.js');
  const win = await import('/static/js/staff/virtual-window.js');
  const rules = await import('/static/js/staff/notice-rules.js');
  const now = Date.UTC(2026, 11, 2, 9, 0);
  const iris = {name: 'Iris Instructor', role: 'instructor'};
  const rows = [
    {participant_id: 'b', name: 'bo', email: 'bo@x', connected: false, status: 'absent',
     checked_in_at: null},
    {participant_id: 'a', name: 'Ána', email: 'ana@x', connected: true, status: 'late',
     checked_in_at: '2026-12-02T09:07:00Z'},
    {participant_id: 'c', name: 'Cy', email: 'cy@x', connected: true, status: 'present',
     checked_in_at: '2026-12-02T09:01:00Z'},
  ];
  return {
    minutes: [f.minutesSeconds(5.51), f.minutesSeconds(0.25), f.minutesSeconds(61), f.minutesSeconds(null)],
    soon: f.startsIn(now + 65_000, now),
    far: f.startsIn(now + 7 * 86_400_000 + 3_600_000, now),
    labels: [['absent', 'scheduled'], ['absent', 'live'], ['absent', 'closed'], ['late', 'live']]
      .map(([status, when]) => att.statusText(status, when)),
    answers: [['pulse', 'ok'], ['pulse', 'lost'], ['attention', true]]
      .map(([kind, answer]) => kinds.answerText({kind}, answer)),
    byName: order.arrange(rows).map((r) => r.participant_id),
    byStatus: order.arrange(rows, {sort: 'status'}).map((r) => r.participant_id),
    search: order.arrange(rows, {query: 'ana'}).map((r) => r.participant_id),
    missing: order.arrange(rows, {filter: 'missing'}).map((r) => r.participant_id),
    window: win.visibleWindow({count: 2000, rowHeight: 40, scrollTop: 4000, viewportHeight: 400, overscan: 5}),
    lost: [rules.lostNotice({ping_id: 'p', kind: 'pulse', tally: {ok: 6, lost: 3}, question: 'Q'}, new Set())?.text,
           rules.lostNotice({ping_id: 'p', kind: 'pulse', tally: {ok: 1, lost: 1}}, new Set()),
           rules.lostNotice({ping_id: 'p', kind: 'pulse', tally: {ok: 1, lost: 5}}, new Set(['p']))],
    mentions: [['iris, a question', 'Bo', 'participant'], ['Question for the teacher', 'Bo', 'participant'],
               ['Irises are flowers', 'Bo', 'participant'], ['Iris here', 'Iris Instructor', 'instructor']]
      .map(([text, author, role]) => rules.mentionsMe({text, author, role}, iris)),
    dropped: rules.droppedOut(
      [{participant_id: 'a', connected: false}, {participant_id: 'b', connected: false}],
      (id) => ({a: {connected: true}, b: {connected: false}})[id], 'live',
    ).map((c) => c.participant_id),
    title: [rules.titleWithCount('(2) Class · Companion', 3), rules.titleWithCount('(2) Class · Companion', 0)],
  };
}"""


async def test_pure_modules(site: Server, browser: Browser) -> None:
    """Labels, durations, countdowns, roster order and window, notice rules: the modules with no DOM."""
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(f"{site.url}/")
    got = await page.evaluate(PURE_CHECKS)
    assert got["minutes"] == ["5 min 31 s", "15 s", "1 h 01 min", "—"]
    assert got["soon"] == "1:05"
    assert got["far"].startswith("in 7 days, ") and ":" in got["far"] and "175" not in got["far"], got["far"]
    assert got["labels"] == ["Not checked in", "Not checked in", "Absent", "Late"]
    assert got["answers"] == [f"I{Q}m following", f"I{Q}m lost", f"I{Q}m here"]
    assert got["byName"] == ["a", "b", "c"]  # case and accents aside, as the server orders
    assert got["byStatus"] == ["b", "a", "c"]
    assert got["search"] == ["a"]
    assert got["missing"] == ["b"]
    assert got["window"] == {"start": 95, "end": 116, "before": 3800, "after": 75360}
    assert got["lost"] == ["3 of 9 are lost: Q", None, None]
    assert got["mentions"] == [True, True, False, False]
    assert got["dropped"] == ["a"]
    assert got["title"] == ["(3) Class · Companion", "Class · Companion"]
    await context.close()


# --- the rough edges, mended ----------------------------------------------------------------------


async def test_rough_edges(site: Server, browser: Browser, tmp_path: Path) -> None:
    """Kind labels agree, the attention prompt, closed pings fold, the participant's end, a claimed ticket's time."""
    sid, people, instructor = await a_class(site, 3)
    support = await site.token("support", "Sam Support", "support@example.org")
    dash = await open_tab(browser, "dashboard", f"{site.url}/dashboard/{sid}#token={instructor}", WIDE)
    ana = await open_tab(browser, "ana", people[0]["join_url"], PHONE)
    desk = await open_tab(browser, "support", f"{site.url}/support/{sid}#token={support}", WIDE)
    dash.page.on("dialog", lambda d: asyncio.ensure_future(d.accept()))
    await ana.page.get_by_role("button", name="Check in").click()
    await dash.page.get_by_role("button", name="Start now").click()
    await expect(dash.page.get_by_role("button", name="Start now")).to_have_count(0)

    # One label per kind: the launch form's option, the staff card and the participant's card.
    launch = dash.page.locator("#launch-form")
    await launch.get_by_label("Template").select_option(label="Are you following so far? (Pulse check)")
    option = await launch.get_by_label("Kind").evaluate("(s) => s.selectedOptions[0].textContent")
    await launch.get_by_role("button", name="Launch").click()
    card = dash.page.get_by_role("article", name="Are you following so far?")
    mine = ana.page.get_by_role("article", name="Are you following so far?")
    await expect(card.locator(".ping-kind")).to_have_text(option)
    await expect(mine.locator(".ping-kind")).to_have_text(option)
    await mine.get_by_role("button", name=f"I{Q}m following").click()
    await expect(mine).to_contain_text(f"Your answer: I{Q}m following")
    await expect(card).to_contain_text("1 of 1 answered")
    # The form keeps the question after a launch.
    await expect(launch.get_by_label("Question", exact=True)).to_have_value("Are you following so far?")

    # Closed pings fold away.
    await card.get_by_role("button", name="Close ping").click()
    closed = dash.page.locator("#closed-pings")
    await expect(closed.locator("summary")).to_have_text("Closed pings (1)")
    await expect(dash.page.get_by_role("article", name="Are you following so far?")).to_be_hidden()
    await closed.locator("summary").click()
    await expect(closed.get_by_role("article", name="Are you following so far?")).to_contain_text("Closed")

    # An attention check with an empty question takes the usual prompt.
    await launch.get_by_label("Kind").select_option("attention")
    await launch.get_by_label("Question", exact=True).fill("")
    await launch.get_by_role("button", name="Launch").click()
    prompt = f"Still with us? Tap “I{Q}m here”."
    await expect(ana.page.get_by_role("article", name=prompt)).to_be_visible()
    await expect(dash.page.get_by_role("article", name=prompt).locator(".ping-kind")).to_have_text("Attention check")

    # A claimed ticket's time keeps counting on the support console.
    await ana.page.get_by_role("button", name="Ask for help").click()
    await ana.page.get_by_label("Microphone").check()
    await ana.page.get_by_role("button", name="Send to support").click()
    ticket = desk.page.get_by_role("article", name="Person p0")
    await ticket.get_by_role("button", name="Claim").click()
    claimed = desk.page.locator("#queue-claimed").get_by_role("article", name="Person p0")
    await expect(claimed).to_contain_text("Claimed by Sam Support")
    await expect(claimed.locator(".ticket-waited")).to_contain_text("In progress for")  # since its claimed_at
    before = await claimed.locator(".ticket-waited").text_content()
    await expect(claimed.locator(".ticket-waited")).not_to_have_text(before or "", timeout=4000)

    # The participant's end: thanks, their attendance, no dead panels.
    await dash.page.get_by_role("button", name="Close session").click()
    await expect(ana.page.get_by_role("heading", name="Thank you for taking part")).to_be_visible()
    await expect(ana.page.locator("#end-attendance")).to_contain_text("Your attendance: present")
    for gone in ("Technical help", "Check-in", "From the instructor"):
        await expect(ana.page.get_by_role("heading", name=gone)).to_have_count(0)
    await expect(ana.page.get_by_label("Message", exact=True)).to_be_hidden()
    await expect(ana.page.get_by_role("timer")).to_have_count(0)
    await ana.page.screenshot(path=folder(tmp_path) / "companion-ended.png", full_page=True, animations="disabled")
    # After close the dashboard's sheet: the same order as the roster, absent now reads "Absent", minutes as min and s.
    sheet = dash.page.get_by_role("table", name="Attendance sheet")
    await expect(sheet.get_by_role("row")).to_have_count(4)
    names = await sheet.get_by_role("rowheader").all_text_contents()
    assert [n.split("@")[0] for n in names] == sorted(n.split("@")[0] for n in names), names  # the roster's order
    await expect(sheet.get_by_role("row").filter(has_text="Person p1")).to_contain_text("Absent")
    await expect(sheet.get_by_role("row").filter(has_text="Person p0").get_by_role("cell").nth(2)).to_have_text(
        re.compile(r"^\d+ s$|^\d+ min \d\d s$")
    )
    for tab in (dash, ana, desk):
        tab.assert_no_script_errors()


async def test_before_the_class(site: Server, browser: Browser) -> None:
    """A week away: the countdown is a date, the check-in code waits; a join link without its token explains."""
    sid, people, instructor = await a_class(site, 2, starts_at=iso_in(7 * 24 * 60 + 30), checkin_code=True)
    dash = await open_tab(browser, "dashboard", f"{site.url}/dashboard/{sid}#token={instructor}", BESIDE_ZOOM)
    ana = await open_tab(browser, "ana", people[0]["join_url"], PHONE)
    for page in (dash.page, ana.page):
        await expect(page.get_by_role("timer")).to_have_text(re.compile(r"^in 7 days, "))
    await expect(dash.page.locator("#checkin-code-opens")).to_contain_text("Check-in opens at")
    await expect(dash.page.get_by_text("Check-in code", exact=True)).to_be_hidden()
    await expect(dash.page.locator("#checkin-code")).to_have_text("")
    await expect(count(dash.page, "Not checked in")).to_contain_text("2")
    await expect(dash.page.get_by_role("button", name="Start now")).to_be_visible()

    context = await browser.new_context(viewport=PHONE)
    page = await context.new_page()
    await page.goto(f"{site.url}/join/{sid}")
    problem = page.get_by_role("alert").filter(has_text="This link is incomplete")
    await expect(problem).to_contain_text("invitation email")
    assert "null" not in (await problem.text_content() or "")
    await expect(page.get_by_role("main")).to_be_hidden()
    await context.close()
    for tab in (dash, ana):
        tab.assert_no_script_errors()

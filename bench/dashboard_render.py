"""The dashboard's roster with 2,000 people: main-thread time of rendering it, in Debian's Chromium.

Starts a server on SQLite in a temp dir, seeds a session of N participants over the HTTP API (a third of
them connected, half of those checked in), opens the dashboard at 1280x800 and reports:

- `roster-render`: the page's own performance.measure around a full roster render (search, filter, sort
  of everyone, then drawing the scrolled window); the first render is the snapshot's.
- re-sort: a sort change from the page, timed with performance.now() around the change and a forced
  layout (style and layout included), median of several.
- long tasks (> 50 ms) seen by a PerformanceObserver('longtask') from navigation to a settled page.

Usage: .venv/bin/python bench/dashboard_render.py [--n 2000] [--repeats 9]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.browser import chromium
from tests.support import running_server

LONGTASKS = """() => {
  window.__longtasks = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.__longtasks.push(e.duration);
  }).observe({ type: 'longtask', buffered: true });
}"""

RESORT = """async (repeats) => {
  const sort = document.getElementById('roster-sort');
  const values = [...sort.options].map((o) => o.value);
  const times = [];
  for (let i = 0; i < repeats; i += 1) {
    sort.value = values[(i + 1) % values.length];
    const t0 = performance.now();
    sort.dispatchEvent(new Event('change'));
    void document.body.offsetHeight; // style and layout, not only the script
    times.push(performance.now() - t0);
    await new Promise((r) => requestAnimationFrame(() => r()));
  }
  return times;
}"""


async def main(n: int, repeats: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with running_server(Path(tmp), ticker_seconds=0.5) as site:
            session = await site.session(topic="Render benchmark", capacity=n)
            sid = str(session["id"])
            people = await site.participants(sid, n)
            instructor = await site.token("instructor", "Iris Instructor", "teacher@example.org")
            connected = [await site.connect(p["token"]) for p in people[: n // 3]]
            for c in connected[: len(connected) // 2]:
                await c.call("attendance:checkin", {})
            async with chromium() as browser:
                context = await browser.new_context(viewport={"width": 1280, "height": 800})
                page = await context.new_page()
                await page.add_init_script(f"({LONGTASKS})()")
                await page.goto(f"{site.url}/dashboard/{sid}#token={instructor}")
                await page.get_by_text(f"{n} people").wait_for(timeout=30_000)
                await page.wait_for_timeout(1500)
                renders = await page.evaluate(
                    "() => performance.getEntriesByName('roster-render').map((e) => e.duration)"
                )
                resort = await page.evaluate(RESORT, repeats)
                rows = await page.locator("#roster-body tr").count()
                longtasks = await page.evaluate("() => window.__longtasks")
                await context.close()
    print(f"participants: {n}; rows in the DOM: {rows}")
    print(f"roster-render (page's measure): first {renders[0]:.1f} ms, max {max(renders):.1f} ms ({len(renders)})")
    print(
        f"re-sort incl. style+layout: median {statistics.median(resort):.1f} ms, max {max(resort):.1f} ms ({repeats})"
    )
    print(f"long tasks > 50 ms from navigation: {len(longtasks)} {[round(t) for t in longtasks]}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    asyncio.run(main(args.n, args.repeats))

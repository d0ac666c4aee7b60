"""Suggested times for a large class: how long `core.suggest.suggest` takes for 5,000 people over a month.

5,000 people in 12 zones around the world, 3 other sessions each, a 31-day window on a 30-minute grid (1,488
candidates), a 60-minute session, the instructor required. Prints the best and the median of several runs.

Usage: .venv/bin/python bench/suggest.py [--people 5000] [--zones 12] [--step 30] [--repeats 7]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.suggest import MAX_WINDOW_DAYS, Busy, Person, suggest

ZONES = [
    "America/Los_Angeles",
    "America/New_York",
    "America/Sao_Paulo",
    "Europe/London",
    "Europe/Berlin",
    "Africa/Nairobi",
    "Asia/Kolkata",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Pacific/Auckland",
    "America/Chicago",
]
START = datetime(2026, 3, 2, tzinfo=UTC)  # a month across the March changes of the clocks


def people(n: int, zones: list[str], rng: random.Random) -> list[Person]:
    """n people spread over the zones, each with 3 sessions of 30 to 120 minutes somewhere in the window."""
    out = []
    for k in range(n):
        busy = []
        for j in range(3):
            start = START + timedelta(minutes=15 * rng.randrange(MAX_WINDOW_DAYS * 24 * 4))
            busy.append(
                Busy(f"s{k}-{j}", f"Topic {j}", start, start + timedelta(minutes=rng.choice((30, 60, 90, 120))))
            )
        out.append(Person(f"p{k}@example.org", zones[k % len(zones)], tuple(busy), required=k == 0))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--zones", type=int, default=len(ZONES), help=f"at most {len(ZONES)}")
    parser.add_argument("--step", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    roster = people(args.people, ZONES[: args.zones], random.Random(1))
    seconds = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        slots = suggest(
            roster,
            duration_minutes=60,
            window_start=START,
            window_end=START + timedelta(days=MAX_WINDOW_DAYS),
            now=START,
            step_minutes=args.step,
        )
        seconds.append(time.perf_counter() - t0)
    top = slots[0]
    grid = f"{MAX_WINDOW_DAYS} days on a {args.step}-minute grid"
    print(f"{args.people} people in {args.zones} zones, 3 sessions each, {grid}")
    best_ms, median_ms = min(seconds) * 1e3, statistics.median(seconds) * 1e3
    print(f"suggest: best {best_ms:.1f} ms, median {median_ms:.1f} ms ({args.repeats} runs)")
    print(f"top slot {top.view()['starts_at']}: {top.available} of {top.total} can attend")


if __name__ == "__main__":
    main()

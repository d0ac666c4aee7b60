"""Where the time goes, from a py-spy raw (collapsed stacks) profile.

    .venv/bin/python bench/pyspy_top.py PROFILE.txt [--top 20]

Prints the share of samples by package of the innermost frame (self time), the functions with the
most self time, and the functions with the most inclusive time (counted once per stack).
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

PROCESS = re.compile(r'^(?:process \d+:".*?";)+')
FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")
# Frames every stack passes through (process start, the server's and the event loop's run): not news.
ROOTS = (
    "<module> ",
    "spawn_main ",
    "_main (multiprocessing",
    "BaseProcess.",
    "Process.target ",
    "subprocess_started ",
    "Server.run ",
    "Server.serve ",
    "Server._serve ",
    "asyncio_run ",
    "Runner.run ",
    "run (asyncio",
    "run_server ",
    "main (",
)
PACKAGES = [
    ("engineio", "python-engineio"),
    ("socketio", "python-socketio"),
    ("uvicorn", "uvicorn"),
    ("websockets", "websockets"),
    ("wsproto", "wsproto"),
    ("httptools", "httptools"),
    ("starlette", "starlette"),
    ("sqlalchemy", "SQLAlchemy"),
    ("aiosqlite", "aiosqlite"),
    ("asyncpg", "asyncpg"),
    ("redis", "redis-py"),
    ("pydantic", "pydantic"),
    ("asyncio", "asyncio"),
    ("json", "json"),
    ("logging", "logging"),
    ("/core/", "companion core/"),
    ("/realtime/", "companion realtime/"),
    ("/persistence/", "companion persistence/"),
    ("/server/", "companion server/"),
]


def parse(path: Path) -> list[tuple[list[str], int]]:
    """Collapsed stacks: (frames outermost first, samples)."""
    stacks = []
    for raw in path.read_text().splitlines():
        head, _, count = raw.rpartition(" ")
        if not head or not count.isdigit():
            continue
        head = PROCESS.sub("", head)  # `process PID:"command line"`, which may itself hold a `;`
        frames = [f for f in head.split(";") if f and not f.startswith(("process ", "thread "))]
        stacks.append((frames, int(count)))
    return stacks


def name(frame: str) -> str:
    """`func (file)` without the line number, the file shortened to its package path."""
    m = FRAME.match(frame)
    if not m:
        return frame
    file = m.group("file")
    for marker in ("site-packages/", "lib/python3", "/work/main/"):
        if marker in file:
            file = file.split(marker, 1)[1]
            break
    return f"{m.group('func')} ({file})"


def package(frame: str) -> str:
    """Which package's code the frame runs; the event loop itself (uvloop, in C) shows as Runner.run."""
    if frame.startswith("Runner.run ") or frame.startswith("run ("):
        return "event loop (uvloop, C: socket I/O, callbacks)"
    m = FRAME.match(frame)
    file = m.group("file") if m else frame
    for marker, label in PACKAGES:
        if marker in file:
            return label
    return "other (stdlib, C)" if file else "other"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("profile", type=Path)
    parser.add_argument("--top", type=int, default=20)
    args = parser.parse_args()
    stacks = parse(args.profile)
    total = sum(n for _, n in stacks)
    if not total:
        print(f"{args.profile}: no samples")
        return
    by_package: Counter[str] = Counter()
    self_time: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    for frames, n in stacks:
        if not frames:
            continue
        by_package[package(frames[-1])] += n
        self_time[name(frames[-1])] += n
        for f in {name(f) for f in frames}:
            inclusive[f] += n
    pct = lambda n: f"{100 * n / total:5.1f}%"  # noqa: E731
    print(f"{args.profile.name}: {total} samples")
    print("self time by package:")
    for k, n in by_package.most_common(12):
        print(f"  {pct(n)}  {k}")
    print(f"self time, top {args.top} functions:")
    for k, n in self_time.most_common(args.top):
        print(f"  {pct(n)}  {k}")
    print(f"inclusive time, top {args.top} functions:")
    shown = [(k, n) for k, n in inclusive.most_common() if not k.startswith(ROOTS)]
    for k, n in shown[: args.top]:
        print(f"  {pct(n)}  {k}")


if __name__ == "__main__":
    main()

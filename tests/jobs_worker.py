"""A worker process for tests/test_jobs_processes.py: a JobRunner on the wall clock over a real database.

    python -m tests.jobs_worker URL DIR NAME [--lease S] [--batch N] [--hang-after BATCHES]

Its handler "sends" a reminder by appending the job's id to DIR/NAME.sent. It writes DIR/NAME.ready
once it is connected, starts when DIR/go exists, and exits once no job is pending or running. With
--hang-after, every handler of the batch after that many batches writes its id to DIR/NAME.held and
then waits for ever, before sending: a process stuck after claiming, for the test to kill -9.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from core.clock import SystemClock
from core.jobs import Job
from persistence.db import create_engine, sessionmaker
from persistence.models import JobRecord
from service.jobs import JobRunner


class Worker:
    def __init__(self, out: Path, name: str, hang_after: int | None) -> None:
        self.sent = out / f"{name}.sent"
        self.held = out / f"{name}.held"
        self.hang_after = hang_after
        self.batches = 0

    async def reminder(self, job: Job) -> None:
        if self.hang_after is not None and self.batches >= self.hang_after:
            with self.held.open("a") as f:
                f.write(f"{job.id}\n")
            await asyncio.Event().wait()
        with self.sent.open("a") as f:  # the side effect: done before the job is marked
            f.write(f"{job.id}\n")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("dir", type=Path)
    parser.add_argument("name")
    parser.add_argument("--lease", type=float, default=60.0)
    parser.add_argument("--batch", type=int, default=25)
    parser.add_argument("--hang-after", type=int, default=None)
    args = parser.parse_args()

    engine = create_engine(args.url)
    db = sessionmaker(engine)
    worker = Worker(args.dir, args.name, args.hang_after)
    runner = JobRunner(
        db,
        SystemClock(),
        {"reminder": worker.reminder},
        every_s=0.05,
        batch=args.batch,
        lease=timedelta(seconds=args.lease),
    )
    async with db() as s:
        await s.execute(select(1))
    (args.dir / f"{args.name}.ready").touch()
    for _ in range(6000):  # a minute at most
        if (args.dir / "go").exists():
            break
        await asyncio.sleep(0.01)
    while True:
        if await runner.run_once():
            worker.batches += 1
            continue
        async with db() as s:
            left = await s.scalar(
                select(func.count()).select_from(JobRecord).where(JobRecord.state.in_(["pending", "running"]))
            )
        if not left:
            break
        await asyncio.sleep(0.05)
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())

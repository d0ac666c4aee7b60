"""The process's background loops: each restarts after a failure, and /healthz names those that do not run."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger("companion.loops")

# Background loops that fail restart after a delay that doubles up to this cap.
LOOP_BACKOFF_CAP_S = 30.0
# Stopping cancels a loop again this often, this many times at most (see cancel).
CANCEL_RETRY_S = 0.5
CANCEL_ATTEMPTS = 20


class Loops:
    """Named loops run for ever: a failure is logged and the loop restarts with a doubling delay."""

    def __init__(self) -> None:
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self._backing_off: set[str] = set()  # loops that failed and wait to restart

    def spawn(self, name: str, body: Callable[[], Awaitable[None]]) -> None:
        self.tasks[name] = asyncio.create_task(self._run(name, body), name=f"companion-{name}")

    def failing(self) -> list[str]:
        """The loops that ended or wait to restart."""
        return [name for name, task in self.tasks.items() if task.done() or name in self._backing_off]

    def report_dead(self) -> None:
        for task in self.tasks.values():
            if task.done() and not task.cancelled() and task.exception() is not None:
                log.error("background loop %s had died: %r", task.get_name(), task.exception())

    async def cancel(self, *names: str) -> None:
        await cancel(*(self.tasks[n] for n in names if n in self.tasks))

    async def _run(self, name: str, body: Callable[[], Awaitable[None]]) -> None:
        delay = 0.5
        while True:
            try:
                await body()
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s loop failed; restarting in %.1fs", name, delay)
                self._backing_off.add(name)  # /healthz answers 503 until it runs again
                try:
                    await asyncio.sleep(delay)
                finally:
                    self._backing_off.discard(name)
                delay = min(delay * 2, LOOP_BACKOFF_CAP_S)


async def cancel(*tasks: asyncio.Task[Any]) -> None:
    """Cancel tasks and wait until they end, cancelling again while they run on.

    redis-py 8 can swallow a cancel that lands mid-command: the task goes on as if nothing
    happened, and a single cancel would leave stop() waiting for it for ever.
    """
    pending = {t for t in tasks if not t.done()}
    for _ in range(CANCEL_ATTEMPTS):
        if not pending:
            break
        for t in pending:
            t.cancel()
        _, pending = await asyncio.wait(pending, timeout=CANCEL_RETRY_S)
    for t in tasks:
        if not t.done():
            log.error("background task %s did not stop when cancelled", t.get_name())
        elif not t.cancelled():
            t.exception()  # seen here, so asyncio does not report it as never retrieved

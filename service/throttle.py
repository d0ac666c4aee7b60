"""Log lines that could repeat without end, held to one per window.

A client that keeps sending garbage, or a session that keeps failing to tick, is logged once a window.
"""

from __future__ import annotations

import logging
import time
from typing import Any


class LogThrottle:
    """Logs one line per key per window, noting how many it held back."""

    def __init__(self, logger: logging.Logger, every_s: float) -> None:
        self._log = logger
        self._every_s = every_s
        self._last: dict[str, float] = {}
        self._held: dict[str, int] = {}

    def warning(self, key: str, msg: str, *args: Any, exc_info: bool = False) -> None:
        now = time.monotonic()
        last = self._last.get(key)
        if last is not None and now - last < self._every_s:
            self._held[key] = self._held.get(key, 0) + 1
            return
        self._last[key] = now
        held = self._held.pop(key, 0)
        suffix = f" (and {held} more like it in the last {self._every_s:.0f}s)" if held else ""
        self._log.warning(msg + suffix, *args, exc_info=exc_info)
        if len(self._last) > 10_000:  # keys are few (kinds, session ids); never a leak
            self._last.clear()

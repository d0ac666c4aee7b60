"""The ticker: what the clock makes happen, as actions (auto-start, auto-close, ping expiry, code rotation).

What is due is decided by the session's clock (`now`); how often the ticker does its chores is the
process's own affair, on the monotonic clock: a keep-alive must beat the expiry of its records,
which runs on real time, however a test moves its clock.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from datetime import datetime, timedelta

from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from core import attendance, lifecycle
from core.errors import AppError
from core.model import SessionState
from persistence.repos import sessions
from service.lifecycle import Lifecycle
from service.pings import Pings
from service.presence import KEEPALIVE_SECONDS, Presence
from service.throttle import LogThrottle
from service.unit import Unit

log = logging.getLogger("companion.ticker")

# A session whose tick fails is logged at most this often (it is retried every tick meanwhile).
TICK_FAILURE_LOG_S = 60.0


class Ticker:
    def __init__(
        self,
        unit: Unit,
        lifecycle: Lifecycle,
        pings: Pings,
        presence: Presence,
        *,
        every_s: float,
        autoclose_every_s: float,
        grace: timedelta,
        clustered: bool,
    ) -> None:
        self._u = unit
        self._lifecycle = lifecycle
        self._pings = pings
        self._presence = presence
        self._every_s = every_s
        self._autoclose_every_s = autoclose_every_s
        self._grace = grace
        self._clustered = clustered
        self._codes_shown: dict[str, str] = {}
        self._failures = LogThrottle(log, TICK_FAILURE_LOG_S)

    async def run(self) -> None:
        last_keepalive = time.monotonic()
        last_autoclose = -math.inf
        while True:
            await asyncio.sleep(self._every_s)
            tick = time.monotonic()
            autoclose = tick - last_autoclose >= self._autoclose_every_s
            await self.tick(autoclose=autoclose)
            if autoclose:
                last_autoclose = tick
            if tick - last_keepalive >= KEEPALIVE_SECONDS:
                last_keepalive = tick
                await self._presence.keep_alive(clustered=self._clustered)

    async def tick(self, *, autoclose: bool) -> None:
        """Every session whose clock may have something due: scheduled ones from the opening of check-in."""
        now = self._u.now()
        watched = await self._u.read(sessions.sessions_to_watch, starting_before=now + lifecycle.CHECKIN_OPENS_BEFORE)
        for s in watched:
            try:
                await self._tick_session(s, now, autoclose=autoclose)
            except (AppError, SQLAlchemyError, RedisError, OSError) as e:
                self._failures.warning(s.id, "ticker: session %s: %s", s.id, e)
            except Exception:
                # One session that cannot be ticked (a start in year 9999 overflows its end)
                # must not stop the others: logged, and tried again at the next tick.
                self._failures.warning(s.id, "ticker: session %s failed", s.id, exc_info=True)

    async def _tick_session(self, s: SessionState, now: datetime, *, autoclose: bool) -> None:
        store = self._u.store
        if lifecycle.due_to_start(s, now):
            await self._lifecycle.start(s.id)
        if not await store.loaded(s.id):
            if autoclose and lifecycle.due_to_close(s, now, self._grace, 0):
                await self._lifecycle.close(s.id)
            return
        await self._pings.close_due(s.id)
        await self._presence.expire(s.id)
        live = await store.session(s.id)
        if live is None:
            return
        if autoclose and lifecycle.due_to_close(live, now, self._grace, len(await store.connected(s.id))):
            await self._lifecycle.close(s.id)
            return
        if live.checkin_secret is not None:
            code = attendance.code_at(live.checkin_secret, now)
            if self._codes_shown.get(s.id) != code:
                self._codes_shown[s.id] = code
                self._u.publisher.presence_changed(s.id)  # staff screens show the new code

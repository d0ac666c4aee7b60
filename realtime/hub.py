"""The Socket.IO hub: connections, the event table, and the loops that send and tick.

Handlers are thin: parse the payload, check the role, call an action, answer the ack. Events
go out from one emitter task in commit order; presence changes and ping results are batched
(staff see them within 250 ms) so a lecture hall checking in at once costs one message per
batch for each staff screen, not one per participant.
"""

from __future__ import annotations

import asyncio
import logging
import math
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from limits import RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter
from pydantic import BaseModel
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession as DbSession
from sqlalchemy.ext.asyncio import async_sessionmaker

from core import attendance, lifecycle, payloads
from core.bounds import is_id
from core.clock import Clock, SystemClock
from core.errors import AppError, Forbidden, Invalid, NotFound, RateLimited, Unauthorized, Unavailable
from core.model import (
    CONDUCT_ROLES,
    PARTICIPANT_ONLY,
    STAFF_ROLES,
    SUPPORT_ROLES,
    Actor,
    Emit,
    iso,
    room_all,
    room_participant,
    room_participants,
    room_staff,
)
from core.settings import Settings
from persistence import repo
from persistence.identity import parse_participant_token, participant_actor, resolve
from persistence.live.base import LiveStore
from persistence.writer import Writer
from realtime import fastjson, views
from realtime.actions import CHAT_HISTORY_PAGE, Actions
from realtime.fanout import LocalManager, OrderedRedisManager, disconnect_room
from realtime.sioserver import LogThrottle, Refused, SocketServer
from realtime.transport import SWEEP_S

log = logging.getLogger("companion.hub")

# Staff see presence changes and ping results within 250 ms (contract); batching every 100 ms
# leaves room for the send itself while merging a burst of check-ins into a few messages.
BATCH_SECONDS = 0.1
# Committed events waiting for the emitter. When full, the writer waits (back-pressure): events
# are never dropped, since a dropped event is a message lost to every client.
EMIT_QUEUE_BOUND = 10_000
# How often this process tells the database its sockets are still open; after a crash they end
# where they were last known alive, so minutes present are off by at most this much.
KEEPALIVE_SECONDS = 15
# How often this process re-registers its sockets in a shared live store (within its TTL).
REFRESH_S = 8
# Background loops that fail restart after a delay that doubles up to this cap.
LOOP_BACKOFF_CAP_S = 30.0
# Stopping cancels the loops again this often, this many times at most (see _cancel).
CANCEL_RETRY_S = 0.5
CANCEL_ATTEMPTS = 20
# A session whose tick fails is logged at most this often (it is retried every tick meanwhile).
TICK_FAILURE_LOG_S = 60.0

PROCESS_ID = secrets.token_hex(8)


@dataclass(slots=True)
class Conn:
    actor: Actor
    session_id: str


Handler = Callable[[Conn, Any], Awaitable[dict[str, Any]]]


def room_token(token_id: str) -> str:
    """Every socket opened with one token (a participant's, an API token, a staff web session)."""
    return f"token:{token_id}"


def room_person(email: str) -> str:
    """Every socket of one staff member, whatever signed them in."""
    return f"staff:{email.lower()}"


@dataclass(slots=True, frozen=True)
class EventSpec:
    roles: frozenset[str] | None  # None: anyone in the session
    model: type[BaseModel]
    handler: Handler


class Hub:
    """One per process: owns the Socket.IO server, the writer and the background loops."""

    def __init__(
        self,
        settings: Settings,
        sessionmaker: async_sessionmaker[DbSession],
        store: LiveStore,
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings
        # One clock for the actions, the ticker and the views (tests hand in a fake one).
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.store = store
        self._db = sessionmaker
        clustered = settings.redis_url is not None
        self.sio = SocketServer(
            public_url=settings.public_url,
            # A client that has taken no packet for as long as the heartbeat lets a silent client
            # live is as good as gone: it is closed, reconnects and resyncs.
            max_behind_s=settings.ping_interval_s + settings.ping_timeout_s,
            charge=self._charge,
            async_mode="asgi",
            # Engine.IO lets every origin through to the connect handler, which refuses other sites
            # with a message saying why; CORS headers name only the public URL (realtime.transport).
            cors_allowed_origins="*",
            json=fastjson,
            ping_interval=settings.ping_interval_s,
            ping_timeout=settings.ping_timeout_s,
            max_http_buffer_size=settings.max_payload_bytes,
            http_compression=False,
            # Several processes: Socket.IO rooms live in each process, and events between them go
            # through Redis (JSON, not pickle). Long-polling would need every request of a client to
            # reach the same process, so a cluster speaks WebSocket only (docs/deploy.md).
            client_manager=OrderedRedisManager(settings.redis_url, channel="companion", json=fastjson)
            if clustered
            else LocalManager(),
            transports=["websocket"] if clustered else ["polling", "websocket"],
        )
        self.writer = Writer(sessionmaker, publish=self._publish, on_failure=self._forget)
        # Chat allowances belong to a person, whichever process their tabs reach: counted in the
        # live store. The event budget belongs to one socket, so this process counts it.
        limiter = MovingWindowRateLimiter(store.rate_storage())
        self._event_rate = RateLimitItemPerSecond(settings.events_per_second, 1)
        self._staff_event_rate = RateLimitItemPerSecond(settings.staff_events_per_second, 1)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self.actions = Actions(
            store=store,
            writer=self.writer,
            sessionmaker=sessionmaker,
            limiter=limiter,
            clock=self.clock,
            presence_changed=self._presence_changed,
            results_changed=self._results_changed,
            publish_now=self._send if clustered else None,
        )
        self._conns: dict[str, Conn] = {}
        self._emits: asyncio.Queue[Sequence[Emit]] = asyncio.Queue(EMIT_QUEUE_BOUND)
        self._presence_dirty: dict[str, set[str]] = {}
        self._results_dirty: dict[str, set[str]] = {}
        self._codes_shown: dict[str, str] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._backing_off: set[str] = set()  # loops that failed and wait to restart
        self._tick_failures = LogThrottle(log, TICK_FAILURE_LOG_S)
        self._stopping = False
        # Set by the app: the staff member behind a handshake's Cookie header (their web session),
        # None when it carries no session cookie.
        self.cookie_actor: Callable[[str], Awaitable[Actor | None]] | None = None
        self.events = self._event_table()
        self._register()

    # ------------------------------------------------------------ lifespan

    async def start(self) -> None:
        self.writer.start()
        if self.settings.redis_url is None:
            # The embedded default is one process: every connection still open in the database was
            # left by a process that died, and ends where it was last known alive.
            await self.writer.submit(lambda db: repo.end_stale_connections(db, alive_before=self.clock.now()))
        elif not self.sio.manager_initialized:
            # Start the fan-out listener now, not at the first socket: an event sent before it (a
            # presence batch after an HTTP roster change) would open a Redis client that the
            # listener then replaces, leaking its connections.
            self.sio.manager_initialized = True
            self.sio.manager.initialize()
        self._tasks = [
            asyncio.create_task(self._loop("emitter", self._emit_forever), name="companion-emitter"),
            asyncio.create_task(self._loop("batcher", self._batch_forever), name="companion-batcher"),
            asyncio.create_task(self._loop("ticker", self._tick_forever), name="companion-ticker"),
            asyncio.create_task(self._loop("sweeper", self._sweep_forever), name="companion-sweeper"),
        ]

    async def stop(self) -> None:
        """Stop ticking, commit what was acknowledged, send what is due, report loops that had died."""
        for task in self._tasks:
            if task.done() and not task.cancelled() and task.exception() is not None:
                log.error("background loop %s had died: %r", task.get_name(), task.exception())
        ticker, batcher, emitter, sweeper = self._tasks
        await _cancel(ticker, batcher, sweeper)
        # One write ends every socket of this process; closing them then writes nothing more.
        self._stopping = True
        await self.writer.submit(
            lambda db: repo.end_stale_connections(db, alive_before=self.clock.now(), process_id=PROCESS_ID)
        )
        await self.writer.stop()
        for conn_sid, _ in list(self.sio.manager.get_participants("/", None)):
            await self.sio.disconnect(conn_sid, ignore_queue=True)
        await self._flush_batches()
        while not self._emits.empty():
            await self._send(self._emits.get_nowait())
        await _cancel(emitter)
        await self._close_fanout()
        await self.store.close()

    async def _close_fanout(self) -> None:
        """python-socketio's Redis manager has no close of its own: end its listener and connections."""
        manager = self.sio.manager
        if not isinstance(manager, OrderedRedisManager):
            return
        listener = getattr(manager, "thread", None)
        if isinstance(listener, asyncio.Task):
            await _cancel(listener)
        if manager.pubsub is not None:
            await manager.pubsub.aclose()
        if manager.redis is not None:
            await manager.redis.aclose()

    async def health(self) -> list[str]:
        """The parts that do not answer: empty when all is well."""
        failing = []
        try:
            async with self._db() as db:
                await repo.ping_database(db)
        except (SQLAlchemyError, OSError) as e:
            log.warning("health: database: %s", e)
            failing.append("database")
        try:
            await self.store.check()
        except (RedisError, OSError) as e:
            log.warning("health: redis: %s", e)
            failing.append("redis")
        if self.writer.dead:
            failing.append("writer")
        for task in self._tasks:
            name = task.get_name().removeprefix("companion-")
            if task.done() or name in self._backing_off:
                failing.append(name)
        return failing

    async def _loop(self, name: str, body: Callable[[], Awaitable[None]]) -> None:
        """Run a background loop for ever; log and restart it with a doubling delay when it fails."""
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

    # ------------------------------------------------------------ sending

    async def _publish(self, events: Sequence[Emit]) -> None:
        await self._emits.put(events)

    def _forget(self, session_id: str) -> None:
        """A write failed: drop the live state so it is read again from the database."""
        asyncio.get_running_loop().create_task(self.store.evict(session_id))

    async def _emit_forever(self) -> None:
        while True:
            await self._send(await self._emits.get())

    async def _send(self, events: Sequence[Emit]) -> None:
        for e in events:
            try:
                await self.sio.emit(e.event, e.payload, room=e.room)
            except Exception:
                log.exception("could not send %s to %s", e.event, e.room)

    def _presence_changed(self, session_id: str, participant_id: str) -> None:
        self._presence_dirty.setdefault(session_id, set()).add(participant_id)

    def _results_changed(self, session_id: str, ping_id: str) -> None:
        self._results_dirty.setdefault(session_id, set()).add(ping_id)

    async def _batch_forever(self) -> None:
        while True:
            await asyncio.sleep(BATCH_SECONDS)
            await self._flush_batches()

    async def _flush_batches(self) -> None:
        presence, self._presence_dirty = self._presence_dirty, {}
        results, self._results_dirty = self._results_dirty, {}
        for sid, pids in presence.items():
            try:
                await self._send_presence(sid, pids)
            except Exception:
                log.exception("presence batch for %s failed", sid)
        for sid, ping_ids in results.items():
            for ping_id in ping_ids:
                try:
                    r = await self.actions.ping_results(sid, ping_id)
                    if r is not None:
                        await self.sio.emit("ping:results", r, room=room_staff(sid))
                except Exception:
                    log.exception("results of ping %s failed", ping_id)

    async def _send_presence(
        self, session_id: str, participant_ids: set[str], extra: dict[str, Any] | None = None
    ) -> None:
        state = await self.store.session(session_id)
        if state is None:
            return
        members = await self.store.members(session_id)
        connected = await self.store.connected(session_id)
        changes = [m.presence(m.id in connected) for m in members if m.id in participant_ids]
        event = {
            "changes": changes,
            "counts": views.counts(members, connected),
            **views.checkin_code(state, self.clock.now()),
        }
        await self.sio.emit("presence", event, room=room_staff(session_id))

    # ------------------------------------------------------------ the ticker

    async def _tick_forever(self) -> None:
        # What is due is decided by the session's clock (`now`); how often the ticker does its chores
        # is the process's own affair, on the monotonic clock: a refresh must beat the live store's
        # TTL, which runs on real time, however a test moves its clock.
        last_keepalive = last_refresh = time.monotonic()
        last_autoclose = -math.inf
        while True:
            await asyncio.sleep(self.settings.ticker_seconds)
            now = self.clock.now()
            tick = time.monotonic()
            autoclose = tick - last_autoclose >= self.settings.auto_close_every_s
            async with self._db() as db:
                # Scheduled sessions count from the opening of check-in: codes rotate, pings expire.
                watched = await repo.sessions_to_watch(db, starting_before=now + lifecycle.CHECKIN_OPENS_BEFORE)
            for s in watched:
                try:
                    await self._tick_session(s, now, autoclose=autoclose)
                except (AppError, SQLAlchemyError, RedisError, OSError) as e:
                    self._tick_failures.warning(s.id, "ticker: session %s: %s", s.id, e)
                except Exception:
                    # One session that cannot be ticked (a start in year 9999 overflows its end)
                    # must not stop the others: logged, and tried again at the next tick.
                    self._tick_failures.warning(s.id, "ticker: session %s failed", s.id, exc_info=True)
            if autoclose:
                last_autoclose = tick
            if tick - last_refresh >= REFRESH_S:
                last_refresh = tick
                await self._refresh_presence()
            if tick - last_keepalive >= KEEPALIVE_SECONDS:
                last_keepalive = tick
                await self._keep_alive(now)

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_S)
            await self.sio.engine.sweep()

    async def _keep_alive(self, now: datetime) -> None:
        """This process's sockets are open; in a cluster, those of processes that died end."""
        await self.writer.submit(lambda db: repo.keep_alive(db, process_id=PROCESS_ID, now=now))
        if self.settings.redis_url is not None:
            # Sockets of a process that died end where that process last said they were open.
            stale = now - timedelta(seconds=3 * KEEPALIVE_SECONDS)
            await self.writer.submit(lambda db: repo.end_stale_connections(db, alive_before=stale))

    async def _refresh_presence(self) -> None:
        """Tell the live store this process's participant sockets are still open."""
        tabs: dict[str, list[tuple[str, str]]] = {}
        for sid, conn in list(self._conns.items()):
            if conn.actor.participant_id is not None:
                tabs.setdefault(conn.session_id, []).append((conn.actor.participant_id, sid))
        for session_id, entries in tabs.items():
            await self.store.refresh(session_id, entries)

    async def _tick_session(self, s: Any, now: Any, *, autoclose: bool) -> None:
        if lifecycle.due_to_start(s, now):
            await self.actions.start(s.id)
        if not await self.store.loaded(s.id):
            if autoclose and lifecycle.due_to_close(s, now, self._grace, 0):
                await self.actions.close(s.id)
            return
        await self.actions.close_due_pings(s.id, now)
        for participant_id in await self.store.expired(s.id):
            self._presence_changed(s.id, participant_id)
        live = await self.store.session(s.id)
        if live is None:
            return
        if autoclose and lifecycle.due_to_close(live, now, self._grace, len(await self.store.connected(s.id))):
            await self.actions.close(s.id)
            return
        if live.checkin_secret is not None:
            code = attendance.code_at(live.checkin_secret, now)
            if self._codes_shown.get(s.id) != code:
                self._codes_shown[s.id] = code
                await self._send_presence(s.id, set())

    @property
    def _grace(self) -> timedelta:
        return timedelta(minutes=self.settings.auto_close_grace_minutes)

    # ------------------------------------------------------------ connections

    def _register(self) -> None:
        self.sio.on("connect", self._on_connect)
        self.sio.on("disconnect", self._on_disconnect)
        for name, spec in self.events.items():
            self.sio.on(name, self._dispatcher(name, spec))
        self.sio.on("*", self._on_unknown)

    async def _on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        try:
            conn = await self._admit(environ, auth)
        except AppError as e:
            # The one place a connect is refused: the client gets the error's code and message.
            raise Refused(e) from None
        self._conns[sid] = conn
        actor, session_id = conn.actor, conn.session_id
        # Sockets are closed through these rooms, which the server keeps itself (revocation,
        # disabling, logout): nothing a client sends takes a socket out of them but leaving.
        rooms = [room_all(session_id), room_token(actor.token_id)]
        if actor.is_staff:
            rooms.append(room_staff(session_id))
            if actor.email:
                rooms.append(room_person(actor.email))
        if actor.participant_id is not None:
            rooms += [room_participants(session_id), room_participant(actor.participant_id)]
        for room in rooms:
            await self.sio.enter_room(sid, room)
        if actor.participant_id is not None:
            await self.actions.connected(session_id, actor.participant_id, sid, PROCESS_ID)

    async def _admit(self, environ: dict[str, Any], auth: Any) -> Conn:
        """Who is connecting, to which session; an AppError says why not."""
        origin = environ.get("HTTP_ORIGIN")
        if origin is not None and origin.rstrip("/") != self.settings.public_url:
            # A page of another site must not open a socket that rides on a staff member's cookie.
            log.warning("connect refused: origin %s is not %s", origin, self.settings.public_url)
            raise Forbidden(f"origin {origin} is not allowed: open the companion from {self.settings.public_url}")
        try:
            return await self._authenticate(auth, environ.get("HTTP_COOKIE", ""))
        except (SQLAlchemyError, RedisError, OSError):
            log.exception("connect: database or redis unavailable")
            raise Unavailable("the service is unavailable; try again") from None

    async def _authenticate(self, auth: Any, cookie: str = "") -> Conn:
        if not isinstance(auth, dict):
            auth = {}
        token = auth.get("token")
        cookie_actor = None
        if not (isinstance(token, str) and token) and cookie and self.cookie_actor is not None:
            cookie_actor = await self.cookie_actor(cookie)
        if cookie_actor is not None:
            actor = cookie_actor
        elif not isinstance(token, str) or not token:
            raise Unauthorized("missing token: connect with auth {token, session}, or sign in as staff")
        elif (participant := parse_participant_token(token, self.settings.secret_key)) is not None:
            actor = await self._participant(*participant)
        else:
            async with self._db() as db:
                actor = await resolve(db, token=token, key=self.settings.secret_key)
        requested = auth.get("session")
        if requested is not None and not isinstance(requested, str):
            raise Invalid("session: must be a string")
        if actor.role == "participant":
            if requested and requested != actor.session_id:
                raise Forbidden("this token belongs to another session")
            session_id = actor.session_id
        else:
            if not requested:
                raise Invalid("missing session: staff connect with auth {token, session}")
            if not is_id(requested):
                raise NotFound("unknown session")  # no session has such an id; the database is not asked
            session_id = requested
        assert session_id is not None
        try:
            state = await self.actions.ensure_loaded(session_id)
        except NotFound:
            raise NotFound("unknown session") from None
        if not actor.may_act_in(state):
            raise Forbidden("this token may not act in that session")
        return Conn(actor=actor, session_id=session_id)

    async def _participant(self, session_id: str, participant_id: str) -> Actor:
        """A participant from the live roster: a signed token needs no query when its session is live."""
        try:
            await self.actions.ensure_loaded(session_id)
        except NotFound:
            raise Unauthorized("unknown token: its session no longer exists") from None
        member = await self.store.member(session_id, participant_id)
        if member is None:
            raise Unauthorized("unknown token: that participant is no longer on a roster")
        return participant_actor(session_id, member)

    async def _on_disconnect(self, sid: str, *_reason: Any) -> None:
        conn = self._conns.pop(sid, None)
        if conn is None or conn.actor.participant_id is None:
            return
        try:
            # While stopping, one write has already ended all of this process's sockets.
            await self.actions.disconnected(conn.session_id, conn.actor.participant_id, sid, record=not self._stopping)
        except AppError as e:
            log.warning("disconnect of %s not recorded: %s", sid, e)

    async def disconnect_token(self, token_id: str) -> None:
        """A revoked token's sockets are closed at once, in every process."""
        await disconnect_room(self.sio, room_token(token_id))

    async def disconnect_staff(self, email: str) -> None:
        """A disabled staff member's sockets are closed at once, whatever signed them in, in every process."""
        await disconnect_room(self.sio, room_person(email))

    async def _charge(self, sid: str) -> bool:
        """Spend one event of a socket's budget (staff get a roomier one); False when it is spent."""
        conn = self._conns.get(sid)
        rate = self._staff_event_rate if conn is not None and conn.actor.is_staff else self._event_rate
        return bool(await self._limiter.hit(rate, "events", sid))

    # ------------------------------------------------------------ events

    def _dispatcher(self, name: str, spec: EventSpec) -> Callable[..., Awaitable[dict[str, Any]]]:
        async def handle(sid: str, *args: Any) -> dict[str, Any]:
            try:
                conn = self._conns.get(sid)
                if conn is None:
                    raise Unavailable("not connected")
                if not await self._charge(sid):
                    rate = self._staff_event_rate if conn.actor.is_staff else self._event_rate
                    raise RateLimited(f"more than {rate.amount} events a second")
                if spec.roles is not None and conn.actor.role not in spec.roles:
                    raise Forbidden(f"a {conn.actor.role} may not send {name}")
                data = payloads.parse(spec.model, args[0] if args else None)
                return {"ok": True, **await spec.handler(conn, data)}
            except AppError as e:
                return e.ack()
            except (SQLAlchemyError, OSError) as e:
                log.warning("%s: database unavailable: %s", name, e)
                return Unavailable("the database is unavailable; try again").ack()
            except RedisError as e:
                log.warning("%s: redis unavailable: %s", name, e)
                return Unavailable("live state is unavailable; try again").ack()
            except Exception:
                log.exception("%s failed", name)
                return Unavailable("internal error").ack()

        return handle

    async def _on_unknown(self, event: str, sid: str, *args: Any) -> dict[str, Any]:
        return NotFound(f"unknown event {event}").ack()

    def _event_table(self) -> dict[str, EventSpec]:
        a = self.actions
        P = payloads

        async def clock_sync(c: Conn, p: P.ClockSync) -> dict[str, Any]:
            return {"t0": p.t0, "server": int(self.clock.now().timestamp() * 1000)}

        async def session_state(c: Conn, p: P.Empty) -> dict[str, Any]:
            state = await a.ensure_loaded(c.session_id)
            last_seq = await self.store.chat_last_seq(c.session_id)
            return await views.session_state(self.store, c.actor, state, last_seq, self.clock.now())

        async def checkin(c: Conn, p: P.Checkin) -> dict[str, Any]:
            m = await a.checkin(c.actor, c.session_id, p)
            return {"status": m.checkin_status, "at": iso(m.checked_in_at)}

        async def mark(c: Conn, p: P.Mark) -> dict[str, Any]:
            await a.mark(c.session_id, p)
            return {}

        async def ping_launch(c: Conn, p: P.PingLaunch) -> dict[str, Any]:
            ping = await a.launch_ping(c.session_id, p)
            return {"ping_id": ping.id, "closes_at": iso(ping.closes_at)}

        async def ping_answer(c: Conn, p: P.PingAnswer) -> dict[str, Any]:
            await a.answer_ping(c.actor, c.session_id, p)
            return {}

        async def ping_close(c: Conn, p: P.PingRef) -> dict[str, Any]:
            return {"results": await a.close_ping(c.session_id, p.ping_id)}

        async def help_open(c: Conn, p: P.HelpOpen) -> dict[str, Any]:
            t = await a.open_ticket(c.actor, c.session_id, p)
            return {"ticket_id": t.id, "position": t.position}

        async def help_claim(c: Conn, p: P.HelpRef) -> dict[str, Any]:
            await a.claim_ticket(c.actor, c.session_id, p.ticket_id)
            return {}

        async def help_resolve(c: Conn, p: P.HelpResolve) -> dict[str, Any]:
            await a.resolve_ticket(c.actor, c.session_id, p)
            return {}

        async def chat_send(c: Conn, p: P.ChatSend) -> dict[str, Any]:
            message_id, seq = await a.send_chat(c.actor, c.session_id, p)
            return {"id": message_id, "seq": seq}

        async def chat_history(c: Conn, p: P.ChatHistory) -> dict[str, Any]:
            messages = await a.chat_history(c.session_id, p.after_seq, CHAT_HISTORY_PAGE + 1)
            return {
                "messages": [m.view() for m in messages[:CHAT_HISTORY_PAGE]],
                "more": len(messages) > CHAT_HISTORY_PAGE,
            }

        async def session_start(c: Conn, p: P.Empty) -> dict[str, Any]:
            return {"session": (await a.start(c.session_id)).public()}

        async def session_delay(c: Conn, p: P.Delay) -> dict[str, Any]:
            return {"session": (await a.delay(c.session_id, p)).public()}

        async def session_close(c: Conn, p: P.Empty) -> dict[str, Any]:
            return {"session": (await a.close(c.session_id)).public()}

        async def platform(c: Conn, p: P.Platform) -> dict[str, Any]:
            await a.platform(c.session_id, p)
            return {}

        return {
            "clock:sync": EventSpec(None, P.ClockSync, clock_sync),
            "session:state": EventSpec(None, P.Empty, session_state),
            "attendance:checkin": EventSpec(PARTICIPANT_ONLY, P.Checkin, checkin),
            "attendance:mark": EventSpec(CONDUCT_ROLES, P.Mark, mark),
            "ping:launch": EventSpec(CONDUCT_ROLES, P.PingLaunch, ping_launch),
            "ping:answer": EventSpec(PARTICIPANT_ONLY, P.PingAnswer, ping_answer),
            "ping:close": EventSpec(CONDUCT_ROLES, P.PingRef, ping_close),
            "help:open": EventSpec(PARTICIPANT_ONLY, P.HelpOpen, help_open),
            "help:claim": EventSpec(SUPPORT_ROLES, P.HelpRef, help_claim),
            "help:resolve": EventSpec(SUPPORT_ROLES, P.HelpResolve, help_resolve),
            "chat:send": EventSpec(None, P.ChatSend, chat_send),
            "chat:history": EventSpec(None, P.ChatHistory, chat_history),
            "session:start": EventSpec(CONDUCT_ROLES, P.Empty, session_start),
            "session:delay": EventSpec(CONDUCT_ROLES, P.Delay, session_delay),
            "session:close": EventSpec(CONDUCT_ROLES, P.Empty, session_close),
            "platform:status": EventSpec(STAFF_ROLES, P.Platform, platform),
        }


async def _cancel(*tasks: asyncio.Task[Any]) -> None:
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

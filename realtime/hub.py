"""The Socket.IO side: the handshake, the event table's dispatch and ack mapping, and the sink events leave by.

Everything that changes state is the service's (service/): a handler here checks the role the
event table names, parses the payload, calls the service, and maps its answer or error to the
acknowledgement. Events come back through `send` (the service's after-commit publish path) and go
out to Socket.IO rooms, in this process and, in a cluster, through Redis to the others.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from limits import RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from core import payloads
from core.errors import AppError, Forbidden, NotFound, RateLimited, Unauthorized, Unavailable
from core.model import (
    Actor,
    article,
    room_all,
    room_participant,
    room_participants,
    room_person,
    room_staff,
    room_token,
)
from core.settings import Settings
from realtime import fastjson
from realtime.events import Conn, EventSpec, event_table
from realtime.fanout import LocalManager, OrderedRedisManager, disconnect_room
from realtime.sioserver import Refused, SocketServer
from realtime.transport import SWEEP_S
from service import metrics
from service.loops import cancel
from service.service import Service

log = logging.getLogger("companion.hub")

# How often this process re-registers its sockets in a shared live store (within its TTL).
REFRESH_S = 8
# A socket flooding events past its budget is logged once in this many seconds, not once per event.
REFUSAL_LOG_S = 10.0

CookieActor = Callable[[str], Awaitable[Actor | None]]


class Hub:
    """One per process: the Socket.IO server over the service."""

    def __init__(self, settings: Settings, service: Service, cookie_actor: CookieActor | None = None) -> None:
        self.settings = settings
        self.service = service
        # The staff member behind a handshake's Cookie header (their web session), None when it
        # carries no session cookie: the HTTP side's sessions, handed in by the app.
        self._cookie_actor = cookie_actor
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
        # The event budget belongs to one socket, so this process counts it.
        self._event_rate = RateLimitItemPerSecond(settings.events_per_second, 1)
        self._staff_event_rate = RateLimitItemPerSecond(settings.staff_events_per_second, 1)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._conns: dict[str, Conn] = {}
        self._rate_logged: dict[str, float] = {}  # socket -> when its rate limiting was last logged
        self.events = event_table(service)
        self._register()
        service.attach(self)

    # ------------------------------------------------------------ the sink of the service's publish path

    async def send(self, event: str, payload: dict[str, Any], room: str) -> None:
        await self.sio.emit(event, payload, room=room)

    async def disconnect(self, room: str) -> None:
        """Close every socket in the room, in every process."""
        await disconnect_room(self.sio, room)

    # ------------------------------------------------------------ lifespan

    async def start(self) -> None:
        if self.settings.redis_url is not None and not self.sio.manager_initialized:
            # Start the fan-out listener now, not at the first socket: an event sent before it (a
            # presence batch after an HTTP roster change) would open a Redis client that the
            # listener then replaces, leaking its connections.
            self.sio.manager_initialized = True
            self.sio.manager.initialize()
        self.service.loops.spawn("sweeper", self._sweep_forever)
        self.service.loops.spawn("refresher", self._refresh_forever)

    async def stop(self) -> None:
        """Close every socket of this process (the service has already ended them on record)."""
        await self.service.loops.cancel("sweeper", "refresher")
        for conn_sid, _ in list(self.sio.manager.get_participants("/", None)):
            await self.sio.disconnect(conn_sid, ignore_queue=True)

    async def close(self) -> None:
        """python-socketio's Redis manager has no close of its own: end its listener and connections."""
        manager = self.sio.manager
        if not isinstance(manager, OrderedRedisManager):
            return
        listener = getattr(manager, "thread", None)
        if isinstance(listener, asyncio.Task):
            await cancel(listener)
        if manager.pubsub is not None:
            await manager.pubsub.aclose()
        if manager.redis is not None:
            await manager.redis.aclose()

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_S)
            await self.sio.engine.sweep()

    async def _refresh_forever(self) -> None:
        """Tell the live store this process's participant sockets are still open."""
        while True:
            await asyncio.sleep(REFRESH_S)
            tabs: dict[str, list[tuple[str, str]]] = {}
            for sid, conn in list(self._conns.items()):
                if conn.actor.participant_id is not None:
                    tabs.setdefault(conn.session_id, []).append((conn.actor.participant_id, sid))
            await self.service.presence.refresh(tabs)

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
            metrics.EVENTS.labels("connect", e.code).inc()
            log.info("connect refused: %s: %s", e.code, e.message, extra={"fields": {"event": "connect",
                     "connection_id": sid, "code": e.code, "session_id": _requested(auth)}})  # fmt: skip
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
            await self.service.presence.connected(session_id, actor.participant_id, sid)
        metrics.EVENTS.labels("connect", "ok").inc()
        metrics.CONNECTIONS.labels(actor.role).inc()

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
        has_token = isinstance(token, str) and bool(token)
        actor = None
        if not has_token and cookie and self._cookie_actor is not None:
            actor = await self._cookie_actor(cookie)
        if actor is None:
            if not has_token:
                raise Unauthorized("missing token: connect with auth {token, session}, or sign in as staff")
            actor = await self.service.access.socket_actor(token)
        state = await self.service.access.session_for(actor, auth.get("session"))
        return Conn(actor=actor, session_id=state.id)

    async def _on_disconnect(self, sid: str, *_reason: Any) -> None:
        conn = self._conns.pop(sid, None)
        self._rate_logged.pop(sid, None)
        if conn is not None:
            metrics.CONNECTIONS.labels(conn.actor.role).dec()
        if conn is None or conn.actor.participant_id is None:
            return
        try:
            await self.service.presence.disconnected(conn.session_id, conn.actor.participant_id, sid)
        except AppError as e:
            log.warning("disconnect of %s not recorded: %s", sid, e, extra={"fields": {"connection_id": sid}})

    async def _charge(self, sid: str) -> bool:
        """Spend one event of a socket's budget (staff get a roomier one); False when it is spent."""
        conn = self._conns.get(sid)
        rate = self._staff_event_rate if conn is not None and conn.actor.is_staff else self._event_rate
        return bool(await self._limiter.hit(rate, "events", sid))

    # ------------------------------------------------------------ events

    def _dispatcher(self, name: str, spec: EventSpec) -> Callable[..., Awaitable[dict[str, Any]]]:
        events, ack_seconds = metrics.EVENTS, metrics.ACK_SECONDS.labels(name)

        async def handle(sid: str, *args: Any) -> dict[str, Any]:
            started = time.perf_counter()
            answer = await self._answer(name, spec, sid, args)
            ack_seconds.observe(time.perf_counter() - started)
            outcome = "ok" if answer.get("ok") is True else str(answer["error"]["code"])
            events.labels(name, outcome).inc()
            if outcome != "ok":
                self._log_refusal(name, sid, outcome, answer["error"].get("message", ""))
            return answer

        return handle

    async def _answer(self, name: str, spec: EventSpec, sid: str, args: tuple[Any, ...]) -> dict[str, Any]:
        try:
            conn = self._conns.get(sid)
            if conn is None:
                raise Unavailable("not connected")
            if not await self._charge(sid):
                rate = self._staff_event_rate if conn.actor.is_staff else self._event_rate
                raise RateLimited(f"more than {rate.amount} events a second")
            if spec.roles is not None and conn.actor.role not in spec.roles:
                raise Forbidden(f"{article(conn.actor.role)} may not send {name}")
            data = payloads.parse(spec.model, args[0] if args else None)
            return {"ok": True, **await spec.handler(conn, data)}
        except AppError as e:
            return e.ack()
        except (SQLAlchemyError, OSError) as e:
            log.warning("%s: database unavailable: %s", name, e, extra=self._fields(sid, name))
            return Unavailable("the database is unavailable; try again").ack()
        except RedisError as e:
            log.warning("%s: redis unavailable: %s", name, e, extra=self._fields(sid, name))
            return Unavailable("live state is unavailable; try again").ack()
        except Exception:
            log.exception("%s failed", name, extra=self._fields(sid, name))
            return Unavailable("internal error").ack()

    def _fields(self, sid: str, event: str, **more: Any) -> dict[str, Any]:
        """A log record's fields (server/logs.py): the event, the connection, its session and role."""
        conn = self._conns.get(sid)
        fields = {"event": event, "connection_id": sid, **more}
        if conn is not None:
            fields |= {"session_id": conn.session_id, "role": conn.actor.role}
        return {"fields": fields}

    def _log_refusal(self, name: str, sid: str, code: str, message: str) -> None:
        """One INFO line per refused event; a socket over its budget says so once per REFUSAL_LOG_S, not per event."""
        if code == "rate_limited":
            now = time.monotonic()
            if now - self._rate_logged.get(sid, -REFUSAL_LOG_S) < REFUSAL_LOG_S:
                return
            self._rate_logged[sid] = now
        log.info("%s refused: %s: %s", name, code, message, extra=self._fields(sid, name, code=code))

    async def _on_unknown(self, event: str, sid: str, *args: Any) -> dict[str, Any]:
        metrics.EVENTS.labels("unknown", "not_found").inc()  # not by its name: a client may send any
        self._log_refusal("unknown", sid, "not_found", f"unknown event {event[:100]!r}")
        return NotFound(f"unknown event {event}").ack()


def _requested(auth: Any) -> str | None:
    """The session a refused handshake asked for, if it named one (a string, cut short), for the log."""
    session = auth.get("session") if isinstance(auth, dict) else None
    return session[:64] if isinstance(session, str) else None

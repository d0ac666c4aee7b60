"""The Engine.IO side of a socket: a bounded send queue, frames checked on arrival, CORS for one origin.

Engine.IO gives each socket an unbounded queue of packets to send and a writer task that hands
them to the WebSocket. A client that stops reading blocks that writer once the kernel's buffers
are full, and everything sent to it afterwards waits in the queue: a chat message to a class
adds one packet to each stalled socket, for as long as the heartbeat lets it live (and a client
that answers pings blindly without reading keeps it alive). Here the queue records when each
packet arrived and how much it holds, and a socket that falls too far behind is closed at the
transport, so its client reconnects and resyncs from a snapshot instead of reading stale events.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

import engineio
from engineio.async_drivers import asgi as asgi_driver

from service import metrics

log = logging.getLogger("companion.transport")

# A socket whose send queue holds this many packets, or this many characters of them, is closed.
# A healthy client drains its queue as fast as events come: the kernel's buffers (megabytes on a
# fast link) absorb a slow moment before anything waits here. The benchmark's class sends each
# client about 10 chat messages a second, so 2,000 packets is minutes of a busy class, far more
# than a browser ever lags by; 8 MiB bounds what one stalled socket holds whatever the packets'
# sizes (a staff snapshot of a large roster is a few hundred KB).
SEND_QUEUE_PACKETS = 2_000
SEND_QUEUE_CHARS = 8 * 1024 * 1024
# Closed sockets are looked for this often, so a socket that stalls while nothing more is sent to
# it is closed too (a full queue is also noticed at the next packet sent to it).
SWEEP_S = 5.0
# Engine.IO packet types a client may send over a WebSocket: close, ping (the upgrade probe),
# pong, message, upgrade, noop. Anything else cannot be decoded, or is ignored without a trace.
CLIENT_FRAME_TYPES = frozenset("123456")


class SendQueue(asyncio.Queue[Any]):
    """Engine.IO's send queue, noting when each packet arrived and how many characters it holds.

    Never blocks a sender: the overflow policy is to close the socket (see EngineServer), since
    waiting would hold up the fan-out to every other client, and dropping packets silently would
    leave a client with a hole in its events.
    """

    def _init(self, maxsize: int) -> None:
        self._queue: deque[tuple[float, int, Any]] = deque()
        self.chars = 0
        self.dropping = False

    def _put(self, item: Any) -> None:
        data = getattr(item, "data", None)
        size = len(data) if isinstance(data, str | bytes) else 0
        self.chars += size
        self._queue.append((time.monotonic(), size, item))

    def _get(self) -> Any:
        _, size, item = self._queue.popleft()
        self.chars -= size
        return item

    def behind(self, now: float, max_age_s: float) -> str | None:
        """Why this queue is too far behind, or None."""
        if not self._queue:
            return None
        if len(self._queue) >= SEND_QUEUE_PACKETS:
            return f"{len(self._queue)} packets waiting"
        if self.chars >= SEND_QUEUE_CHARS:
            return f"{self.chars} characters waiting"
        age = now - self._queue[0][0]
        if age >= max_age_s:
            return f"a packet waiting for {age:.0f}s"
        return None

    def discard(self) -> None:
        """Forget every waiting packet: the client will resync on reconnect."""
        while not self.empty():
            self.get_nowait()
            self.task_done()


class GuardedWebSocket(asgi_driver.WebSocket):  # type: ignore[misc]
    """Engine.IO's ASGI WebSocket, skipping frames Engine.IO cannot decode and able to abort."""

    def __init__(self, handler: Any, server: EngineServer) -> None:
        super().__init__(handler, server)
        self.server = server
        # The handler is the socket's bound method: its socket names the Engine.IO session.
        self.sid: str | None = getattr(getattr(handler, "__self__", None), "sid", None)

    async def __call__(self, environ: dict[str, Any]) -> Any:
        if self.sid is not None:
            self.server.live_websockets[self.sid] = self
        try:
            return await super().__call__(environ)
        finally:
            if self.sid is not None and self.server.live_websockets.get(self.sid) is self:
                del self.server.live_websockets[self.sid]

    async def wait(self) -> Any:
        while True:
            data = await super().wait()
            socket = self.server.sockets.get(self.sid) if self.sid is not None else None
            if self.sid is not None and (socket is None or socket.closed):
                # Engine.IO reads on after a socket is closed (a client's CLOSE packet, a drop):
                # what such a client sends next has nobody to go to, so the connection ends here.
                return None
            if not isinstance(data, str) or data[:1] in CLIENT_FRAME_TYPES:
                return data  # binary frames are refused a layer up, by the Socket.IO server
            # Engine.IO would raise out of its reading loop, leaving the socket half closed.
            if self.sid is None or not await self.server.malformed(self.sid, "undecodable Engine.IO frame"):
                return None  # ends the reading loop as if the client had closed

    def abort(self) -> bool:
        """Drop the TCP connection at once, unsent data and all; False when the server has no way to."""
        # uvicorn hands its protocol's own bound `send` to the app: its transport is the connection.
        # A close frame would wait behind the unsent data of a client that does not read.
        transport = getattr(getattr(self.asgi_send, "__self__", None), "transport", None)
        abort = getattr(transport, "abort", None)
        if not callable(abort):
            return False
        abort()
        return True


class EngineServer(engineio.AsyncServer):  # type: ignore[misc]
    """Engine.IO with bounded send queues, checked frames, and CORS headers for the public origin only."""

    def __init__(self, *, public_url: str, max_behind_s: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.public_url = public_url
        self.max_behind_s = max_behind_s
        # Per instance: the driver's table is shared by every server of the process.
        self._async: dict[str, Any] = {**self._async, "websocket": GuardedWebSocket}
        self.live_websockets: dict[str, GuardedWebSocket] = {}
        # Set by the Socket.IO server: counts a malformed packet, answers False once the socket is closed.
        self.malformed: Callable[[str, str], Awaitable[bool]] = _keep_open
        self._closing: set[asyncio.Task[None]] = set()

    def create_queue(self, *args: Any, **kwargs: Any) -> Any:
        if args or kwargs:
            return super().create_queue(*args, **kwargs)
        return SendQueue()

    def _cors_headers(self, environ: dict[str, Any]) -> list[tuple[str, str]]:
        # Credentials are allowed, so the origin is echoed only for the companion's own pages.
        origin = environ.get("HTTP_ORIGIN")
        if origin is None or origin.rstrip("/") != self.public_url:
            return []
        headers: list[tuple[str, str]] = super()._cors_headers(environ)
        return headers

    async def send_packet(self, sid: str, pkt: Any) -> None:
        socket = self.sockets.get(sid)
        queue = getattr(socket, "queue", None)
        if isinstance(queue, SendQueue):
            if queue.dropping:
                return
            why = queue.behind(time.monotonic(), self.max_behind_s)
            if why is not None:
                # Closing runs the disconnect handlers (a database write): not in the fan-out's way.
                queue.dropping = True
                task = asyncio.get_running_loop().create_task(self.drop(sid, f"too far behind: {why}"))
                self._closing.add(task)
                task.add_done_callback(self._closing.discard)
                return
        await super().send_packet(sid, pkt)

    async def sweep(self) -> None:
        """Close every socket that is too far behind, whether or not anything more is sent to it.

        On the way, the send queues' depths for /metrics: packets waiting in all, and in the longest.
        """
        now = time.monotonic()
        waiting = longest = 0
        for sid, socket in list(self.sockets.items()):
            queue = socket.queue
            if isinstance(queue, SendQueue) and not socket.closed:
                depth = queue.qsize()
                waiting += depth
                longest = max(longest, depth)
                why = queue.behind(now, self.max_behind_s)
                if why is not None:
                    await self.drop(sid, f"too far behind: {why}")
        metrics.SEND_QUEUE_PACKETS.set(waiting)
        metrics.SEND_QUEUE_MAX.set(longest)

    async def drop(self, sid: str, reason: str) -> None:
        """Close a socket at the transport: its waiting packets go, its client sees the connection end."""
        socket = self.sockets.get(sid)
        if socket is None or socket.closed:
            return
        log.warning("closing socket %s: %s", sid, reason, extra={"fields": {"connection_id": sid}})
        metrics.SOCKETS_DROPPED.labels("behind" if reason.startswith("too far behind") else "malformed").inc()
        queue = socket.queue
        if isinstance(queue, SendQueue):
            queue.dropping = True
            queue.discard()
        # abort=True: no CLOSE packet, it would only wait behind what the client is not reading.
        await socket.close(wait=False, abort=True, reason=self.reason.SERVER_DISCONNECT)
        ws = self.live_websockets.get(sid)
        if ws is None or not ws.abort():
            socket.queue.put_nowait(None)  # the writer ends when its send returns, or a poll ends


async def _keep_open(sid: str, what: str) -> bool:
    return True

"""Fan-out between processes: python-socketio's Redis manager, with one delivery order for all.

The stock manager delivers an event to its own process's clients at once and publishes it for
the others. Two processes that emit one after the other (under a session's lock) can then be seen
in different orders: a process may deliver its own newer event before the older one it has not
yet read from Redis. Here every event is delivered from the Redis channel, the sender's own
process included, so every process delivers in the one order Redis received them (chat `seq`).
"""

from __future__ import annotations

from typing import Any

import socketio


class OrderedRedisManager(socketio.AsyncRedisManager):  # type: ignore[misc]
    """AsyncRedisManager whose emits all go through Redis, so every process sees one order."""

    def _redis_connect(self) -> None:
        # The stock manager makes a new client each time and drops the old one unclosed: a publish
        # before the first socket connects (which starts the listener) would leak its connection.
        # One client serves both; its pool reconnects by itself.
        if self.redis is None:
            super()._redis_connect()
            return
        self.pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        self.connected = True

    async def emit(
        self,
        event: str,
        data: Any,
        namespace: str | None = None,
        room: str | None = None,
        skip_sid: Any = None,
        callback: Any = None,
        to: str | None = None,
        **kwargs: Any,
    ) -> None:
        if kwargs.get("ignore_queue") or callback is not None:
            await super().emit(
                event, data, namespace=namespace, room=to or room, skip_sid=skip_sid, callback=callback, to=to, **kwargs
            )
            return
        await self._publish(
            {
                "method": "emit",
                "event": event,
                "data": [data],
                "binary": False,
                "namespace": namespace or "/",
                "room": to or room,
                "skip_sid": skip_sid,
                "callback": None,
                # No host id: the sender's own listener delivers it too, in channel order.
                "host_id": None,
            }
        )

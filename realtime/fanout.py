"""Fan-out: sending one event to a room, in this process and between processes.

Two changes to python-socketio's managers, both small:
- A broadcast is encoded once and handed to each recipient's socket in turn. The stock manager
  starts one task per recipient and waits for them all: for a class of 2,000 that is 2,000 tasks
  per chat message, where handing the packet over never waits (the socket queues it).
- Closing every socket of a room (a revoked token, a disabled person) reaches every process: the
  stock managers only disconnect one socket by its id, and rooms exist only inside each process.
- Between processes, every event is delivered from the Redis channel, the sender's own process
  included. The stock Redis manager delivers to its own clients at once and publishes for the
  others; two processes that emit one after the other (under a session's lock) could then be seen
  in different orders, a process delivering its own newer event before an older one it has not
  read from Redis yet. Through the channel, every process delivers in the one order Redis
  received them (chat `seq`).
"""

from __future__ import annotations

from typing import Any

import socketio
from engineio import packet as eio_packet
from socketio import packet


async def deliver(
    manager: socketio.AsyncManager, event: str, data: Any, namespace: str, room: str | None, skip_sid: Any
) -> None:
    """Send to this process's clients in room: the packet is encoded once for all of them."""
    if namespace not in manager.rooms:
        return
    args = list(data) if isinstance(data, tuple) else ([] if data is None else [data])
    encoded = manager.server.packet_class(packet.EVENT, namespace=namespace, data=[event, *args]).encode()
    eio_pkts = [eio_packet.Packet(eio_packet.MESSAGE, p) for p in (encoded if isinstance(encoded, list) else [encoded])]
    skip = skip_sid if isinstance(skip_sid, list) else [skip_sid]
    for sid, eio_sid in list(manager.get_participants(namespace, room)):
        if sid in skip:
            continue
        for p in eio_pkts:
            await manager.server._send_eio_packet(eio_sid, p)


async def disconnect_room(server: socketio.AsyncServer, room: str, namespace: str = "/") -> None:
    """Disconnect every socket in room, in this process at once and in the others through Redis."""
    await _disconnect_local(server, room, namespace)
    manager = server.manager
    if isinstance(manager, OrderedRedisManager):
        message = {"method": "close_room", "disconnect": True, "room": room, "namespace": namespace}
        await manager._publish({**message, "host_id": manager.host_id})


async def _disconnect_local(server: socketio.AsyncServer, room: str, namespace: str) -> None:
    for sid, _ in list(server.manager.get_participants(namespace, room)):
        await server.disconnect(sid, namespace, ignore_queue=True)


class LocalManager(socketio.AsyncManager):  # type: ignore[misc]
    """The in-process manager, sending each broadcast without a task per recipient."""

    async def emit(
        self,
        event: str,
        data: Any,
        namespace: str,
        room: str | None = None,
        skip_sid: Any = None,
        callback: Any = None,
        to: str | None = None,
        **kwargs: Any,
    ) -> None:
        if callback is not None:
            await super().emit(event, data, namespace, room=room, skip_sid=skip_sid, callback=callback, to=to)
            return
        await deliver(self, event, data, namespace, to or room, skip_sid)


class OrderedRedisManager(socketio.AsyncRedisManager):  # type: ignore[misc]
    """AsyncRedisManager whose emits all go through Redis, so every process sees one order."""

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

    async def _handle_emit(self, message: dict[str, Any]) -> None:
        if message.get("callback") is not None or message.get("binary"):
            await super()._handle_emit(message)
            return
        data = message["data"]
        await deliver(
            self,
            message["event"],
            data[0] if len(data) == 1 else tuple(data),
            message.get("namespace") or "/",
            message.get("room"),
            message.get("skip_sid"),
        )

    async def _handle_close_room(self, message: dict[str, Any]) -> None:
        # disconnect_room's message from another process rides on close_room, which every
        # listener already dispatches; a plain close_room keeps its meaning.
        if message.get("disconnect"):
            await _disconnect_local(self.server, message.get("room") or "", message.get("namespace") or "/")
            return
        await super()._handle_close_room(message)

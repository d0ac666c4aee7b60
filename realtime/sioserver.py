"""The Socket.IO server: every packet a client sends is checked here before anything acts on it.

python-socketio dispatches whatever a client sends: an event named `connect` or `disconnect`
runs the real connect and disconnect handlers, a binary event waits for as many attachments as
it declares (keeping every later frame), and a packet it cannot decode raises out of its handler
with a traceback and no answer. This server decodes each packet once and lets through only what
the app uses: CONNECT (once per namespace), DISCONNECT, and EVENT with a string name that is not
reserved. Reserved or badly typed events are answered `invalid` when they carry an ack id;
anything else malformed is counted, logged at most once per window, charged to the socket's
event budget, and the socket is closed after a few. The app sends and accepts no binary data:
a binary packet closes the socket.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

import socketio
from socketio import packet

from core.errors import AppError, Invalid, RateLimited
from realtime.transport import EngineServer
from service.throttle import LogThrottle

log = logging.getLogger("companion.socket")

# Names the Socket.IO protocol keeps for itself (socket.io's RESERVED_EVENTS): a client that
# sends them as events is not connecting or leaving, and no handler hears them.
RESERVED_EVENTS = frozenset(
    {"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"}
)
# python-socketio's name for its catch-all handler: an event of that name would call it directly,
# with the sid where the event name belongs.
CATCH_ALL = "*"
# Malformed packets a socket may send before it is closed: a buggy client learns from the
# warnings, a fuzzer or a flood is cut off after a handful.
MALFORMED_LIMIT = 5
# One warning per kind of abuse per window for the whole process, with the count it stands for:
# 2,000 bad frames a second must not become 2,000 log lines.
WARN_EVERY_S = 10.0
# An event's ack id, read from a packet that does not decode, so that it can still be answered.
_EVENT_ID = re.compile(r"2(/[^,]*,)?(\d{1,15})")


def refusal(error: AppError) -> dict[str, Any]:
    """A refused connect's CONNECT_ERROR data: the error's code and message (docs/protocol.md, Refusals).

    The code is there twice: at the top for any Socket.IO client, and under `data`, which is all the
    Socket.IO JavaScript client hands a page besides the message (as `err.data`).
    """
    return {"message": error.message, "code": error.code, "data": {"code": error.code}}


class Refused(socketio.exceptions.ConnectionRefusedError):  # type: ignore[misc]
    """Raised by a connect handler: python-socketio sends `error_args` as the CONNECT_ERROR data."""

    def __init__(self, error: AppError) -> None:
        super().__init__(error.message)
        self.error_args = refusal(error)


class TextPacket(packet.Packet):  # type: ignore[misc]
    """Socket.IO packets without binary attachments: nothing is scanned for bytes on the way out."""

    uses_binary_events = False


async def _allow(key: str) -> bool:
    return True


class SocketServer(socketio.AsyncServer):  # type: ignore[misc]
    """AsyncServer that checks each client packet at the packet layer (see the module docstring)."""

    def __init__(
        self,
        *,
        public_url: str,
        max_behind_s: float,
        charge: Callable[[str], Awaitable[bool]] = _allow,
        **kwargs: Any,
    ) -> None:
        self._public_url = public_url
        self._max_behind_s = max_behind_s
        # charge(sid) spends one event of the socket's budget; False when it is spent.
        self.charge = charge
        self._strikes: dict[str, int] = {}
        self.warnings = LogThrottle(log, WARN_EVERY_S)
        super().__init__(serializer=TextPacket, **kwargs)
        self.eio.malformed = self._malformed_frame

    def _engineio_server_class(self) -> Any:
        return functools.partial(EngineServer, public_url=self._public_url, max_behind_s=self._max_behind_s)

    @property
    def engine(self) -> EngineServer:
        eio: EngineServer = self.eio
        return eio

    async def _handle_eio_message(self, eio_sid: str, data: Any) -> None:
        if eio_sid not in self.environ:
            # A frame that was already read when its socket was closed (for a binary frame, say):
            # the socket is gone, and there is nobody to answer.
            return
        if not isinstance(data, str):
            await self._refuse(eio_sid, "binary frame")
            return
        kind = data[:1]
        if kind in ("5", "6"):
            await self._refuse(eio_sid, "binary packet")
            return
        try:
            pkt = self.packet_class(encoded_packet=data)
        except (ValueError, TypeError, RecursionError) as e:
            await self._malformed(eio_sid, f"undecodable packet ({e})", data)
            return
        namespace = pkt.namespace or "/"
        if pkt.packet_type == packet.EVENT:
            await self._event(eio_sid, pkt, namespace)
        elif pkt.packet_type == packet.CONNECT:
            if self.manager.sid_from_eio_sid(eio_sid, namespace) is not None:
                await self._malformed(eio_sid, "second CONNECT", data)
            elif not await self.charge(eio_sid):
                await self._connect_error(eio_sid, pkt.namespace, RateLimited("too many connect attempts"))
            else:
                await self._handle_connect(eio_sid, pkt.namespace, pkt.data)
        elif pkt.packet_type == packet.DISCONNECT:
            await self._handle_disconnect(eio_sid, pkt.namespace, self.reason.CLIENT_DISCONNECT)
        else:
            # ACK (the server asks clients for none), CONNECT_ERROR, or no type at all.
            await self._malformed(eio_sid, f"unexpected packet type {pkt.packet_type!r}", data)

    async def _event(self, eio_sid: str, pkt: Any, namespace: str) -> None:
        sid = self.manager.sid_from_eio_sid(eio_sid, namespace)
        data = pkt.data
        if sid is None or not self.manager.is_connected(sid, namespace):
            await self._malformed(eio_sid, "event before connecting", None)
        elif not isinstance(data, list) or not data or not isinstance(data[0], str):
            await self._malformed(eio_sid, "event without a string name", None, namespace=namespace, ack_id=pkt.id)
        elif data[0] in RESERVED_EVENTS or data[0] == CATCH_ALL:
            self.warnings.warning("reserved", "socket %s sent the reserved event %r", sid, data[0])
            error: AppError = Invalid(f"{data[0]} is a reserved name, not an event")
            if not await self.charge(sid):
                error = RateLimited("too many events")
            await self._answer(eio_sid, namespace, pkt.id, error)
        else:
            await self._handle_event(eio_sid, pkt.namespace, pkt.id, data)

    async def _malformed(
        self, eio_sid: str, what: str, raw: str | None, *, namespace: str | None = None, ack_id: int | None = None
    ) -> None:
        """Count a malformed packet: answered when it can be, closed after MALFORMED_LIMIT."""
        if raw is not None and namespace is None and (m := _EVENT_ID.match(raw)):
            namespace, ack_id = (m.group(1)[:-1] if m.group(1) else "/"), int(m.group(2))
        if not await self._malformed_frame(eio_sid, what):
            return
        if raw is not None and raw.startswith("0"):
            # A CONNECT that does not decode: the protocol's answer to a connect that failed.
            await self._connect_error(eio_sid, None, Invalid("malformed CONNECT packet"))
        elif ack_id is not None and namespace is not None and self.manager.sid_from_eio_sid(eio_sid, namespace):
            await self._answer(eio_sid, namespace, ack_id, Invalid(f"malformed packet: {what}"))

    async def _malformed_frame(self, eio_sid: str, what: str) -> bool:
        """Log (throttled), charge and count one malformed frame; False once the socket is closed for it."""
        if eio_sid not in self.environ:
            return False  # already gone: counting it would only keep a key for a socket that left
        strikes = self._strikes[eio_sid] = self._strikes.get(eio_sid, 0) + 1
        self.warnings.warning("malformed", "socket %s sent a malformed packet: %s", eio_sid, what)
        await self.charge(self.manager.sid_from_eio_sid(eio_sid, "/") or eio_sid)
        if strikes >= MALFORMED_LIMIT:
            await self.engine.drop(eio_sid, f"{strikes} malformed packets")
            return False
        return True

    async def _refuse(self, eio_sid: str, what: str) -> None:
        self.warnings.warning("binary", "socket %s sent a %s: binary data is not accepted", eio_sid, what)
        await self.engine.drop(eio_sid, what)

    async def _answer(self, eio_sid: str, namespace: str, ack_id: int | None, error: AppError) -> None:
        if ack_id is not None:
            await self._send_packet(
                eio_sid, self.packet_class(packet.ACK, namespace=namespace, id=ack_id, data=[error.ack()])
            )

    async def _connect_error(self, eio_sid: str, namespace: str | None, error: AppError) -> None:
        await self._send_packet(
            eio_sid, self.packet_class(packet.CONNECT_ERROR, data=refusal(error), namespace=namespace)
        )

    async def _handle_eio_disconnect(self, eio_sid: str, reason: Any) -> None:
        self._strikes.pop(eio_sid, None)
        await super()._handle_eio_disconnect(eio_sid, reason)

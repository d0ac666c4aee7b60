"""A real SMTP server for tests (aiosmtpd on a free local port): it keeps what it accepts, or refuses on demand.

Behaviours: `accept`; `refuse_transient` (451 at DATA); `refuse_permanent` (550 at DATA); `fail_next(n, b)`
gives the next n messages behaviour b, then the standing one again.

`delay` (seconds, default 0) makes it a slow mail server: each message is answered `delay` after the one
before it at the earliest (one at a time, as a single-threaded MTA would), so mails arrive as a steady
stream rather than a burst. A client that goes away while its message waits does not have it kept.
`received()` gives each kept message with the wall-clock time (time.time()) it was accepted; `count()` and
`message_ids()` are cheap enough to poll.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
import threading
import time
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.support import free_port

_MESSAGE_ID = re.compile(rb"^Message-ID:[ \t]*(<[^>\r\n]+>)", re.IGNORECASE | re.MULTILINE)
_REPLIES = {"refuse_transient": "451 4.3.0 try again later", "refuse_permanent": "550 5.7.1 refused"}


class FakeSmtp:
    def __init__(self, *, delay: float = 0.0, port: int | None = None) -> None:
        self.port = port or free_port()
        self.behaviour = "accept"
        self.delay = delay
        self._next: list[str] = []
        self.refusals = 0  # DATA commands answered with a refusal
        self._raw: list[bytes] = []
        self._at: list[float] = []
        self._lock = threading.Lock()
        self._slow: asyncio.Lock | None = None  # made on the server's loop, the first time it is needed
        # aiosmtpd's default limit (33 MiB) and timeouts; many clients at once are fine (one task each).
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()

    def fail_next(self, n: int, behaviour: str) -> None:
        with self._lock:
            self._next = [behaviour] * n

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.delay > 0:
            if self._slow is None:
                self._slow = asyncio.Lock()
            async with self._slow:  # cancelled (aiosmtpd does so) when the client goes away meanwhile
                await asyncio.sleep(self.delay)
        with self._lock:
            behaviour = self._next.pop(0) if self._next else self.behaviour
            if behaviour in _REPLIES:
                self.refusals += 1
                return _REPLIES[behaviour]
            self._raw.append(bytes(envelope.original_content or envelope.content))
            self._at.append(time.time())
        return "250 OK"

    def count(self) -> int:
        """How many messages it has kept so far (cheap: nothing is parsed)."""
        with self._lock:
            return len(self._raw)

    def message_ids(self) -> list[str]:
        """The Message-ID of each kept message, in the order they came (cheap: only the header is searched)."""
        with self._lock:
            raw = list(self._raw)
        found = (_MESSAGE_ID.search(r.split(b"\r\n\r\n", 1)[0]) for r in raw)
        return [m.group(1).decode() if m else "" for m in found]

    def messages(self) -> list[EmailMessage]:
        with self._lock:
            raw = list(self._raw)
        return [email.message_from_bytes(r, policy=email.policy.default) for r in raw]  # type: ignore[misc]

    def received(self) -> list[tuple[float, EmailMessage]]:
        """Each kept message with the time.time() it was accepted at, in the order they came."""
        with self._lock:
            raw, at = list(self._raw), list(self._at)
        return [(t, email.message_from_bytes(r, policy=email.policy.default)) for t, r in zip(at, raw, strict=True)]

    def wait_for(self, count: int, timeout: float) -> list[EmailMessage]:
        """The messages once there are `count` of them (or whatever came within `timeout` seconds)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self._raw) >= count:
                    break
            time.sleep(0.02)
        return self.messages()


@pytest.fixture
def smtp_server() -> Iterator[FakeSmtp]:
    server = FakeSmtp()
    server.start()
    try:
        yield server
    finally:
        server.stop()

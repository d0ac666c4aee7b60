"""A real SMTP server for tests (aiosmtpd on a free local port): it keeps what it accepts, or refuses on demand.

Behaviours: `accept`; `refuse_transient` (451 at DATA); `refuse_permanent` (550 at DATA); `fail_next(n, b)`
gives the next n messages behaviour b, then the standing one again.
"""

from __future__ import annotations

import email
import email.policy
import threading
import time
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.support import free_port

_REPLIES = {"refuse_transient": "451 4.3.0 try again later", "refuse_permanent": "550 5.7.1 refused"}


class FakeSmtp:
    def __init__(self) -> None:
        self.port = free_port()
        self.behaviour = "accept"
        self._next: list[str] = []
        self._raw: list[bytes] = []
        self._lock = threading.Lock()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()

    def fail_next(self, n: int, behaviour: str) -> None:
        with self._lock:
            self._next = [behaviour] * n

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            behaviour = self._next.pop(0) if self._next else self.behaviour
            if behaviour in _REPLIES:
                return _REPLIES[behaviour]
            self._raw.append(bytes(envelope.original_content or envelope.content))
        return "250 OK"

    def messages(self) -> list[EmailMessage]:
        with self._lock:
            raw = list(self._raw)
        return [email.message_from_bytes(r, policy=email.policy.default) for r in raw]  # type: ignore[misc]

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

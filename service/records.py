"""Aggregates outside the live session (staff, passkeys, web sessions, invitations, the mail outbox).

Their rules live with the ceremonies that use them (server/passkeys.py, server/websession.py); what
they share with the live actions is the one writer, so every write of the process commits in one
order and is durable before it is answered.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from service.unit import Op, Unit

T = TypeVar("T")


class Records:
    def __init__(self, unit: Unit) -> None:
        self._u = unit

    async def read(self, fn: Callable[..., Awaitable[T]], **kwargs: Any) -> T:
        """A repository read in its own short transaction."""
        return await self._u.read(fn, **kwargs)

    async def write(self, op: Op) -> Any:
        """A write through the one writer; answers its result once committed."""
        return await self._u.submit(op)

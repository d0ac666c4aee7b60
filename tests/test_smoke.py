from __future__ import annotations

from tests.support import Class


async def test_clock_sync_answers_the_server_time(klass: Class) -> None:
    ack = await klass.participants[0].call("clock:sync", {"t0": 123})
    assert ack["ok"] is True and ack["t0"] == 123 and ack["server"] > 1_700_000_000_000

"""GET /api/sessions/{id}/presence: who joined, dropped out and came back, and the connected count over time.

Drawn from the connection records, so it survives a reload of the dashboard and a restart of the server.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from tests.clock import FakeClock
from tests.clocked import when
from tests.support import Server, ok, refused


async def history(server: Server, session_id: str, token: str | None = None) -> dict[str, Any]:
    return dict(ok(await server.api("GET", f"/api/sessions/{session_id}/presence", token=token)))


async def until_connected(server: Server, session_id: str, n: int) -> dict[str, Any]:
    """The history once n are connected (a socket's record is written as it opens)."""
    for _ in range(100):
        h = await history(server, session_id)
        if h["samples"][-1]["connected"] == n:
            return h
        await asyncio.sleep(0.05)
    raise AssertionError(f"never {n} connected: {h}")


async def test_a_drop_and_a_return_are_two_intervals_and_the_count_follows(clocked: Server, clock: FakeClock) -> None:
    server = clocked
    session = await server.session()
    sid = session["id"]
    ana, ben = await server.participants(sid, 2)
    t0 = clock.now().replace(microsecond=0)  # times are answered to the millisecond
    clock.set(t0)
    a = await server.connect(ana["token"])
    await until_connected(server, sid, 1)
    clock.advance(minutes=2)
    b = await server.connect(ben["token"])
    await until_connected(server, sid, 2)
    clock.advance(minutes=3)
    await a.close()
    await until_connected(server, sid, 1)
    clock.advance(minutes=1)
    a = await server.connect(ana["token"])
    h = await until_connected(server, sid, 2)

    by_id = {p["participant_id"]: p for p in h["participants"]}
    assert [p["participant_id"] for p in h["participants"]] == [ana["id"], ben["id"]]  # roster order
    ana_spans = [(when(i["joined"]), i["left"] and when(i["left"])) for i in by_id[ana["id"]]["intervals"]]
    assert ana_spans == [(t0, t0 + timedelta(minutes=5)), (t0 + timedelta(minutes=6), None)]
    assert [(when(i["joined"]), i["left"]) for i in by_id[ben["id"]]["intervals"]] == [
        (t0 + timedelta(minutes=2), None)
    ]
    assert [(when(s["at"]) - t0, s["connected"]) for s in h["samples"]] == [
        (timedelta(0), 1),
        (timedelta(minutes=2), 2),
        (timedelta(minutes=5), 1),
        (timedelta(minutes=6), 2),
        (timedelta(minutes=6), 2),  # now, where the chart ends
    ]
    await a.close()
    await b.close()


async def test_two_tabs_are_one_interval(clocked: Server, clock: FakeClock) -> None:
    server = clocked
    session = await server.session()
    (ana,) = await server.participants(session["id"], 1)
    first = await server.connect(ana["token"])
    clock.advance(minutes=1)
    second = await server.connect(ana["token"])
    h = await until_connected(server, session["id"], 1)
    assert len(h["participants"][0]["intervals"]) == 1
    clock.advance(minutes=1)
    await first.close()
    await asyncio.sleep(0.2)
    h = await history(server, session["id"])
    assert [i["left"] for i in h["participants"][0]["intervals"]] == [None]  # the second tab is still open
    await second.close()


async def test_who_may_read_it(server: Server) -> None:
    session = await server.session(instructor_email="teacher@example.org")
    other = await server.session(instructor_email="someone@example.org")
    instructor = await server.token("instructor", "Iris", "teacher@example.org")
    support = await server.token("support", "Sam", "support@example.org")
    (ana,) = await server.participants(session["id"], 1)
    for token in (instructor, support, server.admin_token):
        assert (await history(server, session["id"], token))["participants"][0]["participant_id"] == ana["id"]
    refused(await server.api("GET", f"/api/sessions/{other['id']}/presence", token=instructor), "forbidden")
    refused(await server.api("GET", f"/api/sessions/{session['id']}/presence", token=ana["token"]), "forbidden")
    refused(await server.api("GET", f"/api/sessions/{'f' * 32}/presence"), "not_found")

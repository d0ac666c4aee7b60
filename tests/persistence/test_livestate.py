"""The live-state interface: one suite, run against the memory store and against a real Redis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from core.model import Member, Ping, SessionState, Ticket, utcnow
from persistence.live.base import LiveStore, Snapshot
from persistence.live.memory import MemoryLiveStore
from persistence.live.redisstore import RedisLiveStore
from tests.services import RedisServer


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[LiveStore]:
    if request.param == "memory":
        yield MemoryLiveStore()
        return
    redis: RedisServer = request.getfixturevalue("redis_server")
    redis.flush()
    s = RedisLiveStore(redis.url)
    yield s
    await s.close()


def _snapshot(sid: str = "s1") -> Snapshot:
    now = utcnow().replace(microsecond=0)
    session = SessionState(
        id=sid,
        topic="T",
        instructor_email="i@example.org",
        starts_at=now,
        duration_minutes=60,
        late_after_minutes=5,
        agenda=["a", "b"],
        checkin_secret="abc",
    )
    members = [Member(id="m1", name="Ann", email="ann@example.org"), Member(id="m2", name="Bob", email="b@x.org")]
    ping = Ping(
        id="q1",
        kind="poll",
        question="Which?",
        options=["x", "y"],
        launched_at=now,
        closes_at=now + timedelta(minutes=1),
        answers={"m1": 1},
        seen={"m1", "m2"},
    )
    ticket = Ticket(id="t1", participant_id="m2", name="Bob", category="camera", text="dark", created_at=now)
    return Snapshot(session, members, [ping], [ticket], {("p:m1", "client-001"): ("msg1", 7)}, 7)


async def test_load_then_read_gives_back_the_snapshot(store: LiveStore) -> None:
    """Everything loaded reads back equal, times and nested values included."""
    snap = _snapshot()
    assert not await store.loaded("s1")
    await store.load(snap)
    assert await store.loaded("s1")
    assert await store.session("s1") == snap.session
    assert {m.id: m for m in await store.members("s1")} == {m.id: m for m in snap.members}
    (ping,) = await store.open_pings("s1")
    assert ping == snap.open_pings[0]
    assert await store.tickets("s1") == snap.tickets
    assert await store.chat_lookup("s1", "p:m1", "client-001") == ("msg1", 7)
    assert await store.chat_last_seq("s1") == 7


async def test_changes_are_seen_by_a_second_reader(store: LiveStore) -> None:
    """Members, answers, pings and tickets written are what the next read returns."""
    await store.load(_snapshot())
    now = utcnow()
    await store.set_member(
        "s1", Member(id="m1", name="Ann", email="ann@example.org", checked_in_at=now, checkin_status="present")
    )
    assert (await store.member("s1", "m1")).checked_in_at == now  # type: ignore[union-attr]
    await store.add_answer("s1", "q1", "m2", 0)
    ping = await store.ping("s1", "q1")
    assert ping is not None and ping.answers == {"m1": 1, "m2": 0}
    closed = Ping(**{**{f: getattr(ping, f) for f in ping.__slots__}, "closed_at": now})  # type: ignore[attr-defined]
    await store.set_ping("s1", closed)
    assert await store.ping("s1", "q1") is None and await store.open_pings("s1") == []
    await store.set_tickets("s1", [])
    assert await store.tickets("s1") == []


async def test_chat_sequence_is_gapless_under_concurrency(store: LiveStore) -> None:
    """Concurrent reservations get distinct consecutive numbers after the loaded last one."""
    await store.load(_snapshot())
    seqs = await asyncio.gather(*(store.chat_reserve("s1", "p:m2", f"client-{i:03d}", f"m{i}") for i in range(50)))
    assert sorted(seqs) == list(range(8, 58))
    assert await store.chat_lookup("s1", "p:m2", "client-010") == ("m10", seqs[10])


async def test_presence_counts_tabs(store: LiveStore) -> None:
    """The first tab connects a participant, the last one to close disconnects them."""
    assert await store.attach("s1", "m1", "tab-a") is True
    assert await store.attach("s1", "m1", "tab-b") is False
    assert await store.connected("s1") == {"m1"}
    assert await store.detach("s1", "m1", "tab-a") is False
    assert await store.connected("s1") == {"m1"}
    assert await store.detach("s1", "m1", "tab-b") is True
    assert await store.connected("s1") == set()
    assert await store.detach("s1", "m1", "tab-b") is False  # twice changes nothing


async def test_seen_marks_each_open_ping_once(store: LiveStore) -> None:
    """A participant connecting while a ping is open counts towards it once."""
    await store.load(_snapshot())
    assert await store.add_seen("s1", "m3") == ["q1"]
    assert await store.add_seen("s1", "m3") == []


async def test_evict_forgets_the_state_but_not_who_is_connected(store: LiveStore) -> None:
    """After evict the session reads as not loaded (to be read again from the database)."""
    await store.load(_snapshot())
    await store.attach("s1", "m1", "tab-a")
    await store.evict("s1")
    assert not await store.loaded("s1") and await store.session("s1") is None
    assert await store.connected("s1") == {"m1"}


async def test_reads_are_snapshots_and_writes_replace(store: LiveStore) -> None:
    """Changing what a read returned changes nothing until it is written back, in either store."""
    await store.load(_snapshot())
    session, member = await store.session("s1"), await store.member("s1", "m1")
    (roster_member, _), (ping,), (ticket,) = (
        await store.members("s1"),
        await store.open_pings("s1"),
        await store.tickets("s1"),
    )
    one_ping = await store.ping("s1", "q1")
    assert session is not None and member is not None and one_ping is not None
    session.delay_minutes = 9
    member.mark = "absent"
    roster_member.mark = "absent"
    ping.answers["m2"] = 0
    ping.seen.add("m3")
    one_ping.answers["m2"] = 0
    ticket.state = "closed"
    fresh = _snapshot()
    assert await store.session("s1") == fresh.session
    assert {m.id: m for m in await store.members("s1")} == {m.id: m for m in fresh.members}
    assert await store.open_pings("s1") == fresh.open_pings
    assert await store.tickets("s1") == fresh.tickets

    # What was written is kept as it was when written, not as the writer goes on to change it.
    session.delay_minutes = 3
    await store.set_session(session)
    session.delay_minutes = 4
    assert (await store.session("s1")).delay_minutes == 3  # type: ignore[union-attr]


async def test_lock_serialises_read_modify_write(store: LiveStore) -> None:
    """Increments under the session lock from many tasks lose nothing (and without it they would).

    Each task reads, yields to the others, then writes what it read plus one: a lock that does not
    keep the next task from reading before this one writes loses increments, on either store, since
    a read is a snapshot there (a store that handed out its live objects would pass without a lock).
    """
    await store.load(_snapshot())

    async def bump() -> None:
        async with store.lock("s1"):
            s = await store.session("s1")
            assert s is not None
            await asyncio.sleep(0)
            s.delay_minutes += 1
            await store.set_session(s)

    await asyncio.gather(*(bump() for _ in range(40)))
    assert (await store.session("s1")).delay_minutes == 40  # type: ignore[union-attr]


async def test_redis_presence_expires_when_its_process_stops_refreshing(redis_server: RedisServer) -> None:
    """A socket nobody refreshes expires; `expired` names its participant once."""
    redis_server.flush()
    store = RedisLiveStore(redis_server.url, presence_ttl_s=1)
    try:
        await store.attach("s1", "m1", "tab-a")
        await store.attach("s1", "m2", "tab-b")
        await store.refresh("s1", [("m2", "tab-b")])
        assert await store.connected("s1") == {"m1", "m2"}
        await asyncio.sleep(1.2)
        await store.refresh("s1", [("m2", "tab-b")])
        assert await store.connected("s1") == {"m2"}
        assert await store.expired("s1") == ["m1"]
        assert await store.expired("s1") == []
    finally:
        await store.close()


async def test_both_stores_give_the_roster_in_one_order(store: LiveStore) -> None:
    """The roster reads by name, case aside, then by id for people of one name, in both stores:
    not in the order people were loaded or added (staff screens and presence list it this way)."""
    snap = _snapshot()
    snap.members = [
        Member(id="m5", name="zoë", email="z@x.org"),
        Member(id="m3", name="Bob", email="b2@x.org"),
        Member(id="m1", name="ann", email="ann@example.org"),
        Member(id="m2", name="Bob", email="b@x.org"),
    ]
    await store.load(snap)
    await store.set_member("s1", Member(id="m4", name="Carla", email="c@x.org"))
    await store.set_member("s1", Member(id="m0", name="Able", email="a@x.org"))
    assert [m.id for m in await store.members("s1")] == ["m0", "m1", "m2", "m3", "m4", "m5"]
    await store.set_member("s1", Member(id="m5", name="Aaron", email="z@x.org"))  # renamed on a roster update
    assert [m.id for m in await store.members("s1")] == ["m5", "m0", "m1", "m2", "m3", "m4"]

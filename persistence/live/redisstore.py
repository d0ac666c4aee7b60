"""Live state in Redis: every process of a deployment sees the same sessions.

Keys carry the session id in a hash tag (`c:{sid}:...`), so a session's keys live together. The
database stays the source of truth: when Redis restarts or is flushed, a session's live state is
read again from the database on its next use, and each process re-registers its own sockets on
its next refresh.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from typing import Any

import orjson
from limits.aio.storage import RedisStorage, Storage
from redis.asyncio import Redis
from redis.asyncio.lock import Lock

from core.errors import Unavailable
from core.model import Member, Ping, SessionState, Ticket, roster_order
from persistence.live.base import Snapshot
from persistence.live.codec import decode, encode

# A socket counts as connected for this long after its process last refreshed it (the hub refreshes
# every 8 s). A process that dies stops refreshing, and its sockets show as disconnected within the
# TTL plus a tick, inside the contract's 30 s.
PRESENCE_TTL_S = 25
# A session's lock expires on its own if its holder dies; long enough for a slow commit.
LOCK_TIMEOUT_S = 10
# Waiting for a lock polls Redis this often; short, since each wait adds to an acknowledgement.
LOCK_POLL_S = 0.002

# attach: KEYS tabs, online; ARGV conn, expiry, now, participant. Answers 1 when it is the first tab.
_ATTACH = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
local before = redis.call('ZCARD', KEYS[1])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('ZADD', KEYS[2], 'GT', ARGV[2], ARGV[4])
if before == 0 then return 1 else return 0 end
"""
# detach: KEYS tabs, online; ARGV conn, now, participant. Answers 1 when it was the last tab.
_DETACH = """
local removed = redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
local left = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if #left == 0 then
  local was = redis.call('ZREM', KEYS[2], ARGV[3])
  if removed == 1 and was == 1 then return 1 else return 0 end
end
redis.call('ZADD', KEYS[2], 'XX', left[2], ARGV[3])
return 0
"""
# expire: KEYS online; ARGV now. Removes and answers participants whose every socket expired.
_EXPIRE = """
local gone = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if #gone > 0 then redis.call('ZREM', KEYS[1], unpack(gone)) end
return gone
"""


def _text(raw: Any) -> str:
    """Redis answers bytes (decode_responses is off, so JSON values stay bytes for orjson)."""
    return raw.decode() if isinstance(raw, bytes) else str(raw)


class _SessionLock:
    """A process-local lock in front of the Redis lock: one waiter per process polls Redis."""

    def __init__(self, local: asyncio.Lock, remote: Lock) -> None:
        self._local = local
        self._remote = remote

    async def __aenter__(self) -> None:
        await self._local.acquire()
        try:
            if not await self._remote.acquire():
                raise Unavailable("the session is busy; try again")
        except BaseException:
            self._local.release()
            raise

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            await self._remote.release()
        finally:
            self._local.release()


class RedisLiveStore:
    """The LiveStore interface over Redis."""

    def __init__(self, url: str, *, presence_ttl_s: float = PRESENCE_TTL_S) -> None:
        self.redis: Redis = Redis.from_url(url, decode_responses=False)
        self._ttl = presence_ttl_s
        self._locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._attach = self.redis.register_script(_ATTACH)
        self._detach = self.redis.register_script(_DETACH)
        self._expire = self.redis.register_script(_EXPIRE)

    async def close(self) -> None:
        await self.redis.aclose()

    def rate_storage(self) -> Storage:
        """Rate limits counted in Redis, so a person's tabs on several processes share one allowance."""
        pool: Any = self.redis.connection_pool  # limits types its options loosely
        return RedisStorage("async+redis://", implementation="redispy", connection_pool=pool)

    async def check(self) -> None:
        """Raises when Redis does not answer."""
        await self.redis.ping()

    @staticmethod
    def _k(session_id: str, part: str) -> str:
        return f"c:{{{session_id}}}:{part}"

    def lock(self, session_id: str) -> _SessionLock:
        remote = self.redis.lock(
            self._k(session_id, "lock"), timeout=LOCK_TIMEOUT_S, sleep=LOCK_POLL_S, blocking_timeout=LOCK_TIMEOUT_S
        )
        return _SessionLock(self._locks[session_id], remote)

    # ------------------------------------------------------------ loading

    def _state_keys(self, session_id: str, ping_ids: list[str]) -> list[str]:
        keys = [self._k(session_id, p) for p in ("session", "members", "pings", "tickets", "chatidx", "seq")]
        for ping_id in ping_ids:
            keys += [self._k(session_id, f"answers:{ping_id}"), self._k(session_id, f"seen:{ping_id}")]
        return keys

    async def loaded(self, session_id: str) -> bool:
        return bool(await self.redis.exists(self._k(session_id, "session")))

    async def load(self, snapshot: Snapshot) -> None:
        sid = snapshot.session.id
        old_pings = [_text(p) for p in await self.redis.hkeys(self._k(sid, "pings"))]
        pipe = self.redis.pipeline(transaction=True)
        pipe.delete(*self._state_keys(sid, old_pings))
        if snapshot.members:
            pipe.hset(self._k(sid, "members"), mapping={m.id: encode(m) for m in snapshot.members})
        for ping in snapshot.open_pings:
            pipe.hset(self._k(sid, "pings"), ping.id, encode(ping))
            if ping.answers:
                answers: dict[Any, Any] = {p: orjson.dumps(a) for p, a in ping.answers.items()}
                pipe.hset(self._k(sid, f"answers:{ping.id}"), mapping=answers)
            if ping.seen:
                pipe.sadd(self._k(sid, f"seen:{ping.id}"), *ping.seen)
        pipe.set(self._k(sid, "tickets"), orjson.dumps([orjson.loads(encode(t)) for t in snapshot.tickets]))
        if snapshot.chat_index:
            pipe.hset(
                self._k(sid, "chatidx"),
                mapping={f"{a}\x00{c}": f"{i}:{s}" for (a, c), (i, s) in snapshot.chat_index.items()},
            )
        pipe.set(self._k(sid, "seq"), snapshot.last_seq)
        # The session key last: its presence means the rest is there.
        pipe.set(self._k(sid, "session"), encode(snapshot.session))
        await pipe.execute()

    async def evict(self, session_id: str) -> None:
        pings = [_text(p) for p in await self.redis.hkeys(self._k(session_id, "pings"))]
        await self.redis.delete(*self._state_keys(session_id, pings))

    # ------------------------------------------------------------ session and roster

    async def session(self, session_id: str) -> SessionState | None:
        raw = await self.redis.get(self._k(session_id, "session"))
        return decode(SessionState, raw) if raw else None

    async def set_session(self, state: SessionState) -> None:
        await self.redis.set(self._k(state.id, "session"), encode(state))

    async def member(self, session_id: str, participant_id: str) -> Member | None:
        raw = await self.redis.hget(self._k(session_id, "members"), participant_id)
        return decode(Member, raw) if raw else None

    async def members(self, session_id: str) -> list[Member]:
        raw = await self.redis.hvals(self._k(session_id, "members"))
        return sorted((decode(Member, r) for r in raw), key=roster_order)

    async def set_member(self, session_id: str, member: Member) -> None:
        await self.redis.hset(self._k(session_id, "members"), member.id, encode(member))

    async def remove_member(self, session_id: str, participant_id: str) -> None:
        await self.redis.hdel(self._k(session_id, "members"), participant_id)

    # ------------------------------------------------------------ pings

    async def _with_answers(self, session_id: str, pings: list[Ping]) -> list[Ping]:
        if not pings:
            return pings
        pipe = self.redis.pipeline(transaction=False)
        for ping in pings:
            pipe.hgetall(self._k(session_id, f"answers:{ping.id}"))
            pipe.smembers(self._k(session_id, f"seen:{ping.id}"))
        out = await pipe.execute()
        for i, ping in enumerate(pings):
            answers: dict[bytes, bytes] = out[2 * i]
            ping.answers = {_text(p): orjson.loads(a) for p, a in answers.items()}
            ping.seen = {_text(p) for p in out[2 * i + 1]}
        return pings

    async def open_pings(self, session_id: str) -> list[Ping]:
        raw = await self.redis.hvals(self._k(session_id, "pings"))
        return await self._with_answers(session_id, [decode(Ping, r) for r in raw])

    async def ping(self, session_id: str, ping_id: str, *, with_answers: bool = True) -> Ping | None:
        """A ping; without its answers and who saw it when the caller needs only the ping (answering:
        reading a class's answers for each answer would cost the square of the class)."""
        raw = await self.redis.hget(self._k(session_id, "pings"), ping_id)
        if raw is None:
            return None
        ping = decode(Ping, raw)
        return (await self._with_answers(session_id, [ping]))[0] if with_answers else ping

    async def set_ping(self, session_id: str, ping: Ping) -> None:
        pipe = self.redis.pipeline(transaction=True)
        if ping.is_open:
            pipe.hset(self._k(session_id, "pings"), ping.id, encode(ping))
            if ping.seen:
                pipe.sadd(self._k(session_id, f"seen:{ping.id}"), *ping.seen)
        else:
            pipe.hdel(self._k(session_id, "pings"), ping.id)
            pipe.delete(self._k(session_id, f"answers:{ping.id}"), self._k(session_id, f"seen:{ping.id}"))
        await pipe.execute()

    async def add_answer(self, session_id: str, ping_id: str, participant_id: str, answer: Any) -> None:
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(self._k(session_id, f"answers:{ping_id}"), participant_id, orjson.dumps(answer))
        pipe.sadd(self._k(session_id, f"seen:{ping_id}"), participant_id)
        await pipe.execute()

    async def add_seen(self, session_id: str, participant_id: str) -> list[str]:
        ping_ids = [_text(p) for p in await self.redis.hkeys(self._k(session_id, "pings"))]
        if not ping_ids:
            return []
        pipe = self.redis.pipeline(transaction=False)
        for ping_id in ping_ids:
            pipe.sadd(self._k(session_id, f"seen:{ping_id}"), participant_id)
        added = await pipe.execute()
        return [ping_id for ping_id, n in zip(ping_ids, added, strict=True) if n]

    # ------------------------------------------------------------ help queue

    async def tickets(self, session_id: str) -> list[Ticket]:
        raw = await self.redis.get(self._k(session_id, "tickets"))
        if not raw:
            return []
        return [decode(Ticket, orjson.dumps(t)) for t in orjson.loads(raw)]

    async def set_tickets(self, session_id: str, tickets: list[Ticket]) -> None:
        data = orjson.dumps([orjson.loads(encode(t)) for t in tickets])
        await self.redis.set(self._k(session_id, "tickets"), data)

    # ------------------------------------------------------------ chat

    async def chat_lookup(self, session_id: str, author_key: str, client_id: str) -> tuple[str, int] | None:
        raw = await self.redis.hget(self._k(session_id, "chatidx"), f"{author_key}\x00{client_id}")
        if raw is None:
            return None
        message_id, _, seq = _text(raw).partition(":")
        return message_id, int(seq)

    async def chat_reserve(self, session_id: str, author_key: str, client_id: str, message_id: str) -> int:
        seq = int(await self.redis.incr(self._k(session_id, "seq")))
        await self.redis.hset(self._k(session_id, "chatidx"), f"{author_key}\x00{client_id}", f"{message_id}:{seq}")
        return seq

    async def chat_last_seq(self, session_id: str) -> int:
        return int(await self.redis.get(self._k(session_id, "seq")) or 0)

    # ------------------------------------------------------------ presence

    async def attach(self, session_id: str, participant_id: str, connection_id: str) -> bool:
        now = time.time()
        keys = [self._k(session_id, f"tabs:{participant_id}"), self._k(session_id, "online")]
        first = await self._attach(keys=keys, args=[connection_id, now + self._ttl, now, participant_id])
        return bool(first)

    async def detach(self, session_id: str, participant_id: str, connection_id: str) -> bool:
        keys = [self._k(session_id, f"tabs:{participant_id}"), self._k(session_id, "online")]
        return bool(await self._detach(keys=keys, args=[connection_id, time.time(), participant_id]))

    async def connected(self, session_id: str) -> set[str]:
        online = await self.redis.zrangebyscore(self._k(session_id, "online"), time.time(), "+inf")
        return {_text(p) for p in online}

    async def refresh(self, session_id: str, tabs: list[tuple[str, str]]) -> None:
        """This process's sockets are still open (re-registers them after a Redis restart)."""
        expiry = time.time() + self._ttl
        pipe = self.redis.pipeline(transaction=False)
        for participant_id, connection_id in tabs:
            pipe.zadd(self._k(session_id, f"tabs:{participant_id}"), {connection_id: expiry})
            pipe.zadd(self._k(session_id, "online"), {participant_id: expiry}, gt=True)
        await pipe.execute()

    async def expired(self, session_id: str) -> list[str]:
        """Participants whose every socket belonged to processes that stopped refreshing."""
        gone = await self._expire(keys=[self._k(session_id, "online")], args=[time.time()])
        return [_text(p) for p in gone]

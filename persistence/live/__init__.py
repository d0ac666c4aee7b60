"""The live stores: one interface (`base`), a memory twin (`memory`) and Redis (`redisstore`), chosen by URL."""

from __future__ import annotations

from persistence.live.base import LiveStore
from persistence.live.memory import MemoryLiveStore


def create_live_store(redis_url: str | None) -> LiveStore:
    """The live store for a URL: Redis when one is configured, this process's memory otherwise."""
    if redis_url:
        from persistence.live.redisstore import RedisLiveStore

        return RedisLiveStore(redis_url)
    return MemoryLiveStore()

"""Which import workers are alive: each announces itself on Redis with a short expiry, refreshed as it beats."""

from __future__ import annotations

from redis.asyncio import Redis

from artist_desktop.bus.progress import DEFAULT_PREFIX, _glob_escape


class WorkerRegistry:
    """`announce` every heartbeat; a worker that stops announcing drops out after `ttl` seconds."""

    def __init__(self, redis: Redis, prefix: str = DEFAULT_PREFIX) -> None:
        self._redis = redis
        self._prefix = prefix

    def key(self, worker: str) -> str:
        return f"{self._prefix}workers:{worker}"

    async def announce(self, worker: str, ttl: float) -> None:
        await self._redis.set(self.key(worker), b"1", px=max(1, int(ttl * 1000)))

    async def withdraw(self, worker: str) -> None:
        await self._redis.delete(self.key(worker))

    async def live_workers(self) -> list[str]:
        pattern = _glob_escape(self.key("")) + "*"
        start = len(self.key(""))
        names = [key.decode()[start:] async for key in self._redis.scan_iter(match=pattern, count=500)]
        return sorted(names)

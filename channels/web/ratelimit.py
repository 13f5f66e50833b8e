"""Fixed-window rate limits in Redis, shared by every hub process."""

from __future__ import annotations

import time

from redis.asyncio import Redis

__all__ = ["RateLimiter"]


class RateLimiter:
    """At most ``limit`` hits per ``window`` seconds for one (scope, subject)."""

    def __init__(self, redis: Redis, window: int = 60) -> None:
        self.redis = redis
        self.window = window

    async def hit(self, scope: str, subject: str, limit: int) -> float | None:
        """Count one hit; None when allowed, else the seconds until the window ends."""
        now = time.time()
        slot = int(now // self.window)
        key = f"tawasul:web:rl:{scope}:{subject}:{slot}"
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, self.window + 1)
            count, _ = await pipe.execute()
        if int(count) <= limit:
            return None
        return max((slot + 1) * self.window - now, 0.001)

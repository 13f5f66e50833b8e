"""Which parts of a reply are already sent, so a retried delivery resumes where the last
attempt stopped instead of repeating messages (a reply can be several Bot API messages)."""

from __future__ import annotations

from redis.asyncio import Redis

KEY_PREFIX = "tawasul:telegram:sent:"
#: As long as the hub keeps dedup keys.
TTL = 7 * 24 * 3600


class Progress:
    """The sent part indexes of one reply (``OutboundMessage.key``) in a Redis set."""

    def __init__(self, redis: Redis, reply_key: str) -> None:
        self._redis = redis
        self._key = KEY_PREFIX + reply_key

    async def sent(self) -> set[int]:
        members = await self._redis.smembers(self._key)
        return {int(m) for m in members}

    async def mark(self, index: int) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.sadd(self._key, index)
            pipe.expire(self._key, TTL)
            await pipe.execute()

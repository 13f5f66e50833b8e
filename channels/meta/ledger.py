"""Which parts of a multi-request reply went out already, so a retried reply resends none.

One ``OutboundMessage`` can need several provider requests (long text split, image, then
buttons). When part 2 fails and the hub retries the reply, parts sent before are skipped:
the citizen never reads a paragraph twice. Kept in Redis per reply ``key`` for 7 days.
"""

from __future__ import annotations

from redis.asyncio import Redis

__all__ = ["SentParts"]

TTL_SECONDS = 7 * 24 * 3600


class SentParts:
    """The ledger of one channel."""

    def __init__(self, redis: Redis, channel: str) -> None:
        self._redis = redis
        self._channel = channel

    def _key(self, reply_key: str) -> str:
        return f"tawasul:{self._channel}:sent:{reply_key}"

    async def done(self, reply_key: str) -> set[int]:
        """Indexes of the parts of ``reply_key`` already accepted by the provider."""
        fields = await self._redis.hkeys(self._key(reply_key))
        return {int(f) for f in fields}

    async def mark(self, reply_key: str, part: int, provider_id: str) -> None:
        """Part ``part`` was accepted as ``provider_id``."""
        key = self._key(reply_key)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, str(part), provider_id)
            pipe.expire(key, TTL_SECONDS)
            await pipe.execute()

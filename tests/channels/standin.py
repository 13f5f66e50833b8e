"""The hub as an adapter sees it, for adapter tests without a hub process: the real
:class:`bot.ingest.Ingest` (dedup, durable enqueue, the conversation's last-inbound time) on a
real Redis, the test's client session, and the events it accepted, in order.

Each stand-in works in a Redis database of its own, emptied when it is made, so recorded
payloads (fixed provider ids) deduplicate within a test and never against another test's.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import aiohttp
from redis.asyncio import Redis

from bot.errors import QueueUnavailable
from bot.ingest import Ingest
from bot.metrics import HubMetrics
from bot.model import InboundEvent, InboundMessage
from ticket_client import TawasulClient

__all__ = ["HubStandIn", "isolated_redis"]

# Database 0 is the session's shared one; stand-ins take turns on the others.
_DATABASES = itertools.cycle(range(1, 16))


async def isolated_redis(redis_url: str) -> Redis:
    """A client on a Redis database no earlier stand-in left anything in."""
    client = Redis.from_url(redis_url, db=next(_DATABASES))
    await client.flushdb()
    return client


class HubStandIn:
    """``HubServices`` over the real ingest; ``down`` makes ``submit`` refuse as the hub does
    when Redis cannot take the events."""

    def __init__(
        self, session: aiohttp.ClientSession, redis: Redis, tickets: TawasulClient | None = None
    ) -> None:
        self._session = session
        self._redis = redis
        self._tickets = tickets
        self._ingest = Ingest(redis, HubMetrics())
        self.accepted: list[InboundEvent] = []
        self.down = False

    @property
    def session(self) -> aiohttp.ClientSession:
        return self._session

    @property
    def redis(self) -> Redis:
        return self._redis

    def tickets(self) -> TawasulClient | None:
        return self._tickets

    async def submit(self, events: Sequence[InboundEvent]) -> None:
        if self.down:
            raise QueueUnavailable("redis down (test)")
        results = await self._ingest.submit_many(events)
        self.accepted.extend(r.event for r in results if r.new)

    def messages(self) -> list[InboundMessage]:
        return [e for e in self.accepted if isinstance(e, InboundMessage)]

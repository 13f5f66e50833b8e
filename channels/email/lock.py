"""One poller per mailbox across hub processes: a Redis lease (``SET NX PX`` + renewals).

Several hubs share one Redis (ARCHITECTURE.md "Scale beyond one machine"); two pollers on one
mailbox would fetch, submit and move the same mails concurrently. The holder renews the lease
every third of its lifetime and stops polling when a renewal fails; the others retry.
"""

from __future__ import annotations

import secrets

from redis.asyncio import Redis

__all__ = ["LeaderLock"]

_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""


class LeaderLock:
    """A lease on ``key`` for ``ttl`` seconds, identified by a random token."""

    def __init__(self, redis: Redis, key: str, ttl: float = 30.0) -> None:
        self._redis = redis
        self._key = key
        self._ttl_ms = max(int(ttl * 1000), 1000)
        self._token = secrets.token_hex(16)

    @property
    def renew_every(self) -> float:
        return self._ttl_ms / 3000

    async def acquire(self) -> bool:
        return bool(await self._redis.set(self._key, self._token, nx=True, px=self._ttl_ms))

    async def renew(self) -> bool:
        result = await self._redis.eval(_RENEW, 1, self._key, self._token, str(self._ttl_ms))
        return bool(result)

    async def release(self) -> None:
        await self._redis.eval(_RELEASE, 1, self._key, self._token)

"""``GET /healthz``: Redis (PING), Rasa (``/status`` with a loaded model) and the ticket service
(the Open311 service list), checked at once with a short timeout each. 200 when all are up,
else 503; the body says which component failed and why."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from redis.asyncio import Redis
from redis.exceptions import RedisError

__all__ = ["Health"]

CHECK_TIMEOUT = 2.0


class Health:
    def __init__(
        self,
        redis: Redis,
        session: Callable[[], aiohttp.ClientSession],
        rasa_url: str,
        ticket_url: str,
        channels: list[str],
    ) -> None:
        self._redis = redis
        self._session = session
        self._rasa_url = rasa_url
        self._ticket_url = ticket_url
        self._channels = channels

    async def _redis_ok(self) -> None:
        await self._redis.ping()

    async def _rasa_ok(self) -> None:
        async with self._session().get(f"{self._rasa_url}/status") as response:
            if response.status != 200:
                raise RuntimeError(f"HTTP {response.status}")
            status = await response.json(content_type=None)
        if not isinstance(status, dict) or not status.get("model_file"):
            raise RuntimeError("no model loaded")

    async def _ticket_ok(self) -> None:
        url = f"{self._ticket_url}/open311/v2/services.json"
        async with self._session().get(url) as response:
            if response.status != 200:
                raise RuntimeError(f"HTTP {response.status}")
            await response.read()

    async def _check(self, probe: Callable[[], Awaitable[None]]) -> dict[str, Any]:
        started = time.perf_counter()
        try:
            async with asyncio.timeout(CHECK_TIMEOUT):
                await probe()
        except (aiohttp.ClientError, RedisError, OSError, RuntimeError, ValueError) as exc:
            return {"ok": False, "error": str(exc) or type(exc).__name__}
        except TimeoutError:
            return {"ok": False, "error": f"no answer in {CHECK_TIMEOUT:g} s"}
        return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1)}

    async def report(self) -> tuple[bool, dict[str, Any]]:
        redis, rasa, ticket = await asyncio.gather(
            self._check(self._redis_ok), self._check(self._rasa_ok), self._check(self._ticket_ok)
        )
        components = {"redis": redis, "rasa": rasa, "ticket_service": ticket}
        ok = all(c["ok"] for c in components.values())
        body = {
            "status": "ok" if ok else "unavailable",
            "components": components,
            "channels": self._channels,
        }
        return ok, body

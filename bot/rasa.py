"""Rasa's REST channel (``POST /webhooks/rest/webhook``), retried until Rasa answers.

The hub holds the conversation's lock meanwhile, so the conversation's later messages wait in
its stream and are answered, in order, once Rasa is back (a restart takes ~35 s). Waits grow
0.5 s → 5 s (with jitter). A 4xx means the request itself is wrong: :class:`RasaRejected`.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Mapping
from typing import Any

import aiohttp

from bot.metrics import HubMetrics

__all__ = ["RasaClient", "RasaRejected"]

log = logging.getLogger("bot.rasa")

BACKOFF_FIRST = 0.5
BACKOFF_MAX = 5.0
#: One turn runs every custom action of the turn (ticket service calls) before Rasa answers.
TURN_TIMEOUT = 60.0


class RasaRejected(Exception):
    """Rasa answered 4xx (or not a JSON list): retrying the same request cannot help."""


def backoff(attempt: int, first: float = BACKOFF_FIRST, cap: float = BACKOFF_MAX) -> float:
    """The wait before retry ``attempt`` (1-based): exponential, capped, half of it random."""
    ceiling = min(cap, first * 2.0 ** (attempt - 1))
    return ceiling / 2 + random.uniform(0, ceiling / 2)


class RasaClient:
    def __init__(
        self,
        session: Callable[[], aiohttp.ClientSession],
        base_url: str,
        metrics: HubMetrics,
        timeout: float = TURN_TIMEOUT,
    ) -> None:
        self._session = session
        self._url = f"{base_url.rstrip('/')}/webhooks/rest/webhook"
        self._metrics = metrics
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def turn(
        self,
        sender: str,
        message: str,
        metadata: Mapping[str, Any],
        give_up: Callable[[], bool] = lambda: False,
    ) -> list[dict[str, Any]] | None:
        """Rasa's replies to one message; retried on connection errors, timeouts and 5xx until
        it answers — or ``give_up()`` (the lock was lost, the process stops): None."""
        body = {"sender": sender, "message": message, "metadata": dict(metadata)}
        attempt = 0
        while True:
            attempt += 1
            started = time.perf_counter()
            try:
                async with self._session().post(
                    self._url, json=body, timeout=self._timeout
                ) as response:
                    if response.status >= 500:
                        reason = f"http_{response.status}"
                        detail = (await response.text())[:200]
                    elif response.status >= 400:
                        detail = (await response.text())[:200]
                        raise RasaRejected(f"Rasa answered {response.status}: {detail}")
                    else:
                        replies = await response.json(content_type=None)
                        self._metrics.turn_seconds.observe(time.perf_counter() - started)
                        if not isinstance(replies, list):
                            raise RasaRejected("Rasa's answer is not a list")
                        return [r for r in replies if isinstance(r, dict)]
            except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError) as exc:
                reason, detail = "connection", str(exc) or type(exc).__name__
            except TimeoutError:
                reason, detail = "timeout", f"no answer in {self._timeout.total:g} s"
            except ValueError as exc:  # a 200 that is not JSON
                reason, detail = "bad_answer", str(exc)
            self._metrics.rasa_errors.labels(reason).inc()
            if give_up():
                return None
            wait = backoff(attempt)
            log.warning(
                "Rasa unavailable (%s, try %d), retrying in %.1f s",
                detail, attempt, wait,
                extra={"conversation_id": sender, "event": "rasa_retry"},
            )  # fmt: skip
            await asyncio.sleep(wait)
            if give_up():
                return None

"""Sending replies: the outbound queue's handler.

Replies of one conversation go out in order, one at a time, under the conversation's send lock
(the same :class:`~bot.keyed_queue.KeyedQueue` code as turns). For each reply:

- already sent (``tawasul:sent:<key>``) → dropped;
- the channel is paused (``tawasul:pause:<channel>``, set when a provider rate-limited us) or
  the recipient was answered less than the channel's pacing interval ago → wait;
- ``channel.deliver``: :class:`~bot.errors.RetryAfter` → pause the whole channel for that long
  and try again; :class:`~bot.errors.TransientSendError` (or an adapter bug) → exponential
  backoff with jitter; :class:`~bot.errors.PermanentSendError` or ``max_attempts`` used up →
  the dead-letter stream ``tawasul:dead`` (fields: the reply's JSON, error, attempts, time),
  and the conversation's next reply goes on;
- sent → :data:`bot.lua.COMMIT_SENT` drops it and remembers its key for 7 days.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping

from redis.asyncio import Redis

from bot import keys, lua
from bot.errors import PermanentSendError, RetryAfter, TransientSendError
from bot.keyed_queue import Item, Lease
from bot.metrics import HubMetrics
from bot.model import OutboundMessage
from bot.rasa import backoff
from channels.base import Channel

__all__ = ["OutcomeHook", "SendHandler", "SendPolicy"]

log = logging.getLogger("bot.sender")

SENT_SECONDS = keys.DEDUP_SECONDS
#: Told what became of each reply: ``sent``, ``permanent`` or ``exhausted`` (dead-lettered),
#: with the error (bot.events records proactive updates and falls back with it).
OutcomeHook = Callable[[OutboundMessage, str, str | None], Awaitable[None]]
MAX_PAUSE_SLICE = 5.0


class SendPolicy:
    def __init__(
        self,
        max_attempts: int = 8,
        backoff_ms: int = 2_000,
        backoff_max_ms: int = 300_000,
        pacing_ms: Mapping[str, int] | None = None,
    ) -> None:
        self.max_attempts = max_attempts
        self.backoff_first = backoff_ms / 1000
        self.backoff_cap = backoff_max_ms / 1000
        self.pacing_ms = dict(pacing_ms or {})


async def _sleep_unless(event: asyncio.Event, seconds: float) -> bool:
    """Sleep ``seconds``; False as soon as ``event`` is set."""
    if seconds <= 0:
        return not event.is_set()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), seconds)
        return False
    return True


class SendHandler:
    """The outbound queue's handler (``bot.keyed_queue.QueueHandler``)."""

    def __init__(
        self,
        *,
        redis: Redis,
        channels: Mapping[str, Channel],
        policy: SendPolicy,
        metrics: HubMetrics,
        stopping: asyncio.Event,
        on_outcome: OutcomeHook | None = None,
    ) -> None:
        self.redis = redis
        self._channels = channels
        self._policy = policy
        self._metrics = metrics
        self._stopping = stopping
        self._on_outcome = on_outcome

    async def _tell(self, message: OutboundMessage, outcome: str, error: str | None) -> None:
        if self._on_outcome is None:
            return
        try:
            await self._on_outcome(message, outcome, error)
        except Exception:  # the reply is done either way; the hook's failure is only logged
            log.exception("send outcome hook failed", extra={"event": "send_outcome"})

    async def handle(self, lease: Lease, item: Item) -> None:
        message = OutboundMessage.from_json(item.fields["m"])
        if await self.redis.exists(keys.sent(message.key)):
            self._metrics.sends.labels(message.channel, "already_sent").inc()
            await self._commit(lease, item, message)
            return
        channel = self._channels.get(message.channel)
        if channel is None:
            self._metrics.sends.labels(message.channel, "no_channel").inc()
            await self._dead(lease, item, message, "channel not configured", 0)
            return
        attempt = 0
        while True:
            if not await self._wait_turn(lease, message):
                return  # stopping or lost: the reply stays first in line
            attempt += 1
            try:
                await channel.deliver(message)
            except RetryAfter as exc:
                self._metrics.sends.labels(message.channel, "rate_limited").inc()
                await self._pause(message.channel, exc.seconds)
                error = f"rate limited: {exc}"
            except PermanentSendError as exc:
                self._metrics.sends.labels(message.channel, "permanent").inc()
                await self._dead(lease, item, message, str(exc) or type(exc).__name__, attempt)
                await self._tell(message, "permanent", str(exc) or type(exc).__name__)
                return
            except TransientSendError as exc:
                self._metrics.sends.labels(message.channel, "transient").inc()
                error = str(exc) or type(exc).__name__
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # an adapter's bug: retried like a transient failure
                self._metrics.sends.labels(message.channel, "error").inc()
                log.exception(
                    "deliver raised %s", type(exc).__name__,
                    extra={"conversation_id": lease.key, "event": "send_error"},
                )  # fmt: skip
                error = f"{type(exc).__name__}: {exc}"
            else:
                await self._sent(lease, item, message)
                await self._tell(message, "sent", None)
                return
            if attempt >= self._policy.max_attempts:
                await self._dead(lease, item, message, error, attempt)
                await self._tell(message, "exhausted", error)
                return
            log.warning(
                "send failed (try %d of %d): %s", attempt, self._policy.max_attempts, error,
                extra={"conversation_id": lease.key, "channel": message.channel,
                       "event": "send_retry", "key": message.key},
            )  # fmt: skip
            if "rate limited" not in error:
                wait = backoff(attempt, self._policy.backoff_first, self._policy.backoff_cap)
                if not await _sleep_unless(self._stopping, wait):
                    return

    async def _wait_turn(self, lease: Lease, message: OutboundMessage) -> bool:
        """Wait out the channel's pause and the recipient's pacing; False to stop now."""
        while True:
            if lease.lost or self._stopping.is_set():
                return False
            waits = await asyncio.gather(
                self.redis.pttl(keys.pause(message.channel)),
                self.redis.pttl(keys.pace(lease.key)),
            )
            wait_ms = max(int(w) for w in waits)
            if wait_ms <= 0:
                return True
            if not await _sleep_unless(self._stopping, min(wait_ms / 1000, MAX_PAUSE_SLICE)):
                return False

    async def _pause(self, channel: str, seconds: float) -> None:
        """Pause the channel for everyone; a longer pause already set is kept."""
        ms = max(1, int(seconds * 1000))
        key = keys.pause(channel)
        current = int(await self.redis.pttl(key))
        if current < ms:
            await self.redis.set(key, "1", px=ms)
        log.warning(
            "channel paused for %.1f s (provider rate limit)", seconds,
            extra={"channel": channel, "event": "rate_limited"},
        )  # fmt: skip

    async def _sent(self, lease: Lease, item: Item, message: OutboundMessage) -> None:
        pacing = self._policy.pacing_ms.get(message.channel, 0)
        if pacing > 0:
            await self.redis.set(keys.pace(lease.key), "1", px=pacing)
        self._metrics.sends.labels(message.channel, "sent").inc()
        ingested = item.fields.get("t", "")
        if ingested.isdigit():
            self._metrics.reply_seconds.labels(message.channel).observe(
                max(0.0, time.time() - int(ingested) / 1000)
            )
        await self._commit(lease, item, message)

    async def _commit(self, lease: Lease, item: Item, message: OutboundMessage) -> None:
        ok = await lua.COMMIT_SENT(
            self.redis,
            [lease.lock_key, keys.conv_out(lease.key), keys.sent(message.key)],
            [lease.token, item.id, SENT_SECONDS],
        )
        if not ok:
            lease.lost = True

    async def _dead(
        self, lease: Lease, item: Item, message: OutboundMessage, error: str, attempts: int
    ) -> None:
        ok = await lua.MOVE_ASIDE(
            self.redis,
            [lease.lock_key, keys.conv_out(lease.key), keys.DEAD],
            [lease.token, item.id, 0, "m", item.fields.get("m", ""), "error", error[:1000],
             "attempts", attempts, "time", int(time.time() * 1000), "c", lease.key],
        )  # fmt: skip
        if not ok:
            lease.lost = True
            return
        self._metrics.dead_lettered.labels(message.channel).inc()
        log.error(
            "reply dead-lettered after %d tries: %s", attempts, error,
            extra={"conversation_id": lease.key, "channel": message.channel,
                   "event": "dead_letter", "key": message.key},
        )  # fmt: skip

    async def set_aside(self, lease: Lease, item: Item, error: str) -> None:
        try:
            message = OutboundMessage.from_json(item.fields.get("m", "{}"))
            channel = message.channel
        except (TypeError, ValueError):
            channel = lease.key.split(":", 1)[0]
            message = OutboundMessage(channel=channel, recipient_id="", key=item.id)
        await self._dead(lease, item, message, error, 0)

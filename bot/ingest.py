"""Ingest: the hub's ``HubServices.submit`` — dedup and durable enqueue, batched.

Each event is handled by the :data:`bot.lua.INGEST` script, atomically in Redis:

- a message: ``SET seen NX EX 7d``; only when new, XADD it to its conversation's inbound stream
  and XADD the conversation to the shared ``tawasul:work`` stream. So the order of a
  conversation's messages is the order the scripts ran in, whatever the number of hub
  processes, and nothing is marked seen without being stored;
- a message with ``no_reply_reason``: deduplicated the same way, then recorded in the capped
  ``tawasul:noreply`` stream — never given to Rasa;
- a :class:`~bot.model.DeliveryStatus`: deduplicated by (id, state) and counted, nothing stored.

The hub's own messages (``InboundMessage.system``: a closure survey started by bot/events) go
through the same script with :func:`inject` — deduplicated by their provider id, in order with
the conversation's messages — but never move the last-inbound time (a messaging window opens
only for the citizen). :meth:`Ingest.submit` (the adapters' door) refuses them.

Batching: every submit of one event-loop tick — and all that arrive while a batch is in
flight — goes to Redis as ONE call of the script for the whole batch (group commit; each event
still deduplicated and enqueued on its own, in order). With ``appendfsync always`` Redis then
fsyncs once for the batch instead of once per webhook, and the client encodes one command
instead of one per event. Each caller awaits its own events' results. A Redis error fails the
whole batch with :class:`~bot.errors.QueueUnavailable` (the webhook answers 503 and the
provider retries; the dedup key of an event is only ever set together with its enqueue, so a
retry is never lost).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import NoScriptError, RedisError

from bot import keys, lua
from bot.errors import MalformedPayload, QueueUnavailable
from bot.metrics import HubMetrics
from bot.model import DeliveryStatus, InboundEvent, InboundMessage

__all__ = ["Ingest", "IngestResult", "inject"]

log = logging.getLogger("bot.ingest")

NOREPLY_MAXLEN = 10_000
#: The most events in one script call; a larger backlog goes out in several.
MAX_BATCH = 256


@dataclass(frozen=True, slots=True)
class IngestResult:
    """What became of one event: ``new`` False for a duplicate."""

    event: InboundEvent
    new: bool


@dataclass(slots=True)
class _Pending:
    keys: tuple[str, str, str, str]
    args: tuple[str, str, str, int, str]
    future: asyncio.Future[bool]


def _script_call(
    event: InboundEvent, now: float
) -> tuple[tuple[str, str, str, str], tuple[str, str, str, int, str]]:
    """The event's four keys and five arguments of :data:`bot.lua.INGEST`."""
    if isinstance(event, DeliveryStatus):
        seen = keys.seen_status(event.channel, event.provider_message_id, event.state)
        return (seen, seen, seen, seen), ("s", "", "", 0, "0")
    seen = keys.seen(event.channel, event.provider_message_id)
    body = event.to_json()
    if event.no_reply_reason:
        return (seen, keys.NOREPLY, keys.NOREPLY, keys.NOREPLY), (
            "n",
            body,
            "",
            NOREPLY_MAXLEN,
            "0",
        )
    conversation = event.conversation_id
    # A provider clock ahead of ours counts as now (a window must not outlive its message);
    # the hub's own message counts as never (0: the script keeps the citizen's time).
    sent_at = "0" if event.system else str(int(min(event.timestamp, now)))
    return (
        (seen, keys.conv_in(conversation), keys.WORK, keys.last_inbound(conversation)),
        ("m", body, conversation, 0, sent_at),
    )


class Ingest:
    """Group-committing submitter; one per process (``start()`` before use)."""

    def __init__(self, redis: Redis, metrics: HubMetrics) -> None:
        self._redis = redis
        self._metrics = metrics
        self._pending: list[_Pending] = []
        self._flusher: asyncio.Task[None] | None = None
        self.batches = 0  # pipelines sent (tests read it to see batching happen)

    async def submit(self, events: Sequence[InboundEvent]) -> None:
        """HubServices.submit: returns once every event is durable (or a duplicate)."""
        await self.submit_many(events)

    async def submit_many(self, events: Sequence[InboundEvent]) -> list[IngestResult]:
        if not events:
            return []
        if any(isinstance(e, InboundMessage) and e.system for e in events):
            raise MalformedPayload("system messages are the hub's own (bot.ingest.inject)")
        loop = asyncio.get_running_loop()
        mine: list[_Pending] = []
        now = time.time()
        for event in events:
            call_keys, call_args = _script_call(event, now)
            mine.append(_Pending(call_keys, call_args, loop.create_future()))
        self._pending.extend(mine)
        if self._flusher is None:
            self._flusher = loop.create_task(self._flush_all())
        # One future per event; awaiting them in order costs less than a gather (one webhook
        # usually carries one event).
        try:
            outcomes = [await pending.future for pending in mine]
        except BaseException:
            for pending in mine:  # retrieved: no "exception was never retrieved" at exit
                if pending.future.done() and not pending.future.cancelled():
                    pending.future.exception()
            raise
        results = [IngestResult(e, new) for e, new in zip(events, outcomes, strict=True)]
        for result in results:
            self._count(result)
        return results

    async def _flush_all(self) -> None:
        try:
            # Yield once: everything submitted in this tick joins the first batch.
            await asyncio.sleep(0)
            while self._pending:
                batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
                try:
                    await self._flush(batch)
                except Exception as exc:  # never leave a webhook waiting forever
                    log.exception("ingest batch failed", extra={"event": "ingest"})
                    self._fail(batch, exc)
        finally:
            self._flusher = None

    async def _flush(self, batch: list[_Pending]) -> None:
        self.batches += 1
        try:
            results = await self._run(batch)
        except NoScriptError:
            try:
                await lua.load_all(self._redis)
                results = await self._run(batch)
            except RedisError as exc:
                self._fail(batch, exc)
                return
        except (RedisError, OSError) as exc:
            self._fail(batch, exc)
            return
        for pending, result in zip(batch, results, strict=True):
            if not pending.future.done():
                pending.future.set_result(bool(result))

    async def _run(self, batch: list[_Pending]) -> list[int]:
        call_keys = [key for pending in batch for key in pending.keys]
        call_args: list[str | int] = [keys.DEDUP_SECONDS]
        for pending in batch:
            call_args.extend(pending.args)
        results = await self._redis.evalsha(lua.INGEST.sha, len(call_keys), *call_keys, *call_args)
        if not isinstance(results, list) or len(results) != len(batch):
            raise RedisError(f"unexpected ingest answer: {results!r}")
        return [int(r) for r in results]

    def _fail(self, batch: list[_Pending], exc: BaseException) -> None:
        log.error("Redis refused %d events: %s", len(batch), exc, extra={"event": "ingest"})
        for pending in batch:
            if not pending.future.done():
                pending.future.set_exception(QueueUnavailable(str(exc) or type(exc).__name__))

    def _count(self, result: IngestResult) -> None:
        event = result.event
        if isinstance(event, DeliveryStatus):
            outcome = "status" if result.new else "status_duplicate"
            self._metrics.inbound.labels(event.channel, outcome).inc()
            if result.new:
                self._metrics.delivery_status.labels(event.channel, event.state).inc()
                if event.state == "failed":
                    log.warning(
                        "provider reports a failed delivery: %s",
                        event.error,
                        extra={"channel": event.channel, "event": "delivery_failed"},
                    )
            return
        assert isinstance(event, InboundMessage)
        if not result.new:
            self._metrics.inbound.labels(event.channel, "duplicate").inc()
        elif event.no_reply_reason:
            self._metrics.inbound.labels(event.channel, "noreply").inc()
            log.info(
                "recorded, not answered: %s",
                event.no_reply_reason,
                extra={
                    "channel": event.channel,
                    "conversation_id": event.conversation_id,
                    "event": "noreply",
                },
            )
        else:
            self._metrics.inbound.labels(event.channel, "accepted").inc()


async def inject(redis: Redis, message: InboundMessage) -> bool:
    """The hub's own ``message`` (``system`` set) into its conversation, like a citizen's: one
    call of :data:`bot.lua.INGEST`. True when new, False when its provider id was seen."""
    if not message.system:
        raise ValueError("inject() takes system messages only")
    call_keys, call_args = _script_call(message, time.time())
    answer = await lua.INGEST(redis, call_keys, [keys.DEDUP_SECONDS, *call_args])
    return bool(answer and int(answer[0]))

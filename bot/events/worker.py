"""The events worker: turns stored ticket events into updates on the outbound queue.

One loop per hub process reads two streams as consumer group ``hub`` (any process may take any
entry; entries of a process that died are claimed after :data:`CLAIM_IDLE_MS`):

- ``tawasul:events`` — for each recipient (reporter, followers) the update in their language on
  the channel they used, queued for the send workers (same order, retries and dead letters as
  replies; the key ``event:<id>:<recipient>:<channel>`` makes a re-queued update a no-op once
  sent). During quiet hours the event is held (``tawasul:events:held``) until they end, except
  for urgent services; due holds go back into the stream.
- ``tawasul:events:outcomes`` — what the senders did (:func:`outcome_hook`): recorded on the
  ticket's history; a permanent failure falls back to the contact's other verified identities
  (linked in the ticket service by a verified phone or e-mail) in the configured order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Collection
from typing import Any, Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError

from bot.errors import MalformedPayload
from bot.events.model import Recipient, TicketEvent, user_id_of
from bot.events.quiet import release_time
from bot.events.render import outbound, update_for
from bot.events.settings import NotifySettings
from bot.events.store import EVENTS, GROUP, OUTCOMES, OUTCOMES_MAXLEN, EventStore
from bot.model import OutboundMessage
from ticket_client import Contact as TicketContact
from ticket_client import TawasulClient, TicketClientError

__all__ = ["Clock", "EventWorker", "OutcomeHook", "outcome_hook"]

log = logging.getLogger("bot.events")

BLOCK_MS = 500
CLAIM_IDLE_MS = 60_000
CLAIM_EVERY = 20  # loop turns
KEY_PREFIX = "event:"

OutcomeHook = Callable[[OutboundMessage, str, str | None], Awaitable[None]]


class Clock(Protocol):
    def now(self) -> Any:
        """The current time, timezone-aware (``datetime``)."""


def outcome_hook(redis: Redis) -> OutcomeHook:
    """For :class:`bot.sender.SendHandler`: note what happened to a proactive update
    (``sent``, ``permanent``, ``exhausted``) for the events worker; replies are ignored."""

    async def hook(message: OutboundMessage, outcome: str, error: str | None) -> None:
        if not message.key.startswith(KEY_PREFIX):
            return
        fields = {"k": message.key, "o": outcome, "e": (error or "")[:500]}
        await redis.xadd(OUTCOMES, fields, maxlen=OUTCOMES_MAXLEN, approximate=True)  # type: ignore[arg-type]

    return hook


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class EventWorker:
    def __init__(
        self,
        *,
        redis: Redis,
        settings: NotifySettings,
        channels: Collection[str],
        tickets: Callable[[], TawasulClient | None],
        clock: Clock,
        consumer: str,
    ) -> None:
        self.redis = redis
        self.store = EventStore(redis)
        self.settings = settings
        self.channels = frozenset(channels)
        self._tickets = tickets
        self.clock = clock
        self.consumer = consumer

    # --- the loop --------------------------------------------------------------------------

    async def ensure_groups(self) -> None:
        for stream in (EVENTS, OUTCOMES):
            with contextlib.suppress(ResponseError):  # BUSYGROUP: exists
                await self.redis.xgroup_create(stream, GROUP, id="0", mkstream=True)

    async def run(self, stopping: asyncio.Event) -> None:
        turns = 0
        while not stopping.is_set():
            try:
                if turns == 0:
                    await self.ensure_groups()
                await self.tick(claim=turns % CLAIM_EVERY == 0, block_ms=BLOCK_MS)
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                log.warning("events worker: Redis unavailable: %s", exc,
                            extra={"event": "events_redis"})  # fmt: skip
                turns = -1
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stopping.wait(), 1.0)
            except Exception:  # one bad event must not stop the loop
                log.exception("events worker error", extra={"event": "events_error"})
            turns += 1

    async def tick(self, *, claim: bool = False, block_ms: int | None = None) -> int:
        """One round: release due holds, then process what is waiting; returns entries done."""
        await self.store.release_due(self.clock.now().timestamp())
        entries: list[tuple[str, str, dict[str, str]]] = []
        if claim:
            for stream in (EVENTS, OUTCOMES):
                answer = await self.redis.xautoclaim(
                    stream, GROUP, self.consumer, CLAIM_IDLE_MS, "0-0", count=50
                )
                entries += [(stream, _text(i), self._fields(f)) for i, f in answer[1] if f]
        streams: dict[Any, Any] = {EVENTS: ">", OUTCOMES: ">"}
        read: Any = await self.redis.xreadgroup(
            GROUP, self.consumer, streams, count=20, block=block_ms
        )
        for stream, items in read or []:
            entries += [(_text(stream), _text(i), self._fields(f)) for i, f in items]
        for stream, entry_id, fields in entries:
            if stream == EVENTS:
                acked = await self.process_event(entry_id, fields.get("e", ""))
            else:
                await self.process_outcome(fields)
                acked = False
            if not acked:
                await self._ack(stream, entry_id)
        return len(entries)

    @staticmethod
    def _fields(raw: Any) -> dict[str, str]:
        return {_text(k): _text(v) for k, v in (raw or {}).items()}

    async def _ack(self, stream: str, entry_id: str) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.xack(stream, GROUP, entry_id)
            pipe.xdel(stream, entry_id)
            await pipe.execute()

    async def _event(self, event_id: str) -> TicketEvent | None:
        raw = await self.store.body(event_id)
        if raw is None:
            return None
        try:
            return TicketEvent.parse(raw)
        except MalformedPayload:
            return None

    # --- events ----------------------------------------------------------------------------

    async def process_event(self, entry_id: str, event_id: str) -> bool:
        """Queue the event's updates (or hold it); True when the entry was already acked."""
        event = await self._event(event_id)
        if event is None:
            log.warning("event %s expired or unreadable", event_id, extra={"event": "events"})
            return False
        if event.type == "ticket.survey_requested":
            await self.start_closure_survey(event)
            return False
        language = str(event.ticket.get("language") or "ar")
        todo = [
            (index, person, update)
            for index, person in enumerate(event.recipients)
            if (update := update_for(self.settings, event, person.language or language))
        ]
        if not todo:
            return False
        service = str(event.ticket.get("service_code") or "")
        release = release_time(self.settings.quiet, self.clock.now(), service)
        if release is not None:
            await self.store.hold(event.event_id, release.timestamp(), entry_id)
            for _, person, _ in todo:
                await self._record(event, person, person.channel, "held",
                                   f"quiet hours: held until {release.isoformat()}")  # fmt: skip
            log.info("event held until %s", release.isoformat(),
                     extra={"event": "events_held", "key": event.event_id})  # fmt: skip
            return True
        for index, person, _ in todo:
            await self._send(event, index, person, person.channel,
                             user_id_of(person.channel, person.channel_user_id))  # fmt: skip
        return False

    async def start_closure_survey(self, event: TicketEvent) -> None:
        """Issue 5 item 2 (not built yet): the closure survey starts here — e.g. a Rasa
        ``trigger_intent`` for the reporter's conversation. The closure message itself is sent
        from ``ticket.closed``."""
        # TODO(issue 5, item 2): trigger the survey dialogue in Rasa for event.recipients[0].

    async def _send(
        self, event: TicketEvent, index: int, person: Recipient, channel: str, user_id: str
    ) -> None:
        language = person.language or str(event.ticket.get("language") or "ar")
        update = update_for(self.settings, event, language)
        if update is None:
            return
        await self.store.try_channel(event.event_id, index, channel)
        if channel not in self.channels:
            await self._record(event, person, channel, "failed", f"channel {channel} is off")
            await self._fallback(event, index, person)
            return
        message = outbound(self.settings, update, event, index, channel, user_id, language)
        await self.store.enqueue(message)

    # --- outcomes --------------------------------------------------------------------------

    async def process_outcome(self, fields: dict[str, str]) -> None:
        key, outcome, error = fields.get("k", ""), fields.get("o", ""), fields.get("e") or None
        try:
            _, event_id, index_s, channel = key.split(":")
            index = int(index_s)
        except ValueError:
            return
        event = await self._event(event_id)
        if event is None or not 0 <= index < len(event.recipients):
            return
        person = event.recipients[index]
        if outcome == "sent":
            await self._record(event, person, channel, "sent", None)
            return
        await self._record(event, person, channel, "failed", error or outcome)
        await self._fallback(event, index, person)

    async def _fallback(self, event: TicketEvent, index: int, person: Recipient) -> None:
        tickets = self._tickets()
        linked: list[tuple[str, str]] = []
        if tickets is not None:
            try:
                identity = await tickets.upsert_contact(
                    TicketContact(channel=person.channel, channel_user_id=person.channel_user_id)
                )
                linked = [(i.channel, i.channel_user_id) for i in identity.linked_identities]
            except TicketClientError as exc:
                log.warning("fallback: linked identities unavailable: %s", exc,
                            extra={"event": "events_fallback", "key": event.event_id})  # fmt: skip
        order = {name: rank for rank, name in enumerate(self.settings.fallback_order)}
        linked.sort(key=lambda item: order.get(item[0], len(order)))
        for channel, channel_user_id in linked:
            if channel not in order or channel not in self.channels:
                continue
            if not await self.store.try_channel(event.event_id, index, channel):
                continue
            await self._record(event, person, channel, "fallback",
                               f"from {person.channel} to {channel}")  # fmt: skip
            language = person.language or str(event.ticket.get("language") or "ar")
            update = update_for(self.settings, event, language)
            if update is not None:
                user_id = user_id_of(channel, channel_user_id)
                await self.store.enqueue(
                    outbound(self.settings, update, event, index, channel, user_id, language)
                )
            return
        await self._record(event, person, person.channel, "undeliverable",
                           "no other verified channel left")  # fmt: skip

    async def _record(
        self, event: TicketEvent, person: Recipient, channel: str, outcome: str, detail: str | None
    ) -> None:
        """The attempt on the ticket's history (best effort: logged when the service is away)."""
        tickets = self._tickets()
        log.info("update %s on %s", outcome, channel,
                 extra={"event": "events_outcome", "key": event.event_id,
                        "channel": channel})  # fmt: skip
        if tickets is None or not event.number:
            return
        try:
            await tickets.record_notification(
                event.number,
                event_id=event.event_id,
                event_type=event.type,
                channel=person.channel,
                channel_user_id=person.channel_user_id,
                outcome=outcome,
                detail=f"{channel}: {detail}" if detail else channel,
            )
        except TicketClientError as exc:
            log.warning("could not record the update on the ticket: %s", exc,
                        extra={"event": "events_history", "key": event.event_id})  # fmt: skip

"""The events worker: turns stored ticket events into updates on the outbound queue.

One loop per hub process reads two streams as consumer group ``hub`` (any process may take any
entry; entries of a process that died are claimed after :data:`CLAIM_IDLE_MS`):

- ``tawasul:events`` — for each recipient (reporter, followers) the update in their language on
  the channel they used, queued for the send workers (same order, retries and dead letters as
  replies; the key ``event:<id>:<recipient>:<channel>`` makes a re-queued update a no-op once
  sent). During quiet hours the event is held (``tawasul:events:held``) until they end, except
  for urgent services; due holds go back into the stream.
  ``ticket.survey_requested`` starts the closure survey for the reporter instead
  (:class:`bot.events.closure.ClosureSurveys`, which also sends the due survey reminders each
  round).
- ``tawasul:events:outcomes`` — what the senders did (:func:`outcome_hook`): recorded on the
  ticket's history; a permanent failure falls back to the contact's other verified identities
  (linked in the ticket service by a verified phone or e-mail) in the configured order. For a
  survey the outcome of its template, or of the bot's first reply to its system message. A
  closure sent on a fallback channel takes the survey along (:meth:`ClosureSurveys.follow`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Collection
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError

from bot.events.closure import SURVEY_EVENT, Clock, ClosureSurveys
from bot.events.model import Recipient, TicketEvent, user_id_of
from bot.events.quiet import release_time
from bot.events.render import acknowledged, outbound, update_for
from bot.events.settings import NotifySettings
from bot.events.store import EVENTS, GROUP, OUTCOMES, OUTCOMES_MAXLEN, EventStore
from bot.events.survey import UPDATE, ProactiveKey
from bot.model import OutboundMessage
from ticket_client import Contact as TicketContact
from ticket_client import TawasulClient, TicketClientError

__all__ = ["Clock", "EventWorker", "OutcomeHook", "outcome_hook"]

log = logging.getLogger("bot.events")

BLOCK_MS = 500
CLAIM_IDLE_MS = 60_000
CLAIM_EVERY = 20  # loop turns

OutcomeHook = Callable[[OutboundMessage, str, str | None], Awaitable[None]]


def outcome_hook(redis: Redis) -> OutcomeHook:
    """For :class:`bot.sender.SendHandler`: note what happened to a proactive message
    (``sent``, ``permanent``, ``exhausted``) for the events worker: an update, a survey
    template, the bot's first reply to a survey's system message; other replies are ignored."""

    async def hook(message: OutboundMessage, outcome: str, error: str | None) -> None:
        key = ProactiveKey.parse(message.key)
        if key is None or not key.first:
            return
        fields = {"k": message.key, "o": outcome, "e": (error or "")[:500],
                  "u": message.recipient_id}  # fmt: skip
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
        self.surveys = ClosureSurveys(
            redis=redis, settings=settings, tickets=tickets, clock=clock, attempts=self
        )

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
        await self.remind_due()
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

    # --- events ----------------------------------------------------------------------------

    async def process_event(self, entry_id: str, event_id: str) -> bool:
        """Queue the event's updates (or hold it); True when the entry was already acked."""
        event = await self.store.event(event_id)
        if event is None:
            log.warning("event %s expired or unreadable", event_id, extra={"event": "events"})
            return False
        if event.type == SURVEY_EVENT:
            return await self.start_closure_survey(event, entry_id)
        todo = [
            (index, person)
            for index, person in enumerate(event.recipients)
            if not acknowledged(self.settings, event, person)
            and update_for(self.settings, event, event.language_for(person))
        ]
        if not todo:
            return False
        service = str(event.ticket.get("service_code") or "")
        if await self.held(event, entry_id, todo, service):
            return True
        for index, person in todo:
            await self.start(event, index, person, UPDATE, person.channel)
        return False

    async def start_closure_survey(self, event: TicketEvent, entry_id: str) -> bool:
        """``ticket.survey_requested``: see :meth:`ClosureSurveys.start`."""
        return await self.surveys.start(event, entry_id)

    async def held(
        self, event: TicketEvent, entry_id: str, people: list[tuple[int, Recipient]],
        service: str, kind: str = UPDATE,
    ) -> bool:  # fmt: skip
        release = release_time(self.settings.quiet, self.clock.now(), service)
        if release is None:
            return False
        await self.store.hold(event.event_id, release.timestamp(), entry_id)
        for _, person in people:
            await self.record(event, person, person.channel, "held",
                              f"quiet hours: held until {release.isoformat()}", kind)  # fmt: skip
        log.info("event held until %s", release.isoformat(),
                 extra={"event": "events_held", "key": event.event_id})  # fmt: skip
        return True

    async def start(
        self, event: TicketEvent, index: int, person: Recipient, kind: str, channel: str,
        user: str | None = None,
    ) -> None:  # fmt: skip
        """Tell ``person`` on ``channel`` (their own, or a linked ``user`` identity): the update,
        or the survey (``kind``); a channel that is off falls back at once."""
        language = event.language_for(person)
        user_id = user_id_of(channel, user or person.channel_user_id)
        await self.store.try_channel(event.event_id, index, channel, kind)
        if channel not in self.channels:
            await self.record(event, person, channel, "failed", f"channel {channel} is off", kind)
            await self.fallback(event, index, person, kind)
            return
        if kind == UPDATE:
            update = update_for(self.settings, event, language)
            if update is not None:
                reply = outbound(self.settings, update, event, index, channel, user_id, language)
                await self.store.enqueue(reply)
            return
        await self.surveys.open(event, index, person, kind, channel, user_id, language)

    async def remind_due(self) -> int:
        """The survey reminders that are due: see :meth:`ClosureSurveys.remind_due`."""
        return await self.surveys.remind_due()

    # --- outcomes --------------------------------------------------------------------------

    async def process_outcome(self, fields: dict[str, str]) -> None:
        key = ProactiveKey.parse(fields.get("k", ""))
        outcome, error = fields.get("o", ""), fields.get("e") or None
        if key is None:
            return
        event = await self.store.event(key.event_id)
        if event is None or not 0 <= key.index < len(event.recipients):
            return
        person = event.recipients[key.index]
        if outcome == "sent":
            await self.record(event, person, key.channel, "sent", None, key.kind)
            if key.kind == UPDATE:  # a closure that fell back from voice takes the survey along
                await self.surveys.follow(event, key.index, person, key.channel,
                                          fields.get("u", ""))  # fmt: skip
            return
        await self.record(event, person, key.channel, "failed", error or outcome, key.kind)
        await self.fallback(event, key.index, person, key.kind)

    async def fallback(
        self, event: TicketEvent, index: int, person: Recipient, kind: str = UPDATE
    ) -> None:
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
            if not await self.store.try_channel(event.event_id, index, channel, kind):
                continue
            await self.record(event, person, channel, "fallback",
                              f"from {person.channel} to {channel}", kind)  # fmt: skip
            await self.start(event, index, person, kind, channel, channel_user_id)
            return
        await self.record(event, person, person.channel, "undeliverable",
                          "no other verified channel left", kind)  # fmt: skip

    async def record(
        self,
        event: TicketEvent,
        person: Recipient,
        channel: str,
        outcome: str,
        detail: str | None,
        kind: str = UPDATE,
    ) -> None:
        """The attempt on the ticket's history (best effort: logged when the service is away).
        A survey's rows say which (``telegram: survey: …``, ``… survey-reminder: …``)."""
        tickets = self._tickets()
        log.info("%s %s on %s", kind, outcome, channel,
                 extra={"event": "events_outcome", "key": event.event_id,
                        "channel": channel})  # fmt: skip
        if tickets is None or not event.number:
            return
        what = channel if kind == UPDATE else f"{channel}: {kind}"
        try:
            await tickets.record_notification(
                event.number,
                event_id=event.event_id,
                event_type=event.type,
                channel=person.channel,
                channel_user_id=person.channel_user_id,
                outcome=outcome,
                detail=f"{what}: {detail}" if detail else what,
            )
        except TicketClientError as exc:
            log.warning("could not record the update on the ticket: %s", exc,
                        extra={"event": "events_history", "key": event.event_id})  # fmt: skip

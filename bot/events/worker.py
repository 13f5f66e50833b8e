"""The events worker: turns stored ticket events into updates on the outbound queue.

One loop per hub process reads two streams as consumer group ``hub`` (any process may take any
entry; entries of a process that died are claimed after :data:`CLAIM_IDLE_MS`):

- ``tawasul:events`` — for each recipient (reporter, followers) the update in their language on
  the channel they used, queued for the send workers (same order, retries and dead letters as
  replies; the key ``event:<id>:<recipient>:<channel>`` makes a re-queued update a no-op once
  sent). During quiet hours the event is held (``tawasul:events:held``) until they end, except
  for urgent services; due holds go back into the stream.
  ``ticket.survey_requested`` starts the closure survey for the reporter instead
  (:meth:`EventWorker.start_closure_survey`).
- ``tawasul:events:outcomes`` — what the senders did (:func:`outcome_hook`): recorded on the
  ticket's history; a permanent failure falls back to the contact's other verified identities
  (linked in the ticket service by a verified phone or e-mail) in the configured order. For a
  survey the outcome of its template, or of the bot's first reply to its system message.

Each round also sends the survey reminders that are due (``tawasul:events:reminders``): one
process claims each (ZREM), asks the ticket service whether the survey was answered, and if not
and the ticket is still closed, starts the survey once more. Claimed means sent at most once
(a process dying right after the claim loses that reminder rather than risk a second one).
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
from bot.events.render import acknowledged, outbound, update_for
from bot.events.settings import NotifySettings
from bot.events.store import EVENTS, GROUP, OUTCOMES, OUTCOMES_MAXLEN, EventStore
from bot.events.survey import (
    REMINDER,
    SURVEY,
    UPDATE,
    ProactiveKey,
    system_message,
    template_message,
)
from bot.ingest import inject
from bot.model import OutboundMessage
from channels.meta.window import MessagingWindow
from ticket_client import Contact as TicketContact
from ticket_client import TawasulClient, TicketClientError

__all__ = ["Clock", "EventWorker", "OutcomeHook", "outcome_hook"]

log = logging.getLogger("bot.events")

BLOCK_MS = 500
CLAIM_IDLE_MS = 60_000
CLAIM_EVERY = 20  # loop turns
SURVEY_EVENT = "ticket.survey_requested"
#: A reminder the ticket service could not be asked about is tried again this much later.
REMINDER_RETRY_S = 300.0

OutcomeHook = Callable[[OutboundMessage, str, str | None], Awaitable[None]]


class Clock(Protocol):
    def now(self) -> Any:
        """The current time, timezone-aware (``datetime``)."""


def outcome_hook(redis: Redis) -> OutcomeHook:
    """For :class:`bot.sender.SendHandler`: note what happened to a proactive message
    (``sent``, ``permanent``, ``exhausted``) for the events worker: an update, a survey
    template, the bot's first reply to a survey's system message; other replies are ignored."""

    async def hook(message: OutboundMessage, outcome: str, error: str | None) -> None:
        key = ProactiveKey.parse(message.key)
        if key is None or not key.first:
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
        if event.type == SURVEY_EVENT:
            return await self.start_closure_survey(event, entry_id)
        language = str(event.ticket.get("language") or "ar")
        todo = [
            (index, person)
            for index, person in enumerate(event.recipients)
            if not acknowledged(self.settings, event, person)
            and update_for(self.settings, event, person.language or language)
        ]
        if not todo:
            return False
        service = str(event.ticket.get("service_code") or "")
        if await self._held(event, entry_id, todo, service):
            return True
        for index, person in todo:
            await self._start(event, index, person, UPDATE, person.channel)
        return False

    async def start_closure_survey(self, event: TicketEvent, entry_id: str) -> bool:
        """``ticket.survey_requested``: the survey for the reporter (never followers) on the
        channel they used — a message of the hub's own in their conversation (Rasa runs the
        dialogue), or on WhatsApp outside the 24 h window the survey template — and its single
        reminder scheduled. Held by the quiet hours (a survey is never urgent); channels of
        ``survey.skip_channels`` are left alone. True when held (the entry was acked)."""
        survey = self.settings.survey
        people = [
            (index, person)
            for index, person in enumerate(event.recipients)
            if person.role == "reporter" and person.channel not in survey.skip_channels
        ]
        if not people:
            return False
        if await self._held(event, entry_id, people, service="", kind=SURVEY):
            return True
        due = self.clock.now().timestamp() + survey.reminder_hours * 3600
        for index, person in people:
            await self.store.schedule_reminder(event.event_id, index, due)
            await self._start(event, index, person, SURVEY, person.channel)
        return False

    async def _held(
        self, event: TicketEvent, entry_id: str, people: list[tuple[int, Recipient]],
        service: str, kind: str = UPDATE,
    ) -> bool:  # fmt: skip
        release = release_time(self.settings.quiet, self.clock.now(), service)
        if release is None:
            return False
        await self.store.hold(event.event_id, release.timestamp(), entry_id)
        for _, person in people:
            await self._record(event, person, person.channel, "held",
                               f"quiet hours: held until {release.isoformat()}", kind)  # fmt: skip
        log.info("event held until %s", release.isoformat(),
                 extra={"event": "events_held", "key": event.event_id})  # fmt: skip
        return True

    async def _start(
        self, event: TicketEvent, index: int, person: Recipient, kind: str, channel: str,
        user: str | None = None,
    ) -> None:  # fmt: skip
        """Tell ``person`` on ``channel`` (their own, or a linked ``user`` identity): the update,
        or the survey (``kind``); a channel that is off falls back at once."""
        language = person.language or str(event.ticket.get("language") or "ar")
        user_id = user_id_of(channel, user or person.channel_user_id)
        await self.store.try_channel(event.event_id, index, channel, kind)
        if channel not in self.channels:
            await self._record(event, person, channel, "failed", f"channel {channel} is off", kind)
            await self._fallback(event, index, person, kind)
            return
        if kind == UPDATE:
            update = update_for(self.settings, event, language)
            if update is not None:
                reply = outbound(self.settings, update, event, index, channel, user_id, language)
                await self.store.enqueue(reply)
            return
        window = MessagingWindow(self.redis, channel)
        if channel == "whatsapp" and not await window.is_open(user_id):
            template = self.settings.survey.whatsapp_template
            if template is None:
                await self._record(event, person, channel, "failed",
                                   "outside the 24 h window, no survey template", kind)  # fmt: skip
                await self._fallback(event, index, person, kind)
                return
            await self.store.enqueue(
                template_message(event, kind, index, user_id, language, template)
            )
            await self._record(event, person, channel, "queued", f"template {template}", kind)
            return
        message = system_message(self.settings, event, kind, index, channel, user_id, language)
        if await inject(self.redis, message):
            await self._record(event, person, channel, "queued", "started in the conversation",
                               kind)  # fmt: skip

    # --- the survey reminder -----------------------------------------------------------------

    async def remind_due(self) -> int:
        """Send the survey reminders that are due; returns how many this process claimed (a
        reminder is claimed by exactly one process, then sent at most once)."""
        now = self.clock.now()
        claimed = 0
        for member in await self.store.due_reminders(now.timestamp()):
            if not await self.store.claim_reminder(member):
                continue  # another process took it
            claimed += 1
            await self._remind(member, now)
        return claimed

    async def _remind(self, member: str, now: Any) -> None:
        event_id, _, index_s = member.rpartition(":")
        event = await self._event(event_id)
        if event is None or not index_s.isdigit() or int(index_s) >= len(event.recipients):
            log.warning("survey reminder %s: the event is gone", member,
                        extra={"event": "survey_reminder"})  # fmt: skip
            return
        index = int(index_s)
        person = event.recipients[index]
        release = release_time(self.settings.quiet, now, "")
        if release is not None:
            await self.store.postpone_reminder(member, release.timestamp())
            return
        tickets = self._tickets()
        if tickets is None:  # no hub API key: whether it was answered cannot be known
            log.warning("survey reminder dropped: no ticket service client",
                        extra={"event": "survey_reminder", "key": event_id})  # fmt: skip
            return
        try:
            ticket = await tickets.ticket_for_contact(
                event.number, person.channel, person.channel_user_id
            )
        except TicketClientError as exc:
            log.warning("survey reminder: the ticket service is away (%s); later", exc,
                        extra={"event": "survey_reminder", "key": event_id})  # fmt: skip
            await self.store.postpone_reminder(member, now.timestamp() + REMINDER_RETRY_S)
            return
        if ticket is None or not ticket.closed or ticket.survey_answered is not False:
            log.info("survey reminder not needed", extra={"event": "survey_reminder",
                                                          "key": event_id})  # fmt: skip
            return
        await self._start(event, index, person, REMINDER, person.channel)

    # --- outcomes --------------------------------------------------------------------------

    async def process_outcome(self, fields: dict[str, str]) -> None:
        key = ProactiveKey.parse(fields.get("k", ""))
        outcome, error = fields.get("o", ""), fields.get("e") or None
        if key is None:
            return
        event = await self._event(key.event_id)
        if event is None or not 0 <= key.index < len(event.recipients):
            return
        person = event.recipients[key.index]
        if outcome == "sent":
            await self._record(event, person, key.channel, "sent", None, key.kind)
            return
        await self._record(event, person, key.channel, "failed", error or outcome, key.kind)
        await self._fallback(event, key.index, person, key.kind)

    async def _fallback(
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
            await self._record(event, person, channel, "fallback",
                               f"from {person.channel} to {channel}", kind)  # fmt: skip
            await self._start(event, index, person, kind, channel, channel_user_id)
            return
        await self._record(event, person, person.channel, "undeliverable",
                           "no other verified channel left", kind)  # fmt: skip

    async def _record(
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

"""The closure survey's starts, for the events worker: the first one (``ticket.survey_requested``),
the one that follows a voice reporter's closure to the channel it fell back to, and the single
reminder.

- **Start:** the reporter only (never followers), on the channel they used; channels of
  ``survey.skip_channels`` (``voice``: the callback call's keypad survey) are left out. Quiet
  hours hold it (a survey is never urgent). Inside the channel's reach a message of the hub's own
  goes into the conversation (``bot.ingest.inject``; Rasa runs the dialogue); on WhatsApp outside
  the 24 h window the survey template instead.
- **Follow:** a ``ticket.closed`` update for a reporter on a skip channel that was *sent* on a
  fallback channel (the callback calls went unanswered) starts the survey there, unless the
  ticket service says it was answered or the ticket is no longer closed (when it cannot be asked,
  the survey starts: its own start checks the ticket again).
- **Reminder:** scheduled once per recipient at start + ``survey.reminder_hours``, sent where the
  survey first started. Each round takes the due ones; ``ZREM`` decides which process sends it
  (claimed means sent at most once). Sent only when unanswered and the ticket still closed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

from redis.asyncio import Redis

from bot.events.model import Recipient, TicketEvent
from bot.events.quiet import release_time
from bot.events.settings import NotifySettings
from bot.events.store import EventStore
from bot.events.survey import REMINDER, SURVEY, UPDATE, system_message, template_message
from bot.ingest import inject
from channels.meta.window import MessagingWindow
from ticket_client import TawasulClient, TicketClientError

__all__ = ["CLOSED_EVENT", "REMINDER_RETRY_S", "SURVEY_EVENT", "Attempts", "Clock",
           "ClosureSurveys"]  # fmt: skip

log = logging.getLogger("bot.events")

SURVEY_EVENT = "ticket.survey_requested"
CLOSED_EVENT = "ticket.closed"
#: A reminder the ticket service could not be asked about is tried again this much later.
REMINDER_RETRY_S = 300.0


class Clock(Protocol):
    def now(self) -> Any:
        """The current time, timezone-aware (``datetime``)."""


class Attempts(Protocol):
    """What the events worker does for any proactive message (the survey's too)."""

    async def start(
        self, event: TicketEvent, index: int, person: Recipient, kind: str, channel: str,
        user: str | None = None,
    ) -> None:  # fmt: skip
        """Tell ``person`` on ``channel`` (a linked ``user`` identity there, or their own)."""

    async def fallback(
        self, event: TicketEvent, index: int, person: Recipient, kind: str = UPDATE
    ) -> None:
        """Try the contact's next verified identity."""

    async def record(
        self, event: TicketEvent, person: Recipient, channel: str, outcome: str,
        detail: str | None, kind: str = UPDATE,
    ) -> None:  # fmt: skip
        """The attempt on the ticket's history."""

    async def held(
        self, event: TicketEvent, entry_id: str, people: list[tuple[int, Recipient]],
        service: str, kind: str = UPDATE,
    ) -> bool:  # fmt: skip
        """True when the quiet hours hold the event (its entry acked)."""


class ClosureSurveys:
    """The survey part of :class:`bot.events.worker.EventWorker` (module docstring)."""

    def __init__(
        self,
        *,
        redis: Redis,
        settings: NotifySettings,
        tickets: Callable[[], TawasulClient | None],
        clock: Clock,
        attempts: Attempts,
    ) -> None:
        self.redis = redis
        self.store = EventStore(redis)
        self.settings = settings
        self._tickets = tickets
        self.clock = clock
        self.attempts = attempts

    async def start(self, event: TicketEvent, entry_id: str) -> bool:
        """``ticket.survey_requested`` for the reporter and its reminder scheduled; True when
        held by the quiet hours (the entry was acked)."""
        survey = self.settings.survey
        people = [
            (index, person)
            for index, person in enumerate(event.recipients)
            if person.role == "reporter" and person.channel not in survey.skip_channels
        ]
        if not people:
            return False
        if await self.attempts.held(event, entry_id, people, service="", kind=SURVEY):
            return True
        for index, person in people:
            await self._begin(event, index, person, person.channel)
        return False

    async def _begin(
        self, event: TicketEvent, index: int, person: Recipient, channel: str,
        user: str | None = None,
    ) -> None:  # fmt: skip
        due = self.clock.now().timestamp() + self.settings.survey.reminder_hours * 3600
        await self.store.schedule_reminder(event.event_id, index, due)
        await self.attempts.start(event, index, person, SURVEY, channel, user)

    async def open(
        self, event: TicketEvent, index: int, person: Recipient, kind: str, channel: str,
        user_id: str, language: str,
    ) -> None:  # fmt: skip
        """The survey (or its reminder) on ``channel``, which is on: the WhatsApp template
        outside the 24 h window, else the system message in the conversation."""
        if kind == SURVEY:  # the reminder goes where the survey first started
            await self.store.note_survey_place(event.event_id, index, channel, user_id)
        window = MessagingWindow(self.redis, channel)
        if channel == "whatsapp" and not await window.is_open(user_id):
            template = self.settings.survey.whatsapp_template
            if template is None:
                await self.attempts.record(event, person, channel, "failed",
                                           "outside the 24 h window, no survey template",
                                           kind)  # fmt: skip
                await self.attempts.fallback(event, index, person, kind)
                return
            await self.store.enqueue(
                template_message(event, kind, index, user_id, language, template)
            )
            await self.attempts.record(event, person, channel, "queued", f"template {template}",
                                       kind)  # fmt: skip
            return
        message = system_message(self.settings, event, kind, index, channel, user_id, language)
        if await inject(self.redis, message):
            await self.attempts.record(event, person, channel, "queued",
                                       "started in the conversation", kind)  # fmt: skip

    # --- following a fallback ----------------------------------------------------------------

    async def follow(
        self, event: TicketEvent, index: int, person: Recipient, channel: str, user: str
    ) -> None:
        """A ``ticket.closed`` update was sent to ``person`` on ``channel`` (identity ``user``
        there): when that was a fallback from a channel that takes the survey another way, start
        the chat survey on ``channel`` (once), unless it was answered."""
        if (
            event.type != CLOSED_EVENT
            or person.role != "reporter"
            or str(event.ticket.get("kind") or "report") != "report"
            or person.channel not in self.settings.survey.skip_channels
            or channel == person.channel
            or not user
        ):
            return
        if not await self.store.try_channel(event.event_id, index, channel, SURVEY):
            return  # started there already (an outcome processed twice)
        if await self._needed(event, person) is False:
            log.info("survey after fallback not needed", extra={"event": "survey_follow",
                                                                "key": event.event_id})  # fmt: skip
            return
        await self.attempts.record(event, person, channel, "fallback",
                                   f"survey follows the closure from {person.channel}",
                                   SURVEY)  # fmt: skip
        await self._begin(event, index, person, channel, user)

    async def _needed(self, event: TicketEvent, person: Recipient) -> bool | None:
        """Whether the reporter's survey is still to be answered (None: nobody to ask)."""
        tickets = self._tickets()
        if tickets is None:
            return None
        try:
            ticket = await tickets.ticket_for_contact(
                event.number, person.channel, person.channel_user_id
            )
        except TicketClientError as exc:
            log.warning("survey: the ticket service is away (%s)", exc,
                        extra={"event": "survey_follow", "key": event.event_id})  # fmt: skip
            return None
        return ticket is not None and ticket.closed and ticket.survey_answered is False

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
        event = await self.store.event(event_id)
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
        channel, user = await self.store.survey_place(event_id, index) or (person.channel, None)
        await self.attempts.start(event, index, person, REMINDER, channel, user)

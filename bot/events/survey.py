"""The closure survey as the hub starts it (pure): the message it puts into the reporter's
conversation, or the WhatsApp template for outside the 24 h window; and the keys that tie
what the senders did back to an event and a recipient.

Keys (``kind`` = ``event`` for an update, ``survey``, ``survey-reminder``):

- ``<kind>:<event_id>:<index>:<channel>`` — an update or a survey template (the reply key: the
  senders' no-double-send key), and the provider id of a survey's system message;
- ``<kind>:<event_id>:<index>:<channel>:<n>`` — the bot's n-th reply to that system message.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from bot.events.model import TicketEvent
from bot.events.settings import NotifySettings, supported_language
from bot.model import InboundMessage, OutboundMessage

__all__ = ["KINDS", "PROACTIVE", "REMINDER", "SURVEY", "UPDATE", "ProactiveKey", "key_of",
           "reply_context", "system_message", "template_message"]  # fmt: skip

UPDATE, SURVEY, REMINDER = "event", "survey", "survey-reminder"
KINDS = frozenset({UPDATE, SURVEY, REMINDER})
#: Rasa's metadata ``proactive`` of each survey kind (docs/bot.md).
PROACTIVE = {SURVEY: "survey", REMINDER: "survey_reminder"}


@dataclass(frozen=True, slots=True)
class ProactiveKey:
    kind: str
    event_id: str
    index: int
    channel: str
    #: The bot's reply number for a reply to a system message; None for a message of our own.
    reply: int | None = None

    def __str__(self) -> str:
        return f"{self.kind}:{self.event_id}:{self.index}:{self.channel}"

    @property
    def first(self) -> bool:
        """The message that stands for the attempt (outcomes are noted for these only)."""
        return self.reply in (None, 0)

    @classmethod
    def parse(cls, key: str) -> ProactiveKey | None:
        """None for any other key (a citizen's reply)."""
        kind, _, rest = key.partition(":")
        if kind not in KINDS:
            return None
        parts = rest.split(":")
        reply = None
        if len(parts) >= 4 and parts[-1].isdigit() and not parts[-2].isdigit():
            reply = int(parts.pop())
        if len(parts) < 3 or not parts[-2].isdigit() or not parts[-1]:
            return None
        event_id = ":".join(parts[:-2])
        if not event_id:
            return None
        return cls(kind, event_id, int(parts[-2]), parts[-1], reply)


def key_of(kind: str, event_id: str, index: int, channel: str) -> str:
    return str(ProactiveKey(kind, event_id, index, channel))


def reply_context(event: TicketEvent) -> dict[str, str]:
    """What every proactive message carries for the channels: the ticket, the event type and
    the service (the voice callback speaks about it and checks the quiet hours with it). No
    ``message_id``: e-mail threads it into the conversation's latest mail."""
    return {
        "ticket_number": event.number,
        "event_type": event.type,
        "service_code": str(event.ticket.get("service_code") or ""),
    }


def system_message(
    settings: NotifySettings,
    event: TicketEvent,
    kind: str,
    index: int,
    channel: str,
    user_id: str,
    language: str,
) -> InboundMessage:
    """The survey's start as a message of the hub's own in the reporter's conversation: Rasa
    gets the survey payload with metadata ``proactive``; its replies carry the ticket in their
    ``reply_context``."""
    return InboundMessage(
        channel=channel,
        provider_message_id=key_of(kind, event.event_id, index, channel),
        user_id=user_id,
        timestamp=time.time(),
        payload=settings.survey.payload_for(event.number),
        language_hint=supported_language(language),
        reply_context=reply_context(event),
        system=PROACTIVE[kind],
    )


def template_message(
    event: TicketEvent,
    kind: str,
    index: int,
    user_id: str,
    language: str,
    template: str,
) -> OutboundMessage:
    """The survey on WhatsApp outside the 24 h window: the approved template (body: the
    ticket number; its quick replies start the survey or say it is still not fixed)."""
    return OutboundMessage(
        channel="whatsapp",
        recipient_id=user_id,
        key=key_of(kind, event.event_id, index, "whatsapp"),
        language=supported_language(language),
        public=False,
        reply_context=reply_context(event),
        template=template,
        template_params=(event.number,),
    )

"""Ticket event → the update a citizen gets (pure): the text in their language, and for
WhatsApp the configured template with its parameters for outside the 24 h window.

Channel rules live in the adapters (OutboundMessage.template on WhatsApp, the Messenger tag,
e-mail threading and ``Auto-Submitted: auto-generated``, X direct messages because ``public``
is False); this module only decides what to say.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.events.model import Recipient, TicketEvent
from bot.events.settings import NotifySettings, supported_language
from bot.events.survey import UPDATE, key_of, reply_context
from bot.model import OutboundMessage

__all__ = ["Update", "acknowledged", "message_key", "outbound", "update_for"]

#: Resolutions with their own words; anything else says "closed".
RESOLUTIONS = frozenset({"fixed", "rejected", "duplicate", "not_responsibility"})


@dataclass(frozen=True, slots=True)
class Update:
    text: str
    status: str  # the short status line (WhatsApp template parameter {{2}})


def _service_name(ticket: Mapping[str, Any], lang: str) -> str:
    """The service in the recipient's language (``service_names``), else the report's."""
    names = ticket.get("service_names")
    if isinstance(names, Mapping) and isinstance(names.get(lang), str) and names[lang]:
        return str(names[lang])
    return str(ticket.get("service_name") or ticket.get("service_code") or "")


def update_for(settings: NotifySettings, event: TicketEvent, language: str) -> Update | None:
    """What to tell a recipient about ``event``; None when nothing is to be said."""
    lang = supported_language(language)
    ticket, data = event.ticket, event.data
    values = {
        "number": event.number,
        "service": _service_name(ticket, lang),
    }

    def status(name: str) -> str:
        key = f"status_{name}"
        return settings.text(key, lang) if key in settings.texts else name

    def with_note(text: str) -> str:
        note = data.get("note")
        if isinstance(note, str) and note.strip():
            return f"{text}\n{settings.text('note', lang, note=note.strip())}"
        return text

    if event.type == "ticket.created":
        if str(ticket.get("channel") or "") in settings.received_skip_channels:
            return None
        return Update(settings.text("received", lang, **values), status("received"))
    if event.type == "ticket.status_changed":
        if data.get("reopened") or data.get("to_status") == "open":
            return Update(with_note(settings.text("reopened", lang, **values)), status("reopened"))
        if data.get("to_status") == "in_progress":
            text = with_note(settings.text("in_progress", lang, **values))
            return Update(text, status("in_progress"))
        return None
    if event.type == "ticket.escalated":
        level = data.get("level")
        if int(data.get("reminder") or 0) > 0 or not isinstance(level, int):
            return None
        if level not in settings.escalation_levels:
            return None
        text = settings.text("escalated", lang, level=str(level), **values)
        return Update(text, status("escalated"))
    if event.type == "ticket.closed":
        resolution = str(data.get("resolution") or ticket.get("resolution") or "")
        key = f"resolution_{resolution}" if resolution in RESOLUTIONS else "resolution_other"
        word = settings.text(key, lang) if key in settings.texts else resolution
        text = with_note(settings.text("closed", lang, resolution=word, **values))
        return Update(text, word)
    if event.type == "ticket.followup_created":
        reference = str(data.get("reference") or "")
        text = settings.text("followup_created", lang, reference=reference, **values)
        return Update(text, status("followup_created"))
    if event.type == "ticket.followup_contacted":
        reference = str(data.get("reference") or "")
        text = settings.text("followup_contacted", lang, reference=reference, **values)
        key = "status_followup_contacted"
        line = settings.text(key, lang, reference=reference) if key in settings.texts else key
        return Update(text, line)
    return None


def acknowledged(settings: NotifySettings, event: TicketEvent, person: Recipient) -> bool:
    """True when ``person`` was told already, in the conversation the event came from: the
    filer of a follow-up the bot (or the IVR) took on one of ``followup_ack_skip_channels``
    got its reference there."""
    if event.type != "ticket.followup_created" or person.role != "filer":
        return False
    channel = str(event.data.get("channel") or "")
    return channel == person.channel and channel in settings.followup_ack_skip_channels


def message_key(event_id: str, index: int, channel: str) -> str:
    """The reply key (the sender's no-double-send key): one per event, recipient and channel."""
    return key_of(UPDATE, event_id, index, channel)


def outbound(
    settings: NotifySettings,
    update: Update,
    event: TicketEvent,
    index: int,
    channel: str,
    user_id: str,
    language: str,
) -> OutboundMessage:
    """The update as one channel-neutral reply to ``user_id`` on ``channel``."""
    template = settings.whatsapp_template if channel == "whatsapp" else None
    return OutboundMessage(
        channel=channel,
        recipient_id=user_id,
        key=message_key(event.event_id, index, channel),
        text=update.text,
        language=supported_language(language),
        public=False,
        reply_context=reply_context(event),
        template=template,
        template_params=(event.number, update.status) if template else (),
    )

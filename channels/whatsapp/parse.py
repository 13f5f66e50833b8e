"""WhatsApp Cloud API webhook bodies → :class:`InboundMessage` / :class:`DeliveryStatus`.

Pure. Every ``entry[].changes[].value`` of a batched body is read, in order. Message types
(protocols.md §1.5): ``text``; ``location``; ``image``/``audio``/``video``/``document``/
``sticker`` (the media id, downloaded later by the hub; a caption becomes the text);
``interactive`` button and list replies and template quick-reply ``button`` taps (their id or
payload becomes ``payload``, the label ``text``). Reactions, contacts, orders, system and
unsupported messages are skipped. ``statuses[]`` become :class:`DeliveryStatus`.

Who sent it: WhatsApp's ``wa_id`` is the sender's phone number, which WhatsApp verified when
the account was registered, so the conversation's ``user_id`` is the ``wa_id``: the same
identity as every earlier conversation, the ticket service's reporter, and the key that links
the citizen to their e-mail or web reports through the verified phone. Since 2026 webhooks also
carry a business-scoped user id (BSUID, ``user_id`` / ``from_user_id``, e.g.
``SA.13491208655302741918``); both go into ``Contact.ids``. A user who adopted a WhatsApp
username may arrive *without* a phone (§1.12): then the BSUID is the ``user_id`` and there is no
phone. The webhook route maps such a BSUID back to the ``wa_id`` it was last seen with
(``channels.whatsapp.identity``), so a known citizen keeps their conversation; replies go to
the BSUID with the API's ``recipient`` field when no phone is known.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, cast

from bot.model import (
    Attachment,
    AttachmentType,
    Contact,
    DeliveryState,
    DeliveryStatus,
    InboundEvent,
    InboundMessage,
    Location,
)
from channels.meta.payload import as_dict, as_list, as_str, load, valid_location

__all__ = ["CHANNEL", "parse"]

CHANNEL = "whatsapp"
log = logging.getLogger("channels.whatsapp")

_MEDIA: dict[str, AttachmentType] = {
    "image": "image",
    "audio": "audio",
    "video": "video",
    "document": "document",
    "sticker": "sticker",
}
_STATES: frozenset[str] = frozenset({"sent", "delivered", "read", "failed"})


def _timestamp(value: Any) -> float | None:
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return float(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return float(value)
    return None


def _contact_for(message: Mapping[str, Any], contacts: list[dict[str, Any]]) -> dict[str, Any]:
    """The ``contacts[]`` item describing the message's sender."""
    sender = message.get("from")
    sender_id = message.get("from_user_id")
    for contact in contacts:
        if (sender and contact.get("wa_id") == sender) or (
            sender_id and contact.get("user_id") == sender_id
        ):
            return contact
    return contacts[0] if len(contacts) == 1 else {}


def _sender(
    message: Mapping[str, Any], contacts: list[dict[str, Any]]
) -> tuple[str, Contact] | None:
    contact = _contact_for(message, contacts)
    wa_id = as_str(message.get("from")) or as_str(contact.get("wa_id"))
    if wa_id is not None and not (wa_id.isascii() and wa_id.isdigit()):
        wa_id = None  # never take something that is not a phone number for one
    bsuid = as_str(message.get("from_user_id")) or as_str(contact.get("user_id"))
    user_id = wa_id or bsuid
    if user_id is None:
        return None
    ids = {
        "wa_id": wa_id,
        "user_id": bsuid,
        "parent_user_id": as_str(contact.get("parent_user_id")),
    }
    return user_id, Contact(
        phone=f"+{wa_id}" if wa_id else None,
        phone_verified=wa_id is not None,
        name=as_str(as_dict(contact.get("profile")).get("name")),
        ids={k: v for k, v in ids.items() if v},
    )


def _location(obj: Mapping[str, Any]) -> Location | None:
    return valid_location(
        obj.get("latitude"),
        obj.get("longitude"),
        address=as_str(obj.get("address")),
        name=as_str(obj.get("name")),
    )


def _content(message: Mapping[str, Any]) -> dict[str, Any] | None:
    """The message's text/payload/location/attachments, or None for a type we skip."""
    kind = message.get("type")
    if not isinstance(kind, str):
        return None
    obj = as_dict(message.get(kind))
    if kind == "text":
        body = as_str(obj.get("body"))
        return {"text": body} if body else None
    if kind == "location":
        location = _location(obj)
        return {"location": location} if location else None
    if kind in _MEDIA:
        media_id = as_str(obj.get("id"))
        if media_id is None:
            return None
        attachment = Attachment(
            type=_MEDIA[kind],
            media_id=media_id,
            mime_type=as_str(obj.get("mime_type")),
            filename=as_str(obj.get("filename")),
        )
        return {"attachments": (attachment,), "text": as_str(obj.get("caption"))}
    if kind == "interactive":
        reply_type = obj.get("type")
        reply: dict[str, Any] = {}
        if isinstance(reply_type, str) and reply_type in {"button_reply", "list_reply"}:
            reply = as_dict(obj.get(reply_type))
        payload = as_str(reply.get("id"))
        return {"payload": payload, "text": as_str(reply.get("title"))} if payload else None
    if kind == "button":
        payload = as_str(obj.get("payload"))
        text = as_str(obj.get("text"))
        # A template button without a payload still says something: its label.
        return {"payload": payload, "text": text} if payload or text else None
    return None  # reaction, contacts, order, system, unsupported, request_welcome ...


def _message(
    message: Any, contacts: list[dict[str, Any]], phone_number_id: str | None
) -> InboundMessage | None:
    if not isinstance(message, dict):
        return None
    wamid = as_str(message.get("id"))
    timestamp = _timestamp(message.get("timestamp"))
    sender = _sender(message, contacts)
    content = _content(message)
    if wamid is None or timestamp is None or sender is None or content is None:
        kind = message.get("type")
        if isinstance(kind, str) and kind not in {"text", "location", "interactive", "button"}:
            log.info("whatsapp: skipped a %r message", kind[:40])
        return None
    user_id, contact = sender
    context = {"wamid": wamid}
    if phone_number_id:
        context["phone_number_id"] = phone_number_id
    quoted = as_str(as_dict(message.get("context")).get("id"))
    if quoted:
        context["context_id"] = quoted
    return InboundMessage(
        channel=CHANNEL,
        provider_message_id=wamid,
        user_id=user_id,
        timestamp=timestamp,
        contact=contact,
        reply_context=context,
        **content,
    )


def _status(status: Any) -> DeliveryStatus | None:
    if not isinstance(status, dict):
        return None
    wamid = as_str(status.get("id"))
    state = status.get("status")
    state = state if isinstance(state, str) else None
    timestamp = _timestamp(status.get("timestamp"))
    recipient = as_str(status.get("recipient_id")) or as_str(status.get("recipient_user_id"))
    if wamid is None or state not in _STATES or timestamp is None or recipient is None:
        return None
    error = None
    errors = [e for e in as_list(status.get("errors")) if isinstance(e, dict)]
    if errors:
        first = errors[0]
        details = as_str(as_dict(first.get("error_data")).get("details"))
        error = f"{first.get('code')} {first.get('title') or first.get('message') or ''}".strip()
        if details:
            error += f": {details}"
    return DeliveryStatus(
        channel=CHANNEL,
        provider_message_id=wamid,
        recipient_id=recipient,
        state=cast(DeliveryState, state),
        timestamp=timestamp,
        error=error,
    )


def parse(raw: bytes, phone_number_id: str | None = None) -> list[InboundEvent]:
    """Every message and status in a webhook body. With ``phone_number_id``, changes for
    other business numbers of the account are skipped (we could not answer from them).

    :class:`MalformedPayload` when the body is not a WhatsApp Business Account webhook."""
    data = load(raw, "whatsapp_business_account", "whatsapp_business_account")
    events: list[InboundEvent] = []
    for entry in as_list(data.get("entry")):
        for change in as_list(as_dict(entry).get("changes")):
            change = as_dict(change)
            if change.get("field") != "messages":
                continue
            value = as_dict(change.get("value"))
            number = as_str(as_dict(value.get("metadata")).get("phone_number_id"))
            if phone_number_id and number != phone_number_id:
                log.warning("whatsapp: skipped a change for another phone number id")
                continue
            for error in as_list(value.get("errors")):
                log.warning("whatsapp: webhook error %s", as_dict(error).get("code"))
            contacts = [c for c in as_list(value.get("contacts")) if isinstance(c, dict)]
            for message in as_list(value.get("messages")):
                parsed = _message(message, contacts, number)
                if parsed is not None:
                    events.append(parsed)
            for status in as_list(value.get("statuses")):
                delivery = _status(status)
                if delivery is not None:
                    events.append(delivery)
    return events

"""Messenger webhook bodies → :class:`InboundMessage` / :class:`DeliveryStatus`. Pure.

Every ``entry[].messaging[]`` event of a (batched) ``object: "page"`` body is read, in order
(protocols.md §2.2):

- ``message``: ``text``; ``quick_reply.payload`` → ``payload`` (the tapped title stays the
  text); ``attachments[]`` image / audio / video / file (→ ``document``) by their CDN URL
  (``source_url``), stickers (images with a ``sticker_id``), and the legacy ``location``
  attachment (``payload.coordinates``) if a client still sends one. Echoes of the Page's own
  messages (``is_echo``) are skipped: answering them would loop.
- ``postback`` (a button or Get Started tap): ``payload``, title as the text; id ``mid``.
- ``delivery`` → one ``delivered`` status per ``mids[]`` id; ``read`` → one ``read`` status
  whose id is ``watermark:<ms>`` (everything sent before it was read).
- ``standby`` (handover protocol: another app owns the thread), reactions, opt-ins and
  referrals are skipped.

The sender is its Page-scoped id (PSID): ``user_id`` and ``Contact.ids["psid"]``. Messenger
tells no phone or e-mail, so the contact has neither.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from bot.model import (
    Attachment,
    AttachmentType,
    Contact,
    DeliveryStatus,
    InboundEvent,
    InboundMessage,
    Location,
)
from channels.meta.payload import as_dict, as_list, as_str, load, valid_location

__all__ = ["CHANNEL", "parse"]

CHANNEL = "messenger"
log = logging.getLogger("channels.messenger")

_ATTACHMENTS: dict[str, AttachmentType] = {
    "image": "image",
    "audio": "audio",
    "video": "video",
    "file": "document",
}


def _id(value: Any) -> str | None:
    """Graph ids are digit strings (sometimes numbers in older payloads)."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return str(value)
    text = as_str(value)
    return text if text is not None and text.isascii() and text.isdigit() else None


def _ms(value: Any) -> float | None:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value / 1000.0
    return None


def _location(attachment: Mapping[str, Any]) -> Location | None:
    coordinates = as_dict(as_dict(attachment.get("payload")).get("coordinates"))
    return valid_location(
        coordinates.get("lat"), coordinates.get("long"), name=as_str(attachment.get("title"))
    )


def _attachments(items: list[Any]) -> tuple[tuple[Attachment, ...], Location | None]:
    attachments: list[Attachment] = []
    location: Location | None = None
    for item in items:
        item = as_dict(item)
        kind = item.get("type")
        payload = as_dict(item.get("payload"))
        if kind == "location":
            location = location or _location(item)
            continue
        if not isinstance(kind, str) or kind not in _ATTACHMENTS:
            continue  # fallback (shared links), template, reel, story mention ...
        url = as_str(payload.get("url"))
        if url is None or not url.startswith(("https://", "http://")):
            continue
        is_sticker = kind == "image" and payload.get("sticker_id") is not None
        attachments.append(
            Attachment(type="sticker" if is_sticker else _ATTACHMENTS[kind], source_url=url)
        )
    return tuple(attachments), location


def _message(event: Mapping[str, Any], psid: str, page: str, ts: float) -> InboundMessage | None:
    message = as_dict(event.get("message"))
    if message.get("is_echo"):
        return None
    mid = as_str(message.get("mid"))
    if mid is None:
        return None
    attachments, location = _attachments(as_list(message.get("attachments")))
    text = as_str(message.get("text"))
    payload = as_str(as_dict(message.get("quick_reply")).get("payload"))
    if text is None and payload is None and not attachments and location is None:
        return None
    return InboundMessage(
        channel=CHANNEL,
        provider_message_id=mid,
        user_id=psid,
        timestamp=ts,
        text=text,
        payload=payload,
        location=location,
        attachments=attachments,
        contact=Contact(ids={"psid": psid}),
        reply_context={"mid": mid, "page_id": page},
    )


def _postback(event: Mapping[str, Any], psid: str, page: str, ts: float) -> InboundMessage | None:
    postback = as_dict(event.get("postback"))
    payload = as_str(postback.get("payload"))
    if payload is None:
        return None
    # Older postbacks have no mid: the sender and the millisecond identify the tap.
    mid = as_str(postback.get("mid")) or f"postback:{psid}:{int(ts * 1000)}"
    return InboundMessage(
        channel=CHANNEL,
        provider_message_id=mid,
        user_id=psid,
        timestamp=ts,
        text=as_str(postback.get("title")),
        payload=payload,
        contact=Contact(ids={"psid": psid}),
        reply_context={"mid": mid, "page_id": page},
    )


def _statuses(event: Mapping[str, Any], psid: str, ts: float | None) -> list[InboundEvent]:
    statuses: list[InboundEvent] = []
    delivery = as_dict(event.get("delivery"))
    if delivery:
        when = _ms(delivery.get("watermark")) or ts
        for item in as_list(delivery.get("mids")):
            mid = as_str(item)
            if mid is not None and when is not None:
                statuses.append(DeliveryStatus(CHANNEL, mid, psid, "delivered", when))
    read = as_dict(event.get("read"))
    watermark = read.get("watermark")
    when = _ms(watermark)
    if when is not None:
        statuses.append(DeliveryStatus(CHANNEL, f"watermark:{watermark}", psid, "read", when))
    return statuses


def _event(event: Any, page_id: str | None) -> list[InboundEvent]:
    event = as_dict(event)
    psid = _id(as_dict(event.get("sender")).get("id"))
    page = _id(as_dict(event.get("recipient")).get("id"))
    if psid is None or page is None:
        return []
    if page_id and page != page_id:
        return []
    ts = _ms(event.get("timestamp"))
    if "delivery" in event or "read" in event:
        return _statuses(event, psid, ts)
    if ts is None:
        return []
    if "message" in event:
        message = _message(event, psid, page, ts)
        return [message] if message else []
    if "postback" in event:
        postback = _postback(event, psid, page, ts)
        return [postback] if postback else []
    return []


def parse(raw: bytes, page_id: str | None = None) -> list[InboundEvent]:
    """Every message, postback and delivery/read receipt in a webhook body; with ``page_id``
    only that Page's. :class:`MalformedPayload` when the body is not a Page webhook."""
    data = load(raw, "page", "Messenger (object: page)")
    events: list[InboundEvent] = []
    for entry in as_list(data.get("entry")):
        entry = as_dict(entry)
        if page_id and _id(entry.get("id")) not in {None, page_id}:
            log.warning("messenger: skipped an entry for another Page")
            continue
        for event in as_list(entry.get("messaging")):
            events.extend(_event(event, page_id))
    return events

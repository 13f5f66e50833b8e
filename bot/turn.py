"""One conversation turn: an inbound message in, its replies queued for sending.

Run by the inbound :class:`~bot.keyed_queue.KeyedQueue` under the conversation's lock:

1. the contact record (:mod:`bot.contacts`; never blocks the turn);
2. the attachments: downloaded through the channel (or decoded, e-mail), checked and stored
   (:mod:`bot.media`); a file over the limits is skipped;
3. the language (:mod:`bot.language`);
4. Rasa's REST channel with the metadata of docs/bot.md, retried while Rasa is down;
5. the replies become :class:`~bot.model.OutboundMessage` (key = inbound id + index) and are
   queued together with the removal of the inbound message, in one fenced script
   (:data:`bot.lua.COMMIT_TURN`): a turn is finished exactly when its replies are queued.

A process killed between 4 and 5 sends the message to Rasa again after the takeover; the
actions file reports with an ``Idempotency-Key`` derived from the message, so no second ticket
is filed (bot/README.md "Delivery guarantees").
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from redis.asyncio import Redis

from bot import keys, lua
from bot.contacts import Contacts
from bot.errors import MediaError
from bot.keyed_queue import Item, Lease
from bot.language import ConversationLanguage
from bot.media import MediaStore
from bot.metrics import HubMetrics
from bot.model import Attachment, Button, InboundMessage, OutboundMessage
from bot.rasa import RasaClient, RasaRejected
from channels.base import Channel

__all__ = ["TurnHandler", "rasa_message", "rasa_metadata", "replies_to_outbound"]

log = logging.getLogger("bot.turn")

POISON_MAXLEN = 10_000
DEFAULT_LANGUAGE = "ar"
#: What Rasa gets as the text of a message that only carries a map pin or a file: an intent
#: without entities, so the NLU guesses nothing from it while the pin / photo in the metadata
#: fills the form's slot (docs/bot.md: ``latitude``, ``photo_url`` come from metadata).
SHARE_INTENT = "/inform"


def rasa_message(message: InboundMessage) -> str:
    """The text Rasa gets: a button's payload, else the text, else :data:`SHARE_INTENT` for
    a message that only shares a location or files."""
    if message.payload:
        return message.payload
    if message.text and message.text.strip():
        return message.text
    return SHARE_INTENT


def rasa_metadata(
    message: InboundMessage, language: str | None, attachments: Sequence[Mapping[str, str]]
) -> dict[str, Any]:
    """docs/bot.md "Metadata a channel sends with each message" (+ ``proactive`` for the
    hub's own message: ``survey`` / ``survey_reminder``)."""
    contact = message.contact
    metadata: dict[str, Any] = {"channel": message.channel, "public": message.public}
    if message.system:
        metadata["proactive"] = message.system
    if language:
        metadata["language"] = language
    known = {
        "phone": contact.phone,
        "email": contact.email,
        "name": contact.name,
    }
    details: dict[str, Any] = {k: v for k, v in known.items() if v}
    if contact.phone:
        details["phone_verified"] = contact.phone_verified
    if contact.email:
        details["email_verified"] = contact.email_verified
    if details:
        metadata["contact"] = details
    if message.location is not None:
        pin: dict[str, Any] = {"lat": message.location.lat, "long": message.location.long}
        address = message.location.address or message.location.name
        if address:
            pin["address"] = address
        metadata["location"] = pin
    if attachments:
        metadata["attachments"] = [dict(a) for a in attachments]
    return metadata


def _custom_flag(custom: Any, name: str) -> bool:
    return isinstance(custom, Mapping) and custom.get(name) is True


def replies_to_outbound(
    message: InboundMessage, replies: Sequence[Mapping[str, Any]], language: str
) -> list[OutboundMessage]:
    """Rasa's ``[{text, buttons, image, custom}]`` as channel-neutral replies."""
    out: list[OutboundMessage] = []
    for reply in replies:
        custom = reply.get("custom")
        text = reply.get("text")
        if not isinstance(text, str):
            text = ""
            if isinstance(custom, Mapping) and isinstance(custom.get("text"), str):
                text = custom["text"]
        listed = reply.get("buttons")
        buttons = tuple(
            Button(title=str(b.get("title") or ""), payload=str(b["payload"]))
            for b in (listed if isinstance(listed, list) else ())
            if isinstance(b, Mapping) and b.get("payload")
        )
        image = reply.get("image") if isinstance(reply.get("image"), str) else None
        request_location = _custom_flag(custom, "request_location")
        if not (text or buttons or image or request_location):
            continue
        if request_location and not (text or buttons or image) and out:
            # Rasa sends a response's `custom` as a message of its own after the text: the
            # location picker belongs to the question just asked.
            out[-1] = replace(out[-1], request_location=True)
            continue
        out.append(
            OutboundMessage(
                channel=message.channel,
                recipient_id=message.user_id,
                key=f"{message.provider_message_id}:{len(out)}",
                text=text,
                buttons=buttons,
                image_url=image,
                request_location=request_location,
                language=language,
                public=message.public,
                reply_context=dict(message.reply_context),
            )
        )
    return out


def _item_time_ms(item_id: str) -> str:
    return item_id.split("-", 1)[0]


class TurnHandler:
    """The inbound queue's handler (``bot.keyed_queue.QueueHandler``)."""

    def __init__(
        self,
        *,
        redis: Redis,
        channels: Mapping[str, Channel],
        rasa: RasaClient,
        media: MediaStore,
        contacts: Contacts,
        language: ConversationLanguage,
        metrics: HubMetrics,
        stopping: asyncio.Event,
    ) -> None:
        self.redis = redis
        self._channels = channels
        self._rasa = rasa
        self._media = media
        self._contacts = contacts
        self._language = language
        self._metrics = metrics
        self._stopping = stopping

    async def handle(self, lease: Lease, item: Item) -> None:
        message = InboundMessage.from_json(item.fields["m"])
        conversation = message.conversation_id
        text = message.text or ""
        language = await self._language.resolve(conversation, text, message.language_hint)
        if not message.system:  # the hub's own message says nothing about the citizen
            await self._contacts.record(message, language)
        attachments = await self._attachments(message)
        metadata = rasa_metadata(message, message.language_hint or language, attachments)

        def give_up() -> bool:
            return lease.lost or self._stopping.is_set()

        try:
            replies = await self._rasa.turn(
                conversation, rasa_message(message), metadata, give_up=give_up
            )
        except RasaRejected as exc:
            log.error(
                "Rasa refused the message: %s", exc,
                extra={"conversation_id": conversation, "event": "rasa_rejected"},
            )  # fmt: skip
            replies = []
        if replies is None:  # gave up: the message stays for whoever holds the lock next
            lease.lost = lease.lost or not self._stopping.is_set()
            return
        outbound = replies_to_outbound(message, replies, language or DEFAULT_LANGUAGE)
        committed = await lua.COMMIT_TURN(
            self.redis,
            [
                lease.lock_key,
                keys.conv_in(conversation),
                keys.conv_out(conversation),
                keys.SEND_WORK,
            ],
            [lease.token, item.id, conversation, _item_time_ms(item.id)]
            + [o.to_json() for o in outbound],
        )
        if not committed:
            lease.lost = True
            return
        log.info(
            "turn: %d replies", len(outbound),
            extra={"conversation_id": conversation, "channel": message.channel, "event": "turn"},
        )  # fmt: skip

    async def _attachments(self, message: InboundMessage) -> list[dict[str, str]]:
        stored: list[dict[str, str]] = []
        for attachment in message.attachments:
            try:
                data = await self._fetch(message.channel, attachment)
                media = await self._media.store(data)
            except MediaError as exc:
                self._metrics.media.labels(message.channel, "skipped").inc()
                log.warning(
                    "attachment skipped: %s", exc,
                    extra={"conversation_id": message.conversation_id, "event": "media"},
                )  # fmt: skip
                continue
            self._metrics.media.labels(message.channel, "stored").inc()
            stored.append({"type": media.kind.type, "url": media.url})
        return stored

    async def _fetch(self, channel_name: str, attachment: Attachment) -> bytes:
        if attachment.inline_b64:
            return self._media.decode_inline(attachment.inline_b64)
        if attachment.size is not None and attachment.size > self._media.max_bytes:
            raise MediaError(f"{attachment.size} bytes is over the limit")
        channel = self._channels.get(channel_name)
        if channel is None:
            raise MediaError(f"channel {channel_name} is not configured")
        try:
            media = await channel.download(attachment, self._media.max_bytes)
        except MediaError:
            raise
        except Exception as exc:  # an adapter's bug must not cost the citizen the turn
            raise MediaError(f"download failed: {type(exc).__name__}: {exc}") from exc
        return media.data

    async def set_aside(self, lease: Lease, item: Item, error: str) -> None:
        ok = await lua.MOVE_ASIDE(
            self.redis,
            [lease.lock_key, keys.conv_in(lease.key), keys.POISON],
            [lease.token, item.id, POISON_MAXLEN, "m", item.fields.get("m", ""), "error", error,
             "time", str(int(time.time() * 1000))],
        )  # fmt: skip
        if not ok:
            lease.lost = True
        log.error(
            "inbound message set aside after repeated failures: %s", error,
            extra={"conversation_id": lease.key, "event": "poison"},
        )  # fmt: skip

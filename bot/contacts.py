"""What the channels tell us about a citizen, kept per conversation and shared with the ticket
service when it is verified.

Every inbound message updates the hash ``tawasul:contact:<conversation>`` (fields ``id:<name>``
for each provider identifier of ``Contact.ids`` — wa_id, user_id, psid, telegram_id, x_id ... —
plus ``phone``, ``email``, ``name``; a known field is never blanked by a missing one). When the
channel VERIFIED a phone (WhatsApp) or an e-mail (an authenticated sender), the identity
``(channel, conversation id)`` — the reporter the bot files tickets for — is upserted and the
phone/e-mail marked verified in the ticket service once per identity and value (remembered in
Redis), which links the citizen's identities on every channel ("my reports" across channels).
A failure there is logged and counted and never blocks the turn; it is tried again on the next
message.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging

from redis.asyncio import Redis
from redis.typing import EncodableT, FieldT

from bot import keys
from bot.metrics import HubMetrics
from bot.model import InboundMessage
from ticket_client import Contact as TicketContact
from ticket_client import TawasulClient, TicketClientError

__all__ = ["Contacts"]

log = logging.getLogger("bot.contacts")

SYNCED_SECONDS = 30 * 24 * 3600
SYNC_TIMEOUT = 5.0


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class Contacts:
    def __init__(self, redis: Redis, tickets: TawasulClient | None, metrics: HubMetrics) -> None:
        self._redis = redis
        self._tickets = tickets
        self._metrics = metrics

    async def record(self, message: InboundMessage, language: str | None) -> None:
        contact = message.contact
        fields: dict[FieldT, EncodableT] = {
            f"id:{name}": value for name, value in contact.ids.items() if value
        }
        fields["id:user_id"] = message.user_id
        for name in ("phone", "email", "name"):
            value = getattr(contact, name)
            if value:
                fields[name] = value
        key = keys.contact(message.conversation_id)
        stored = await self._redis.hgetall(key)  # a read: no write (and fsync) when unchanged
        known = {_text(k): _text(v) for k, v in stored.items()}
        changed: dict[FieldT, EncodableT] = {
            k: v for k, v in fields.items() if known.get(_text(k)) != _text(v)
        }
        if changed:
            await self._redis.hset(key, mapping=changed)
        await self._sync_verified(message, language)

    async def _sync_verified(self, message: InboundMessage, language: str | None) -> None:
        contact = message.contact
        verified = []
        if contact.phone and contact.phone_verified:
            verified.append(("phone", contact.phone))
        if contact.email and contact.email_verified:
            verified.append(("email", contact.email))
        if not verified or self._tickets is None:
            return
        conversation = message.conversation_id
        todo = []
        for kind, value in verified:
            digest = hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()[:24]
            synced_key = keys.contact_synced(conversation, digest)
            if not await self._redis.exists(synced_key):
                todo.append((kind, value, synced_key))
        if not todo:
            return
        try:
            async with asyncio.timeout(SYNC_TIMEOUT):
                await self._tickets.upsert_contact(
                    TicketContact(
                        channel=message.channel,
                        channel_user_id=conversation,
                        name=contact.name,
                        phone=contact.phone,
                        email=contact.email,
                        language=language,
                        phone_verified=contact.phone_verified,
                        email_verified=contact.email_verified,
                    )
                )
                for kind, value, synced_key in todo:
                    await self._tickets.verify_contact(
                        message.channel, conversation, **{kind: value}
                    )
                    await self._redis.set(synced_key, "1", ex=SYNCED_SECONDS)
                    self._metrics.contacts.labels("verified").inc()
        except (TicketClientError, TimeoutError) as exc:
            self._metrics.contacts.labels("failed").inc()
            log.warning(
                "could not tell the ticket service about a verified contact: %s", exc,
                extra={"conversation_id": conversation, "event": "contact_sync"},
            )  # fmt: skip

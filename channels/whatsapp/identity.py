"""BSUID → wa_id memory, so a citizen whose phone disappears from webhooks keeps their
conversation (see ``parse`` for why the conversation is keyed by ``wa_id``).

Every message that carries both a ``wa_id`` and a BSUID (``user_id``) links them in Redis
(Meta issues a new BSUID when the phone number changes, so a link never goes stale). A message
that carries only a BSUID is given the ``wa_id`` and verified phone last seen with it.
"""

from __future__ import annotations

import dataclasses

from redis.asyncio import Redis

from bot.model import InboundEvent, InboundMessage

__all__ = ["Identities"]

TTL_SECONDS = 400 * 24 * 3600


class Identities:
    """The links of one WhatsApp Business Account."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    @staticmethod
    def _key(bsuid: str) -> str:
        return f"tawasul:whatsapp:bsuid:{bsuid}"

    async def link_and_resolve(self, events: list[InboundEvent]) -> list[InboundEvent]:
        """Store the links ``events`` show, then give BSUID-only messages their ``wa_id``."""
        links = {
            e.contact.ids["user_id"]: e.contact.ids["wa_id"]
            for e in events
            if isinstance(e, InboundMessage) and {"user_id", "wa_id"} <= e.contact.ids.keys()
        }
        if links:
            async with self._redis.pipeline(transaction=False) as pipe:
                for bsuid, wa_id in links.items():
                    pipe.set(self._key(bsuid), wa_id, ex=TTL_SECONDS)
                await pipe.execute()
        orphans = sorted(
            {
                e.user_id
                for e in events
                if isinstance(e, InboundMessage) and "wa_id" not in e.contact.ids
            }
        )
        if not orphans:
            return events
        found = await self._redis.mget([self._key(b) for b in orphans])
        known = {
            bsuid: (raw.decode() if isinstance(raw, bytes) else str(raw))
            for bsuid, raw in zip(orphans, found, strict=True)
            if raw is not None
        }
        resolved: list[InboundEvent] = []
        for event in events:
            if isinstance(event, InboundMessage) and event.user_id in known:
                wa_id = known[event.user_id]
                contact = dataclasses.replace(
                    event.contact,
                    phone=f"+{wa_id}",
                    phone_verified=True,
                    ids={**event.contact.ids, "wa_id": wa_id},
                )
                event = dataclasses.replace(event, user_id=wa_id, contact=contact)
            resolved.append(event)
        return resolved

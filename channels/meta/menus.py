"""Numbered choices: options that no button could carry, answered by typing their number.

When a reply has more options than the channel's buttons or list hold (WhatsApp > 10,
Messenger > 13) or a payload too long for a button id, the adapter sends them as numbered
text and remembers the payloads per user (``remember``). At ingest, a bare number from that
user ("3", "٣", "#3") becomes the option's payload (``resolve``). A newer set of buttons
replaces the menu (``forget``); it expires after an hour.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence

from redis.asyncio import Redis

from bot.model import InboundEvent, InboundMessage

__all__ = ["Menus", "numbered_text", "parse_choice"]

TTL_SECONDS = 3600
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")


def parse_choice(text: str | None) -> int | None:
    """The option number a message is (``"3"``, ``" ٣ "``, ``"#3"``, ``"3."``), else None."""
    if not text:
        return None
    value = text.strip().translate(_DIGITS).lstrip("#").rstrip(".)").strip()
    if not value.isascii() or not value.isdigit() or len(value) > 3:
        return None
    return int(value)


class Menus:
    """The numbered menus of one channel's users."""

    def __init__(self, redis: Redis, channel: str) -> None:
        self._redis = redis
        self._channel = channel

    def _key(self, user_id: str) -> str:
        return f"tawasul:{self._channel}:menu:{user_id}"

    async def remember(self, user_id: str, payloads: Sequence[str]) -> None:
        """Option ``n`` (1-based) of ``user_id`` is ``payloads[n-1]`` from now on."""
        await self._redis.set(self._key(user_id), json.dumps(list(payloads)), ex=TTL_SECONDS)

    async def forget(self, user_id: str) -> None:
        await self._redis.delete(self._key(user_id))

    async def resolve(self, events: Sequence[InboundEvent]) -> list[InboundEvent]:
        """``events`` with each bare-number text answering a menu given its payload."""
        wanted = [
            e
            for e in events
            if isinstance(e, InboundMessage) and e.payload is None and parse_choice(e.text)
        ]
        if not wanted:
            return list(events)
        users = sorted({e.user_id for e in wanted})
        stored = await self._redis.mget([self._key(u) for u in users])
        menus: dict[str, list[str]] = {}
        for user, raw in zip(users, stored, strict=True):
            if raw is not None:
                options = json.loads(raw)
                if isinstance(options, list):
                    menus[user] = [str(o) for o in options]
        resolved: list[InboundEvent] = []
        for event in events:
            if isinstance(event, InboundMessage) and event.payload is None:
                options = menus.get(event.user_id)
                choice = parse_choice(event.text)
                if options and choice and 1 <= choice <= len(options):
                    event = dataclasses.replace(event, payload=options[choice - 1])
            resolved.append(event)
        return resolved


def numbered_text(intro: str, titles: Sequence[str], start: int = 1) -> str:
    """``intro`` then one ``"<n>. <title>"`` line per option, numbered from ``start``."""
    lines = [f"{n}. {title}" for n, title in enumerate(titles, start)]
    return "\n".join([intro, *lines])

"""Button payloads longer than Telegram's 64-byte ``callback_data`` (README.md "Buttons").

A Rasa payload such as ``/inform{"service":"building_violation"}`` can exceed 64 bytes. Such
a payload — and any payload that starts with :data:`TOKEN_PREFIX`, so that the two can never be
confused — travels as a short token, ``~`` + 22 characters of its SHA-256, kept in Redis for
``callback_ttl`` seconds (refreshed whenever the button is sent again). A tap on a token is
turned back into the payload before the message is queued; a token that expired becomes a
message with the button's label as its text (the citizen's words, for the NLU).
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import logging
from collections.abc import Mapping, Sequence

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.errors import QueueUnavailable
from bot.model import InboundEvent, InboundMessage

MAX_CALLBACK_BYTES = 64
TOKEN_PREFIX = "~"
KEY_PREFIX = "tawasul:telegram:callback:"

log = logging.getLogger(__name__)


def callback_data(payload: str) -> str:
    """What to put in ``callback_data`` for ``payload``: itself when it fits, else a token."""
    if len(payload.encode("utf-8")) <= MAX_CALLBACK_BYTES and not is_token(payload):
        return payload
    digest = hashlib.sha256(payload.encode("utf-8")).digest()[:16]
    return TOKEN_PREFIX + base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def is_token(data: str) -> bool:
    return data.startswith(TOKEN_PREFIX)


async def remember(redis: Redis, tokens: Mapping[str, str], ttl: int) -> None:
    """Keep token → payload for ``ttl`` seconds (raises ``RedisError``)."""
    if not tokens:
        return
    async with redis.pipeline(transaction=False) as pipe:
        for token, payload in tokens.items():
            pipe.set(KEY_PREFIX + token, payload, ex=ttl)
        await pipe.execute()


async def resolve(redis: Redis, events: Sequence[InboundEvent]) -> list[InboundEvent]:
    """The events with token payloads replaced by the payloads they stand for. Raises
    :class:`QueueUnavailable` when Redis cannot answer (the webhook answers 503 and Telegram
    retries). An expired token without a label to fall back on drops the tap."""
    resolved: list[InboundEvent] = []
    for event in events:
        if not isinstance(event, InboundMessage) or not is_token(event.payload or ""):
            resolved.append(event)
            continue
        token = event.payload or ""
        try:
            stored = await redis.get(KEY_PREFIX + token)
        except RedisError as exc:
            raise QueueUnavailable(f"cannot resolve a button payload: {exc}") from exc
        if stored is not None:
            payload = stored.decode("utf-8") if isinstance(stored, bytes) else str(stored)
            resolved.append(dataclasses.replace(event, payload=payload))
        elif event.text:
            resolved.append(dataclasses.replace(event, payload=None))
        else:
            log.warning("telegram: expired button token without a label; tap dropped")
    return resolved

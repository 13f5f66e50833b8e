"""The options we last offered a citizen in DMs, so a typed answer maps back to the button.

X has no buttons that survive everywhere: v2 DMs have no quick replies and the v1.1 ones may
be switched off, and a citizen may type instead of tapping. So every DM with buttons stores
its options (Redis, ``KEY``, for ``TTL`` seconds) and the citizen's next DM — only the
next — is matched against them: the option's number (any digits: 2, ٢, ۲) or its exact
title becomes ``InboundMessage.payload``. A tapped quick reply already carries its payload.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
from collections.abc import Sequence

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.errors import QueueUnavailable, TransientSendError
from bot.model import Button, InboundEvent, InboundMessage

KEY = "tawasul:x:menu:{}"
TTL = 6 * 3600
DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")


def _normal(text: str) -> str:
    return " ".join(text.translate(DIGITS).split()).casefold().rstrip(".)")


def choose(text: str, options: Sequence[tuple[str, str]]) -> str | None:
    """The payload of the option ``text`` names by number or title, else None."""
    answer = _normal(text)
    if answer.isdigit() and 1 <= int(answer) <= len(options):
        return options[int(answer) - 1][1]
    return next((payload for title, payload in options if _normal(title) == answer), None)


def _options(raw: bytes | str | None) -> list[tuple[str, str]]:
    try:
        return [(str(title), str(payload)) for title, payload in json.loads(raw or "[]")]
    except (ValueError, TypeError):
        return []


async def remember(redis: Redis, user_id: str, buttons: Sequence[Button]) -> None:
    """Store the options of a DM about to be sent (raises ``TransientSendError`` when Redis
    cannot: nothing was sent yet, so the sender may retry)."""
    value = json.dumps([[b.title, b.payload] for b in buttons], ensure_ascii=False)
    try:
        await redis.set(KEY.format(user_id), value, ex=TTL)
    except RedisError as exc:
        raise TransientSendError(f"cannot store the offered options: {exc}") from exc


async def resolve(redis: Redis, events: Sequence[InboundEvent]) -> list[InboundEvent]:
    """The events with typed choices turned into payloads (raises ``QueueUnavailable`` when
    Redis is down: the webhook answers 503 and X retries)."""
    result: list[InboundEvent] = []
    for event in events:
        if (
            isinstance(event, InboundMessage)
            and not event.public
            and event.payload is None
            and event.text
        ):
            try:
                raw = await redis.get(KEY.format(event.user_id))
            except RedisError as exc:
                raise QueueUnavailable(str(exc)) from exc
            payload = choose(event.text, _options(raw))
            if payload:
                event = dataclasses.replace(event, payload=payload)
        result.append(event)
    return result


async def forget(redis: Redis, events: Sequence[InboundEvent]) -> None:
    """After the events are durable: the offered options answered, drop them. Best effort:
    a leftover menu expires with its TTL."""
    users = {e.user_id for e in events if isinstance(e, InboundMessage) and not e.public}
    if users:
        with contextlib.suppress(RedisError):
            await redis.delete(*(KEY.format(user) for user in users))

"""The language of a conversation, as the bot will answer in it.

Mirrors the bot's own rule (``actions/slots.py`` ``choose_language``) so the hub renders
replies (button fallbacks, right-to-left) in the language Rasa writes them: an explicit switch
request ("English please", "بالعربي") > the conversation's previous language (sticky, kept in
Redis: short, digit-only or mixed messages never flip it) > the channel's hint > detection of
the text (:func:`nlu_components.language.detect`). None while nothing tells.
"""

from __future__ import annotations

from redis.asyncio import Redis

from bot import keys
from nlu_components.language import detect, switch_request

__all__ = ["LANGUAGES", "ConversationLanguage", "choose"]

LANGUAGES = ("ar", "en")
STICKY_SECONDS = 90 * 24 * 3600


def choose(text: str, previous: str | None, hint: str | None) -> str | None:
    asked = switch_request(text) if text else None
    if asked in LANGUAGES:
        return asked
    if previous in LANGUAGES:
        return previous
    if hint in LANGUAGES:
        return hint
    detected = detect(text) if text else None
    return detected if detected in LANGUAGES else None


class ConversationLanguage:
    """Per-conversation stickiness in ``tawasul:conv:<id>:lang``."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def resolve(self, conversation_id: str, text: str, hint: str | None) -> str | None:
        key = keys.language(conversation_id)
        raw = await self._redis.get(key)
        previous = raw.decode() if isinstance(raw, bytes) else raw
        chosen = choose(text, previous, hint)
        if chosen is not None and chosen != previous:
            await self._redis.set(key, chosen, ex=STICKY_SECONDS)
        return chosen

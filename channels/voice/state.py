"""A call's state in Redis, per ``CallSid``, with a TTL.

Keys (``{sid}`` is a Redis Cluster hash tag: one call's keys share a slot):

| key | type | what |
|---|---|---|
| ``tawasul:voice:{sid}:state`` | string (JSON) | :class:`CallState` |
| ``tawasul:voice:{sid}:answer:<n>:<digest>:<step>`` | string | the TwiML already answered to that request (a retry gets it again) |
| ``tawasul:voice:{sid}:busy`` | string, PX | one request of the call handled at a time |
| ``tawasul:voice:{sid}:replies:<turn>`` | list | the bot's replies to one inbound message (``VoiceChannel.deliver``) |

Every key expires ``state_ttl`` seconds after it was last written.
"""  # noqa: E501

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

from redis.asyncio import Redis

from bot.model import OutboundMessage

__all__ = ["CallState", "CallStore", "reply_list_key"]

BUSY_MS = 14_000
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def _key(sid: str, suffix: str) -> str:
    return f"tawasul:voice:{{{sid}}}:{suffix}"


def reply_list_key(turn_id: str) -> str:
    """Where the replies to the inbound message ``turn_id`` (``<CallSid>:<n>...``) go."""
    sid, _, rest = turn_id.partition(":")
    return _key(sid, f"replies:{rest}")


@dataclass(slots=True)
class CallState:
    """Where the call is. ``n`` numbers the responses; a request is expected only for the
    current ``n`` and one of ``steps`` (the actions and redirects of the last response)."""

    lang: str | None = None
    n: int = 0
    steps: list[str] = field(default_factory=list)
    #: Consecutive answers not understood at the current question.
    misses: int = 0
    #: The current question's buttons, ``[key, title, payload]``.
    buttons: list[list[str]] = field(default_factory=list)
    #: What the bot said last (repeated when the caller was not understood).
    last_prompt: list[str] = field(default_factory=list)
    #: Inbound messages whose replies are still to be spoken.
    pending: list[str] = field(default_factory=list)
    #: Redirects spent waiting for the bot on the current turn.
    waits: int = 0
    #: The ticket a follow-up voicemail is for.
    ticket: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str | bytes) -> CallState:
        data: dict[str, Any] = json.loads(raw)
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


class CallStore:
    def __init__(self, redis: Redis, ttl: int) -> None:
        self.redis = redis
        self.ttl = ttl
        self._release = redis.register_script(_RELEASE)

    async def load(self, sid: str) -> CallState | None:
        raw = await self.redis.get(_key(sid, "state"))
        return None if raw is None else CallState.from_json(raw)

    async def save(self, sid: str, state: CallState) -> None:
        await self.redis.set(_key(sid, "state"), state.to_json(), ex=self.ttl)

    async def forget(self, sid: str) -> None:
        await self.redis.delete(_key(sid, "state"))

    async def answer(self, sid: str, request: str, step: str) -> bytes | None:
        """The TwiML already sent for ``request`` (its ``n`` and parameters) at ``step``."""
        raw = await self.redis.get(_key(sid, f"answer:{request}:{step}"))
        return raw.encode() if isinstance(raw, str) else raw

    async def remember_answer(self, sid: str, request: str, step: str, body: bytes) -> None:
        await self.redis.set(_key(sid, f"answer:{request}:{step}"), body, ex=self.ttl)

    @asynccontextmanager
    async def busy(self, sid: str, wait: float) -> AsyncIterator[bool]:
        """Hold the call's lock; yields False when another request kept it for ``wait`` s."""
        key, token = _key(sid, "busy"), secrets.token_hex(8)
        deadline = time.monotonic() + wait
        while not await self.redis.set(key, token, nx=True, px=BUSY_MS):
            if time.monotonic() > deadline:
                yield False
                return
            await asyncio.sleep(0.05)
        try:
            yield True
        finally:
            await self._release(keys=[key], args=[token])

    async def add_reply(self, message: OutboundMessage) -> None:
        """Keep one of the bot's replies for the webhook that speaks it."""
        turn_id = message.key.rpartition(":")[0]
        key = reply_list_key(turn_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.rpush(key, message.to_json())
            pipe.expire(key, self.ttl)
            await pipe.execute()

    async def replies(self, turn_id: str) -> list[OutboundMessage]:
        """The replies to ``turn_id`` in the bot's order, each once."""
        raw = await self.redis.lrange(reply_list_key(turn_id), 0, -1)
        seen: dict[str, OutboundMessage] = {}
        for item in raw:
            message = OutboundMessage.from_json(item)
            seen.setdefault(message.key, message)
        return sorted(seen.values(), key=lambda m: int(m.key.rpartition(":")[2] or 0))

"""What the e-mail channel keeps in Redis.

- per mailbox (:class:`MailboxCursor`): ``UIDVALIDITY`` and the last processed UID (a hash),
  and the keys (Message-ID, else SHA-256) of mails already submitted (a sorted set by time,
  trimmed after :data:`SEEN_DAYS`) — the resync after a UIDVALIDITY change and a crash
  between submit and move rely on it;
- per conversation (:class:`ConversationStore`): the threading headers of the citizen's
  latest mail (so a later status update threads into it) and the options of the last
  numbered list we sent (consumed by the citizen's next mail).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence

from redis.asyncio import Redis
from redis.typing import EncodableT, FieldT

from bot.model import Button

__all__ = ["SEEN_DAYS", "ConversationStore", "MailboxCursor"]

SEEN_DAYS = 90
THREAD_TTL = 90 * 24 * 3600
OPTIONS_TTL = 14 * 24 * 3600
_THREAD_KEYS = ("message_id", "references", "subject", "ticket_id")


def _text(value: object) -> str | None:
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else str(value)


class MailboxCursor:
    """``(UIDVALIDITY, last UID)`` and the seen-mail set of one mailbox."""

    def __init__(self, redis: Redis, prefix: str, account: str) -> None:
        self._redis = redis
        self._key = f"{prefix}:cursor:{account}"
        self._seen = f"{prefix}:seen:{account}"

    async def load(self) -> tuple[int | None, int]:
        uidvalidity, last_uid = await self._redis.hmget(self._key, ["uidvalidity", "last_uid"])
        validity = _text(uidvalidity)
        return (int(validity) if validity else None), int(_text(last_uid) or 0)

    async def reset(self, uidvalidity: int) -> None:
        """A new UIDVALIDITY: every stored UID is void (RFC 3501 §2.3.1.1)."""
        await self._redis.hset(self._key, mapping={"uidvalidity": uidvalidity, "last_uid": 0})

    async def advance(self, uid: int) -> None:
        await self._redis.hset(self._key, "last_uid", uid)

    async def seen(self, mail_key: str) -> bool:
        return await self._redis.zscore(self._seen, mail_key) is not None

    async def mark_seen(self, mail_key: str) -> None:
        now = time.time()
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zadd(self._seen, {mail_key: now})
            pipe.zremrangebyscore(self._seen, "-inf", now - SEEN_DAYS * 86400)
            await pipe.execute()


class ConversationStore:
    """Threading headers and pending options, per conversation id."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix

    async def remember_thread(self, conversation_id: str, context: Mapping[str, str]) -> None:
        values: dict[FieldT, EncodableT] = {
            key: context[key] for key in _THREAD_KEYS if context.get(key)
        }
        if "message_id" not in values:
            return
        key = f"{self._prefix}:thread:{conversation_id}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(key)
            pipe.hset(key, mapping=values)
            pipe.expire(key, THREAD_TTL)
            await pipe.execute()

    async def thread(self, conversation_id: str) -> dict[str, str]:
        stored = await self._redis.hgetall(f"{self._prefix}:thread:{conversation_id}")
        return {_text(k) or "": _text(v) or "" for k, v in stored.items()}

    async def remember_options(self, conversation_id: str, buttons: Sequence[Button]) -> None:
        data = json.dumps([[b.title, b.payload] for b in buttons], ensure_ascii=False)
        await self._redis.set(f"{self._prefix}:options:{conversation_id}", data, ex=OPTIONS_TTL)

    async def options(self, conversation_id: str) -> list[Button]:
        """The options of the last numbered list sent (none once answered or expired)."""
        raw = _text(await self._redis.get(f"{self._prefix}:options:{conversation_id}"))
        if not raw:
            return []
        try:
            return [Button(title=str(t), payload=str(p)) for t, p in json.loads(raw)]
        except (ValueError, TypeError):
            return []

    async def clear_options(self, conversation_id: str) -> None:
        """They answer the citizen's next mail only."""
        await self._redis.delete(f"{self._prefix}:options:{conversation_id}")

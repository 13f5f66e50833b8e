"""The web chat's state in Redis: conversations, their history, uploaded photos.

Keys (``{uid}`` is a Redis Cluster hash tag: one conversation's keys share a slot):

- ``tawasul:web:{uid}:meta`` — hash (created, language); its existence is what makes a
  token valid;
- ``tawasul:web:{uid}:history`` — stream, entry ids ``<seq>-0``, field ``m`` = the entry JSON,
  capped at ``history_max`` entries;
- ``tawasul:web:{uid}:seq`` — the last seq;
- ``tawasul:web:{uid}:once:<key>`` — the seq an idempotency key produced (a client message id
  or a reply's ``OutboundMessage.key``);
- ``tawasul:web:{uid}:up:<hex>`` — an uploaded photo (hash: base64 data, MIME type).

Every append refreshes the TTL of the conversation's keys (``history_ttl``), so a conversation
lives that long after its last message. Appends publish ``<uid>:<seq>`` on
``tawasul:web:events``; each hub process relays that to its WebSockets (``push.py``).
"""

from __future__ import annotations

import base64
import json
import re
import time
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from channels.web.config import WebConfig

__all__ = ["EVENTS_CHANNEL", "Appended", "ChatStore", "ConversationGone", "media_owner"]

EVENTS_CHANNEL = "tawasul:web:events"

_MEDIA_ID = re.compile(r"([0-9a-f]{32})-([0-9a-f]{32})")
_NAME = re.compile(r"[0-9a-f]{32}")

# KEYS: meta, history, seq, once. ARGV: entry JSON, cap, ttl, events channel, uid.
# Returns {seq, duplicate (0/1)}; {-1, 0} when the conversation does not exist.
_APPEND = """
if redis.call('EXISTS', KEYS[1]) == 0 then return {-1, 0} end
local previous = redis.call('GET', KEYS[4])
if previous then return {tonumber(previous), 1} end
local seq = redis.call('INCR', KEYS[3])
local ttl = tonumber(ARGV[3])
redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[2], seq .. '-0', 'm', ARGV[1])
redis.call('SET', KEYS[4], seq, 'EX', ttl)
redis.call('EXPIRE', KEYS[1], ttl)
redis.call('EXPIRE', KEYS[2], ttl)
redis.call('EXPIRE', KEYS[3], ttl)
redis.call('PUBLISH', ARGV[4], ARGV[5] .. ':' .. seq)
return {seq, 0}
"""


class ConversationGone(LookupError):
    """The conversation does not exist (never created, or expired)."""


@dataclass(frozen=True, slots=True)
class Appended:
    seq: int
    duplicate: bool


def _key(uid: str, suffix: str) -> str:
    return f"tawasul:web:{{{uid}}}:{suffix}"


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class ChatStore:
    """Conversations and history over the hub's Redis (``decode_responses`` either way)."""

    def __init__(self, redis: Redis, config: WebConfig) -> None:
        self.redis = redis
        self.config = config
        self._append = redis.register_script(_APPEND)

    async def create(self, uid: str, language: str) -> None:
        meta = _key(uid, "meta")
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(meta, mapping={"created": f"{time.time():.3f}", "language": language})
            pipe.expire(meta, self.config.history_ttl)
            await pipe.execute()

    async def exists(self, uid: str) -> bool:
        return bool(await self.redis.exists(_key(uid, "meta")))

    async def append(self, uid: str, entry: dict[str, Any], once: str) -> Appended:
        """Add ``entry`` to the history unless ``once`` (an idempotency key) already did;
        the seq is the one ``once`` produced. Raises :class:`ConversationGone`."""
        keys = [_key(uid, s) for s in ("meta", "history", "seq", f"once:{once}")]
        body = json.dumps(entry, ensure_ascii=False, separators=(",", ":"))
        cap, ttl = self.config.history_max, self.config.history_ttl
        args: list[str | int] = [body, cap, ttl, EVENTS_CHANNEL, uid]
        seq, duplicate = await self._append(keys=keys, args=args)
        if int(seq) < 0:
            raise ConversationGone(uid)
        return Appended(int(seq), bool(int(duplicate)))

    async def seen(self, uid: str, once: str) -> int | None:
        """The seq an idempotency key produced, None when it is new."""
        value = await self.redis.get(_key(uid, f"once:{once}"))
        return None if value is None else int(value)

    async def history(self, uid: str, after: int, limit: int) -> list[dict[str, Any]]:
        """Entries with seq > ``after``, oldest first, at most ``limit``; each has ``seq``."""
        rows = await self.redis.xrange(_key(uid, "history"), min=f"{after + 1}", count=limit)
        entries: list[dict[str, Any]] = []
        for entry_id, fields in rows or ():
            raw = (fields or {}).get(b"m", (fields or {}).get("m"))
            if raw is None or entry_id is None:
                continue
            entry: dict[str, Any] = json.loads(raw)
            entry["seq"] = int(_text(entry_id).split("-", 1)[0])
            entries.append(entry)
        return entries

    async def put_upload(self, uid: str, data: bytes, mime_type: str, name: str) -> str:
        """Keep a photo for ``upload_ttl`` seconds under ``name`` (32 hex digits, derived from
        the client message id so a retried upload replaces itself); returns its media id."""
        if not _NAME.fullmatch(name):
            raise ValueError(f"not a media name: {name!r}")
        key = _key(uid, f"up:{name}")
        encoded = base64.b64encode(data).decode("ascii")
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping={"data": encoded, "mime": mime_type})
            pipe.expire(key, self.config.upload_ttl)
            await pipe.execute()
        return f"{uid}-{name}"

    async def get_upload(self, media_id: str) -> tuple[bytes, str] | None:
        """(bytes, MIME type) of an uploaded photo; None when unknown or expired."""
        found = _MEDIA_ID.fullmatch(media_id)
        if found is None:
            return None
        values = await self.redis.hgetall(_key(found.group(1), f"up:{found.group(2)}"))
        fields = {_text(k): _text(v) for k, v in values.items()}
        if "data" not in fields or "mime" not in fields:
            return None
        return base64.b64decode(fields["data"]), fields["mime"]


def media_owner(media_id: str) -> str | None:
    """The user id a media id belongs to (None when it is not a media id)."""
    found = _MEDIA_ID.fullmatch(media_id)
    return found.group(1) if found else None

"""The dead-letter stream ``tawasul:dead``: list (masked), replay, delete."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from bot import keys, lua
from bot.logs import mask
from bot.model import OutboundMessage

__all__ = ["DeadLetters", "valid_id"]

_ID = re.compile(r"^\d{1,20}-\d{1,20}$")


def valid_id(entry_id: str) -> bool:
    return _ID.match(entry_id) is not None


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _masked_message(raw: str) -> dict[str, Any]:
    try:
        data = json.loads(raw)
    except ValueError:
        return {"unreadable": True}
    if not isinstance(data, dict):
        return {"unreadable": True}
    for name in ("recipient_id", "text"):
        if isinstance(data.get(name), str):
            data[name] = mask(data[name])
    if isinstance(data.get("reply_context"), dict):
        data["reply_context"] = {k: mask(str(v)) for k, v in data["reply_context"].items()}
    if isinstance(data.get("template_params"), list):
        data["template_params"] = [mask(str(p)) for p in data["template_params"]]
    return data


@dataclass(frozen=True, slots=True)
class Page:
    items: list[dict[str, Any]]
    next: str | None


class DeadLetters:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def count(self) -> int:
        return int(await self._redis.xlen(keys.DEAD))

    async def page(self, limit: int, before: str | None = None) -> Page:
        """Newest first; ``before`` is the ``next`` of the previous page."""
        maximum = f"({before}" if before else "+"
        entries: Any = await self._redis.xrevrange(keys.DEAD, max=maximum, min="-", count=limit + 1)
        items: list[dict[str, Any]] = []
        for entry_id, raw in entries[:limit]:
            fields = {_text(k): _text(v) for k, v in raw.items()}
            message = _masked_message(fields.get("m", ""))
            items.append(
                {
                    "id": _text(entry_id),
                    "conversation_id": mask(fields.get("c", "")),
                    "channel": message.get("channel"),
                    "key": message.get("key"),
                    "error": mask(fields.get("error", "")),
                    "attempts": int(fields.get("attempts") or 0),
                    "time": int(fields.get("time") or 0) / 1000,
                    "message": message,
                }
            )
        more = len(entries) > limit
        return Page(items, str(items[-1]["id"]) if more and items else None)

    async def replay(self, entry_id: str) -> bool:
        """Queue the reply again at the end of its conversation's outbound stream; False when
        there is no such dead letter."""
        entries: Any = await self._redis.xrange(keys.DEAD, entry_id, entry_id)
        if not entries:
            return False
        fields = {_text(k): _text(v) for k, v in entries[0][1].items()}
        message = OutboundMessage.from_json(fields["m"])
        conversation = message.conversation_id
        done = await lua.REPLAY(
            self._redis,
            [keys.DEAD, keys.conv_out(conversation), keys.SEND_WORK],
            [entry_id, fields["m"], conversation, int(time.time() * 1000)],
        )
        if done:
            # An explicit replay means "send it again", even if it was (partly) sent before.
            await self._redis.delete(keys.sent(message.key))
        return bool(done)

    async def delete(self, entry_id: str) -> bool:
        return bool(await self._redis.xdel(keys.DEAD, entry_id))

"""The 24 h messaging window, per user (protocols.md §1.9, §2.4).

Each inbound citizen message opens or extends a window in which free-form replies are
allowed; outside it WhatsApp accepts only approved templates and Messenger only tagged
messages. The hub's ingest script keeps the provider time of each conversation's latest
message (``bot.keys.last_inbound``) in the same atomic step that makes the message durable,
so recording the window costs the webhook nothing; senders ask ``is_open`` before sending. A
late provider retry of an older message never shortens it; every hub process shares it.
"""

from __future__ import annotations

import time

from redis.asyncio import Redis

from bot import keys
from bot.model import conversation_id

__all__ = ["WINDOW_SECONDS", "MessagingWindow"]

WINDOW_SECONDS = 24 * 3600
#: A reply this close to the window's end is refused rather than sent into a likely 131047.
SAFETY_SECONDS = 60


class MessagingWindow:
    """The window of one channel's users."""

    def __init__(self, redis: Redis, channel: str, seconds: int = WINDOW_SECONDS) -> None:
        self._redis = redis
        self._channel = channel
        self._seconds = seconds

    async def last_inbound(self, user_id: str) -> float | None:
        """The provider time of ``user_id``'s latest message (kept for the dedup period)."""
        value = await self._redis.get(keys.last_inbound(conversation_id(self._channel, user_id)))
        return float(value) if value is not None else None

    async def is_open(self, user_id: str, now: float | None = None) -> bool:
        """True while a free-form reply to ``user_id`` is allowed (with a minute to spare)."""
        last = await self.last_inbound(user_id)
        now = time.time() if now is None else now
        return last is not None and now < last + self._seconds - SAFETY_SECONDS

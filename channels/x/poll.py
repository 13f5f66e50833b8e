"""Mention polling, for when webhooks are not available (protocols.md §3.2).

Every ``interval`` seconds: ``get_users_mentions(since_id=<cursor>)``, following
``next_token`` through all pages, submitting the mentions oldest first, and only then
storing the first page's ``newest_id`` as the new cursor in Redis — so a restart neither
re-reads nor skips (a crash between submit and store re-reads a page; the hub's dedup by
tweet id drops the repeats, also those the webhook already delivered). With no cursor yet
(first start), the newest mention only sets the cursor: the adapter does not answer the
backlog of up to 800 old mentions. A 429 waits until ``x-rate-limit-reset``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError
from tweepy.asynchronous import AsyncClient  # type: ignore[import-untyped]

from bot.errors import HubError, MalformedPayload, RetryAfter
from bot.model import InboundEvent, InboundMessage
from channels.x.mentions import REQUEST_FIELDS, parse_mentions
from channels.x.send import provider_errors

log = logging.getLogger("channels.x.poll")

CURSOR_KEY = "tawasul:x:since_id:{}"
PAGE_SIZE = 100
BASELINE_PAGE_SIZE = 5  # the API's minimum
MAX_WAIT = 15 * 60.0  # X's rate-limit window


class MentionPoller:
    """Polls our account's mention timeline into ``submit`` (the hub's)."""

    def __init__(
        self,
        client: AsyncClient,
        redis: Callable[[], Redis],
        submit: Callable[[Sequence[InboundEvent]], Awaitable[None]],
        *,
        user_id: str,
        interval: float,
        app_auth: bool,
    ) -> None:
        self._client = client
        self._redis = redis
        self._submit = submit
        self.user_id = user_id
        self.interval = interval
        self._user_auth = not app_auth
        self.cursor_key = CURSOR_KEY.format(user_id)

    async def _page(self, **params: Any) -> dict[str, Any]:
        async with provider_errors():
            page = await self._client.get_users_mentions(
                self.user_id, user_auth=self._user_auth, **params
            )
        if not isinstance(page, dict):
            raise MalformedPayload("the mentions answer is not an object")
        return page

    async def poll_once(self) -> int:
        """One round; returns how many mentions were submitted."""
        cursor = await self._redis().get(self.cursor_key)
        if cursor is None:
            page = await self._page(max_results=BASELINE_PAGE_SIZE)
            meta = page.get("meta")
            newest = meta.get("newest_id") if isinstance(meta, dict) else None
            if newest:
                await self._redis().set(self.cursor_key, str(newest))
            return 0
        since = cursor.decode() if isinstance(cursor, bytes) else str(cursor)
        mentions: list[InboundMessage] = []
        newest, token = None, None
        while True:
            params: dict[str, Any] = {"since_id": since, "max_results": PAGE_SIZE, **REQUEST_FIELDS}
            if token:
                params["pagination_token"] = token
            page = await self._page(**params)
            meta = page.get("meta")
            meta = meta if isinstance(meta, dict) else {}
            newest = newest or meta.get("newest_id")
            mentions.extend(parse_mentions(page, user_id=self.user_id))
            token = meta.get("next_token")
            if not token:
                break
        if mentions:
            await self._submit(mentions[::-1])  # pages run newest first; answer in order
        if newest:
            await self._redis().set(self.cursor_key, str(newest))
        return len(mentions)

    async def run(self) -> None:
        """Poll until cancelled; failures are logged and retried, never fatal."""
        while True:
            wait = self.interval
            try:
                count = await self.poll_once()
                if count:
                    log.info("x: %d new mention(s) by polling", count)
            except RetryAfter as exc:
                wait = min(max(exc.seconds, self.interval), MAX_WAIT)
                log.warning("x: mention polling rate-limited; next try in %.0f s", wait)
            except (HubError, RedisError) as exc:
                log.warning("x: mention polling failed: %s", exc)
            except Exception:  # a bug must not stop polling for good
                log.exception("x: mention polling failed unexpectedly")
            await asyncio.sleep(wait)

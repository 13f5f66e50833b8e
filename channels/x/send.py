"""Sends rendered requests with tweepy's AsyncClient and maps every failure to
:mod:`bot.errors`: 429 → ``RetryAfter`` until ``x-rate-limit-reset``; 5xx, timeouts and
connection errors → ``TransientSendError``; any other 4xx (forbidden, bad request, unknown
user, bad credentials) → ``PermanentSendError``."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
from tweepy.asynchronous import AsyncClient  # type: ignore[import-untyped]
from tweepy.errors import (  # type: ignore[import-untyped]
    HTTPException,
    TooManyRequests,
    TweepyException,
    TwitterServerError,
)

from bot.errors import PermanentSendError, RetryAfter, TransientSendError
from channels.x.render import DirectMessage, PublicReply, QuickReplyMessage, XRequest

#: When a 429 names no reset time: X's rate-limit windows are 15 minutes; try again in one.
DEFAULT_RETRY_SECONDS = 60.0
QUICK_REPLY_ROUTE = "/1.1/direct_messages/events/new.json"


def retry_seconds(reset_time: int | None, now: float | None = None) -> float:
    """Seconds until a rate-limit window resets (``x-rate-limit-reset``, Unix seconds)."""
    if reset_time is None:
        return DEFAULT_RETRY_SECONDS
    return max(1.0, reset_time - (time.time() if now is None else now))


def _detail(exc: HTTPException) -> str:
    messages = "; ".join(str(m) for m in exc.api_messages) or exc.response.reason or ""
    return f"X API {exc.response.status}: {messages}"


@asynccontextmanager
async def provider_errors() -> AsyncIterator[None]:
    """Translate whatever tweepy or aiohttp raise inside into :mod:`bot.errors`."""
    try:
        yield
    except TooManyRequests as exc:
        raise RetryAfter(retry_seconds(exc.reset_time), _detail(exc)) from exc
    except TwitterServerError as exc:
        raise TransientSendError(_detail(exc)) from exc
    except HTTPException as exc:
        raise PermanentSendError(_detail(exc)) from exc
    except aiohttp.ClientResponseError as exc:
        # An error answer that is not JSON (a proxy's HTML 502): tweepy cannot read it.
        if exc.status == 429:
            raise RetryAfter(DEFAULT_RETRY_SECONDS, f"X API 429: {exc.message}") from exc
        if 400 <= exc.status < 500:
            raise PermanentSendError(f"X API {exc.status}: {exc.message}") from exc
        raise TransientSendError(f"X API {exc.status}: {exc.message}") from exc
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise TransientSendError(f"X API unreachable: {exc!r}") from exc
    except TweepyException as exc:
        raise PermanentSendError(f"X API: {exc}") from exc


def _id(answer: Any, *path: str) -> str:
    """The id in a 2xx answer; "" when the answer lacks it (sent anyway: never resend)."""
    for key in path:
        if not isinstance(answer, dict) or key not in answer:
            return ""
        answer = answer[key]
    return str(answer)


async def send(client: AsyncClient, request: XRequest) -> str:
    """Make one request; return the id X gave the post or DM event."""
    async with provider_errors():
        if isinstance(request, PublicReply):
            answer: Any = await client.create_tweet(
                text=request.text,
                in_reply_to_tweet_id=request.in_reply_to_tweet_id,
                direct_message_deep_link=request.dm_deep_link,
            )
            return _id(answer, "data", "id")
        if isinstance(request, DirectMessage):
            answer = await client.create_direct_message(
                participant_id=request.participant_id, text=request.text
            )
            return _id(answer, "data", "dm_event_id")
        if isinstance(request, QuickReplyMessage):
            response = await client.request(
                "POST", QUICK_REPLY_ROUTE, params={}, json=request.body(), user_auth=True
            )
            try:
                answer = await response.json()
            except (ValueError, aiohttp.ContentTypeError):
                answer = None
            return _id(answer, "event", "id")
    raise TypeError(f"not an X request: {request!r}")

"""Helpers of the hub's tests: signed loop-channel webhooks, unique ids."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from tests.hub.loopchannel import sign

LOOP_SECRET = "loop-webhook-secret"
_ids = itertools.count(1)


def new_id(prefix: str = "m") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}-{next(_ids)}"


def new_user() -> str:
    return f"u{uuid.uuid4().hex[:10]}"


def loop_env(provider_url: str, token: str) -> dict[str, str]:
    return {
        "TAWASUL_EXTRA_CHANNELS": "tests.hub.loopchannel",
        "TAWASUL_LOOP_SECRET": LOOP_SECRET,
        "TAWASUL_LOOP_TOKEN": token,
        "TAWASUL_LOOP_BASE_URL": provider_url,
    }


def message(user: str, text: str | None = None, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"id": fields.pop("id", None) or new_id(), "from": user}
    if text is not None:
        body["text"] = text
    body.update(fields)
    return body


async def post_webhook(
    http: aiohttp.ClientSession,
    hub_url: str,
    messages: list[dict[str, Any]] | None = None,
    statuses: list[dict[str, Any]] | None = None,
    *,
    secret: str = LOOP_SECRET,
    signature: str | None = None,
) -> tuple[int, Any]:
    raw = json.dumps({"messages": messages or [], "statuses": statuses or []}).encode()
    headers = {"Content-Type": "application/json"}
    if signature is None:
        headers["X-Loop-Signature"] = sign(secret, raw)
    elif signature:
        headers["X-Loop-Signature"] = signature
    async with http.post(f"{hub_url}/webhooks/loop", data=raw, headers=headers) as response:
        return response.status, await response.json(content_type=None)


async def until(condition: Callable[[], Awaitable[bool]], within: float = 15.0) -> None:
    """Poll ``condition`` every 50 ms until it holds; AssertionError after ``within`` s."""
    deadline = time.monotonic() + within
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within:g} s")
        await asyncio.sleep(0.05)

"""The routes every Meta channel mounts: ``GET`` handshake and ``POST`` events.

The POST goes through :func:`channels.base.handle_webhook` (raw bytes → signature → parse →
durable submit). Before the hub's ``submit`` this resolves what the Meta channels keep in
Redis: numbered-menu answers become payloads (and WhatsApp's ``enrich`` links identities).
Redis failing there answers 503 (Meta retries). The 24 h window needs no step of its own: the
hub's ingest records each conversation's latest message time (channels/meta/window.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from aiohttp import web
from redis.exceptions import RedisError

from bot.errors import QueueUnavailable
from bot.model import InboundEvent
from channels.base import HubServices, Parser, Verifier, handle_webhook
from channels.meta.menus import Menus
from channels.meta.verify import handshake

__all__ = ["Enricher", "Submit", "ingest", "mount"]

Submit = Callable[[Sequence[InboundEvent]], Awaitable[None]]
Enricher = Callable[[list[InboundEvent]], Awaitable[list[InboundEvent]]]


def ingest(hub: HubServices, channel: str, enrich: Enricher | None = None) -> Submit:
    """The ``submit`` for ``handle_webhook``: menus resolved (then ``enrich``), the hub's
    durable submit, then the senders' windows recorded."""

    async def submit(events: Sequence[InboundEvent]) -> None:
        try:
            resolved = await Menus(hub.redis, channel).resolve(events)
            if enrich is not None:
                resolved = await enrich(resolved)
        except (RedisError, OSError) as exc:
            raise QueueUnavailable(f"{channel} state unavailable: {exc}") from exc
        await hub.submit(resolved)

    return submit


def mount(
    app: web.Application,
    channel: str,
    *,
    verify_token: str,
    verify: Verifier,
    parse: Parser,
    submit: Submit,
) -> None:
    """``GET`` and ``POST /webhooks/<channel>`` on ``app``."""

    async def get(request: web.Request) -> web.Response:
        return handshake(request.query, verify_token)

    async def post(request: web.Request) -> web.Response:
        return await handle_webhook(request, verify, parse, submit)

    app.router.add_get(f"/webhooks/{channel}", get)
    app.router.add_post(f"/webhooks/{channel}", post)

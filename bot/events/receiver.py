"""``POST /events/tickets``: the ticket service's signed events, durable before the 200.

Verified on the raw bytes with :func:`ticket_service.signing.verify` (constant time); forged,
unsigned, or no secret configured → 403 and nothing stored. A body that is not an event → 400.
An ``event_id`` seen in the last 7 days → 200 ``{"duplicate": true}`` and ignored. Redis down →
503, so the ticket service's outbox retries.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web
from redis.exceptions import RedisError

from bot.errors import MalformedPayload
from bot.events.model import TicketEvent
from bot.events.store import EventStore
from channels.base import MAX_WEBHOOK_BYTES
from ticket_service.signing import HEADER, verify

__all__ = ["PATH", "receiver"]

PATH = "/events/tickets"


def receiver(
    secret: bytes | None, store: Callable[[], EventStore]
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The route's handler; ``secret`` None or empty refuses everything (fail closed)."""

    async def handle(request: web.Request) -> web.Response:
        if request.content_length is not None and request.content_length > MAX_WEBHOOK_BYTES:
            return web.json_response({"error": "body too large"}, status=413)
        raw = await request.content.read(MAX_WEBHOOK_BYTES + 1)
        if len(raw) > MAX_WEBHOOK_BYTES:
            return web.json_response({"error": "body too large"}, status=413)
        if not secret or not verify(secret, raw, request.headers.get(HEADER)):
            return web.json_response({"error": "invalid signature"}, status=403)
        try:
            event = TicketEvent.parse(raw)
        except MalformedPayload as exc:
            return web.json_response({"error": str(exc)}, status=400)
        try:
            new = await store().store(event.event_id, raw)
        except (RedisError, OSError) as exc:
            return web.json_response({"error": f"try again later: {type(exc).__name__}"},
                                     status=503)  # fmt: skip
        return web.json_response({"ok": True, "duplicate": not new})

    return handle

"""What a channel adapter is, and what the hub gives it (ARCHITECTURE.md, issue 4).

An adapter is a package ``channels/<name>/`` with

- ``verify`` — pure: the webhook's raw bytes and headers against the channel's secret,
  constant-time (``hmac.compare_digest``), raising :class:`bot.errors.SignatureError` when
  anything is missing or wrong (fail closed);
- ``parse`` — pure: raw bytes → ``list[InboundEvent]`` (always a list, batched webhooks yield
  every event; unknown event types are skipped, a body that is not the provider's format
  raises :class:`bot.errors.MalformedPayload`);
- ``render`` — pure: :class:`bot.model.OutboundMessage` → the provider request bodies
  (buttons within the provider's limits, text fallbacks, splitting long texts);
- a thin sender: posts rendered bodies with the injected session and maps provider answers
  to :mod:`bot.errors` (429 → ``RetryAfter``, 5xx/timeouts → ``TransientSendError``,
  4xx that retrying cannot fix → ``PermanentSendError``).

The hub builds each configured channel with :func:`Channel` factories (``from_env``) and
calls :meth:`Channel.setup` once, then :meth:`Channel.deliver` from its senders and
:meth:`Channel.download` from its workers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import aiohttp
from aiohttp import web
from redis.asyncio import Redis

from bot.errors import MalformedPayload, QueueUnavailable, SignatureError
from bot.model import Attachment, InboundEvent, OutboundMessage
from ticket_client import TawasulClient

__all__ = [
    "Channel",
    "HubServices",
    "Media",
    "handle_webhook",
    "header",
    "read_limited",
]

_JSON = "application/json"
#: Bodies larger than this are refused with 413 before verification.
MAX_WEBHOOK_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Media:
    """A downloaded file: its bytes and MIME type as the provider reported them."""

    data: bytes
    mime_type: str
    filename: str | None = None


class HubServices(Protocol):
    """What the hub lends every adapter."""

    @property
    def session(self) -> aiohttp.ClientSession:
        """The process's one client session (close it never; the hub does)."""

    @property
    def redis(self) -> Redis:
        """The hub's Redis (state an adapter keeps: polling cursors, web chat history)."""

    async def submit(self, events: Sequence[InboundEvent]) -> None:
        """Deduplicate by provider message id and make the events durable; returns once they
        are. Raises :class:`bot.errors.QueueUnavailable` when Redis cannot take them."""

    def tickets(self) -> TawasulClient | None:
        """A ticket-service client with the hub's API key (``hub`` role), on the hub's
        session; None when the hub has no key (then tell the citizen the service is down)."""


class Channel(Protocol):
    """One configured provider channel."""

    name: str

    def setup(self, app: web.Application, hub: HubServices) -> None:
        """Add the channel's routes (under ``/webhooks/<name>``) and background tasks
        (``app.cleanup_ctx``) to the hub's app."""

    async def deliver(self, message: OutboundMessage) -> None:
        """Render and send one reply; raise a :class:`bot.errors.SendError` subclass."""

    async def download(self, attachment: Attachment, max_bytes: int) -> Media:
        """Fetch an attachment's bytes from the provider (``MediaError`` when over
        ``max_bytes`` or not fetchable)."""


async def read_limited(request: web.Request, limit: int) -> bytes | None:
    """The whole body (however the client chunked it), or None once it passes ``limit``."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


Verifier = Callable[[bytes, Mapping[str, str]], None]
Parser = Callable[[bytes], list[InboundEvent]]


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A verifier's header ``name`` in any letter case (a plain dict is case-sensitive, HTTP
    header names are not)."""
    value = headers.get(name)
    if value is not None:
        return value
    lower = name.lower()
    return next((v for k, v in headers.items() if k.lower() == lower), None)


async def handle_webhook(
    request: web.Request,
    verify: Verifier,
    parse: Parser,
    submit: Callable[[Sequence[InboundEvent]], Awaitable[None]],
) -> web.Response:
    """The POST webhook every provider channel uses: raw bytes → verify → parse → durable
    submit → 200. Forged or unsigned → 403 and nothing enqueued; not the provider's format →
    400 with the reason; Redis down → 503 so the provider retries; never 200 before the
    events are durable."""
    if request.content_length is not None and request.content_length > MAX_WEBHOOK_BYTES:
        return web.json_response({"error": "body too large"}, status=413)
    raw = await read_limited(request, MAX_WEBHOOK_BYTES)
    if raw is None:
        return web.json_response({"error": "body too large"}, status=413)
    try:
        verify(raw, request.headers)
    except SignatureError as exc:
        return web.json_response({"error": str(exc) or "invalid signature"}, status=403)
    try:
        events = parse(raw)
    except MalformedPayload as exc:
        return web.json_response({"error": str(exc)}, status=400)
    try:
        if events:
            await submit(events)
    except QueueUnavailable as exc:
        return web.json_response({"error": f"try again later: {exc}"}, status=503)
    return web.Response(body=b'{"ok":true,"events":%d}' % len(events), content_type=_JSON)

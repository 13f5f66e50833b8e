"""The hub's aiohttp application: routes, the one client session, the queue workers.

``create_app(settings, channels)`` wires everything; the process's resources live in
``cleanup_ctx`` (in order: Redis + the client session, each channel's own context added by its
``setup``, then the turn and send workers — so workers stop first and resources close last).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.typedefs import Handler
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import RedisError, ResponseError

from bot import keys, lua
from bot.admin import add_admin_routes
from bot.config import HubSettings
from bot.contacts import Contacts
from bot.deadletters import DeadLetters
from bot.events import Clock, NotifySettings, install, outcome_hook
from bot.health import Health
from bot.ingest import Ingest
from bot.keyed_queue import KeyedQueue, consumer_name
from bot.language import ConversationLanguage
from bot.media import MediaStore
from bot.metrics import CONTENT_TYPE, HubMetrics
from bot.model import InboundEvent
from bot.rasa import RasaClient
from bot.sender import SendHandler, SendPolicy
from bot.turn import TurnHandler
from channels.base import Channel
from ticket_client import ClientConfig, RetryPolicy, TawasulClient

__all__ = ["HUB", "METRICS", "SETTINGS", "Hub", "create_app", "open_redis"]

log = logging.getLogger("bot")

#: How long a stopping hub lets turns and sends in flight finish before cancelling them.
STOP_GRACE = 10.0
_WEBHOOK_RESULTS = {400: "malformed", 401: "forged", 403: "forged", 413: "too_large",
                    503: "unavailable"}  # fmt: skip


def open_redis(url: str) -> Redis:
    """The hub's client: fail fast (one quick retry) so a webhook answers 503 at once."""
    return Redis.from_url(
        url,
        socket_connect_timeout=2.0,
        socket_timeout=10.0,
        retry=Retry(ExponentialBackoff(cap=0.2, base=0.05), 1),
        health_check_interval=30,
    )


class Hub:
    """What the hub lends the adapters (``channels.base.HubServices``) and its own parts."""

    def __init__(self, settings: HubSettings, redis: Redis, metrics: HubMetrics) -> None:
        self.settings = settings
        self.metrics = metrics
        self._redis = redis
        self._session: aiohttp.ClientSession | None = None
        self.ingest = Ingest(redis, metrics)
        self.stopping = asyncio.Event()

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("the hub's client session is open only while the app runs")
        return self._session

    @property
    def redis(self) -> Redis:
        return self._redis

    async def submit(self, events: Sequence[InboundEvent]) -> None:
        await self.ingest.submit(events)

    async def resources(self, app: web.Application) -> AsyncIterator[None]:
        """cleanup_ctx: the one ClientSession, Redis scripts; closed last."""
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=30, connect=5),
            connector=aiohttp.TCPConnector(limit=200, limit_per_host=64),
        )
        with contextlib.suppress(RedisError, OSError):
            await lua.load_all(self._redis)  # loaded lazily when Redis is down now
        try:
            yield
        finally:
            await self._session.close()
            self._session = None
            await self._redis.aclose()

    def tickets(self) -> TawasulClient | None:
        if not self.settings.hub_api_key:
            return None
        config = ClientConfig(
            base_url=self.settings.ticket_url,
            api_key=self.settings.hub_api_key,
            timeout=5.0,
            retry=RetryPolicy(attempts=2, backoff_base=0.2, backoff_max=1.0),
        )
        return TawasulClient(self.session, config)


SETTINGS = web.AppKey("settings", HubSettings)
HUB = web.AppKey("hub", Hub)
METRICS = web.AppKey("metrics", HubMetrics)


def _webhook_metrics(metrics: HubMetrics, names: frozenset[str]) -> Any:
    """Count refused webhooks (forged, malformed ...) per channel: they never reach ingest."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        parts = request.path.split("/")
        channel = parts[2] if len(parts) > 2 and parts[1] == "webhooks" else None
        try:
            response: web.StreamResponse = await handler(request)
        except web.HTTPException as exc:
            if channel in names and exc.status in _WEBHOOK_RESULTS:
                metrics.inbound.labels(channel, _WEBHOOK_RESULTS[exc.status]).inc()
            raise
        if channel in names and response.status in _WEBHOOK_RESULTS:
            metrics.inbound.labels(channel, _WEBHOOK_RESULTS[response.status]).inc()
        return response

    return middleware


async def _queue_depths(redis: Redis, metrics: HubMetrics) -> None:
    for name, stream in (("work", keys.WORK), ("send-work", keys.SEND_WORK)):
        with contextlib.suppress(RedisError):
            depth = int(await redis.xlen(stream))  # no group yet: nothing was read
            with contextlib.suppress(ResponseError):  # no such stream yet
                for group in await redis.xinfo_groups(stream):
                    if group.get("name") in (keys.GROUP, keys.GROUP.encode()):
                        depth = int(group.get("pending") or 0) + int(group.get("lag") or 0)
            metrics.queue_depth.labels(name).set(depth)
    with contextlib.suppress(RedisError):
        metrics.dead_letters.set(int(await redis.xlen(keys.DEAD)))


def _workers(
    hub: Hub, channels: Mapping[str, Channel], events: bool = False
) -> Callable[[web.Application], AsyncIterator[None]]:
    settings = hub.settings

    async def context(app: web.Application) -> AsyncIterator[None]:
        redis = hub.redis
        tickets = hub.tickets()
        if tickets is None:
            log.warning("no hub API key: verified contacts are not linked in the ticket service")
        turn = TurnHandler(
            redis=redis,
            channels=channels,
            rasa=RasaClient(lambda: hub.session, settings.rasa_url, hub.metrics),
            media=MediaStore(settings.media_dir, settings.media_max_bytes, settings.public_url),
            contacts=Contacts(redis, tickets, hub.metrics),
            language=ConversationLanguage(redis),
            metrics=hub.metrics,
            stopping=hub.stopping,
        )
        send = SendHandler(
            redis=redis,
            channels=channels,
            policy=SendPolicy(
                settings.send_max_attempts,
                settings.send_backoff_ms,
                settings.send_backoff_max_ms,
                settings.pacing_ms,
            ),
            metrics=hub.metrics,
            stopping=hub.stopping,
            on_outcome=outcome_hook(redis) if events else None,
        )

        def queue(
            name: str,
            stream: str,
            handler: TurnHandler | SendHandler,
            stream_key: Callable[[str], str],
            lock_key: Callable[[str], str],
        ) -> KeyedQueue:
            return KeyedQueue(
                redis, name=name, work_stream=stream, stream_key=stream_key, lock_key=lock_key,
                handler=handler, concurrency=settings.concurrency,
                lock_ttl_ms=settings.lock_ttl_ms, consumer=consumer_name(),
                on_error=hub.metrics.worker_errors.labels(name).inc, stopping=hub.stopping,
            )  # fmt: skip

        queues = [
            queue("turns", keys.WORK, turn, keys.conv_in, keys.lock),
            queue("sends", keys.SEND_WORK, send, keys.conv_out, keys.send_lock),
        ]
        runs = [asyncio.create_task(q.run(), name=f"queue-{q.name}") for q in queues]
        log.info("workers: %d turns + %d sends", settings.concurrency, settings.concurrency)
        try:
            yield
        finally:
            hub.stopping.set()
            await asyncio.gather(*(q.stop(STOP_GRACE) for q in queues))
            for run in runs:
                run.cancel()
            await asyncio.gather(*runs, return_exceptions=True)

    return context


async def _to_chat(request: web.Request) -> web.Response:
    raise web.HTTPFound("/chat")


def create_app(
    settings: HubSettings,
    channels: Mapping[str, Channel],
    *,
    redis: Redis | None = None,
    workers: bool = True,
    events: NotifySettings | None = None,
    clock: Clock | None = None,
) -> web.Application:
    """The hub. ``workers=False`` serves ingest only (tests of ingest, benchmarks). ``events``
    switches on proactive updates (``bot.events``; ``clock`` is injected by tests)."""
    metrics = HubMetrics()
    hub = Hub(settings, redis or open_redis(settings.redis_url), metrics)
    app = web.Application(middlewares=[_webhook_metrics(metrics, frozenset(channels))])
    app[SETTINGS] = settings
    app[HUB] = hub
    app[METRICS] = metrics
    app.cleanup_ctx.append(hub.resources)

    health = Health(
        hub.redis, lambda: hub.session, settings.rasa_url, settings.ticket_url, list(channels)
    )
    media = MediaStore(settings.media_dir, settings.media_max_bytes, settings.public_url)

    async def healthz(request: web.Request) -> web.Response:
        ok, body = await health.report()
        return web.json_response(body, status=200 if ok else 503)

    async def metrics_page(request: web.Request) -> web.Response:
        await _queue_depths(hub.redis, metrics)
        return web.Response(body=metrics.render(), headers={"Content-Type": CONTENT_TYPE})

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_page)
    app.router.add_get("/media/{name}", media.serve)
    add_admin_routes(app, settings.admin_token, DeadLetters(hub.redis))

    for channel in channels.values():
        channel.setup(app, hub)
    if "web" in channels:
        # A newcomer opening the hub's address lands in the web chat.
        app.router.add_get("/", _to_chat)
    if workers:
        app.cleanup_ctx.append(_workers(hub, channels, events is not None))
    install(app, hub, events, list(channels), hub.tickets, clock=clock, workers=workers)
    return app

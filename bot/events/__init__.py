"""Proactive updates (issue 5): the ticket service's signed events → an update to every reporter
and follower on their own channel (receiver → store → worker → the hub's outbound queue).
``settings/notifications.yml`` holds the words and rules; bot/events/README.md the overview."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Collection

from aiohttp import web

from bot.events.receiver import PATH, receiver
from bot.events.settings import NotifySettings
from bot.events.store import EventStore
from bot.events.worker import Clock, EventWorker, OutcomeHook, outcome_hook
from bot.keyed_queue import consumer_name
from bot.tasks import stoppable_task
from channels.base import HubServices
from ticket_client import TawasulClient
from ticket_service.clock import SystemClock

__all__ = ["PATH", "Clock", "EventWorker", "NotifySettings", "OutcomeHook", "install",
           "outcome_hook"]  # fmt: skip


def install(
    app: web.Application,
    hub: HubServices,
    settings: NotifySettings | None,
    channels: Collection[str],
    tickets: Callable[[], TawasulClient | None],
    *,
    clock: Clock | None = None,
    workers: bool = True,
) -> None:
    """``POST /events/tickets`` (403 for everything when ``settings`` is None: no secret) and,
    with ``workers``, the events worker in ``app.cleanup_ctx``."""
    app.router.add_post(
        PATH, receiver(settings.secret if settings else None, lambda: EventStore(hub.redis))
    )
    if settings is None or not workers:
        return

    async def context(_app: web.Application) -> AsyncIterator[None]:
        worker = EventWorker(
            redis=hub.redis, settings=settings, channels=channels, tickets=tickets,
            clock=clock or SystemClock(), consumer=consumer_name(),
        )  # fmt: skip
        async with stoppable_task(worker.run, "events-worker"):
            yield

    app.cleanup_ctx.append(context)

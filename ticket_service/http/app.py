"""The ticket service's aiohttp application: middleware, background loops, routes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any

import aiohttp
from aiohttp import web

from ticket_service.context import Context
from ticket_service.delivery import delivery_loop
from ticket_service.domain.escalation import scheduler_loop
from ticket_service.errors import DomainError
from ticket_service.http import (
    api_contacts,
    api_followups,
    api_notifications,
    api_requests,
    api_v1,
    kpis,
    open311,
)
from ticket_service.http.keys import CONTEXT, HTTP_SESSION, MESSAGES
from ticket_service.http.render import error_response, request_format
from ticket_service.messages import load_messages

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Loop = Callable[[Context, aiohttp.ClientSession, asyncio.Event], Coroutine[Any, Any, None]]


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every error leaves in Open311's error format; a client's mistake is never a 500."""
    fmt = request_format(request) if request.match_info.route.resource else "json"
    try:
        return await handler(request)
    except DomainError as exc:
        return error_response(fmt, exc.status, exc.message, exc)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        message = exc.text if exc.text and not exc.text.startswith(f"{exc.status}:") else exc.reason
        return error_response(fmt, exc.status, message or exc.reason)
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(fmt, 500, "internal error; the request was not completed")


def _background(loops: list[Loop]) -> Callable[[web.Application], AsyncIterator[None]]:
    async def run(app: web.Application) -> AsyncIterator[None]:
        stop = asyncio.Event()
        tasks = [asyncio.create_task(loop(app[CONTEXT], app[HTTP_SESSION], stop)) for loop in loops]
        yield
        stop.set()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(task, 10)

    return run


async def _http_session(app: web.Application) -> AsyncIterator[None]:
    async with aiohttp.ClientSession() as session:
        app[HTTP_SESSION] = session
        yield


def create_app(ctx: Context, *, background: bool = True) -> web.Application:
    """The application. ``background=False`` leaves the scheduler and the event delivery off
    (tests drive them directly)."""
    app = web.Application(
        middlewares=[errors_middleware], client_max_size=ctx.settings.max_body_bytes
    )
    app[CONTEXT] = ctx
    app[MESSAGES] = load_messages()
    app.cleanup_ctx.append(_http_session)
    if background:
        app.cleanup_ctx.append(_background([delivery_loop, _scheduler]))
    app.add_routes(open311.routes)
    for module in (api_v1, api_requests, api_followups, api_contacts, api_notifications):
        app.add_routes(module.routes)
    app.add_routes(kpis.routes)

    async def dispose(_: web.Application) -> None:
        await ctx.db.dispose()

    app.on_cleanup.append(dispose)
    return app


async def _scheduler(ctx: Context, _session: aiohttp.ClientSession, stop: asyncio.Event) -> None:
    await scheduler_loop(ctx, stop)

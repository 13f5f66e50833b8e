"""Live replies over WebSockets, across hub processes.

Whichever process delivers a reply appends it to the history and publishes ``<uid>:<seq>`` on
Redis pub/sub (``store.py``). Every process runs one :class:`Relay`: a single subscription
that wakes the local sockets of that conversation. A woken socket reads the history after the
last seq it sent, so nothing is skipped or sent twice even if a notification is lost (a
dropped subscription wakes every socket once it is back, and each socket also polls now and
then).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web
from redis.asyncio import Redis
from redis.exceptions import RedisError

from channels.web.store import EVENTS_CHANNEL, ChatStore

__all__ = ["Relay", "push_history", "receive_loop"]

log = logging.getLogger(__name__)

#: A socket re-reads the history this often even without a notification (seconds).
POLL_INTERVAL = 20.0
#: The listener checks for shutdown this often (seconds).
LISTEN_TIMEOUT = 1.0
#: Entries sent per history read.
BATCH = 100
_RETRY_DELAYS = (0.2, 0.5, 1.0, 2.0, 5.0)


class Relay:
    """This process's subscription to web chat events and its open sockets."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._wakers: dict[str, set[asyncio.Event]] = {}
        self._sockets: set[web.WebSocketResponse] = set()
        self.subscribed = asyncio.Event()
        self._stop = asyncio.Event()

    def register(self, uid: str, ws: web.WebSocketResponse) -> asyncio.Event:
        wake = asyncio.Event()
        self._wakers.setdefault(uid, set()).add(wake)
        self._sockets.add(ws)
        return wake

    def unregister(self, uid: str, ws: web.WebSocketResponse, wake: asyncio.Event) -> None:
        self._sockets.discard(ws)
        wakers = self._wakers.get(uid)
        if wakers is not None:
            wakers.discard(wake)
            if not wakers:
                del self._wakers[uid]

    def open_sockets(self, uid: str) -> int:
        return len(self._wakers.get(uid, ()))

    def notify(self, uid: str) -> None:
        for wake in self._wakers.get(uid, ()):
            wake.set()

    def _notify_all(self) -> None:
        for wakers in self._wakers.values():
            for wake in wakers:
                wake.set()

    async def run(self) -> None:
        """Listen for events until :meth:`stop`, re-subscribing after Redis errors.

        The loop polls with a timeout and checks a stop flag instead of relying on task
        cancellation alone: redis-py can swallow a ``CancelledError`` that lands while it
        connects, and a cancelled listener would then block forever."""
        failures = 0
        while not self._stop.is_set():
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(EVENTS_CHANNEL)
                self.subscribed.set()
                self._notify_all()  # catch up on anything published while we were away
                failures = 0
                while not self._stop.is_set():
                    message = await pubsub.get_message(timeout=LISTEN_TIMEOUT)
                    if message is not None:
                        data = message.get("data")
                        text = data.decode() if isinstance(data, bytes) else str(data)
                        self.notify(text.split(":", 1)[0])
            except (RedisError, OSError) as exc:
                self.subscribed.clear()
                delay = _RETRY_DELAYS[min(failures, len(_RETRY_DELAYS) - 1)]
                failures += 1
                log.warning("web chat: event subscription lost (%s); retrying in %s s", exc, delay)
                await _sleep_until(self._stop, delay)
            finally:
                with contextlib.suppress(RedisError, OSError):
                    # redis-py leaves PubSub.aclose unannotated.
                    await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def context(self, app: web.Application) -> AsyncIterator[None]:
        """``app.cleanup_ctx`` entry: the listener task lives as long as the app."""
        self._stop.clear()
        task = asyncio.create_task(self.run(), name="web-chat-relay")
        yield
        self._stop.set()
        task.cancel()  # if redis-py swallows it, the stop flag ends the loop within a second
        await asyncio.wait([task], timeout=LISTEN_TIMEOUT * 3)

    async def close_sockets(self, app: web.Application) -> None:
        """``app.on_shutdown``: tell every client to reconnect elsewhere."""
        for ws in list(self._sockets):
            await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")


Decorate = Callable[[dict[str, Any]], dict[str, Any]]


async def push_history(
    ws: web.WebSocketResponse,
    store: ChatStore,
    uid: str,
    after: int,
    wake: asyncio.Event,
    decorate: Decorate,
) -> None:
    """Send every history entry after ``after`` and then each new one as it comes:
    ``{"type": "message", "message": {...}}``; ``{"type": "ready", "last_seq": n}`` once the
    backlog is sent."""
    try:
        await _push(ws, store, uid, after, wake, decorate)
    except ConnectionResetError:  # the client went away mid-send
        return


async def _push(
    ws: web.WebSocketResponse,
    store: ChatStore,
    uid: str,
    after: int,
    wake: asyncio.Event,
    decorate: Decorate,
) -> None:
    last = after
    ready = False
    while not ws.closed:
        wake.clear()  # before reading, so an append during the read wakes us again
        try:
            entries = await store.history(uid, last, BATCH)
        except RedisError:
            await _sleep_until(wake, 1.0)
            continue
        for entry in entries:
            await ws.send_json({"type": "message", "message": decorate(entry)})
            last = entry["seq"]
        if len(entries) == BATCH:
            continue
        if not ready:
            await ws.send_json({"type": "ready", "last_seq": last})
            ready = True
        await _sleep_until(wake, POLL_INTERVAL)


async def _sleep_until(wake: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await wake.wait()


async def receive_loop(ws: web.WebSocketResponse) -> None:
    """Read the client's frames: ``{"type": "ping"}`` is answered ``{"type": "pong"}``; the
    rest is ignored (messages are sent with POST)."""
    async for frame in ws:
        if frame.type != WSMsgType.TEXT:
            continue
        try:
            data = json.loads(frame.data)
        except ValueError:
            continue
        if isinstance(data, dict) and data.get("type") == "ping":
            await ws.send_json({"type": "pong"})

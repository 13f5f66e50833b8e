"""A keyed ordered queue on Redis Streams: many workers, many processes, and each key's items
handled one at a time, oldest first. The hub uses it twice — conversations' inbound messages
(turns) and their outbound replies (sends).

Layout: each key (a conversation) has its own stream of items; a shared work stream, read with
a consumer group, says "this key has items". For a work entry, a worker:

1. tries the key's lock (``SET lock token NX PX ttl``). Not acquired → another worker drains
   the key: ACK the entry and move on;
2. acquired → repeatedly takes the OLDEST item and hands it to the handler, which must finish
   it with a fenced script (the lock token still ours: :data:`bot.lua.COMMIT_TURN` ...) that
   deletes the item and writes its results in one step;
3. the stream is empty → :data:`bot.lua.RELEASE_IF_EMPTY` unlocks only if it is STILL empty
   (an item that arrived meanwhile is drained first), so no item is ever stranded; then ACK.

A heartbeat renews the lock (and re-claims the work entry, so it never looks abandoned) while
the handler works, however long that takes (Rasa down ...). A process killed with SIGKILL
leaves its lock to expire and its work entry pending: after ``lock_ttl`` any worker's
XAUTOCLAIM takes the entry over and drains the key — the item being handled when the process
died is handled again (at-least-once; see docs in bot/README.md). On a graceful stop, a worker
finishes its current item, unlocks and re-announces the key when items are left
(:data:`bot.lua.HAND_OFF`), so another process continues at once.

An unexpected exception in the handler unlocks the key without ACKing the entry, so it is
retried after ``lock_ttl``; after ``max_failures`` tries of the same item the handler's
``set_aside`` moves it out of the way (the key's next items are not blocked forever).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError

from bot import keys, lua

__all__ = ["Item", "KeyedQueue", "Lease", "QueueHandler", "consumer_name"]

log = logging.getLogger("bot.queue")

READ_BLOCK_MS = 1000
RETRY_PAUSE = 0.5
FAILURE_TTL_S = 24 * 3600


_consumers = itertools.count()


def consumer_name() -> str:
    """``host:pid:n`` — unique per queue (n counts the queues made in this process)."""
    return f"{socket.gethostname()}:{os.getpid()}:{next(_consumers)}"


@dataclass(frozen=True, slots=True)
class Item:
    """One item of a key's stream: its stream id and fields (decoded)."""

    id: str
    fields: dict[str, str]


@dataclass(slots=True)
class Lease:
    """A held key lock. Handlers pass ``token``/``lock_key`` to their fenced scripts and set
    ``lost`` when such a script says the lock is not theirs any more."""

    key: str
    lock_key: str
    token: str
    lost: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


class QueueHandler(Protocol):
    async def handle(self, lease: Lease, item: Item) -> None:
        """Handle one item and finish it with a fenced script (or set ``lease.lost``)."""

    async def set_aside(self, lease: Lease, item: Item, error: str) -> None:
        """Move an item that keeps failing out of the key's stream (fenced)."""


def _decode(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class KeyedQueue:
    """Runs ``concurrency`` handler tasks for one work stream in this process."""

    def __init__(
        self,
        redis: Redis,
        *,
        name: str,
        work_stream: str,
        stream_key: Callable[[str], str],
        lock_key: Callable[[str], str],
        handler: QueueHandler,
        concurrency: int,
        lock_ttl_ms: int,
        consumer: str,
        on_error: Callable[[], None] | None = None,
        max_failures: int = 5,
        stopping: asyncio.Event | None = None,
    ) -> None:
        self.redis = redis
        self.name = name
        self.work_stream = work_stream
        self.stream_key = stream_key
        self.lock_key = lock_key
        self.handler = handler
        self.concurrency = concurrency
        self.lock_ttl_ms = lock_ttl_ms
        self.consumer = consumer
        self.on_error = on_error
        self.max_failures = max_failures
        self.stopping = stopping or asyncio.Event()
        self._active: set[asyncio.Task[None]] = set()

    # --- the fetch loop --------------------------------------------------------------------

    async def ensure_group(self) -> None:
        with contextlib.suppress(ResponseError):  # BUSYGROUP: it exists
            await self.redis.xgroup_create(self.work_stream, keys.GROUP, id="0", mkstream=True)

    async def run(self) -> None:
        """Read and dispatch work until :meth:`stop`; survives Redis outages."""
        reclaim_every = max(self.lock_ttl_ms / 2000, 0.5)
        last_reclaim = 0.0
        loop = asyncio.get_running_loop()
        group_ready = False
        while not self.stopping.is_set():
            try:
                if not group_ready:
                    await self.ensure_group()
                    group_ready = True
                if self._free() <= 0:
                    await asyncio.wait(set(self._active), return_when=asyncio.FIRST_COMPLETED)
                    continue
                if loop.time() - last_reclaim >= reclaim_every:
                    last_reclaim = loop.time()
                    await self._reclaim(self._free())
                free = self._free()
                if free <= 0:
                    continue
                block = min(READ_BLOCK_MS, int(reclaim_every * 1000))
                answer: Any = await self.redis.xreadgroup(
                    keys.GROUP, self.consumer, {self.work_stream: ">"}, count=free, block=block
                )
                for _stream, entries in answer or []:
                    for entry_id, fields in entries:
                        self._dispatch(_decode(entry_id), fields)
            except asyncio.CancelledError:
                raise
            except ResponseError as exc:
                if "NOGROUP" in str(exc):
                    group_ready = False
                else:
                    log.error("%s: Redis error: %s", self.name, exc, extra={"event": "queue"})
                await asyncio.sleep(RETRY_PAUSE)
            except (RedisError, OSError) as exc:
                log.warning("%s: Redis unavailable: %s", self.name, exc, extra={"event": "queue"})
                await asyncio.sleep(RETRY_PAUSE)

    def _free(self) -> int:
        return self.concurrency - len(self._active)

    async def _reclaim(self, count: int) -> None:
        if count <= 0:
            return
        answer: Any = await self.redis.xautoclaim(
            self.work_stream,
            keys.GROUP,
            self.consumer,
            min_idle_time=self.lock_ttl_ms + 1000,
            start_id="0-0",
            count=count,
        )
        claimed = answer[1] if len(answer) > 1 else []
        for entry_id, fields in claimed:
            if fields is None:
                continue
            log.info(
                "%s: took over abandoned work %s", self.name, _decode(entry_id),
                extra={"event": "reclaim"},
            )  # fmt: skip
            self._dispatch(_decode(entry_id), fields)

    def _dispatch(self, entry_id: str, fields: Any) -> None:
        data = {_decode(k): _decode(v) for k, v in (fields or {}).items()}
        task = asyncio.get_running_loop().create_task(self._work(entry_id, data.get("c", "")))
        self._active.add(task)
        task.add_done_callback(self._active.discard)

    async def stop(self, grace: float) -> None:
        """Stop fetching; let handlers finish their current item for ``grace`` seconds, then
        cancel them (each hands its key off)."""
        self.stopping.set()
        if self._active:
            _done, pending = await asyncio.wait(set(self._active), timeout=grace)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=5)

    # --- one work entry --------------------------------------------------------------------

    async def _ack(self, entry_id: str) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.xack(self.work_stream, keys.GROUP, entry_id)
            pipe.xdel(self.work_stream, entry_id)
            await pipe.execute()

    async def _work(self, entry_id: str, key: str) -> None:
        try:
            if not key:
                await self._ack(entry_id)
                return
            lease = Lease(key, self.lock_key(key), secrets.token_hex(12))
            if not await self.redis.set(lease.lock_key, lease.token, nx=True, px=self.lock_ttl_ms):
                await self._ack(entry_id)
                return
            if await self._drain(lease, entry_id):
                await self._ack(entry_id)
        except asyncio.CancelledError:
            raise
        except (RedisError, OSError) as exc:
            # The entry stays pending; it is reclaimed once the lock (if any) has expired.
            log.warning("%s: Redis error on %s: %s", self.name, key, exc, extra={"event": "queue"})

    async def _drain(self, lease: Lease, entry_id: str) -> bool:
        """Handle the key's items; True when the work entry may be ACKed."""
        heartbeat = asyncio.get_running_loop().create_task(self._heartbeat(lease, entry_id))
        stream = self.stream_key(lease.key)
        try:
            while True:
                if self.stopping.is_set():
                    await self._hand_off(lease, stream)
                    return True
                head: Any = await self.redis.xrange(stream, "-", "+", count=1)
                if not head:
                    released = await lua.RELEASE_IF_EMPTY(
                        self.redis, [lease.lock_key, stream], [lease.token]
                    )
                    if released == 0:
                        continue  # an item arrived meanwhile
                    return bool(released == 1)  # -1: lost; leave the entry to be reclaimed
                entry, fields = head[0]
                item = Item(_decode(entry), {_decode(k): _decode(v) for k, v in fields.items()})
                if not await self._handle(lease, item, stream):
                    return False
                if lease.lost:
                    log.warning(
                        "%s: lost the lock of %s", self.name, lease.key,
                        extra={"conversation_id": lease.key, "event": "lock_lost"},
                    )  # fmt: skip
                    return False
        except asyncio.CancelledError:
            with contextlib.suppress(RedisError, OSError):
                await asyncio.shield(self._hand_off(lease, stream))
            raise
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat

    async def _handle(self, lease: Lease, item: Item, stream: str) -> bool:
        """Run the handler on one item; False when the key was given up after an error."""
        try:
            await self.handler.handle(lease, item)
            return True
        except (asyncio.CancelledError, RedisError, OSError):
            raise  # Redis trouble is no fault of the item: the entry is retried as it is
        except Exception as exc:
            if self.on_error is not None:
                self.on_error()
            failures_key = f"{stream}:failures:{item.id}"
            failures = int(await self.redis.incr(failures_key))
            await self.redis.expire(failures_key, FAILURE_TTL_S)
            log.exception(
                "%s: handler failed on %s (try %d of %d)",
                self.name, lease.key, failures, self.max_failures,
                extra={"conversation_id": lease.key, "event": "handler_error"},
            )  # fmt: skip
            if failures >= self.max_failures:
                await self.handler.set_aside(lease, item, f"{type(exc).__name__}: {exc}")
                await self.redis.delete(failures_key)
                return True
            # Unlock without ACK: the entry is retried once it has been idle for lock_ttl.
            await lua.UNLOCK(self.redis, [lease.lock_key], [lease.token])
            return False

    async def _hand_off(self, lease: Lease, stream: str) -> None:
        await lua.HAND_OFF(
            self.redis, [lease.lock_key, stream, self.work_stream], [lease.token, lease.key]
        )

    async def _heartbeat(self, lease: Lease, entry_id: str) -> None:
        interval = self.lock_ttl_ms / 3000
        while True:
            await asyncio.sleep(interval)
            try:
                renewed = await lua.HEARTBEAT(
                    self.redis,
                    [lease.lock_key, self.work_stream],
                    [lease.token, self.lock_ttl_ms, keys.GROUP, self.consumer, entry_id],
                )
            except (RedisError, OSError) as exc:
                log.warning("%s: heartbeat failed: %s", self.name, exc, extra={"event": "queue"})
                continue
            if not renewed:
                lease.lost = True
                return

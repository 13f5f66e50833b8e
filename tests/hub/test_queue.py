"""The keyed ordered queue itself: fencing, no stranded items, takeover of a dead consumer's
work after the lock TTL, and items that keep failing set aside."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis

from bot import keys, lua
from bot.keyed_queue import Item, KeyedQueue, Lease
from tests.hub.support import until

WORK = "test:work"
POISON = "test:poison"


def stream(key: str) -> str:
    return f"test:{key}:in"


def lock(key: str) -> str:
    return f"test:{key}:lock"


@dataclass
class Recorder:
    redis: Redis
    seen: list[tuple[str, str]] = field(default_factory=list)
    tries: dict[str, int] = field(default_factory=dict)

    async def handle(self, lease: Lease, item: Item) -> None:
        text = item.fields["m"]
        self.tries[text] = self.tries.get(text, 0) + 1
        if text.startswith("bad"):
            raise RuntimeError(f"cannot handle {text}")
        self.seen.append((lease.key, text))
        ok = await lua.COMMIT_TURN(
            self.redis,
            [lease.lock_key, stream(lease.key), "test:out", "test:send"],
            [lease.token, item.id, lease.key, "0"],
        )
        lease.lost = not ok

    async def set_aside(self, lease: Lease, item: Item, error: str) -> None:
        await lua.MOVE_ASIDE(
            self.redis,
            [lease.lock_key, stream(lease.key), POISON],
            [lease.token, item.id, 0, "m", item.fields["m"], "error", error],
        )


async def put(redis: Redis, key: str, *texts: str) -> None:
    for text in texts:
        await redis.xadd(stream(key), {"m": text})
        await redis.xadd(WORK, {"c": key})


def make_queue(redis: Redis, handler: Recorder, consumer: str) -> KeyedQueue:
    return KeyedQueue(
        redis, name="test", work_stream=WORK, stream_key=stream, lock_key=lock,
        handler=handler, concurrency=4, lock_ttl_ms=1000, consumer=consumer, max_failures=3,
    )  # fmt: skip


async def test_fencing_a_stale_holder_cannot_commit_or_unlock(redis: Redis) -> None:
    await redis.set(lock("k"), "new-holder", px=10_000)
    entry = await redis.xadd(stream("k"), {"m": "x"})
    committed = await lua.COMMIT_TURN(
        redis,
        [lock("k"), stream("k"), "test:out", "test:send"],
        ["old-holder", entry, "k", "0", '{"reply": 1}'],
    )
    assert committed == 0
    assert await redis.xlen(stream("k")) == 1 and await redis.xlen("test:out") == 0
    assert await lua.RELEASE_IF_EMPTY(redis, [lock("k"), stream("k")], ["old-holder"]) == -1
    assert await lua.UNLOCK(redis, [lock("k")], ["old-holder"]) == 0
    assert await redis.get(lock("k")) == b"new-holder"


async def test_the_lock_is_released_only_when_the_stream_is_still_empty(redis: Redis) -> None:
    await redis.set(lock("k"), "me", px=10_000)
    await redis.xadd(stream("k"), {"m": "arrived meanwhile"})
    assert await lua.RELEASE_IF_EMPTY(redis, [lock("k"), stream("k")], ["me"]) == 0
    assert await redis.get(lock("k")) == b"me"
    await redis.delete(stream("k"))
    assert await lua.RELEASE_IF_EMPTY(redis, [lock("k"), stream("k")], ["me"]) == 1
    assert not await redis.exists(lock("k"))


async def test_a_dead_consumers_work_is_taken_over_after_the_lock_ttl(redis: Redis) -> None:
    await redis.xgroup_create(WORK, keys.GROUP, id="0", mkstream=True)
    await put(redis, "k", "first", "second")
    # A consumer read the work, locked the conversation and died (no heartbeat, no ACK).
    await redis.xreadgroup(keys.GROUP, "dead-consumer", {WORK: ">"}, count=10)
    await redis.set(lock("k"), "dead-token", px=1000)
    handler = Recorder(redis)
    queue = make_queue(redis, handler, "alive")
    runner = asyncio.create_task(queue.run())
    started = time.monotonic()
    try:
        await until(lambda: _done(handler, 2))
        took = time.monotonic() - started
        assert handler.seen == [("k", "first"), ("k", "second")]
        assert took >= 1.0  # not before the dead holder's lock expired and its work idled
        await until(lambda: _no_pending(redis))
    finally:
        await queue.stop(1)
        runner.cancel()


async def test_items_that_keep_failing_are_set_aside_and_the_key_goes_on(redis: Redis) -> None:
    await put(redis, "k", "good 1", "bad 2", "good 3")
    await put(redis, "j", "other")
    handler = Recorder(redis)
    queue = make_queue(redis, handler, "c1")
    runner = asyncio.create_task(queue.run())
    try:
        await until(lambda: _done(handler, 3), within=30)
        assert [t for k, t in handler.seen if k == "k"] == ["good 1", "good 3"]
        assert handler.tries["bad 2"] == 3
        poison: Any = await redis.xrange(POISON)
        (poisoned,) = poison
        assert poisoned[1][b"m"] == b"bad 2"
        assert b"cannot handle bad 2" in poisoned[1][b"error"]
    finally:
        await queue.stop(1)
        runner.cancel()


async def test_a_stopping_queue_hands_the_key_over_at_once(redis: Redis) -> None:
    class Slow(Recorder):
        async def handle(self, lease: Lease, item: Item) -> None:
            await asyncio.sleep(0.3)
            await super().handle(lease, item)

    first = Slow(redis)
    queue = make_queue(redis, first, "first")
    runner = asyncio.create_task(queue.run())
    await put(redis, "k", *[f"m{i}" for i in range(6)])
    await until(lambda: _done(first, 1))
    await queue.stop(5)  # finishes the item in hand, gives the rest back
    runner.cancel()
    assert 1 <= len(first.seen) < 6
    assert not await redis.exists(lock("k"))
    second = Recorder(redis)
    other = make_queue(redis, second, "second")
    runner = asyncio.create_task(other.run())
    try:
        await until(lambda: _done(second, 6 - len(first.seen)), within=3)  # no TTL wait
        assert [t for _, t in first.seen + second.seen] == [f"m{i}" for i in range(6)]
    finally:
        await other.stop(1)
        runner.cancel()


async def _done(handler: Recorder, count: int) -> bool:
    return len(handler.seen) >= count


async def _no_pending(redis: Redis) -> bool:
    summary = await redis.xpending(WORK, keys.GROUP)
    return int(summary["pending"]) == 0

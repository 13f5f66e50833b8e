"""Background tasks stop at shutdown even when a library swallows a cancellation."""

from __future__ import annotations

import asyncio

from bot.tasks import cancel_and_wait


def stubborn(swallow: int, seen: list[int]) -> asyncio.Task[None]:
    """A task that ignores its first ``swallow`` cancellations (as redis-py may while it
    connects), then stops at the next one."""

    async def run() -> None:
        while True:
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                seen.append(1)
                if len(seen) > swallow:
                    raise

    return asyncio.create_task(run(), name="stubborn")


async def test_a_swallowed_cancellation_is_delivered_again() -> None:
    seen: list[int] = []
    task = stubborn(2, seen)
    await asyncio.sleep(0)
    await asyncio.wait_for(cancel_and_wait(task), 5)
    assert task.cancelled() and len(seen) == 3


async def test_a_task_that_will_not_stop_is_left_behind_after_the_deadline() -> None:
    seen: list[int] = []
    task = stubborn(1_000_000, seen)
    await asyncio.sleep(0)
    await asyncio.wait_for(cancel_and_wait(task, give_up_after=0.3), 5)
    assert not task.done() and len(seen) >= 2  # it was asked again and again, then let be
    seen.extend([1] * 1_000_000)  # now it gives in at the next cancellation
    await asyncio.wait_for(cancel_and_wait(task), 5)
    assert task.cancelled()

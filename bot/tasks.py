"""Stopping the background tasks of a process (pollers, start-up registrations)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

__all__ = ["cancel_and_wait", "stoppable_task"]

log = logging.getLogger("bot.tasks")

#: How often a cancellation is delivered again while the task has not ended.
RETRY_SECONDS = 0.1


async def cancel_and_wait(task: asyncio.Task[Any], give_up_after: float = 10.0) -> None:
    """Cancel ``task`` and wait until it has ended. A cancellation some library swallowed
    (redis-py can, when it lands while a connection is being made) is delivered again every
    0.1 s, so a shutdown never hangs on it; after ``give_up_after`` seconds the task is left
    behind with a warning. An error the task ended with is logged, not raised."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + give_up_after
    while not task.done():
        if loop.time() > deadline:
            log.warning("task %s did not stop after %.0f s", task.get_name(), give_up_after)
            return
        task.cancel()
        await asyncio.wait({task}, timeout=RETRY_SECONDS)
    if not task.cancelled() and (error := task.exception()) is not None:
        log.error("task %s ended with %r", task.get_name(), error)


@contextlib.asynccontextmanager
async def stoppable_task(
    work: Callable[[asyncio.Event], Coroutine[Any, Any, None]], name: str, grace: float = 5.0
) -> AsyncIterator[None]:
    """Run ``work(stopping)`` as the task ``name`` while the context is open. On leaving it,
    ``stopping`` is set and the task has ``grace`` seconds to end before it is cancelled; an
    error it ended with within them is raised."""
    stopping = asyncio.Event()
    task = asyncio.create_task(work(stopping), name=name)
    try:
        yield
    finally:
        stopping.set()
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(task, grace)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

"""Stopping the background tasks of a process (pollers, start-up registrations)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

__all__ = ["cancel_and_wait"]

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

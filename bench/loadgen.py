"""A closed-loop load generator: N workers, each sends its next request when its last returns."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiohttp

Request = Callable[[aiohttp.ClientSession, int], Awaitable[int]]


@dataclass(frozen=True)
class Result:
    concurrency: int
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return float("nan")
        rank = max(1, round(p / 100 * len(ordered)))
        return ordered[min(rank, len(ordered)) - 1]

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies_ms) if self.latencies_ms else float("nan")

    @property
    def p99(self) -> float:
        return self.percentile(99)


async def run(
    session: aiohttp.ClientSession, request: Request, *, concurrency: int, total: int
) -> Result:
    """Send ``total`` requests with ``concurrency`` in flight; status >= 400 counts as an error."""
    counter = iter(range(total))
    latencies: list[float] = []
    errors = 0

    async def worker() -> None:
        nonlocal errors
        for i in counter:
            t0 = time.perf_counter()
            status = await request(session, i)
            latencies.append((time.perf_counter() - t0) * 1000)
            if status >= 400:
                errors += 1

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Result(concurrency, total, errors, time.perf_counter() - start, latencies)

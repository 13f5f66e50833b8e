"""``python -m ticket_service [serve|migrate]``: serve (after migrating), or only migrate."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import subprocess
import sys
import time

from aiohttp import web

from ticket_service.clock import SystemClock
from ticket_service.config import ConfigError, load_settings
from ticket_service.context import Context
from ticket_service.db.engine import Database
from ticket_service.db.migrate import upgrade
from ticket_service.http.app import create_app

log = logging.getLogger("ticket_service")
WORKER_ENV = "TAWASUL_WORKER_INDEX"


async def _migrate(db: Database) -> None:
    log.info("migrating %s", db.engine.url.render_as_string(hide_password=True))
    await upgrade(db.engine)


async def _serve(ctx: Context, *, migrate: bool = True) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if migrate:
        await _migrate(ctx.db)
    runner = web.AppRunner(create_app(ctx), access_log=None)
    await runner.setup()
    site = web.TCPSite(
        runner,
        ctx.settings.host,
        ctx.settings.port,
        backlog=1024,
        reuse_port=ctx.settings.workers > 1,
    )
    await site.start()
    log.info(
        "ticket service on http://%s:%d/open311/v2/services.json (%d services, %d municipalities)",
        ctx.settings.host,
        ctx.settings.port,
        len(ctx.settings.services),
        len(ctx.settings.municipalities),
    )
    try:
        await stop.wait()
        log.info("stopping: finishing requests in flight")
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ticket_service")
    parser.add_argument("command", nargs="?", default="serve", choices=["serve", "migrate"])
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    ctx = Context(settings, Database(settings.database_url), SystemClock())
    worker = WORKER_ENV in os.environ
    if args.command == "serve" and settings.workers > 1 and not worker:
        asyncio.run(_migrate(ctx.db))
        return _supervise(settings.workers)
    with contextlib.suppress(KeyboardInterrupt):
        if args.command == "migrate":
            asyncio.run(_migrate(ctx.db))
        else:
            asyncio.run(_serve(ctx, migrate=not worker))
    return 0


def _supervise(workers: int) -> int:
    """Run ``workers`` serving processes on one port; stop all when one stops or on a signal."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "ticket_service", "serve"],
            env={**os.environ, WORKER_ENV: str(i)},
        )
        for i in range(workers)
    ]

    stopping = False

    def forward(signum: int, _frame: object) -> None:
        nonlocal stopping
        if stopping:  # once: a second signal could hit a worker after its loop has closed
            return
        stopping = True
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signum)

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    log.info("supervising %d worker processes", workers)
    while all(proc.poll() is None for proc in procs):
        time.sleep(0.2)
    crashed = not stopping
    forward(signal.SIGTERM, None)
    asked = set() if crashed else {-signal.SIGTERM, -signal.SIGINT}
    # a worker still importing when told to stop dies of the signal: that is a clean stop too
    codes = [0 if code in asked else code for code in (proc.wait() for proc in procs)]
    return max(abs(code) for code in codes)


if __name__ == "__main__":
    sys.exit(main())

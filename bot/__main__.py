"""``python -m bot``: the hub on ``TAWASUL_HUB_HOST``:``TAWASUL_HUB_PORT`` (127.0.0.1:8080).

SIGTERM or SIGINT stop it gracefully: the listener closes, turns and sends in flight finish (or
are handed to another hub process after ``bot.app.STOP_GRACE`` seconds), then the client
session and Redis close. A configuration error exits with status 2.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys

from aiohttp import web

from bot.app import create_app
from bot.channels import load_channels
from bot.config import HubSettings
from bot.errors import ConfigError
from bot.events import NotifySettings
from bot.logs import configure

log = logging.getLogger("bot")


async def serve(settings: HubSettings) -> None:
    channels = load_channels(os.environ)
    app = create_app(settings, channels, events=NotifySettings.from_env(os.environ))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port, backlog=1024)
    await site.start()
    log.info("hub on http://%s:%d (channels: %s)", settings.host, settings.port,
             ", ".join(channels) or "none")  # fmt: skip
    try:
        await stop.wait()
        log.info("stopping: finishing turns and sends in flight")
    finally:
        await runner.cleanup()
    log.info("stopped")


def main() -> int:
    configure(os.environ.get("TAWASUL_LOG_LEVEL", "INFO").upper())
    try:
        settings = HubSettings.from_env(os.environ)
        asyncio.run(serve(settings))
    except ConfigError as exc:
        log.error("configuration error: %s", exc)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``python -m actions``: the Rasa action server (rasa-sdk) with the ``actions`` package.

Listens on 127.0.0.1 (``TAWASUL_ACTIONS_HOST``), port 5055 (``TAWASUL_ACTIONS_PORT``), in one
process, so there is exactly one ``aiohttp.ClientSession`` (``actions.runtime``): it opens
before the first request (and fetches the service catalogue in the background) and closes after
the server stopped. SIGTERM or SIGINT stop the server gracefully (requests in flight finish
first). ``TAWASUL_LOG_LEVEL`` sets the log level (default INFO).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping

from rasa_sdk.endpoint import create_app
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic

from actions import catalogue, runtime
from actions.context import LANGUAGES

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5055

log = logging.getLogger("actions")


def build_app(env: Mapping[str, str]) -> Sanic:  # type: ignore[type-arg]
    """rasa-sdk's Sanic app serving every action of this package, with the runtime hooks."""
    executor = ActionExecutor()
    executor.register_package("actions")
    app: Sanic = create_app(executor, cors_origins="")  # type: ignore[type-arg]
    config = runtime.config_from_env(env)

    warm_up: list[asyncio.Task[None]] = []

    async def open_clients(_app: object) -> None:
        await runtime.start(config)
        warm_up.append(asyncio.create_task(catalogue.warm(LANGUAGES)))

    async def close_clients(_app: object) -> None:
        for task in warm_up:
            task.cancel()
        await asyncio.gather(*warm_up, return_exceptions=True)
        await runtime.stop()

    app.register_listener(open_clients, "before_server_start")
    app.register_listener(close_clients, "after_server_stop")
    return app


def main() -> None:
    env = os.environ
    logging.basicConfig(
        level=env.get("TAWASUL_LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    host = env.get("TAWASUL_ACTIONS_HOST") or DEFAULT_HOST
    port = int(env.get("TAWASUL_ACTIONS_PORT") or DEFAULT_PORT)
    app = build_app(env)
    log.info("action server on http://%s:%d", host, port)
    app.run(host=host, port=port, single_process=True, access_log=False, motd=False)


if __name__ == "__main__":
    main()

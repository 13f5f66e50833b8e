"""Fixtures of the web chat tests: a Redis of their own and harness "hub processes"."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest

from tests.channels.web.support import WebHub
from tests.services import RedisServer, ServiceError

StartHub = Callable[..., Awaitable[WebHub]]


@pytest.fixture(scope="session")
def web_redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Redis for these tests alone: the hub's work streams they fill are consumed by
    no other test's workers."""
    server = RedisServer(tmp_path_factory.mktemp("web-redis"))
    try:
        url = server.start()
    except ServiceError as e:
        pytest.fail(str(e), pytrace=False)
    try:
        yield url
    finally:
        server.stop()


@pytest.fixture
async def start_hub(web_redis_url: str) -> AsyncIterator[StartHub]:
    """``await start_hub(TAWASUL_WEB_...="...")``: a harness hub; all stopped after the test."""
    hubs: list[WebHub] = []

    async def start(**env: Any) -> WebHub:
        hub = await WebHub(web_redis_url, {k: str(v) for k, v in env.items()}).start()
        hubs.append(hub)
        return hub

    yield start
    for hub in hubs:
        await hub.stop()


@pytest.fixture
async def web(start_hub: StartHub) -> WebHub:
    """A harness hub with the default settings."""
    return await start_hub()

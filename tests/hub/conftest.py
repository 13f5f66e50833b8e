"""Fixtures of the hub's tests: the hub app in-process (real Redis, the loop channel, a fake
Rasa and the loop provider), and the pieces to build it differently."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from redis.asyncio import Redis

from bot.app import HUB, Hub, create_app
from bot.config import HubSettings
from tests.hub.fake_loop import FakeLoop
from tests.hub.fake_rasa import FakeRasa, fake_rasa_fixture  # noqa: F401 (fixture)
from tests.hub.loopchannel import LoopChannel, LoopConfig
from tests.hub.support import LOOP_SECRET
from tests.services import redis_database

ADMIN_TOKEN = "test-admin-token"
HUB_DB = 3  # the in-process hubs' database on the session's Redis (flushed per test)


@dataclass
class InProcessHub:
    url: str
    app: web.Application
    settings: HubSettings

    @property
    def hub(self) -> Hub:
        return self.app[HUB]

    def metric(self, name: str, **labels: str) -> float:
        value = self.hub.metrics.registry.get_sample_value(name, labels)
        return 0.0 if value is None else value


@pytest.fixture
async def redis_db(redis_url: str) -> AsyncIterator[tuple[str, Redis]]:
    async with redis_database(redis_url, HUB_DB) as database:
        yield database


@pytest.fixture
def redis(redis_db: tuple[str, Redis]) -> Redis:
    return redis_db[1]


@pytest.fixture
async def provider() -> AsyncIterator[FakeLoop]:
    fake = await FakeLoop().start()
    yield fake
    await fake.close()


HubMaker = Callable[..., Awaitable[InProcessHub]]


@pytest.fixture
async def make_hub(
    redis_db: tuple[str, Redis], fake_rasa: FakeRasa, provider: FakeLoop, tmp_path: Path
) -> AsyncIterator[HubMaker]:
    """``await make_hub(**settings)``: a hub app served on 127.0.0.1 (several may share the
    Redis: they are separate consumers, like separate processes)."""
    servers: list[TestServer] = []

    async def make(workers: bool = True, **overrides: Any) -> InProcessHub:
        settings = HubSettings(
            redis_url=redis_db[0],
            rasa_url=fake_rasa.url,
            ticket_url=fake_rasa.url,
            media_dir=tmp_path / "media",
            public_url="http://127.0.0.1:9",
            admin_token=ADMIN_TOKEN,
            concurrency=4,
            lock_ttl_ms=3_000,
            send_backoff_ms=50,
            send_backoff_max_ms=200,
        )
        settings = replace(settings, **overrides)
        loop = LoopChannel(LoopConfig(LOOP_SECRET, provider.token, provider.url))
        app = create_app(settings, {"loop": loop}, workers=workers)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        return InProcessHub(str(server.make_url("")).rstrip("/"), app, settings)

    yield make
    for server in reversed(servers):
        await server.close()

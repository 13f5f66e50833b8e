"""The fake X API on 127.0.0.1, a real Redis, and the channel wired to both."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from pytest_aiohttp import AiohttpClient, AiohttpServer
from redis.asyncio import Redis

import channels.x
from channels.x import XChannel
from tests.channels.standin import isolated_redis
from tests.channels.x.fake_x import FakeX
from tests.channels.x.support import CREDENTIALS, USER_ID, TinyHub, x_env


@pytest.fixture
async def fake_x(aiohttp_server: AiohttpServer) -> AsyncIterator[FakeX]:
    fake = FakeX(user_id=USER_ID, **CREDENTIALS)
    server: TestServer = await aiohttp_server(fake.app(), host="127.0.0.1")
    fake.url = str(server.make_url("")).rstrip("/")
    yield fake


@pytest.fixture
async def x_session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    """A Redis database of this test's own (the hub's dedup and the channel's state)."""
    client = await isolated_redis(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
def tiny_hub(x_session: aiohttp.ClientSession, redis: Redis) -> TinyHub:
    return TinyHub(x_session, redis)


def make_channel(fake: FakeX, **extra: str) -> XChannel:
    channel = channels.x.from_env(x_env(fake.url, **extra))
    assert channel is not None
    return channel


@pytest.fixture
def channel(fake_x: FakeX, tiny_hub: TinyHub) -> XChannel:
    """The channel (quick replies on) set up on an app that is not served."""
    x = make_channel(fake_x)
    x.setup(web.Application(), tiny_hub)
    return x


@pytest.fixture
async def webhook(
    fake_x: FakeX, tiny_hub: TinyHub, aiohttp_client: AiohttpClient
) -> tuple[XChannel, TestClient]:  # type: ignore[type-arg]
    """The channel's routes served on 127.0.0.1, and a client of them."""
    x = make_channel(fake_x, quick_replies="0")
    app = web.Application()
    x.setup(app, tiny_hub)
    return x, await aiohttp_client(app)

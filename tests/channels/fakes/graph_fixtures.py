"""Fixtures shared by tests/channels/whatsapp and tests/channels/messenger (imported by their
conftest.py): the fake Graph API (one per session, reset for every test), a real Redis
client, the client session, and a ``SmallHub`` over them."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, TypeVar

import aiohttp
import pytest
from aiohttp import web
from redis.asyncio import Redis

from tests.channels.fakes.graph import FakeGraph
from tests.channels.fakes.graph_hub import SmallHub
from tests.channels.standin import isolated_redis

__all__ = [
    "channel_fixtures",
    "graph",
    "graph_env",
    "graph_server",
    "psid",
    "redis",
    "session",
    "small_hub",
    "wa_user",
]

C = TypeVar("C")


@pytest.fixture(scope="session")
async def graph_server() -> AsyncIterator[FakeGraph]:
    fake = FakeGraph()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def graph(graph_server: FakeGraph) -> FakeGraph:
    """The fake Graph API with no calls, windows, failures, media or templates."""
    graph_server.reset()
    return graph_server


@pytest.fixture(scope="session")
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture(scope="session")
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
async def small_hub(session: aiohttp.ClientSession, redis_url: str) -> AsyncIterator[SmallHub]:
    client = await isolated_redis(redis_url)
    yield SmallHub(session, client)
    await client.aclose()


@pytest.fixture
def wa_user() -> str:
    """A Saudi mobile number (wa_id) no other test uses."""
    return "9665" + "".join(secrets.choice("0123456789") for _ in range(8))


@pytest.fixture
def psid() -> str:
    """A Page-scoped id no other test uses."""
    return "2" + "".join(secrets.choice("0123456789") for _ in range(15))


def graph_env(graph: FakeGraph) -> dict[str, str]:
    """The ``TAWASUL_META_*`` variables that point a channel at ``graph``."""
    return {
        "TAWASUL_META_GRAPH_URL": graph.base_url,
        "TAWASUL_META_GRAPH_VERSION": graph.version,
        "TAWASUL_META_TIMEOUT": "2",
    }


def channel_fixtures(
    kind: type[C],
    from_env: Callable[[Mapping[str, str]], object],
    env_for: Callable[[FakeGraph], Mapping[str, str]],
) -> tuple[Any, Any]:
    """The ``channel`` (built by ``from_env(env_for(graph))``) and ``wired`` (after
    ``setup`` on a throw-away app, ready to deliver) fixtures of one Meta channel."""

    @pytest.fixture
    def channel(graph: FakeGraph) -> C:
        built = from_env(env_for(graph))
        assert isinstance(built, kind)
        return built

    @pytest.fixture
    def wired(channel: Any, small_hub: SmallHub) -> C:
        channel.setup(web.Application(), small_hub)
        assert isinstance(channel, kind)
        return channel

    return channel, wired

"""Fixtures of the voice channel's tests.

``voice_hub``: the real hub app in-process (``bot.app.create_app`` with its queue workers,
real Redis) with the voice channel on, the real ticket service in-process (SQLite), and the
hub's fake Rasa (tests/hub/fake_rasa.py: an echo server, scripted per message) — for the
IVR's own mechanics. The real bot (Rasa + actions) is in ``test_e2e.py``, through
``python -m bot``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from pytest_aiohttp import AiohttpServer
from redis.asyncio import Redis

from bot.app import create_app
from bot.config import HubSettings
from channels.voice import VoiceChannel, VoiceConfig, load_checked_prompts
from channels.voice.prompts import Prompts
from tests.channels.voice.phone import ACCOUNT_SID, AUTH_TOKEN, PhoneCall
from tests.hub.fake_rasa import FakeRasa, fake_rasa_fixture  # noqa: F401 (fixture)
from tests.services import free_port, redis_database
from tests.ticket_service.conftest import (  # noqa: F401  (fixtures used by name)
    KEYS,
    backend,
    clock,
    ctx,
    db,
    settings,
)
from ticket_client import ClientConfig, RetryPolicy, TawasulClient
from ticket_service.clock import FakeClock
from ticket_service.context import Context
from ticket_service.http.app import create_app as create_ticket_app

VOICE_DB = 4  # the in-process hubs' Redis database (flushed per test)
AGENTS = "+966112345678"
#: A Monday 10:00 in Riyadh: inside the default working hours (Sunday-Thursday 08-16).
OPEN_HOURS = datetime(2026, 11, 9, 7, 0, tzinfo=UTC)
#: A Friday 10:00 in Riyadh: the weekend.
CLOSED_HOURS = datetime(2026, 11, 13, 7, 0, tzinfo=UTC)


def voice_env(public_url: str, **extra: str) -> dict[str, str]:
    return {
        "TAWASUL_VOICE_ACCOUNT_SID": ACCOUNT_SID,
        "TAWASUL_VOICE_AUTH_TOKEN": AUTH_TOKEN,
        "TAWASUL_VOICE_PUBLIC_URL": public_url,
        "TAWASUL_VOICE_NUMBER": "+966920000940",
        "TAWASUL_VOICE_AGENTS_NUMBER": AGENTS,
        **extra,
    }


@pytest.fixture(scope="session")
def prompts() -> Prompts:
    return load_checked_prompts()


@pytest.fixture
async def ticket_url(ctx: Context, aiohttp_server: AiohttpServer) -> str:  # noqa: F811
    server = await aiohttp_server(create_ticket_app(ctx, background=False), host="127.0.0.1")
    return str(server.make_url("")).rstrip("/")


@pytest.fixture
async def voice_http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        yield session


@pytest.fixture
def tickets(voice_http: aiohttp.ClientSession, ticket_url: str) -> TawasulClient:
    """The ticket service as the hub (``hub`` role) — to seed and check tickets."""
    config = ClientConfig(
        base_url=ticket_url, api_key=KEYS["hub"], timeout=5.0, retry=RetryPolicy(attempts=1)
    )
    return TawasulClient(voice_http, config)


@pytest.fixture
async def voice_redis(redis_url: str) -> AsyncIterator[tuple[str, Redis]]:
    async with redis_database(redis_url, VOICE_DB) as database:
        yield database


@dataclass
class VoiceHub:
    """The hub app with the voice channel, served on 127.0.0.1."""

    url: str
    public_url: str
    channel: VoiceChannel
    clock: FakeClock
    redis: Redis
    http: aiohttp.ClientSession

    def call(self, caller: str, **kwargs: Any) -> PhoneCall:
        return PhoneCall(self.http, self.url, self.public_url, caller, **kwargs)


VoiceHubMaker = Callable[..., Awaitable[VoiceHub]]


@pytest.fixture
async def make_voice_hub(
    voice_redis: tuple[str, Redis],
    fake_rasa: FakeRasa,
    ticket_url: str,
    voice_http: aiohttp.ClientSession,
    prompts: Prompts,
    tmp_path: Path,
) -> AsyncIterator[VoiceHubMaker]:
    """``await make_voice_hub(public_url=None, **env)``: the hub; ``public_url`` stands for
    a proxy's address in front of it (default: its own address)."""
    servers: list[TestServer] = []

    async def make(
        public_url: str | None = None, env: Mapping[str, str] | None = None, **hub: Any
    ) -> VoiceHub:
        port = free_port()
        own_url = f"http://127.0.0.1:{port}"
        public = public_url or own_url
        config = VoiceConfig.from_env(voice_env(public, **(env or {})))
        assert config is not None
        fake_clock = FakeClock(OPEN_HOURS)
        channel = VoiceChannel(config, prompts, clock=fake_clock)
        fields: dict[str, Any] = {
            "redis_url": voice_redis[0],
            "rasa_url": fake_rasa.url,
            "ticket_url": ticket_url,
            "hub_api_key": KEYS["hub"],
            "media_dir": tmp_path / "media",
            "public_url": own_url,
            "concurrency": 4,
            "lock_ttl_ms": 3_000,
            "send_backoff_ms": 50,
            "send_backoff_max_ms": 200,
        }
        hub_settings = HubSettings(**{**fields, **hub})
        app = create_app(hub_settings, {"voice": channel})
        server = TestServer(app, host="127.0.0.1", port=port)
        await server.start_server()
        servers.append(server)
        return VoiceHub(own_url, public, channel, fake_clock, voice_redis[1], voice_http)

    yield make
    for server in reversed(servers):
        await server.close()


@pytest.fixture
async def voice_hub(make_voice_hub: VoiceHubMaker) -> VoiceHub:
    return await make_voice_hub()

"""Fixtures for the Telegram adapter: the fake Bot API, a real Redis, and the adapter's routes
mounted on a small aiohttp app whose ``submit`` is the real ingest on real Redis
(``tests.channels.standin.HubStandIn``)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from redis.asyncio import Redis

import channels.telegram
from channels.telegram import TelegramChannel
from tests.channels.standin import HubStandIn, isolated_redis
from tests.channels.telegram.fake_telegram import FakeTelegram, User
from tests.services import free_port

PAYLOADS = Path(__file__).with_name("payloads")
SECRET = "Tawasul_webhook-secret_0123456789"
SARA = User(5180236917, "سارة", "العتيبي", "sara_otb", "ar")
JOHN = User(6021457730, "John", "Smith", None, "en-GB")


def payload(name: str) -> bytes:
    """A recorded Bot API update from payloads/."""
    return (PAYLOADS / name).read_bytes()


def payload_json(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(payload(name))
    return data


@dataclass
class Served:
    """The adapter mounted on a running app: ``url`` is its webhook."""

    channel: TelegramChannel
    hub: HubStandIn
    session: aiohttp.ClientSession
    url: str


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = await FakeTelegram().start()
    server.add_user(SARA)
    server.add_user(JOHN)
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    """A database of its own on the session's Redis, emptied for each test."""
    client = await isolated_redis(redis_url)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


async def serve(
    env: dict[str, str], session: aiohttp.ClientSession, redis: Redis
) -> tuple[Served, web.AppRunner]:
    channel = channels.telegram.from_env(env)
    assert channel is not None
    hub = HubStandIn(session, redis)
    app = web.Application()
    channel.setup(app, hub)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    url = f"http://127.0.0.1:{port}/webhooks/telegram"
    return Served(channel, hub, session, url), runner


@pytest.fixture
async def served(
    fake: FakeTelegram, session: aiohttp.ClientSession, redis: Redis
) -> AsyncIterator[Served]:
    result, runner = await serve(fake.env(SECRET), session, redis)
    try:
        yield result
    finally:
        await runner.cleanup()

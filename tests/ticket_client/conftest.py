"""The real ticket service on a 127.0.0.1 port, a fault-injecting proxy in front of it, and
clients of both. Database, settings and clock fixtures are the ticket service's own."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from pytest_aiohttp import AiohttpServer
from sqlalchemy import func, select

from tests.ticket_client.proxy import FaultProxy
from tests.ticket_service.conftest import (  # noqa: F401  (fixtures used by name)
    KEYS,
    backend,
    clock,
    ctx,
    db,
    settings,
)
from ticket_client import ClientConfig, Open311Client, RetryPolicy, TawasulClient
from ticket_service.context import Context
from ticket_service.db.schema import tickets
from ticket_service.http.app import create_app

# Fast retries so the retry tests take milliseconds: 3 attempts, waits of ~10 and ~20 ms.
FAST_RETRY = RetryPolicy(attempts=3, backoff_base=0.01, backoff_max=0.05)
TIMEOUT = 2.0


def url_of(server: TestServer) -> str:
    return str(server.make_url("")).rstrip("/")


def config_for(base_url: str, role: str | None = "hub", **overrides: object) -> ClientConfig:
    fields: dict[str, object] = {
        "base_url": base_url,
        "api_key": KEYS[role] if role else None,
        "timeout": TIMEOUT,
        "retry": FAST_RETRY,
    }
    fields.update(overrides)
    return ClientConfig(**fields)  # type: ignore[arg-type]


async def ticket_count(context: Context) -> int:
    async with context.db.read() as conn:
        return int((await conn.execute(select(func.count()).select_from(tickets))).scalar_one())


@pytest.fixture
async def service(ctx: Context, aiohttp_server: AiohttpServer) -> TestServer:  # noqa: F811
    """The real ticket service application, listening on 127.0.0.1."""
    return await aiohttp_server(create_app(ctx, background=False), host="127.0.0.1")


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """The one session the caller owns and injects into the clients."""
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def proxy(service: TestServer, aiohttp_server: AiohttpServer) -> AsyncIterator[FaultProxy]:
    async with aiohttp.ClientSession() as upstream:
        fault_proxy = FaultProxy(url_of(service), upstream)
        server = await aiohttp_server(fault_proxy.app(), host="127.0.0.1")
        fault_proxy.url = url_of(server)
        yield fault_proxy
        fault_proxy.released.set()  # let stalled handlers finish so the servers close at once


@pytest.fixture
def hub(http: aiohttp.ClientSession, service: TestServer) -> TawasulClient:
    return TawasulClient(http, config_for(url_of(service), "hub"))


@pytest.fixture
def agent(http: aiohttp.ClientSession, service: TestServer) -> TawasulClient:
    return TawasulClient(http, config_for(url_of(service), "agent"))


@pytest.fixture
def supervisor(http: aiohttp.ClientSession, service: TestServer) -> TawasulClient:
    return TawasulClient(http, config_for(url_of(service), "supervisor"))


@pytest.fixture
def open311(http: aiohttp.ClientSession, service: TestServer) -> Open311Client:
    return Open311Client(http, config_for(url_of(service), "hub"))

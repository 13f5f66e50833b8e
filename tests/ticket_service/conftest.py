"""Fixtures for the ticket service: settings, a migrated database (SQLite or PostgreSQL), a fake
clock, the domain context and an HTTP client of the real application."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from ticket_service.clock import FakeClock
from ticket_service.config import Settings, load_settings
from ticket_service.context import Context
from ticket_service.db.engine import Database
from ticket_service.db.migrate import upgrade
from ticket_service.http.app import create_app

KEYS = {
    "hub": "test-hub-key",
    "agent": "test-agent-key",
    "supervisor": "test-supervisor-key",
    "satisfaction": "test-satisfaction-key",
    "admin": "test-admin-key",
}
EVENT_SECRET = "test-event-secret"
START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

# Mark a test to run once on SQLite and once on a real PostgreSQL server.
BOTH_BACKENDS = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)


def auth(role: str) -> dict[str, str]:
    return {"X-Api-Key": KEYS[role]}


def make_settings(**env: str) -> Settings:
    base = {
        "TAWASUL_API_KEYS": ",".join(f"{role}={key}" for role, key in KEYS.items()),
        "TAWASUL_EVENT_SECRET": EVENT_SECRET,
        "TAWASUL_EVENT_SUBSCRIBERS": "",
    }
    return load_settings(env={**base, **env})


@pytest.fixture
def settings() -> Settings:
    return make_settings()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    return str(getattr(request, "param", "sqlite"))


async def fresh_database_url(
    backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """An empty database of the given backend, for this test only."""
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db')}/tickets.db"
    server = str(request.getfixturevalue("postgres_url"))
    name = "t_" + uuid.uuid4().hex[:12]
    admin = await asyncpg.connect(server.replace("+asyncpg", ""))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return server.rsplit("/", 1)[0] + "/" + name


@pytest.fixture
async def db(
    backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Database]:
    database = Database(await fresh_database_url(backend, request, tmp_path_factory))
    await upgrade(database.engine)
    yield database
    await database.dispose()


@pytest.fixture
def ctx(settings: Settings, db: Database, clock: FakeClock) -> Context:
    return Context(settings, db, clock)


@pytest.fixture
async def client(ctx: Context, aiohttp_client: object) -> TestClient:  # type: ignore[type-arg]
    """The real application over HTTP, with the scheduler and event delivery left to the test."""
    return await aiohttp_client(create_app(ctx, background=False))  # type: ignore[operator, no-any-return]

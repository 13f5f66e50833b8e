"""The test-server fixtures (tests/services.py) give working servers."""

import asyncpg
import redis.asyncio as aioredis

from tests.services import redis_ping


async def test_redis_fixture_set_get(redis_url: str) -> None:
    client = aioredis.from_url(redis_url)
    try:
        assert await client.ping()
        await client.set("tawasul:infra", "مرحبا")
        assert (await client.get("tawasul:infra")).decode() == "مرحبا"
        assert (await client.config_get("appendonly"))["appendonly"] == "yes"
        assert (await client.config_get("appendfsync"))["appendfsync"] == "always"
    finally:
        await client.aclose()


def test_redis_fixture_answers_raw_ping(redis_url: str) -> None:
    port = int(redis_url.rsplit(":", 1)[1].split("/", 1)[0])
    assert redis_ping(port)


async def test_postgres_fixture_select_version(postgres_url: str) -> None:
    assert postgres_url.startswith("postgresql+asyncpg://tawasul@127.0.0.1:")
    assert postgres_url.endswith("/tawasul")
    conn = await asyncpg.connect(postgres_url.replace("+asyncpg", "", 1))
    try:
        version = await conn.fetchval("select version()")
        assert version.startswith("PostgreSQL ")
        assert await conn.fetchval("select current_database()") == "tawasul"
        assert await conn.fetchval("select current_user") == "tawasul"
        assert await conn.fetchval("show server_encoding") == "UTF8"
        assert await conn.fetchval("select $1::text", "مرحبا") == "مرحبا"
    finally:
        await conn.close()

"""Mention polling against the fake X API: cursor in real Redis, pages, rate limits, and the
background task the channel starts in ``setup``."""

from __future__ import annotations

import asyncio
import time

import pytest
from aiohttp import web
from pytest_aiohttp import AiohttpClient
from redis.asyncio import Redis

from bot.errors import RetryAfter, TransientSendError
from channels.x import XChannel
from channels.x.poll import CURSOR_KEY
from tests.channels.x.conftest import make_channel
from tests.channels.x.fake_x import FakeX
from tests.channels.x.support import USER_ID, TinyHub, payload_json

CURSOR = CURSOR_KEY.format(USER_ID)
BEFORE_ALL = "1853000000000000501"
NEWEST = "1853000000000000505"


@pytest.fixture(autouse=True)
def timeline(fake_x: FakeX) -> None:
    """Four mentions (one a retweet), served two per page."""
    fake_x.add_mentions_page(payload_json("mentions_page1.json"))
    fake_x.add_mentions_page(payload_json("mentions_page2.json"))
    fake_x.page_limit = 2


def mention_calls(fake: FakeX) -> list[dict[str, str]]:
    return [c.query for c in fake.calls_to("GET", f"/2/users/{USER_ID}/mentions")]


async def test_the_first_poll_only_sets_the_cursor(
    fake_x: FakeX, channel: XChannel, tiny_hub: TinyHub, redis: Redis
) -> None:
    assert await channel.poller().poll_once() == 0
    assert await redis.get(CURSOR) == NEWEST.encode()
    assert [q["max_results"] for q in mention_calls(fake_x)] == ["5"]
    assert await tiny_hub.stored() == []


async def test_new_mentions_are_read_across_pages_oldest_first(
    fake_x: FakeX, channel: XChannel, tiny_hub: TinyHub, redis: Redis
) -> None:
    await redis.set(CURSOR, BEFORE_ALL)
    assert await channel.poller().poll_once() == 3  # the retweet is skipped
    stored = await tiny_hub.stored()
    assert [m.provider_message_id for m in stored] == [
        "tweet:1853000000000000502",
        "tweet:1853000000000000504",
        "tweet:1853000000000000505",
    ]
    assert stored[1].attachments[0].source_url == "https://pbs.twimg.com/media/GbYzQ1xWcAAm9Lp.jpg"
    assert stored[1].contact.ids["x_handle"] == "sara_otb"
    first, second = mention_calls(fake_x)
    assert first["since_id"] == second["since_id"] == BEFORE_ALL
    assert "pagination_token" not in first and second["pagination_token"] == "fake-next-2"
    assert first["max_results"] == "100"
    assert [c.auth for c in fake_x.calls] == ["oauth1", "oauth1"]  # no bearer configured
    assert await redis.get(CURSOR) == NEWEST.encode()

    assert await channel.poller().poll_once() == 0  # nothing new
    assert mention_calls(fake_x)[-1]["since_id"] == NEWEST


async def test_a_restarted_channel_does_not_read_again(
    fake_x: FakeX, tiny_hub: TinyHub, redis: Redis
) -> None:
    await redis.set(CURSOR, BEFORE_ALL)
    before = make_channel(fake_x)
    before.setup(web.Application(), tiny_hub)
    assert await before.poller().poll_once() == 3
    after = make_channel(fake_x)  # a new process: only Redis is shared
    after.setup(web.Application(), tiny_hub)
    assert await after.poller().poll_once() == 0
    assert mention_calls(fake_x)[-1]["since_id"] == NEWEST
    assert len(await tiny_hub.stored()) == 3


async def test_the_app_bearer_is_used_for_reads_when_configured(
    fake_x: FakeX, tiny_hub: TinyHub, redis: Redis
) -> None:
    await redis.set(CURSOR, BEFORE_ALL)
    x = make_channel(fake_x, bearer_token="AAAAAAAAAAAAAAAAAAAAAFakeBearerTokenForTawasulTests")
    x.setup(web.Application(), tiny_hub)
    assert await x.poller().poll_once() == 3
    assert {c.auth for c in fake_x.calls} == {"bearer"}


async def test_a_failure_mid_pages_keeps_the_cursor(
    fake_x: FakeX, channel: XChannel, tiny_hub: TinyHub, redis: Redis
) -> None:
    await redis.set(CURSOR, BEFORE_ALL)
    fake_x.fail("mentions", 503, skip=1)  # the second page fails
    with pytest.raises(TransientSendError):
        await channel.poller().poll_once()
    assert await redis.get(CURSOR) == BEFORE_ALL.encode()
    assert await tiny_hub.stored() == []
    assert await channel.poller().poll_once() == 3  # all read on the next round


async def test_429_is_retry_after_and_the_cursor_stays(
    fake_x: FakeX, channel: XChannel, redis: Redis
) -> None:
    await redis.set(CURSOR, BEFORE_ALL)
    reset = fake_x.rate_limit("mentions", reset_in=60)
    with pytest.raises(RetryAfter) as caught:
        await channel.poller().poll_once()
    assert caught.value.seconds == pytest.approx(reset - time.time(), abs=2)
    assert await redis.get(CURSOR) == BEFORE_ALL.encode()


async def test_the_background_poller_waits_for_the_rate_limit_reset(
    fake_x: FakeX, tiny_hub: TinyHub, redis: Redis, aiohttp_client: AiohttpClient
) -> None:
    await redis.set(CURSOR, BEFORE_ALL)
    reset = fake_x.rate_limit("mentions", reset_in=0.5)
    x = make_channel(fake_x, poll_interval="0.05")
    app = web.Application()
    x.setup(app, tiny_hub)
    client = await aiohttp_client(app)  # starts the app: cleanup_ctx starts the poller
    try:
        for _ in range(200):
            if len(await tiny_hub.stored()) == 3:
                break
            await asyncio.sleep(0.05)
        assert len(await tiny_hub.stored()) == 3
    finally:
        await client.close()  # cancels the poller
    limited, retried = fake_x.calls[0], fake_x.calls[1]
    assert limited.status == 429
    assert retried.at >= reset - 0.05  # not before x-rate-limit-reset
    calls = len(fake_x.calls)
    await asyncio.sleep(0.2)
    assert len(fake_x.calls) == calls  # stopped with the app

"""Sending: provider rate limits honoured for the whole channel, retries with backoff, dead
letters (listed masked, replayed, deleted through the admin API), per-recipient pacing."""

from __future__ import annotations

import asyncio
import itertools
import time

import aiohttp
from redis.asyncio import Redis

from bot import keys
from tests.hub.conftest import ADMIN_TOKEN, HubMaker
from tests.hub.fake_loop import FakeLoop
from tests.hub.fake_rasa import FakeRasa
from tests.hub.support import message, new_user, post_webhook, until

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


async def test_retry_after_pauses_the_channel_for_every_recipient(
    make_hub: HubMaker, http: aiohttp.ClientSession, provider: FakeLoop, redis: Redis
) -> None:
    hub = await make_hub()
    limited, other = new_user(), new_user()
    provider.fail(limited, 429, retry_after=2)
    started = time.monotonic()
    await post_webhook(http, hub.url, [message(limited, "first")])
    await asyncio.sleep(0.3)  # the 429 has been answered and the pause set
    assert 0 < await redis.pttl(keys.pause("loop")) <= 2000
    await post_webhook(http, hub.url, [message(other, "second")])
    await provider.wait_for(limited, 1)
    await provider.wait_for(other, 1)
    first = provider.sent[0]
    assert first.body["to"] in (limited, other)
    # Nobody on the channel got anything before the provider's Retry-After ran out.
    assert min(s.at for s in provider.sent) - started >= 1.9
    assert [s.body["text"] for s in provider.sent if s.body["to"] == limited] == ["re: first"]
    assert hub.metric("tawasul_sends_total", channel="loop", outcome="rate_limited") == 1
    assert hub.metric("tawasul_sends_total", channel="loop", outcome="sent") == 2


async def test_transient_failures_are_retried_and_keep_the_order(
    make_hub: HubMaker, http: aiohttp.ClientSession, provider: FakeLoop
) -> None:
    hub = await make_hub()
    user = new_user()
    provider.fail(user, 503, times=3)
    await post_webhook(http, hub.url, [message(user, "one"), message(user, "two")])
    await provider.wait_for(user, 2)
    assert provider.texts(user) == ["re: one", "re: two"]
    assert len(provider.refused) == 3
    assert hub.metric("tawasul_sends_total", channel="loop", outcome="transient") == 3


async def test_a_permanent_failure_is_dead_lettered_listed_masked_and_replayed(
    make_hub: HubMaker, http: aiohttp.ClientSession, provider: FakeLoop, fake_rasa: FakeRasa,
    redis: Redis,
) -> None:  # fmt: skip
    hub = await make_hub()
    user = "966501234567"  # a WhatsApp-like id: a phone number
    text = "my number is +966 50 123 4567, mail me at sara.ahmed@example.com"
    provider.fail(user, 400)  # e.g. "recipient not allowed"
    await post_webhook(http, hub.url, [message(user, text), message(user, "next")])
    await provider.wait_for(user, 1)
    assert provider.texts(user) == ["re: next"]  # the conversation goes on
    assert hub.metric("tawasul_dead_lettered_total", channel="loop") == 1

    async with http.get(f"{hub.url}/admin/dead-letters", headers=ADMIN) as response:
        assert response.status == 200
        raw = await response.text()
        page = await response.json()
    assert page["total"] == 1 and page["next"] is None
    (item,) = page["items"]
    assert item["channel"] == "loop" and item["attempts"] == 1
    assert "400" in item["error"]
    for secret in ("966501234567", "123 4567", "sara.ahmed", "501234567"):
        assert secret not in raw, secret
    assert item["message"]["recipient_id"] == "***567"
    assert "s***@example.com" in item["message"]["text"]

    async with http.get(f"{hub.url}/metrics") as response:
        assert "tawasul_dead_letters 1.0" in await response.text()

    async with http.post(
        f"{hub.url}/admin/dead-letters/{item['id']}/replay", headers=ADMIN
    ) as response:
        assert response.status == 200
    await provider.wait_for(user, 2)
    assert provider.texts(user)[1] == f"re: {text}"  # the original, unmasked, was sent
    assert await redis.xlen(keys.DEAD) == 0
    async with http.post(
        f"{hub.url}/admin/dead-letters/{item['id']}/replay", headers=ADMIN
    ) as response:
        assert response.status == 404


async def test_attempts_exhausted_go_to_dead_letters_and_can_be_deleted(
    make_hub: HubMaker, http: aiohttp.ClientSession, provider: FakeLoop, redis: Redis
) -> None:
    hub = await make_hub(send_max_attempts=3)
    user = new_user()
    provider.fail(user, 500, times=3)
    await post_webhook(http, hub.url, [message(user, "lost")])
    await until(lambda: _dead_letters_at_least(redis, 1))
    async with http.get(f"{hub.url}/admin/dead-letters?limit=1", headers=ADMIN) as response:
        (item,) = (await response.json())["items"]
    assert item["attempts"] == 3 and "500" in item["error"]
    async with http.delete(f"{hub.url}/admin/dead-letters/{item['id']}", headers=ADMIN) as r:
        assert r.status == 200
    async with http.delete(f"{hub.url}/admin/dead-letters/{item['id']}", headers=ADMIN) as r:
        assert r.status == 404
    assert await redis.xlen(keys.DEAD) == 0
    assert provider.to(user) == []


async def test_dead_letters_page_newest_first(
    make_hub: HubMaker, http: aiohttp.ClientSession, provider: FakeLoop, redis: Redis
) -> None:
    hub = await make_hub()
    users = [new_user() for _ in range(3)]
    for count, user in enumerate(users, start=1):
        provider.fail(user, 403)
        await post_webhook(http, hub.url, [message(user, "x")])
        await until(lambda n=count: _dead_letters_at_least(redis, n))  # type: ignore[misc]
    seen: list[str] = []
    url = f"{hub.url}/admin/dead-letters?limit=2"
    async with http.get(url, headers=ADMIN) as response:
        page = await response.json()
    seen += [i["message"]["key"] for i in page["items"]]
    assert page["next"]
    async with http.get(f"{url}&before={page['next']}", headers=ADMIN) as response:
        page = await response.json()
    seen += [i["message"]["key"] for i in page["items"]]
    assert page["next"] is None
    assert len(seen) == 3 and len(set(seen)) == 3


async def test_admin_endpoints_need_the_token(
    make_hub: HubMaker, http: aiohttp.ClientSession
) -> None:
    hub = await make_hub(workers=False)
    url = f"{hub.url}/admin/dead-letters"
    async with http.get(url) as response:
        assert response.status == 401
    async with http.get(url, headers={"Authorization": "Bearer wrong"}) as response:
        assert response.status == 401
    async with http.post(f"{url}/1-0/replay", headers={"Authorization": "Basic x"}) as response:
        assert response.status == 401
    async with http.get(f"{url}?limit=0", headers=ADMIN) as response:
        assert response.status == 400
    async with http.post(f"{url}/..%2Fx/replay", headers=ADMIN) as response:
        assert response.status == 404
    closed = await make_hub(workers=False, admin_token=None)
    async with http.get(f"{closed.url}/admin/dead-letters", headers=ADMIN) as response:
        assert response.status == 403


async def test_pacing_spaces_replies_to_one_recipient(
    make_hub: HubMaker, http: aiohttp.ClientSession, provider: FakeLoop
) -> None:
    await make_hub(pacing_ms={"loop": 400})
    hub = await make_hub(pacing_ms={"loop": 400})  # two senders: pacing is shared in Redis
    user = new_user()
    await post_webhook(http, hub.url, [message(user, f"m{i}") for i in range(3)])
    await provider.wait_for(user, 3)
    times = [s.at for s in provider.sent if s.body["to"] == user]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert all(gap >= 0.38 for gap in gaps), gaps


async def _dead_letters_at_least(redis: Redis, count: int) -> bool:
    return int(await redis.xlen(keys.DEAD)) >= count

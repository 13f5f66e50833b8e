"""Ingest: dedup, durable enqueue, batching, refusals — against real Redis."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer
from redis.asyncio import Redis

from bot import keys
from bot.app import create_app
from bot.config import HubSettings
from bot.ingest import Ingest
from bot.metrics import HubMetrics
from bot.model import DeliveryStatus, InboundMessage
from tests.hub.conftest import HubMaker
from tests.hub.fake_loop import FakeLoop
from tests.hub.fake_rasa import FakeRasa
from tests.hub.loopchannel import LoopChannel, LoopConfig, sign
from tests.hub.support import LOOP_SECRET, message, new_id, new_user, post_webhook
from tests.services import RedisServer


def inbound(user: str, mid: str | None = None, **fields: object) -> InboundMessage:
    return InboundMessage(
        channel="loop",
        provider_message_id=mid or new_id(),
        user_id=user,
        timestamp=time.time(),
        text="hello",
        **fields,  # type: ignore[arg-type]
    )


async def test_one_webhook_delivered_three_times_is_answered_once(
    make_hub: HubMaker, http: aiohttp.ClientSession, redis: Redis, provider: FakeLoop,
    fake_rasa: FakeRasa,
) -> None:  # fmt: skip
    hub = await make_hub()
    user = new_user()
    body = message(user, "مرحبا")
    for _ in range(3):
        status, answer = await post_webhook(http, hub.url, [body])
        assert status == 200 and answer == {"ok": True, "events": 1}
    await provider.wait_for(user, 1)
    await asyncio.sleep(0.5)  # a second reply would have come by now
    assert provider.texts(user) == ["re: مرحبا"]
    assert fake_rasa.of(f"loop:{user}") == ["مرحبا"]
    assert hub.metric("tawasul_inbound_events_total", channel="loop", result="accepted") == 1
    assert hub.metric("tawasul_inbound_events_total", channel="loop", result="duplicate") == 2
    assert await redis.exists(keys.seen("loop", body["id"]))
    assert 7 * 24 * 3600 - 60 < await redis.ttl(keys.seen("loop", body["id"])) <= 7 * 24 * 3600


async def test_concurrent_submits_share_pipelines_and_each_gets_its_result(
    redis_db: tuple[str, Redis],
) -> None:
    url, redis = redis_db
    client = Redis.from_url(url)
    ingest = Ingest(client, HubMetrics())
    users = [new_user() for _ in range(20)]
    ids = [new_id() for _ in range(100)]
    # 100 distinct messages over 20 conversations, each submitted twice, all at once.
    events = [inbound(users[i % 20], ids[i]) for i in range(100)]
    results = await asyncio.gather(*(ingest.submit_many([e]) for e in events + events))
    try:
        assert ingest.batches < 20, ingest.batches  # 200 submits, a handful of pipelines
        news = [r[0].new for r in results]
        assert sum(news) == 100
        for i in range(100):  # exactly one of the two copies is new
            assert news[i] != news[i + 100]
        for n, user in enumerate(users):
            stored: Any = await redis.xrange(keys.conv_in(f"loop:{user}"))
            got = [InboundMessage.from_json(f[b"m"]).provider_message_id for _, f in stored]
            assert got == [ids[i] for i in range(n, 100, 20)]  # arrival order kept
        work: Any = await redis.xrange(keys.WORK)
        assert len(work) == 100
    finally:
        await client.aclose()


async def test_noreply_messages_are_recorded_and_never_given_to_rasa(
    make_hub: HubMaker, http: aiohttp.ClientSession, redis: Redis, fake_rasa: FakeRasa,
    provider: FakeLoop,
) -> None:  # fmt: skip
    hub = await make_hub()
    user = new_user()
    auto = message(user, "Out of office", noreply="auto_reply")
    status, _ = await post_webhook(http, hub.url, [auto])
    assert status == 200
    await post_webhook(http, hub.url, [auto])  # duplicates deduplicated too
    real = message(user, "hello")
    await post_webhook(http, hub.url, [real])
    await provider.wait_for(user, 1)
    assert fake_rasa.of(f"loop:{user}") == ["hello"]
    recorded: Any = await redis.xrange(keys.NOREPLY)
    assert len(recorded) == 1
    kept = InboundMessage.from_json(recorded[0][1][b"m"])
    assert kept.provider_message_id == auto["id"] and kept.no_reply_reason == "auto_reply"
    assert hub.metric("tawasul_inbound_events_total", channel="loop", result="noreply") == 1


async def test_delivery_statuses_are_deduplicated_by_id_and_state_and_counted(
    make_hub: HubMaker, http: aiohttp.ClientSession, redis: Redis, fake_rasa: FakeRasa,
) -> None:  # fmt: skip
    hub = await make_hub()
    statuses = [
        {"id": "out-1", "to": "u1", "state": "delivered"},
        {"id": "out-1", "to": "u1", "state": "delivered"},
        {"id": "out-1", "to": "u1", "state": "read"},
    ]
    status, answer = await post_webhook(http, hub.url, statuses=statuses)
    assert status == 200 and answer["events"] == 3
    assert hub.metric("tawasul_delivery_status_total", channel="loop", state="delivered") == 1
    assert hub.metric("tawasul_delivery_status_total", channel="loop", state="read") == 1
    assert (
        hub.metric("tawasul_inbound_events_total", channel="loop", result="status_duplicate") == 1
    )
    assert await redis.xlen(keys.WORK) == 0
    assert fake_rasa.calls == []


async def test_forged_or_unsigned_webhooks_get_403_and_enqueue_nothing(
    make_hub: HubMaker, http: aiohttp.ClientSession, redis: Redis
) -> None:
    hub = await make_hub(workers=False)
    user = new_user()
    body = [message(user, "hi")]
    assert (await post_webhook(http, hub.url, body, secret="not-the-secret"))[0] == 403
    assert (await post_webhook(http, hub.url, body, signature=""))[0] == 403
    assert (await post_webhook(http, hub.url, body, signature="sha256=00"))[0] == 403
    assert await redis.exists(keys.conv_in(f"loop:{user}")) == 0
    assert await redis.exists(keys.seen("loop", body[0]["id"])) == 0
    assert hub.metric("tawasul_inbound_events_total", channel="loop", result="forged") == 3
    garbage = b"{not json"
    headers = {"X-Loop-Signature": sign(LOOP_SECRET, garbage)}
    async with http.post(f"{hub.url}/webhooks/loop", data=garbage, headers=headers) as response:
        assert response.status == 400
    assert hub.metric("tawasul_inbound_events_total", channel="loop", result="malformed") == 1


async def test_redis_down_answers_503_so_the_provider_retries_then_200_when_back(
    tmp_path: Path, http: aiohttp.ClientSession, fake_rasa: FakeRasa, provider: FakeLoop,
) -> None:  # fmt: skip
    server = RedisServer(tmp_path / "redis")
    url = server.start()
    settings = HubSettings(redis_url=url, rasa_url=fake_rasa.url, ticket_url=fake_rasa.url)
    loop = LoopChannel(LoopConfig(LOOP_SECRET, provider.token, provider.url))
    app = create_app(settings, {"loop": loop}, workers=False)
    web_server = TestServer(app, host="127.0.0.1")
    await web_server.start_server()
    hub_url = str(web_server.make_url("")).rstrip("/")
    user = new_user()
    body = [message(user, "hello")]
    try:
        server.stop()
        started = time.monotonic()
        status, answer = await post_webhook(http, hub_url, body)
        assert status == 503, answer
        assert "try again later" in answer["error"]
        assert time.monotonic() - started < 5  # fail fast, the provider retries
        async with http.get(f"{hub_url}/healthz") as response:
            assert response.status == 503
            assert (await response.json())["components"]["redis"]["ok"] is False
        server.start()  # same port, same data
        status, _ = await post_webhook(http, hub_url, body)
        assert status == 200
        check = Redis.from_url(url)
        try:
            assert await check.xlen(keys.conv_in(f"loop:{user}")) == 1
        finally:
            await check.aclose()
    finally:
        await web_server.close()
        server.stop()


async def test_delivery_status_outcomes_are_not_messages(redis_db: tuple[str, Redis]) -> None:
    url, redis = redis_db
    client = Redis.from_url(url)
    ingest = Ingest(client, HubMetrics())
    try:
        status = DeliveryStatus("loop", "x1", "u", "failed", time.time(), error="blocked")
        first, again = await ingest.submit_many([status, status])
        assert first.new and not again.new
        assert await redis.exists(keys.WORK) == 0
    finally:
        await client.aclose()

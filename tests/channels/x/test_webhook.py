"""The channel's routes served on 127.0.0.1 with a real durable submit into real Redis."""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from redis.asyncio import Redis

from bot.model import Button, OutboundMessage
from channels.x import XChannel, choices
from channels.x.verify import crc_response_token
from tests.channels.x.conftest import make_channel
from tests.channels.x.fake_x import FakeX
from tests.channels.x.support import (
    CREDENTIALS,
    SARA,
    TinyHub,
    payload,
    payload_json,
    signature,
)
from tests.services import RedisServer

Served = tuple[XChannel, TestClient]  # type: ignore[type-arg]
SERVICES = (
    Button("حفر وتلف الطرق", '/inform{"service":"pothole"}'),
    Button("إنارة الشوارع", '/inform{"service":"streetlight"}'),
    Button("تسرب مياه", '/inform{"service":"water_leak"}'),
)


async def post(client: TestClient, body: bytes, sign: bool = True) -> aiohttp.ClientResponse:  # type: ignore[type-arg]
    headers = {"Content-Type": "application/json"}
    if sign:
        headers["x-twitter-webhooks-signature"] = signature(body)
    return await client.post("/webhooks/x", data=body, headers=headers)


def dm_from_sara(text: str, event_id: str) -> bytes:
    body = payload_json("webhook_dm.json")
    event = body["direct_message_events"][0]
    event["id"] = event_id
    event["message_create"]["message_data"]["text"] = text
    return json.dumps(body, ensure_ascii=False).encode()


async def test_crc_challenge(webhook: Served) -> None:
    _, client = webhook
    response = await client.get("/webhooks/x", params={"crc_token": "challenge-123"})
    assert response.status == 200
    assert await response.json() == {
        "response_token": crc_response_token(CREDENTIALS["consumer_secret"], "challenge-123")
    }
    assert (await client.get("/webhooks/x")).status == 400


async def test_signed_mentions_are_made_durable(webhook: Served, tiny_hub: TinyHub) -> None:
    _, client = webhook
    response = await post(client, payload("webhook_mentions.json"))
    assert response.status == 200 and (await response.json())["events"] == 2
    stored = await tiny_hub.stored()
    assert [m.provider_message_id for m in stored] == [
        "tweet:1853000000000000101",
        "tweet:1853000000000000102",
    ]
    assert all(m.public for m in stored)


@pytest.mark.parametrize("forged", ["unsigned", "other secret", "changed body"])
async def test_forged_or_unsigned_is_403_and_nothing_is_stored(
    webhook: Served, tiny_hub: TinyHub, forged: str
) -> None:
    _, client = webhook
    body = payload("webhook_dm.json")
    headers = {"Content-Type": "application/json"}
    if forged == "other secret":
        headers["x-twitter-webhooks-signature"] = signature(body, "another app's secret")
    elif forged == "changed body":
        headers["x-twitter-webhooks-signature"] = signature(body)
        body = body.replace("حفرة".encode(), "حفره".encode())
    response = await client.post("/webhooks/x", data=body, headers=headers)
    assert response.status == 403
    assert await tiny_hub.stored() == []


async def test_signed_garbage_is_400(webhook: Served, tiny_hub: TinyHub) -> None:
    _, client = webhook
    response = await post(client, b'{"direct_message_events": "nope"}')
    assert response.status == 400
    assert await tiny_hub.stored() == []


async def test_a_redelivered_webhook_is_stored_once(webhook: Served, tiny_hub: TinyHub) -> None:
    _, client = webhook
    for _ in range(3):
        assert (await post(client, payload("webhook_dm.json"))).status == 200
    assert len(await tiny_hub.stored()) == 1


async def test_echoes_are_acknowledged_and_dropped(webhook: Served, tiny_hub: TinyHub) -> None:
    _, client = webhook
    for name in ("webhook_own_echoes.json", "webhook_own_dm.json", "webhook_other_events.json"):
        response = await post(client, payload(name))
        assert response.status == 200 and (await response.json())["events"] == 0
    assert await tiny_hub.stored() == []


async def test_a_typed_number_answers_the_options_offered_and_only_once(
    fake_x: FakeX, webhook: Served, tiny_hub: TinyHub
) -> None:
    channel, client = webhook  # quick replies off: the options go as a numbered list
    question = OutboundMessage(
        channel="x", recipient_id=SARA, key="dm:1:0", text="ما نوع البلاغ؟", buttons=SERVICES
    )
    await channel.deliver(question)
    (sent,) = fake_x.posted()
    assert "2. إنارة الشوارع" in sent.body["text"]

    await post(client, dm_from_sara("٢", "1853000000000000320"))  # Arabic-Indic two
    await post(client, dm_from_sara("2", "1853000000000000321"))  # the options are used up
    first, second = await tiny_hub.stored()
    assert (first.text, first.payload) == ("٢", '/inform{"service":"streetlight"}')
    assert (second.text, second.payload) == ("2", None)


async def test_a_typed_title_answers_too(webhook: Served, tiny_hub: TinyHub) -> None:
    channel, client = webhook
    await choices.remember(channel.hub.redis, SARA, SERVICES)  # what deliver() does
    await post(client, dm_from_sara("  تسرب  مياه ", "1853000000000000322"))
    (message,) = await tiny_hub.stored()
    assert message.payload == '/inform{"service":"water_leak"}'


async def test_redis_down_answers_503_so_x_retries(
    fake_x: FakeX, x_session: aiohttp.ClientSession, tmp_path: Path, aiohttp_client: object
) -> None:
    server = RedisServer(tmp_path / "redis")
    server.start()
    redis = Redis.from_url(server.url)
    try:
        tiny_hub = TinyHub(x_session, redis)
        channel = make_channel(fake_x)
        app = web.Application()
        channel.setup(app, tiny_hub)
        client: TestClient = await aiohttp_client(app)  # type: ignore[operator, type-arg]
        assert (await post(client, payload("webhook_dm.json"))).status == 200
        server.stop()
        response = await post(client, dm_from_sara("hello", "1853000000000000330"))
        assert response.status == 503
    finally:
        await redis.aclose()
        server.stop()

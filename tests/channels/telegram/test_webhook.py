"""POST /webhooks/telegram on a running app: the secret header, parsing, token payloads
resolved before the message is queued in real Redis, and setWebhook at start-up."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from bot.model import Button, OutboundMessage
from channels.telegram.callbacks import KEY_PREFIX
from channels.telegram.channel import ALLOWED_UPDATES
from tests.channels.telegram.conftest import SARA, SECRET, Served, payload, serve
from tests.channels.telegram.fake_telegram import FakeTelegram

LONG = '/inform{"service":"building_violation","description":"عمارة بدون ترخيص"}'


async def post(
    served: Served, body: bytes, secret: str | None = SECRET
) -> tuple[int, dict[str, Any]]:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    async with served.session.post(served.url, data=body, headers=headers) as response:
        return response.status, await response.json()


async def test_a_text_is_queued(served: Served) -> None:
    status, body = await post(served, payload("text_ar.json"))
    assert (status, body) == (200, {"ok": True, "events": 1})
    (queued,) = served.hub.messages()
    assert queued.text == "في حفرة كبيرة في شارع الملك فهد"
    assert queued.conversation_id == "telegram:5180236917"


@pytest.mark.parametrize("secret", [None, "", "wrong", SECRET + "x", SECRET.lower()])
async def test_forged_or_missing_secret_is_403_and_nothing_queued(
    served: Served, secret: str | None
) -> None:
    status, _ = await post(served, payload("text_ar.json"), secret)
    assert status == 403
    assert served.hub.messages() == []


async def test_not_an_update_is_400(served: Served) -> None:
    status, body = await post(served, b'{"ok": true}')
    assert status == 400 and "update_id" in body["error"]
    assert served.hub.messages() == []


async def test_forged_garbage_is_403_not_400(served: Served) -> None:
    status, _ = await post(served, b"not json", secret="nope")
    assert status == 403


@pytest.mark.parametrize("name", ["group_message.json", "edited_message.json"])
async def test_skipped_updates_are_acknowledged(served: Served, name: str) -> None:
    status, body = await post(served, payload(name))
    assert (status, body) == (200, {"ok": True, "events": 0})
    assert served.hub.messages() == []


async def test_a_redelivered_update_is_queued_once(served: Served) -> None:
    for _ in range(3):
        status, _ = await post(served, payload("photo.json"))
        assert status == 200
    (queued,) = served.hub.messages()
    assert queued.attachments[0].media_id == "AgACAgQAAxkBAAIF6Wd0sm1AAQ-large"


async def test_tap_on_a_long_payload_button_round_trip(served: Served, fake: FakeTelegram) -> None:
    """deliver() keeps the long payload behind a token; the tap's webhook gets it back."""
    message = OutboundMessage(
        channel="telegram",
        recipient_id=str(SARA.id),
        key="in-1:0",
        text="ما نوع البلاغ؟",
        buttons=(Button("حفر", '/inform{"service":"pothole"}'), Button("مخالفات البناء", LONG)),
    )
    await served.channel.deliver(message)
    update = fake.tap(SARA, fake.sent[-1], "مخالفات البناء")
    assert len(update["callback_query"]["data"].encode()) <= 64
    status, _ = await fake.post_update(served.session, served.url, update, SECRET)
    assert status == 200
    (queued,) = served.hub.messages()
    assert queued.payload == LONG
    assert queued.text == "مخالفات البناء"
    assert queued.reply_context["callback_query_id"] == update["callback_query"]["id"]


async def test_tap_on_an_expired_token_falls_back_to_the_label(
    served: Served, redis: Redis
) -> None:
    status, _ = await post(served, payload("callback_query_token.json"))
    assert status == 200
    (queued,) = served.hub.messages()
    assert queued.payload is None
    assert queued.text == "مخالفات البناء"  # the NLU reads the citizen's choice


async def test_token_resolution_needs_redis_else_503(
    fake: FakeTelegram, session: aiohttp.ClientSession
) -> None:
    dead = Redis(host="127.0.0.1", port=1, retry=Retry(NoBackoff(), 0))
    served, runner = await serve(fake.env(SECRET), session, dead)
    try:
        status, _ = await post(served, payload("callback_query_token.json"))
        assert status == 503  # Telegram retries
    finally:
        await runner.cleanup()
        await dead.aclose()


async def test_stored_token_is_used(served: Served, redis: Redis) -> None:
    await redis.set(KEY_PREFIX + "~3qf0Z1nZ6v1u9mTnq8yQjA", LONG)
    await post(served, payload("callback_query_token.json"))
    (queued,) = served.hub.messages()
    assert queued.payload == LONG


async def test_set_webhook_at_start_up(
    fake: FakeTelegram, session: aiohttp.ClientSession, redis: Redis
) -> None:
    url = "https://940.example.gov/webhooks/telegram"
    fake.fail_next("setWebhook", 502, "Bad Gateway")  # Telegram unreachable at first
    _, runner = await serve(fake.env(SECRET, TAWASUL_TELEGRAM_WEBHOOK_URL=url), session, redis)
    try:
        for _ in range(100):
            if fake.webhook:
                break
            await asyncio.sleep(0.05)
        assert fake.webhook == {
            "url": url,
            "secret_token": SECRET,
            "allowed_updates": list(ALLOWED_UPDATES),
        }
        assert len(fake.calls_to("setWebhook")) == 1
    finally:
        await runner.cleanup()


async def test_no_webhook_url_no_set_webhook(served: Served, fake: FakeTelegram) -> None:
    await post(served, payload("text_en.json"))
    assert fake.calls_to("setWebhook") == []


async def test_set_webhook_refused_is_given_up(served: Served, fake: FakeTelegram) -> None:
    fake.fail_next("setWebhook", 400, "Bad Request: bad webhook: Failed to resolve host")
    assert await served.channel.register_webhook() is False
    assert fake.webhook == {}


def test_recorded_callback_matches_what_the_fake_sends() -> None:
    """The recorded tap and the fake's taps share the Bot API shape the parser reads."""
    recorded = json.loads(payload("callback_query.json"))["callback_query"]
    fake = FakeTelegram()
    message = {"message_id": 1, "chat": SARA.private_chat(), "date": 1, "text": "?"}
    message["reply_markup"] = {"inline_keyboard": [[{"text": "a", "callback_data": "/a"}]]}
    built = fake.tap(SARA, message, "a")["callback_query"]
    assert set(built) == set(recorded)

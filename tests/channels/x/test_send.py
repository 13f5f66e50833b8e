"""deliver() through tweepy's AsyncClient against the fake X API, which checks the OAuth
1.0a signature of every call, and X's failures mapped to the hub's error tree."""

from __future__ import annotations

import dataclasses
import json
import logging
import time

import pytest
from aiohttp import web
from redis.asyncio import Redis

from bot.errors import PermanentSendError, RetryAfter, TransientSendError
from bot.model import Button, OutboundMessage
from channels.x import XChannel
from channels.x.choices import KEY
from channels.x.texts import text as local_text
from tests.channels.x.conftest import make_channel
from tests.channels.x.fake_x import FakeX, problem
from tests.channels.x.support import SARA, USER_ID, TinyHub
from tests.services import free_port

TWEET = "1853000000000000101"
BUTTONS = (
    Button("حفر وتلف الطرق", '/inform{"service":"pothole"}'),
    Button("إنارة الشوارع", '/inform{"service":"streetlight"}'),
)


def reply_to_mention(text: str, language: str = "ar") -> OutboundMessage:
    return OutboundMessage(
        channel="x",
        recipient_id=SARA,
        key=f"tweet:{TWEET}:0",
        text=text,
        language=language,
        public=True,
        reply_context={"mode": "public", "in_reply_to_tweet_id": TWEET},
    )


def dm(text: str, **fields: object) -> OutboundMessage:
    return OutboundMessage(channel="x", recipient_id=SARA, key="dm:1:0", text=text, **fields)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def sara_mentioned_us(fake_x: FakeX) -> None:
    fake_x.add_post({"id": TWEET, "text": "@Amanat940 حفرة", "author_id": SARA})


async def test_a_public_reply_is_posted_in_the_thread(fake_x: FakeX, channel: XChannel) -> None:
    await channel.deliver(reply_to_mention("شكراً لتواصلك، راسلنا على الخاص."))
    (call,) = fake_x.posted()
    assert (call.path, call.status, call.auth) == ("/2/tweets", 201, "oauth1")
    assert call.body == {
        "text": "شكراً لتواصلك، راسلنا على الخاص.",
        "reply": {"in_reply_to_tweet_id": TWEET},
        "direct_message_deep_link": f"https://twitter.com/messages/compose?recipient_id={USER_ID}",
    }


async def test_a_public_reply_never_carries_personal_data(fake_x: FakeX, channel: XChannel) -> None:
    await channel.deliver(reply_to_mention("بلاغك رقم 483920 وجوالك 0551234567"))
    (call,) = fake_x.posted()
    assert call.body["text"] == local_text("public_safe", "ar")


async def test_a_dm_goes_to_the_v2_endpoint(fake_x: FakeX, channel: XChannel) -> None:
    await channel.deliver(dm("تم تسجيل بلاغك رقم 483920"))
    (call,) = fake_x.posted()
    assert call.path == f"/2/dm_conversations/with/{SARA}/messages" and call.status == 201
    assert call.body == {"text": "تم تسجيل بلاغك رقم 483920"}


async def test_buttons_go_as_quick_replies_and_are_remembered(
    fake_x: FakeX, channel: XChannel, redis: Redis
) -> None:
    await channel.deliver(dm("ما نوع البلاغ؟", buttons=BUTTONS))
    (call,) = fake_x.posted()
    assert call.path == "/1.1/direct_messages/events/new.json" and call.status == 200
    data = call.body["event"]["message_create"]["message_data"]
    assert [o["metadata"] for o in data["quick_reply"]["options"]] == [b.payload for b in BUTTONS]
    stored = await redis.get(KEY.format(SARA))
    assert stored is not None and json.loads(stored) == [[b.title, b.payload] for b in BUTTONS]


async def test_a_long_dm_is_sent_in_pieces(fake_x: FakeX, channel: XChannel) -> None:
    await channel.deliver(dm(" ".join(["كلمة"] * 3000)))
    assert [len(c.body["text"]) <= 10_000 for c in fake_x.posted()] == [True, True]


async def test_429_is_retry_after_until_the_reset(fake_x: FakeX, channel: XChannel) -> None:
    reset = fake_x.rate_limit("dm", reset_in=30)
    with pytest.raises(RetryAfter) as caught:
        await channel.deliver(dm("hello"))
    assert caught.value.seconds == pytest.approx(reset - time.time(), abs=2)
    assert 25 <= caught.value.seconds <= 33
    assert fake_x.posted() == []


@pytest.mark.parametrize(
    ("status", "body", "content_type"),
    [
        (503, problem(503, "Service Unavailable", "Service Unavailable"), "application/json"),
        (500, {"errors": [{"message": "Internal error", "code": 131}]}, "application/json"),
        (502, "<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html"),
    ],
)
async def test_server_errors_are_transient(
    fake_x: FakeX, channel: XChannel, status: int, body: object, content_type: str
) -> None:
    fake_x.fail("tweets", status, body, content_type=content_type)
    with pytest.raises(TransientSendError) as caught:
        await channel.deliver(reply_to_mention("شكراً"))
    assert not isinstance(caught.value, RetryAfter)
    assert str(status) in str(caught.value)


async def test_a_closed_dm_inbox_is_permanent(fake_x: FakeX, channel: XChannel) -> None:
    fake_x.dm_closed.add(SARA)
    with pytest.raises(PermanentSendError, match="not permitted to send messages"):
        await channel.deliver(dm("hello"))
    with pytest.raises(PermanentSendError, match="cannot send messages"):
        await channel.deliver(dm("hello", buttons=BUTTONS))


async def test_replying_where_we_were_not_summoned_is_permanent(
    fake_x: FakeX, channel: XChannel
) -> None:
    fake_x.add_post({"id": "1853000000000000999", "text": "unrelated"}, summoned=False)
    message = dataclasses.replace(
        reply_to_mention("شكراً"), reply_context={"in_reply_to_tweet_id": "1853000000000000999"}
    )
    with pytest.raises(PermanentSendError, match="not been mentioned"):
        await channel.deliver(message)


async def test_wrong_credentials_are_permanent(fake_x: FakeX, tiny_hub: TinyHub) -> None:
    wrong = make_channel(fake_x, access_token_secret="not-the-secret")
    wrong.setup(web.Application(), tiny_hub)
    with pytest.raises(PermanentSendError, match="401"):
        await wrong.deliver(dm("hello"))
    assert fake_x.calls[-1].status == 401


async def test_an_unreachable_api_is_transient(fake_x: FakeX, tiny_hub: TinyHub) -> None:
    closed = make_channel(fake_x, api_base_url=f"http://127.0.0.1:{free_port()}")
    closed.setup(web.Application(), tiny_hub)
    with pytest.raises(TransientSendError, match="unreachable"):
        await closed.deliver(dm("hello"))


def test_tweepy_never_logs_credentials(fake_x: FakeX, tiny_hub: TinyHub) -> None:
    """tweepy logs request headers (the bearer token) at DEBUG: even with the hub at DEBUG,
    its client logger stays at INFO."""
    root, tweepy_log = logging.getLogger(), logging.getLogger("tweepy.asynchronous.client")
    levels = root.level, tweepy_log.level
    root.setLevel(logging.DEBUG)
    tweepy_log.setLevel(logging.NOTSET)
    try:
        x = make_channel(fake_x)
        x.setup(web.Application(), tiny_hub)
        assert x.client is not None
        assert not tweepy_log.isEnabledFor(logging.DEBUG)
    finally:
        root.setLevel(levels[0])
        tweepy_log.setLevel(levels[1])

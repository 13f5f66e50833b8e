"""deliver(): replies reach the fake Bot API in Telegram's shape; provider errors map to the
hub's errors; a retried reply resumes; a callback query is answered exactly once."""

from __future__ import annotations

import asyncio
import logging
import uuid

import aiohttp
import pytest
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from bot.errors import PermanentSendError, RetryAfter, TransientSendError
from bot.model import Attachment, Button, OutboundMessage
from channels.telegram.callbacks import KEY_PREFIX, callback_data
from tests.channels.telegram.conftest import JOHN, SARA, SECRET, Served, serve
from tests.channels.telegram.fake_telegram import FakeTelegram

LONG = '/inform{"service":"building_violation","description":"بناء بدون ترخيص"}'


def reply(**fields: object) -> OutboundMessage:
    values: dict[str, object] = {
        "channel": "telegram",
        "recipient_id": str(SARA.id),
        "key": f"in-{uuid.uuid4().hex}:0",
    }
    values.update(fields)
    return OutboundMessage(**values)  # type: ignore[arg-type]


async def test_text_with_buttons(served: Served, fake: FakeTelegram, redis: Redis) -> None:
    buttons = (Button("حفر وتلف الطرق", '/inform{"service":"pothole"}'), Button("مخالفات", LONG))
    await served.channel.deliver(reply(text="ما نوع البلاغ؟", buttons=buttons))
    (call,) = fake.calls_to("sendMessage")
    assert call.params["chat_id"] == str(SARA.id)
    assert call.params["text"] == "ما نوع البلاغ؟"
    assert "parse_mode" not in call.params
    token = callback_data(LONG)
    assert call.params["reply_markup"] == {
        "inline_keyboard": [
            [{"text": "حفر وتلف الطرق", "callback_data": '/inform{"service":"pothole"}'}],
            [{"text": "مخالفات", "callback_data": token}],
        ]
    }
    # The long payload is kept, with a TTL, before the button can be tapped.
    assert await redis.get(KEY_PREFIX + token) == LONG.encode()
    ttl = await redis.ttl(KEY_PREFIX + token)
    assert 0 < ttl <= served.channel.config.callback_ttl


async def test_long_text_location_request_and_photo(served: Served, fake: FakeTelegram) -> None:
    text = ("A long answer line.\n" * 300).strip()
    image = "https://940.example.gov/media/map.png"
    message = reply(text=text, image_url=image, request_location=True, language="en")
    await served.channel.deliver(message)
    texts = fake.calls_to("sendMessage")
    assert [len(c.params["text"]) for c in texts] == [
        4080,
        len(text) - 4080,
    ]  # 204 whole lines of 20
    assert "".join(c.params["text"] for c in texts) == text
    (photo,) = fake.calls_to("sendPhoto")
    assert photo.params["photo"] == image
    assert photo.params["reply_markup"]["keyboard"] == [
        [{"text": "📍 Send my location", "request_location": True}]
    ]
    assert [c.method for c in fake.calls] == ["sendMessage", "sendMessage", "sendPhoto"]


async def test_chat_from_reply_context(served: Served, fake: FakeTelegram) -> None:
    message = reply(recipient_id="0", text="hi", reply_context={"chat_id": str(JOHN.id)})
    await served.channel.deliver(message)
    assert fake.calls_to("sendMessage")[0].params["chat_id"] == str(JOHN.id)


async def test_rate_limit_is_retry_after_with_telegrams_wait(
    served: Served, fake: FakeTelegram
) -> None:
    fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 17", retry_after=17)
    with pytest.raises(RetryAfter) as info:
        await served.channel.deliver(reply(text="x"))
    assert info.value.seconds == 17.0


@pytest.mark.parametrize(
    ("status", "description", "raw"),
    [
        (500, "Internal Server Error", None),
        (502, "Bad Gateway", "<html><body><h1>502 Bad Gateway</h1></body></html>"),
        (429, "Too Many Requests", None),  # no retry_after: still worth retrying
    ],
)
async def test_server_errors_are_transient(
    served: Served, fake: FakeTelegram, status: int, description: str, raw: str | None
) -> None:
    fake.fail_next("sendMessage", status, description, raw=raw)
    with pytest.raises(TransientSendError) as info:
        await served.channel.deliver(reply(text="x"))
    assert not isinstance(info.value, RetryAfter)


async def test_refusals_are_permanent(served: Served, fake: FakeTelegram) -> None:
    fake.blocked.add(SARA.id)
    with pytest.raises(PermanentSendError, match="blocked by the user"):
        await served.channel.deliver(reply(text="x"))
    with pytest.raises(PermanentSendError, match=r"(?i)chat not found"):
        await served.channel.deliver(reply(recipient_id="1", text="x"))
    fake.unreachable_urls.add("https://940.example.gov/gone.jpg")
    with pytest.raises(PermanentSendError, match=r"(?i)failed to get http url content"):
        await served.channel.deliver(
            reply(recipient_id=str(JOHN.id), image_url="https://940.example.gov/gone.jpg")
        )


async def test_a_wrong_token_is_permanent(
    fake: FakeTelegram, session: aiohttp.ClientSession, redis: Redis
) -> None:
    env = fake.env(SECRET)
    env["TAWASUL_TELEGRAM_BOT_TOKEN"] = "1:revoked"
    served, runner = await serve(env, session, redis)
    try:
        with pytest.raises(PermanentSendError):
            await served.channel.deliver(reply(text="x"))
    finally:
        await runner.cleanup()


async def test_timeout_and_connection_refused_are_transient(
    fake: FakeTelegram, session: aiohttp.ClientSession, redis: Redis
) -> None:
    served, runner = await serve(fake.env(SECRET, TAWASUL_TELEGRAM_TIMEOUT="0.3"), session, redis)
    try:
        fake.delay_next("sendMessage", 0.6)
        with pytest.raises(TransientSendError, match="timed out"):
            await served.channel.deliver(reply(text="x"))
        await fake.stop()
        with pytest.raises(TransientSendError) as info:
            await served.channel.deliver(reply(text="x"))
        assert fake.token not in str(info.value)
    finally:
        await runner.cleanup()


async def test_a_retried_reply_sends_only_what_is_missing(
    served: Served, fake: FakeTelegram
) -> None:
    message = reply(text="Photo of the site:", image_url="https://940.example.gov/m/1.jpg")
    fake.fail_next("sendPhoto", 502, "Bad Gateway")
    with pytest.raises(TransientSendError):
        await served.channel.deliver(message)
    await served.channel.deliver(message)
    await served.channel.deliver(message)  # a duplicate retry: nothing more
    assert [c.method for c in fake.calls] == ["sendMessage", "sendPhoto"]


async def test_callback_query_answered_exactly_once(served: Served, fake: FakeTelegram) -> None:
    keyboard = reply(text="?", buttons=(Button("نعم", "/affirm"),))
    await served.channel.deliver(keyboard)
    update = fake.tap(SARA, fake.sent[-1], "نعم")
    context = {
        "chat_id": str(SARA.id),
        "callback_query_id": update["callback_query"]["id"],
    }
    # Two replies to the tap, delivered concurrently, and a retry of the first.
    first = reply(text="تم", reply_context=context)
    second = reply(text="شكراً", reply_context=context)
    await asyncio.gather(served.channel.deliver(first), served.channel.deliver(second))
    await served.channel.deliver(first)
    assert len(fake.calls_to("answerCallbackQuery")) == 1
    assert fake.rejected == []
    assert fake.queries[context["callback_query_id"]] == 1
    assert [c.params["text"] for c in fake.calls_to("sendMessage")][1:] in (
        ["تم", "شكراً"],
        ["شكراً", "تم"],
    )


async def test_callback_answer_failure_does_not_fail_the_reply(
    served: Served, fake: FakeTelegram
) -> None:
    await served.channel.deliver(reply(text="?", buttons=(Button("نعم", "/affirm"),)))
    update = fake.tap(SARA, fake.sent[-1], "نعم")
    context = {"callback_query_id": update["callback_query"]["id"]}
    fake.fail_next("answerCallbackQuery", 502, "Bad Gateway")
    await served.channel.deliver(reply(text="one", reply_context=context))
    # Transient: the next reply to the same tap answers it.
    await served.channel.deliver(reply(text="two", reply_context=context))
    assert len(fake.calls_to("answerCallbackQuery")) == 1
    # An expired query (400) is given up at once.
    await served.channel.deliver(reply(text="three", reply_context={"callback_query_id": "9"}))
    await served.channel.deliver(reply(text="four", reply_context={"callback_query_id": "9"}))
    assert [e.description for m, e in fake.rejected if m == "answerCallbackQuery"] == [
        "Bad Request: query is too old and response timeout expired or query ID is invalid"
    ]
    assert len(fake.calls_to("sendMessage")) == 5


async def test_redis_down_is_transient(fake: FakeTelegram, session: aiohttp.ClientSession) -> None:
    dead = Redis(host="127.0.0.1", port=1, retry=Retry(NoBackoff(), 0))
    served, runner = await serve(fake.env(SECRET), session, dead)
    try:
        with pytest.raises(TransientSendError, match="redis"):
            await served.channel.deliver(reply(text="x"))
        assert fake.calls == []
    finally:
        await runner.cleanup()
        await dead.aclose()


async def test_the_token_never_reaches_the_logs(
    fake: FakeTelegram,
    session: aiohttp.ClientSession,
    redis: Redis,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="telegram")
    served, runner = await serve(fake.env(SECRET), session, redis)
    try:
        await served.channel.deliver(reply(text="x"))
        await served.channel.download(Attachment("image", media_id=fake.add_file(b"x", "a")), 9)
    finally:
        await runner.cleanup()
    assert "Set Bot API URL" in caplog.text and "sendMessage" in caplog.text
    assert fake.token not in caplog.text
    assert fake.token.split(":")[1] not in caplog.text

"""deliver(): a bot reply lands in the history once, in the shape the page renders."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import PermanentSendError, TransientSendError
from bot.model import Button, OutboundMessage
from channels.web.render import bot_entry
from tests.channels.web.support import WebHub, user_id
from tests.services import RedisServer


def reply(uid: str, key: str, **fields: object) -> OutboundMessage:
    return OutboundMessage(channel="web", recipient_id=uid, key=key, **fields)  # type: ignore[arg-type]


async def test_a_reply_with_buttons_image_and_location_request(web: WebHub) -> None:
    token = await web.new_conversation()
    uid = user_id(token)
    buttons = tuple(
        Button(title, f'/inform{{"service":"{code}"}}')
        for title, code in [("حفر وتلف الطرق", "pothole"), ("إنارة الشوارع", "streetlight")]
    )
    await web.channel.deliver(reply(uid, "k:0", text="اختر الخدمة", buttons=buttons))
    await web.channel.deliver(
        reply(uid, "k:1", text="Where is it?", request_location=True, language="en")
    )
    await web.channel.deliver(reply(uid, "k:2", image_url="http://127.0.0.1:9/media/x.jpg"))
    first, second, third = (await web.history(token))["messages"]
    assert first["role"] == "bot"
    assert first["text"] == "اختر الخدمة"
    assert first["language"] == "ar"
    assert first["buttons"] == [
        {"title": "حفر وتلف الطرق", "payload": '/inform{"service":"pothole"}'},
        {"title": "إنارة الشوارع", "payload": '/inform{"service":"streetlight"}'},
    ]
    assert "request_location" not in first
    assert second["request_location"] is True and second["language"] == "en"
    assert third["image_url"] == "http://127.0.0.1:9/media/x.jpg"
    assert third["text"] is None


async def test_a_retried_reply_is_shown_once(web: WebHub) -> None:
    token = await web.new_conversation()
    uid = user_id(token)
    message = reply(uid, f"{uid}:m1:0", text="تم استلام بلاغك")
    for _ in range(3):
        await web.channel.deliver(message)
    await web.channel.deliver(reply(uid, f"{uid}:m1:1", text="رقم البلاغ 123456789"))
    texts = [m["text"] for m in (await web.history(token))["messages"]]
    assert texts == ["تم استلام بلاغك", "رقم البلاغ 123456789"]


async def test_a_reply_to_an_unknown_conversation_is_permanent(web: WebHub) -> None:
    with pytest.raises(PermanentSendError):
        await web.channel.deliver(reply("0" * 32, "k:0", text="hello?"))


async def test_an_empty_reply_is_skipped(web: WebHub) -> None:
    token = await web.new_conversation()
    await web.channel.deliver(reply(user_id(token), "k:0"))
    assert (await web.history(token))["messages"] == []
    assert bot_entry(reply("u", "k")) is None


async def test_redis_down_is_transient(tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "redis")
    server.start()
    web = await WebHub(server.url).start()
    try:
        token = await web.new_conversation()
        server.stop()
        with pytest.raises(TransientSendError):
            await web.channel.deliver(reply(user_id(token), "k:0", text="hi"))
    finally:
        await web.stop()
        server.stop()


def test_deliver_before_setup_is_a_bug() -> None:
    from channels.web import from_env

    channel = from_env({})
    assert channel is not None
    with pytest.raises(RuntimeError, match="setup"):
        channel._require_store()

"""The fake Bot API is worth testing against: it speaks PTB's wire format (stock
``HTTPXRequest``, form fields with JSON strings), JSON bodies as the Bot API allows, and it
refuses what Telegram refuses with Telegram's answers."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram import error as tg

from tests.channels.telegram.conftest import SARA
from tests.channels.telegram.fake_telegram import FakeTelegram


async def test_stock_ptb_bot_works_against_the_fake(fake: FakeTelegram) -> None:
    async with Bot(fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url) as bot:
        assert bot.username == fake.bot_username  # initialize() called getMe
        markup = InlineKeyboardMarkup([[InlineKeyboardButton("نعم", callback_data="/affirm")]])
        sent = await bot.send_message(SARA.id, "مرحباً", reply_markup=markup)
        assert sent.text == "مرحباً" and sent.chat.id == SARA.id
        assert sent.reply_markup == markup
        file_id = fake.add_file(b"\xff\xd8jpeg", "photos/file_7.jpg")
        file = await bot.get_file(file_id)
        assert file.file_path == f"{fake.base_file_url}{fake.token}/photos/file_7.jpg"
        assert await file.download_as_bytearray() == bytearray(b"\xff\xd8jpeg")
    call = fake.calls_to("sendMessage")[0]
    assert call.content_type == "application/x-www-form-urlencoded"
    assert call.params["chat_id"] == str(SARA.id)
    assert call.params["reply_markup"] == markup.to_dict()


async def raw(
    session: aiohttp.ClientSession, fake: FakeTelegram, method: str, body: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    url = f"{fake.base_url}{fake.token}/{method}"
    async with session.post(url, json=body) as response:
        data: dict[str, Any] = await response.json()
        return response.status, data


async def test_json_bodies_are_accepted(fake: FakeTelegram, session: aiohttp.ClientSession) -> None:
    status, data = await raw(session, fake, "sendMessage", {"chat_id": SARA.id, "text": "hi"})
    assert status == 200 and data["ok"] is True
    assert data["result"]["text"] == "hi"
    assert fake.calls_to("sendMessage")[0].content_type == "application/json"


@pytest.mark.parametrize(
    ("body", "description"),
    [
        ({"chat_id": SARA.id, "text": ""}, "Bad Request: message text is empty"),
        ({"chat_id": SARA.id, "text": "x" * 4097}, "Bad Request: message is too long"),
        ({"chat_id": 42, "text": "x"}, "Bad Request: chat not found"),
        ({"text": "x"}, "Bad Request: chat_id is empty"),
        (
            {"chat_id": SARA.id, "text": "x", "reply_markup": {"inline_keyboard": [[{
                "text": "a", "callback_data": "x" * 65}]]}},
            "Bad Request: BUTTON_DATA_INVALID",
        ),
        (
            {"chat_id": SARA.id, "text": "x", "reply_markup": {"inline_keyboard": [[{
                "text": "a"}]]}},
            "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the "
            "inline keyboard",
        ),
        (
            {"chat_id": SARA.id, "text": "x", "reply_markup": {"inline_keyboard": [[
                {"text": str(i), "callback_data": str(i)} for i in range(9)]]}},
            "Bad Request: too many buttons in a row",
        ),
        (
            {"chat_id": SARA.id, "text": "x", "reply_markup": {"keyboard": [[{
                "text": "a", "request_location": "yes"}]]}},
            "Bad Request: can't parse keyboard button: Field \"request_location\" must be of "
            "type Boolean",
        ),
        (
            {"chat_id": SARA.id, "text": "x", "reply_markup": {"keyboard": []}},
            "Bad Request: keyboard must be non-empty",
        ),
    ],
)  # fmt: skip
async def test_refusals_look_like_telegram(
    fake: FakeTelegram, session: aiohttp.ClientSession, body: dict[str, Any], description: str
) -> None:
    status, data = await raw(session, fake, "sendMessage", body)
    assert status == 400
    assert data == {"ok": False, "error_code": 400, "description": description}
    assert fake.calls == []


async def test_wrong_token_and_unknown_method(
    fake: FakeTelegram, session: aiohttp.ClientSession
) -> None:
    async with session.post(f"{fake.base_url}1:wrong/getMe") as response:
        assert response.status == 401
        assert await response.json() == {
            "ok": False,
            "error_code": 401,
            "description": "Unauthorized",
        }
    async with session.post(f"{fake.base_url}{fake.token}/sendSticker") as response:
        assert response.status == 404
    async with session.get(f"{fake.base_file_url}1:wrong/photos/x.jpg") as response:
        assert response.status == 401


async def test_blocked_user_and_rate_limit(
    fake: FakeTelegram, session: aiohttp.ClientSession
) -> None:
    fake.blocked.add(SARA.id)
    status, data = await raw(session, fake, "sendMessage", {"chat_id": SARA.id, "text": "x"})
    assert (status, data["description"]) == (403, "Forbidden: bot was blocked by the user")
    fake.blocked.clear()
    fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 7", retry_after=7)
    status, data = await raw(session, fake, "sendMessage", {"chat_id": SARA.id, "text": "x"})
    assert status == 429
    assert data == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 7",
        "parameters": {"retry_after": 7},
    }


async def test_ptb_maps_the_fakes_errors_like_telegrams(fake: FakeTelegram) -> None:
    async with Bot(fake.token, base_url=fake.base_url) as bot:
        fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 3", retry_after=3)
        with pytest.raises(tg.RetryAfter):
            await bot.send_message(SARA.id, "x")
        fake.blocked.add(SARA.id)
        with pytest.raises(tg.Forbidden, match="blocked"):
            await bot.send_message(SARA.id, "x")
        with pytest.raises(tg.BadRequest, match=r"(?i)chat not found"):
            await bot.send_message(1, "x")


async def test_callback_queries_can_be_answered_once(
    fake: FakeTelegram, session: aiohttp.ClientSession
) -> None:
    _, data = await raw(
        session,
        fake,
        "sendMessage",
        {
            "chat_id": SARA.id,
            "text": "?",
            "reply_markup": json.dumps(
                {"inline_keyboard": [[{"text": "نعم", "callback_data": "/affirm"}]]}
            ),
        },
    )
    update = fake.tap(SARA, data["result"], "نعم")
    query_id = update["callback_query"]["id"]
    assert update["callback_query"]["data"] == "/affirm"
    first, _ = await raw(session, fake, "answerCallbackQuery", {"callback_query_id": query_id})
    again, body = await raw(session, fake, "answerCallbackQuery", {"callback_query_id": query_id})
    assert (first, again) == (200, 400)
    assert "query is too old" in body["description"]

"""End to end through the real hub (``python -m bot``), Rasa, the action server and the ticket
service, with the fake Bot API as Telegram: a citizen files a report in Arabic and in English,
sharing a map pin and a photo, confirming with an inline button; the filed ticket is checked
through the staff API. Every call the hub made must have passed the fake's Bot API checks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest

from tests.channels.e2e import (
    filed_number,
    fill_report,
    form,
    in_language,
    user_turns,
    wait_for_answer,
)
from tests.channels.telegram.conftest import SECRET
from tests.channels.telegram.fake_telegram import FakeTelegram, User
from tests.hubstack import HubFactory, HubProcess
from tests.spots import random_pin
from tests.stack import BotStack
from ticket_client import TawasulClient

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 64 + b"\xff\xd9"


@dataclass
class TelegramHub:
    fake: FakeTelegram
    process: HubProcess
    rasa_url: str

    @property
    def webhook(self) -> str:
        return f"{self.process.url}/webhooks/telegram"


@pytest.fixture(scope="module")
async def telegram_hub(hub_factory: HubFactory, bot_stack: BotStack) -> AsyncIterator[TelegramHub]:
    fake = await FakeTelegram().start()
    process = await hub_factory.start(env=fake.env(SECRET), name="telegram")
    try:
        yield TelegramHub(fake, process, bot_stack.rasa.url)
    finally:
        await process.stop()
        await fake.stop()


@dataclass
class Chat:
    """One citizen's private chat with the bot, as Telegram would carry it."""

    user: User
    tg: TelegramHub
    http: aiohttp.ClientSession
    transcript: list[str] = field(default_factory=list)

    @property
    def sender(self) -> str:
        return f"telegram:{self.user.id}"

    def received(self) -> list[dict[str, Any]]:
        return [m for m in self.tg.fake.sent if m["chat"]["id"] == self.user.id]

    async def form(self) -> tuple[str | None, str | None]:
        return await form(self.http, self.tg.rasa_url, self.sender)

    async def send(self, update: dict[str, Any], said: str) -> list[dict[str, Any]]:
        """Deliver the update to the hub's webhook; wait until Rasa finished the turn and the
        fake received every reply; return the messages the bot sent."""
        before = len(self.received())
        users_before = await user_turns(self.http, self.tg.rasa_url, self.sender)
        status, body = await self.tg.fake.post_update(self.http, self.tg.webhook, update, SECRET)
        assert (status, body) == (200, {"ok": True, "events": 1}), body
        new = await wait_for_answer(
            self.http,
            self.tg.rasa_url,
            self.sender,
            before=before,
            users_before=users_before,
            received=self.received,
            said=said,
            failure=self.failure,
        )
        self.transcript.append(f"citizen: {said}")
        for message in new:
            buttons = [
                f"[{b['text']}|{b['callback_data']}]"
                for row in message.get("reply_markup", {}).get("inline_keyboard", [])
                for b in row
            ]
            self.transcript.append(f"bot: {message.get('text', '<photo>')} {' '.join(buttons)}")
        return new

    async def say(self, text: str) -> list[dict[str, Any]]:
        return await self.send(self.tg.fake.text_update(self.user, text), text)

    async def pin(self, lat: float, long: float) -> list[dict[str, Any]]:
        update = self.tg.fake.location_update(self.user, lat, long)
        return await self.send(update, f"<pin {lat},{long}>")

    async def photo(self, data: bytes) -> list[dict[str, Any]]:
        return await self.send(self.tg.fake.photo_update(self.user, data), "<photo>")

    async def tap(self, payload: str) -> list[dict[str, Any]]:
        """Tap the newest inline button carrying ``payload``."""
        for message in reversed(self.received()):
            for row in message.get("reply_markup", {}).get("inline_keyboard", []):
                for button in row:
                    if button["callback_data"] == payload:
                        update = self.tg.fake.tap(self.user, message, button["text"])
                        return await self.send(update, f"<tap {button['text']}>")
        raise AssertionError(self.failure(f"no button {payload!r}"))

    def failure(self, what: str) -> str:
        return (
            f"{what}\n"
            + "\n".join(self.transcript)
            + "\n--- hub ---\n"
            + (self.tg.process.log_tail(30))
        )


def texts(messages: list[dict[str, Any]]) -> str:
    return "\n".join(m.get("text", "") for m in messages)


@dataclass(frozen=True)
class Phrases:
    language_code: str
    first_name: str
    report: str
    name: str
    phone: str
    expected_phone: str


ARABIC = Phrases(
    "ar",
    "نورة",
    "فيه حفرة كبيرة وعميقة في الشارع قدام بيتنا وخربت كفر سيارتي",
    "نورة القحطاني",
    "٠٥٥١٢٣٤٥٦٧",
    "+966551234567",
)
ENGLISH = Phrases(
    "en",
    "Sarah",
    "There is a big deep pothole in the road in front of our house, it damaged my tyre",
    "Sarah Ahmed",
    "0551234568",
    "+966551234568",
)


@pytest.mark.parametrize("p", [pytest.param(ARABIC, id="ar"), pytest.param(ENGLISH, id="en")])
async def test_report_with_pin_photo_and_button(
    p: Phrases,
    telegram_hub: TelegramHub,
    http: aiohttp.ClientSession,
    staff: TawasulClient,
) -> None:
    fake = telegram_hub.fake
    user = fake.add_user(User(7000000000 + len(fake.users), p.first_name, None, None,
                              p.language_code))  # fmt: skip
    chat = Chat(user, telegram_hub, http)
    pin = random_pin()

    greeting = await chat.say("/start")
    assert greeting and in_language(texts(greeting), p.language_code), chat.failure("greeting")
    assert any("reply_markup" in m for m in greeting), chat.failure("no menu buttons")

    await chat.say(p.report)
    answers = {
        "service": lambda: chat.tap('/inform{"service":"pothole"}'),
        "description": lambda: chat.say(p.report),
        "location_text": lambda: chat.pin(pin["lat"], pin["long"]),
        "photo_url": lambda: chat.photo(JPEG),
        "reporter_name": lambda: chat.say(p.name),
        "reporter_phone": lambda: chat.say(p.phone),
        "confirmed": lambda: chat.tap("/affirm"),
    }
    filed = await fill_report(chat, answers, chat.failure, required=["location_text", "photo_url"])
    number = filed_number(texts(filed), p.language_code, chat.failure)

    ticket = await staff.ticket(number)
    assert ticket.service_code == "pothole"
    assert " ".join((ticket.description or "").split()) == " ".join(p.report.split())
    assert ticket.lat == pytest.approx(pin["lat"], abs=1e-6)
    assert ticket.long == pytest.approx(pin["long"], abs=1e-6)
    assert ticket.channel == "telegram" and ticket.language == p.language_code
    assert ticket.reporter is not None
    assert ticket.reporter.channel == "telegram"
    assert ticket.reporter.channel_user_id == chat.sender  # Rasa sender = conversation id
    assert ticket.reporter.name == p.name
    assert ticket.reporter.phone == p.expected_phone
    # The photo: fetched from Telegram (getFile + file), stored and served by the hub.
    (photo_url,) = ticket.media_urls
    assert photo_url.startswith(f"{telegram_hub.process.url}/media/")
    async with http.get(photo_url) as response:
        assert response.status == 200 and await response.read() == JPEG
    assert any(path.endswith("file_1280.jpg") for path in fake.downloads)

    # Every tap was answered exactly once; Telegram refused nothing the hub sent.
    taps = [q for q, n in fake.queries.items() if n != 1]
    assert taps == [], chat.failure(f"callback queries not answered once: {taps}")
    assert fake.rejected == [], chat.failure(f"refused by the Bot API: {fake.rejected}")


async def test_forged_secret_at_the_hub(
    telegram_hub: TelegramHub, http: aiohttp.ClientSession
) -> None:
    user = telegram_hub.fake.add_user(User(7100000001, "Forged"))
    update = telegram_hub.fake.text_update(user, "hello")
    for secret in (None, "wrong"):
        status, _ = await telegram_hub.fake.post_update(http, telegram_hub.webhook, update, secret)
        assert status == 403
    await asyncio.sleep(2)
    assert [m for m in telegram_hub.fake.sent if m["chat"]["id"] == user.id] == []


async def test_an_update_delivered_three_times_is_answered_once(
    telegram_hub: TelegramHub, http: aiohttp.ClientSession
) -> None:
    user = telegram_hub.fake.add_user(User(7100000002, "Twice", language_code="en"))
    chat = Chat(user, telegram_hub, http)
    update = telegram_hub.fake.text_update(user, "hello")
    first = await chat.send(update, "hello")
    assert first, chat.failure("no answer")
    for _ in range(2):
        status, _ = await telegram_hub.fake.post_update(http, telegram_hub.webhook, update, SECRET)
        assert status == 200
    await asyncio.sleep(3)
    assert len(chat.received()) == len(first)

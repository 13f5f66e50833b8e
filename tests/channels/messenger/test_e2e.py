"""End to end through the real hub (``python -m bot``), Rasa, the action server and the ticket
service, with the fake Graph API as Messenger: a citizen files a report in Arabic and in English
— the service by quick reply, the place typed (Messenger has no location picker), a photo from
Meta's CDN, the phone typed — and the filed ticket is checked through the staff API. Every
request the hub made had to pass the fake's Send API checks (``messaging_type`` RESPONSE inside
the window, quick replies ≤ 13, titles ≤ 20)."""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
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
from tests.channels.fakes.graph import FakeGraph
from tests.channels.fakes.graph_hub import MetaHub, meta_hub
from tests.channels.messenger.conftest import APP_SECRET, env_for
from tests.hubstack import HubFactory
from tests.stack import BotStack
from ticket_client import TawasulClient

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 48


@pytest.fixture(scope="module")
async def fb_hub(hub_factory: HubFactory, bot_stack: BotStack) -> AsyncIterator[MetaHub]:
    async with meta_hub(hub_factory, bot_stack, "messenger", env_for, APP_SECRET, "fb") as hub:
        yield hub


def webhook_body(fake: FakeGraph, psid: str, event: dict[str, Any]) -> bytes:
    now = int(time.time() * 1000)
    messaging = {
        "sender": {"id": psid},
        "recipient": {"id": fake.page_id},
        "timestamp": now,
        **event,
    }
    body = {
        "object": "page",
        "entry": [{"id": fake.page_id, "time": now, "messaging": [messaging]}],
    }
    return json.dumps(body).encode()


def mid() -> str:
    return f"m_{uuid.uuid4().hex}"


@dataclass
class Chat:
    """One citizen's Messenger conversation with the municipality's Page."""

    psid: str
    hub: MetaHub
    http: aiohttp.ClientSession
    transcript: list[str] = field(default_factory=list)

    @property
    def sender(self) -> str:
        return f"messenger:{self.psid}"

    def calls(self) -> list[dict[str, Any]]:
        return [b for b in self.hub.fake.sent("messenger") if b["recipient"]["id"] == self.psid]

    def received(self) -> list[dict[str, Any]]:
        return [b["message"] for b in self.calls()]

    async def form(self) -> tuple[str | None, str | None]:
        return await form(self.http, self.hub.rasa_url, self.sender)

    async def post(self, body: bytes) -> tuple[int, Any]:
        return await self.hub.post(self.http, body)

    async def send(self, event: dict[str, Any], said: str) -> list[dict[str, Any]]:
        before = len(self.received())
        users_before = await user_turns(self.http, self.hub.rasa_url, self.sender)
        self.hub.fake.open_window(self.psid)
        status, answer = await self.post(webhook_body(self.hub.fake, self.psid, event))
        assert (status, answer) == (200, {"ok": True, "events": 1}), answer
        new = await wait_for_answer(
            self.http,
            self.hub.rasa_url,
            self.sender,
            before=before,
            users_before=users_before,
            received=self.received,
            said=said,
            failure=self.failure,
        )
        self.transcript.append(f"citizen: {said}")
        for message in new:
            replies_ = [q["payload"] for q in message.get("quick_replies", [])]
            self.transcript.append(f"bot: {message.get('text', '<attachment>')} {replies_}")
        return new

    async def say(self, text: str) -> list[dict[str, Any]]:
        return await self.send({"message": {"mid": mid(), "text": text}}, text)

    async def photo(self, data: bytes) -> list[dict[str, Any]]:
        url = self.hub.fake.add_cdn(data, "image/png")
        attachment = {"type": "image", "payload": {"url": url}}
        return await self.send({"message": {"mid": mid(), "attachments": [attachment]}}, "<photo>")

    async def tap(self, payload: str) -> list[dict[str, Any]]:
        """Tap the newest quick reply carrying ``payload``."""
        for message in reversed(self.received()):
            for reply in message.get("quick_replies", []):
                if reply["payload"] == payload:
                    event = {
                        "message": {
                            "mid": mid(),
                            "text": reply["title"],
                            "quick_reply": {"payload": payload},
                        }
                    }
                    return await self.send(event, f"<tap {reply['title']}>")
        raise AssertionError(self.failure(f"no quick reply {payload!r}"))

    def failure(self, what: str) -> str:
        return self.hub.failure(what, self.transcript)


def texts(messages: list[dict[str, Any]]) -> str:
    return "\n".join(m.get("text", "") for m in messages)


@dataclass(frozen=True)
class Phrases:
    language: str
    greeting: str
    report: str
    place: str
    reporter: str
    phone: str
    expected_phone: str


ARABIC = Phrases(
    "ar",
    "السلام عليكم",
    "في تسرب مياه كبير من ماسورة في الشارع والموية تجري من الصبح",
    "حي الفيصلية، شارع الأمير محمد بن فهد قرب مسجد الهدى",
    "أمل العتيبي",
    "٠٥٥٧٦٥٤٣٢١",
    "+966557654321",
)
ENGLISH = Phrases(
    "en",
    "Hello",
    "There is a big water leak from a broken pipe in our street since the morning",
    "Al Faisaliyah district, Prince Mohammed bin Fahd Street near Al Huda mosque",
    "Mark Taylor",
    "0557654322",
    "+966557654322",
)


@pytest.mark.parametrize("p", [pytest.param(ARABIC, id="ar"), pytest.param(ENGLISH, id="en")])
async def test_report_with_quick_replies_typed_place_and_photo(
    p: Phrases,
    fb_hub: MetaHub,
    http: aiohttp.ClientSession,
    staff: TawasulClient,
    psid: str,
) -> None:
    chat = Chat(psid, fb_hub, http)

    greeting = await chat.say(p.greeting)
    assert greeting and in_language(texts(greeting), p.language), chat.failure("greeting")
    assert any("quick_replies" in m for m in greeting), chat.failure("no menu quick replies")

    await chat.say(p.report)
    answers = {
        "service": lambda: chat.tap('/inform{"service":"water_leak"}'),
        "description": lambda: chat.say(p.report),
        "location_text": lambda: chat.say(p.place),
        "photo_url": lambda: chat.photo(PNG),
        "reporter_name": lambda: chat.say(p.reporter),
        "reporter_phone": lambda: chat.say(p.phone),
        "confirmed": lambda: chat.tap("/affirm"),
    }
    filed = await fill_report(chat, answers, chat.failure, required=["location_text", "photo_url"])
    number = filed_number(texts(filed), p.language, chat.failure)

    ticket = await staff.ticket(number)
    assert ticket.service_code == "water_leak"
    assert " ".join((ticket.description or "").split()) == " ".join(p.report.split())
    assert ticket.address == p.place
    assert ticket.channel == "messenger" and ticket.language == p.language
    assert ticket.reporter is not None
    assert ticket.reporter.channel == "messenger"
    assert re.fullmatch(rf"(messenger:)?{psid}", ticket.reporter.channel_user_id or "")
    assert ticket.reporter.name == p.reporter
    assert ticket.reporter.phone == p.expected_phone
    (photo_url,) = ticket.media_urls
    assert photo_url.startswith(f"{fb_hub.process.url}/media/")
    async with http.get(photo_url) as response:
        assert response.status == 200 and await response.read() == PNG
    # Replies to the citizen's messages went out as RESPONSE; Graph refused nothing.
    assert {c["messaging_type"] for c in chat.calls()} == {"RESPONSE"}
    refused = [c for c in fb_hub.fake.calls if c.method == "POST" and c.status != 200]
    assert refused == [], chat.failure(f"refused by the fake Graph API: {refused}")


async def test_echo_of_the_pages_own_message_gets_no_answer(
    fb_hub: MetaHub, http: aiohttp.ClientSession, psid: str
) -> None:
    chat = Chat(psid, fb_hub, http)
    now = int(time.time() * 1000)
    echo = {
        "sender": {"id": fb_hub.fake.page_id},
        "recipient": {"id": psid},
        "timestamp": now,
        "message": {"is_echo": True, "app_id": 1517776481860111, "mid": mid(), "text": "hi"},
    }
    body = json.dumps(
        {"object": "page", "entry": [{"id": fb_hub.fake.page_id, "time": now, "messaging": [echo]}]}
    ).encode()
    assert await chat.post(body) == (200, {"ok": True, "events": 0})
    fb_hub.fake.open_window(psid)
    await asyncio.sleep(2)
    assert chat.received() == []

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

from tests.bot.support import digits_in
from tests.channels.e2e import form, in_language, user_turns, wait_for_answer
from tests.channels.fakes.graph import FakeGraph
from tests.channels.fakes.graph_hub import signed
from tests.channels.messenger.conftest import APP_SECRET, env_for
from tests.hubstack import HubFactory, HubProcess
from tests.stack import BotStack
from ticket_client import TawasulClient

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 48


@dataclass
class MessengerHub:
    fake: FakeGraph
    process: HubProcess
    rasa_url: str

    @property
    def webhook(self) -> str:
        return f"{self.process.url}/webhooks/messenger"


@pytest.fixture(scope="module")
async def fb_hub(hub_factory: HubFactory, bot_stack: BotStack) -> AsyncIterator[MessengerHub]:
    fake = FakeGraph()
    await fake.start()
    process = await hub_factory.start(env=env_for(fake, TAWASUL_META_TIMEOUT="10"), name="fb")
    try:
        yield MessengerHub(fake, process, bot_stack.rasa.url)
    finally:
        await process.stop()
        await fake.stop()


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
    hub: MessengerHub
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
        async with self.http.post(
            self.hub.webhook, data=body, headers=signed(body, APP_SECRET)
        ) as r:
            return r.status, await r.json()

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
        now = time.monotonic()
        calls = [
            f"{c.method} {c.path} {c.status} {now - c.at:.1f} s ago {json.dumps(c.body)[:150]}"
            for c in self.hub.fake.calls[-8:]
        ]
        hub_log = self.hub.process.log_tail(40)
        lines = [what, *self.transcript, "--- fake Graph calls ---", *calls, "--- hub ---", hub_log]
        return "\n".join(lines)


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
    fb_hub: MessengerHub,
    http: aiohttp.ClientSession,
    staff: TawasulClient,
    psid: str,
) -> None:
    chat = Chat(psid, fb_hub, http)

    greeting = await chat.say(p.greeting)
    assert greeting and in_language(texts(greeting), p.language), chat.failure("greeting")
    assert any("quick_replies" in m for m in greeting), chat.failure("no menu quick replies")

    await chat.say(p.report)
    seen: list[str] = []
    filed: list[dict[str, Any]] = []
    for _ in range(12):
        loop, requested = await chat.form()
        if loop is None:
            break
        assert requested not in seen, chat.failure(f"asked {requested!r} twice")
        seen.append(requested or "")
        if requested == "service":
            await chat.tap('/inform{"service":"water_leak"}')
        elif requested == "description":
            await chat.say(p.report)
        elif requested == "location_text":
            await chat.say(p.place)
        elif requested == "photo_url":
            await chat.photo(PNG)
        elif requested == "reporter_name":
            await chat.say(p.reporter)
        elif requested == "reporter_phone":
            await chat.say(p.phone)
        elif requested == "confirmed":
            filed = await chat.tap("/affirm")
        else:
            raise AssertionError(chat.failure(f"unexpected question {requested!r}"))
    assert seen[-1] == "confirmed" and "location_text" in seen and "photo_url" in seen, (
        chat.failure(f"questions: {seen}")
    )
    summary = texts(filed)
    assert in_language(summary, p.language), chat.failure("filed reply language")
    numbers = set(digits_in(summary, 9))
    assert len(numbers) == 1, chat.failure("no ticket number")

    ticket = await staff.ticket(numbers.pop())
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
    fb_hub: MessengerHub, http: aiohttp.ClientSession, psid: str
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

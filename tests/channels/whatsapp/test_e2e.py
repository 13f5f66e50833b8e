"""End to end through the real hub (``python -m bot``), Rasa, the action server and the ticket
service, with the fake Graph API as WhatsApp: a citizen files a report in Arabic and in English
— the service from the list message, a shared map pin, a photo (downloaded in two steps), the
verified WhatsApp number confirmed with a reply button — and the filed ticket is checked through
the staff API. Every request the hub made had to pass the fake's Cloud API checks."""

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
    TURN_TIMEOUT,
    filed_number,
    fill_report,
    form,
    in_language,
    tracker,
    user_turns,
    wait_for_answer,
)
from tests.channels.fakes.graph import FakeGraph
from tests.channels.fakes.graph_hub import MetaHub, meta_hub
from tests.channels.whatsapp.conftest import APP_SECRET, env_for
from tests.hubstack import HubFactory
from tests.spots import random_pin
from tests.stack import BotStack
from ticket_client import TawasulClient

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 64 + b"\xff\xd9"


@pytest.fixture(scope="module")
async def wa_hub(hub_factory: HubFactory, bot_stack: BotStack) -> AsyncIterator[MetaHub]:
    async with meta_hub(hub_factory, bot_stack, "whatsapp", env_for, APP_SECRET, "wa") as hub:
        yield hub


def webhook_body(fake: FakeGraph, wa_id: str, name: str, message: dict[str, Any]) -> bytes:
    """One inbound message as Meta posts it (escaped unicode, string timestamp)."""
    value = {
        "messaging_product": "whatsapp",
        "metadata": {
            "display_phone_number": "966138940940",
            "phone_number_id": fake.phone_number_id,
        },
        "contacts": [{"profile": {"name": name}, "wa_id": wa_id, "user_id": f"SA.{wa_id}0"}],
        "messages": [
            {
                "from": wa_id,
                "from_user_id": f"SA.{wa_id}0",
                "id": f"wamid.{uuid.uuid4().hex.upper()}",
                "timestamp": str(int(time.time())),
                **message,
            }
        ],
    }
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": value}]}],
    }
    return json.dumps(body).encode()


@dataclass
class Chat:
    """One citizen's WhatsApp chat with the 940 number."""

    wa_id: str
    name: str
    hub: MetaHub
    http: aiohttp.ClientSession
    transcript: list[str] = field(default_factory=list)

    @property
    def sender(self) -> str:
        return f"whatsapp:{self.wa_id}"

    def received(self) -> list[dict[str, Any]]:
        return [b for b in self.hub.fake.sent("whatsapp") if b.get("to") == self.wa_id]

    async def form(self) -> tuple[str | None, str | None]:
        return await form(self.http, self.hub.rasa_url, self.sender)

    async def post(self, body: bytes) -> tuple[int, Any]:
        return await self.hub.post(self.http, body)

    async def send(self, message: dict[str, Any], said: str) -> list[dict[str, Any]]:
        """Post the message to the hub; wait until Rasa finished the turn and the fake got
        every reply; return the messages the bot sent."""
        before = len(self.received())
        users_before = await user_turns(self.http, self.hub.rasa_url, self.sender)
        self.hub.fake.open_window(self.wa_id)  # Meta opens the window on every user message
        status, answer = await self.post(
            webhook_body(self.hub.fake, self.wa_id, self.name, message)
        )
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
        self.transcript.extend(f"bot: {describe(m)}" for m in new)
        return new

    async def say(self, text: str) -> list[dict[str, Any]]:
        return await self.send({"type": "text", "text": {"body": text}}, text)

    async def pin(self, lat: float, long: float) -> list[dict[str, Any]]:
        location = {"latitude": lat, "longitude": long}
        return await self.send({"type": "location", "location": location}, f"<pin {lat},{long}>")

    async def photo(self, data: bytes) -> list[dict[str, Any]]:
        media_id = self.hub.fake.add_media(data, "image/jpeg")
        image = {"mime_type": "image/jpeg", "sha256": "", "id": media_id}
        return await self.send({"type": "image", "image": image}, "<photo>")

    async def tap(self, payload: str) -> list[dict[str, Any]]:
        """Tap the newest reply button or list row whose id is ``payload``."""
        for sent in reversed(self.received()):
            interactive = sent.get("interactive") or {}
            action = interactive.get("action") or {}
            if interactive.get("type") == "button":
                for button in action["buttons"]:
                    if button["reply"]["id"] == payload:
                        reply = {"type": "button_reply", "button_reply": button["reply"]}
                        return await self.send(
                            {"type": "interactive", "interactive": reply}, f"<tap {payload}>"
                        )
            if interactive.get("type") == "list":
                for section in action["sections"]:
                    for row in section["rows"]:
                        if row["id"] == payload:
                            chosen = {"id": row["id"], "title": row["title"]}
                            reply = {"type": "list_reply", "list_reply": chosen}
                            return await self.send(
                                {"type": "interactive", "interactive": reply}, f"<row {payload}>"
                            )
        raise AssertionError(self.failure(f"no button {payload!r}"))

    def failure(self, what: str) -> str:
        return self.hub.failure(what, self.transcript)


def describe(body: dict[str, Any]) -> str:
    kind = body.get("type")
    if kind == "text":
        return str(body["text"]["body"])
    if kind == "interactive":
        interactive = body["interactive"]
        ids: list[str] = []
        if interactive["type"] == "button":
            ids = [b["reply"]["id"] for b in interactive["action"]["buttons"]]
        elif interactive["type"] == "list":
            ids = [r["id"] for s in interactive["action"]["sections"] for r in s["rows"]]
        return f"{interactive['body']['text']} {ids}"
    return json.dumps(body, ensure_ascii=False)[:200]


def texts(messages: list[dict[str, Any]]) -> str:
    return "\n".join(describe(m) for m in messages)


@dataclass(frozen=True)
class Phrases:
    language: str
    name: str
    greeting: str
    report: str
    reporter: str


ARABIC = Phrases(
    "ar",
    "سارة",
    "السلام عليكم",
    "فيه حفرة كبيرة وعميقة في الشارع قدام بيتنا وخربت كفر سيارتي",
    "سارة الدوسري",
)
ENGLISH = Phrases(
    "en",
    "John",
    "Hello",
    "There is a big deep pothole in the road in front of our house, it damaged my tyre",
    "John Smith",
)


@pytest.mark.parametrize("p", [pytest.param(ARABIC, id="ar"), pytest.param(ENGLISH, id="en")])
async def test_report_with_list_pin_photo_and_verified_number(
    p: Phrases,
    wa_hub: MetaHub,
    http: aiohttp.ClientSession,
    staff: TawasulClient,
    wa_user: str,
) -> None:
    chat = Chat(wa_user, p.name, wa_hub, http)
    pin = random_pin()

    greeting = await chat.say(p.greeting)
    assert greeting and in_language(texts(greeting), p.language), chat.failure("greeting")
    assert any(m["type"] == "interactive" for m in greeting), chat.failure("no menu buttons")

    await chat.say(p.report)
    answers = {
        "service": lambda: chat.tap('/inform{"service":"pothole"}'),
        "description": lambda: chat.say(p.report),
        "location_text": lambda: chat.pin(pin["lat"], pin["long"]),
        "photo_url": lambda: chat.photo(JPEG),
        "reporter_name": lambda: chat.say(p.reporter),
        # The verified WhatsApp number is offered: confirm it with its reply button.
        "reporter_phone": lambda: chat.tap("/affirm"),
        "confirmed": lambda: chat.tap("/affirm"),
    }
    filed = await fill_report(chat, answers, chat.failure, required=["photo_url"])
    number = filed_number(texts(filed), p.language, chat.failure)

    ticket = await staff.ticket(number)
    assert ticket.service_code == "pothole"
    assert " ".join((ticket.description or "").split()) == " ".join(p.report.split())
    assert ticket.lat == pytest.approx(pin["lat"], abs=1e-6)
    assert ticket.long == pytest.approx(pin["long"], abs=1e-6)
    assert ticket.channel == "whatsapp" and ticket.language == p.language
    assert ticket.reporter is not None
    assert ticket.reporter.channel == "whatsapp"
    assert re.fullmatch(rf"(whatsapp:)?{wa_user}", ticket.reporter.channel_user_id or "")
    assert ticket.reporter.name == p.reporter
    assert ticket.reporter.phone == f"+{wa_user}"
    # The photo: two-step download from the fake Graph API, stored and served by the hub.
    (photo_url,) = ticket.media_urls
    assert photo_url.startswith(f"{wa_hub.process.url}/media/")
    async with http.get(photo_url) as response:
        assert response.status == 200 and await response.read() == JPEG
    # Graph refused nothing the hub sent.
    refused = [c for c in wa_hub.fake.calls if c.method == "POST" and c.status != 200]
    assert refused == [], chat.failure(f"refused by the fake Graph API: {refused}")


async def test_forged_signature_at_the_hub_gets_403_and_no_answer(
    wa_hub: MetaHub, http: aiohttp.ClientSession, wa_user: str
) -> None:
    chat = Chat(wa_user, "Forged", wa_hub, http)
    body = webhook_body(wa_hub.fake, wa_user, "Forged", {"type": "text", "text": {"body": "hi"}})
    for headers in ({}, {"X-Hub-Signature-256": "sha256=" + "ab" * 32}):
        async with http.post(wa_hub.webhook, data=body, headers=headers) as response:
            assert response.status == 403
    wa_hub.fake.open_window(wa_user)
    await asyncio.sleep(2)
    assert chat.received() == []


async def test_a_webhook_delivered_three_times_is_answered_once(
    wa_hub: MetaHub, http: aiohttp.ClientSession, wa_user: str
) -> None:
    chat = Chat(wa_user, "Twice", wa_hub, http)
    message = {"type": "text", "text": {"body": "Hello"}}
    body = webhook_body(wa_hub.fake, wa_user, "Twice", message)
    wa_hub.fake.open_window(wa_user)
    for _ in range(3):
        status, _ = await chat.post(body)
        assert status == 200
    deadline = time.monotonic() + TURN_TIMEOUT
    while not chat.received():
        assert time.monotonic() < deadline, chat.failure("no answer")
        await asyncio.sleep(0.2)
    await asyncio.sleep(3)
    first = chat.received()
    events = (await tracker(chat.http, chat.hub.rasa_url, chat.sender))["events"]
    assert sum(1 for e in events if e["event"] == "user") == 1
    assert len(first) == sum(1 for e in events if e["event"] == "bot")

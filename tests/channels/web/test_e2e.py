"""End to end over the web chat API, in Arabic and English: a hub process (web channel on, no
credentials) → real Rasa → actions → ticket service, replies read back from the history and
pushed over the WebSocket. A map pin and a photo; the filed ticket checked as staff see it."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from tests.bot.support import Domain, Turn, random_phone
from tests.channels.e2e import fill_report as answer_form
from tests.channels.web.citizen import WebCitizen
from tests.channels.web.support import png
from tests.hubstack import HubFactory, HubProcess
from tests.spots import random_pin
from tests.stack import BotStack, TicketService
from ticket_client import TawasulClient

REPORT = {
    "ar": {
        "report": "فيه حفرة كبيرة وعميقة في الشارع قدام بيتنا وخربت كفر سيارتي",
        "caption": "هذي صورة الحفرة",
        "name": "محمد العتيبي",
    },
    "en": {
        "report": "There is a big deep pothole in the road in front of our house, "
        "it damaged my tyre",
        "caption": "here is a photo of the pothole",
        "name": "Sarah Ahmed",
    },
}


@pytest.fixture
async def web_hub(hub_factory: HubFactory) -> AsyncIterator[HubProcess]:
    process = await hub_factory.start(name="web")
    yield process
    await process.stop()


def button(turn: Turn, fragment: str) -> dict[str, Any]:
    for candidate in turn.buttons:
        if fragment in str(candidate.get("payload")):
            return candidate
    raise AssertionError(f"no button with {fragment!r} in {turn}")


async def fill_report(
    who: WebCitizen,
    first: Turn,
    answers: dict[str, Any],
    picture: bytes,
    caption: str,
    confirm: Callable[[Turn], Awaitable[Turn]],
) -> Turn:
    """Answer the report form slot by slot; ``confirm`` answers its summary (the last turn
    before ``confirmed`` is asked); what it returned."""
    turns = [first]

    async def said(turn: Awaitable[Turn]) -> Turn:
        turns.append(await turn)
        return turns[-1]

    def choose_service() -> Awaitable[Turn]:
        chosen = button(turns[-1], '"pothole"')
        return said(who.say(chosen["title"], payload=chosen["payload"]))

    mapping: dict[str, Callable[[], Awaitable[Turn]]] = {
        slot: lambda text=text: said(who.say(text)) for slot, text in answers.items()
    }
    mapping |= {
        "service": choose_service,
        "location_text": lambda: said(who.say(location=answers["pin"])),
        "photo_url": lambda: said(who.photo(picture, caption)),
        "confirmed": lambda: confirm(turns[-1]),
    }
    return await answer_form(
        who,
        mapping,
        lambda what: f"{what}\n{who.transcript()}",
        required=["location_text"],
        form_name="report_form",
    )


@pytest.mark.parametrize("language", ["ar", "en"])
async def test_a_report_with_a_pin_and_a_photo_over_the_api(
    language: str, web_hub: HubProcess, http: aiohttp.ClientSession, bot_stack: BotStack,
    domain: Domain, staff: TawasulClient,
) -> None:  # fmt: skip
    p = REPORT[language]
    who = await WebCitizen(web_hub, http, bot_stack.rasa.url, domain).start(language)
    pushed: list[dict[str, Any]] = []
    ws = await http.ws_connect(f"{who.api}/ws")

    async def listen() -> None:
        async for frame in ws:
            if frame.type == aiohttp.WSMsgType.TEXT and frame.json()["type"] == "message":
                pushed.append(frame.json()["message"])

    listener = asyncio.create_task(listen())
    try:
        phone, pin, picture = random_phone(), random_pin(), png()
        first = await who.say(p["report"], language=language)
        assert first.in_language(language), who.transcript()
        answers = {
            "description": p["report"],
            "pin": pin,
            "reporter_name": p["name"],
            "reporter_phone": phone,
        }

        async def confirm(summary: Turn) -> Turn:
            assert domain.sent(summary, "utter_report_summary") == language, who.transcript()
            yes = button(summary, "/affirm")
            return await who.say(yes["title"], payload=yes["payload"])

        filed = await fill_report(who, first, answers, picture, p["caption"], confirm)
        numbers = set(filed.ticket_numbers())
        assert len(numbers) == 1, who.transcript()
        assert domain.sent(filed, "utter_report_filed") == language, who.transcript()
        number = numbers.pop()

        ticket = await staff.ticket(number)
        assert ticket.service_code == "pothole"
        assert ticket.channel == "web"
        assert ticket.language == language
        assert ticket.description == p["report"]
        assert ticket.lat == pytest.approx(pin["lat"], abs=1e-6)
        assert ticket.long == pytest.approx(pin["long"], abs=1e-6)
        photo = f"{web_hub.url}/media/{hashlib.sha256(picture).hexdigest()}.png"
        assert ticket.media_urls == (photo,)
        assert ticket.reporter is not None
        assert ticket.reporter.channel == "web"
        assert ticket.reporter.channel_user_id == who.conversation
        assert ticket.reporter.name == p["name"] and ticket.reporter.phone == phone
        async with http.get(photo) as response:  # the photo staff will open
            assert response.status == 200 and await response.read() == picture

        # Every bot reply was also pushed live, the ticket number included.
        deadline = asyncio.get_running_loop().time() + 10
        while not any(number in str(m.get("text")) for m in pushed):
            assert asyncio.get_running_loop().time() < deadline, pushed
            await asyncio.sleep(0.1)
        bot_texts = [m.get("text") for m in pushed if m["role"] == "bot"]
        assert bot_texts == [m.get("text") for t in who.turns for m in t.messages]
    finally:
        await ws.close()
        listener.cancel()


async def test_the_hub_address_opens_the_web_chat(
    web_hub: HubProcess, http: aiohttp.ClientSession
) -> None:
    async with http.get(f"{web_hub.url}/", allow_redirects=False) as response:
        assert response.status == 302 and response.headers["Location"] == "/chat"
    async with http.get(f"{web_hub.url}/") as response:
        assert response.status == 200
        assert 'dir="rtl"' in await response.text()


@pytest.mark.parametrize("language", ["ar", "en"])
async def test_the_ticket_service_down_the_report_is_saved_and_filed_once_when_back(
    language: str, web_hub: HubProcess, http: aiohttp.ClientSession, bot_stack: BotStack,
    domain: Domain, staff: TawasulClient, hub: TawasulClient, ticket_service: TicketService,
) -> None:  # fmt: skip
    """Through the hub: the citizen confirms while the ticket service is down and is told the
    report is kept; once it is back, their next message files it — once — with its number."""
    p = REPORT[language]
    who = await WebCitizen(web_hub, http, bot_stack.rasa.url, domain).start(language)
    first = await who.say(p["report"], language=language)
    answers = {
        "description": p["report"],
        "pin": random_pin(),
        "reporter_name": p["name"],
        "reporter_phone": random_phone(),
    }

    async def confirm(summary: Turn) -> Turn:
        ticket_service.stop()
        yes = button(summary, "/affirm")
        return await who.say(yes["title"], payload=yes["payload"])

    saved = await fill_report(who, first, answers, png(), p["caption"], confirm)
    assert domain.sent(saved, "utter_report_saved_pending") == language, who.transcript()
    assert saved.ticket_numbers() == [], who.transcript()

    ticket_service.start()
    later = await who.say("شكرا" if language == "ar" else "thanks")
    numbers = sorted(set(later.ticket_numbers()))  # the number is in the text twice
    assert len(numbers) == 1, who.transcript()
    filed = await hub.contact_tickets("web", who.conversation)
    assert [t.service_request_id for t in filed] == numbers, who.transcript()
    ticket = await staff.ticket(numbers[0])
    assert ticket.service_code == "pothole" and ticket.channel == "web"
    assert ticket.reporter is not None and ticket.reporter.name == p["name"]

"""The browser test of issue 4: headless Chromium holds a report conversation in ARABIC in the
web chat of a real hub process (→ real Rasa → actions → ticket service): the greeting's
buttons, a service button, typed answers, the browser's location, a photo from the file
picker, the summary's "yes" button, then the ticket number. Screenshot:
test-artifacts/webchat-ar.png."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.bot.support import Domain, Turn, digits_in, has_arabic, random_phone
from tests.channels.web.browser import Browser
from tests.channels.web.support import png, user_id
from tests.hubstack import HubFactory, HubProcess
from tests.spots import random_pin
from tests.stack import BotStack
from ticket_client import TawasulClient

DESCRIPTION = "فيه حفرة كبيرة وعميقة وسط الشارع قدام المسجد وخربت كفرات السيارات"
NAME = "محمد العتيبي"


@pytest.fixture
async def web_hub(hub_factory: HubFactory) -> AsyncIterator[HubProcess]:
    process = await hub_factory.start(name="web-browser")
    yield process
    await process.stop()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    opened = await Browser.open("ar")
    try:
        yield opened
    finally:
        await opened.close()


class Chat:
    """The page as the citizen uses it, and what the test checks behind it."""

    def __init__(
        self, browser: Browser, hub: HubProcess, http: aiohttp.ClientSession, rasa_url: str
    ) -> None:
        self.browser = browser
        self.hub = hub
        self.http = http
        self.rasa_url = rasa_url
        self.token = ""
        self.turns: list[Turn] = []

    @property
    def conversation(self) -> str:
        return f"web:{user_id(self.token)}"

    async def open(self) -> None:
        await self.browser.get(f"{self.hub.url}/chat")
        await self.browser.wait(
            lambda: self.browser.driver.execute_script(
                "return document.body.dataset.ready === 'true'"
            ),
            30,
            "the page to start",
        )
        self.token = await self.browser.script(
            "return localStorage.getItem('tawasul.webchat.token')"
        )

    async def bot_count(self) -> int:
        return len(await self.browser.call(self.browser.bubbles, "bot"))

    async def counts(self) -> tuple[int, int]:
        """How many bubbles the bot and the citizen have on the page."""
        return await self.bot_count(), len(await self.browser.call(self.browser.bubbles, "user"))

    async def settle(self, said: str, before: tuple[int, int]) -> Turn:
        """After the citizen acted: their new message on the page and confirmed (a shared
        location or a photo shows up only once the browser has it), the hub idle, every reply
        on the page; the bot's bubbles after the first ``before[0]`` as a turn."""
        seen, mine = before
        await self.browser.wait(
            lambda: (
                len(self.browser.bubbles("user")) > mine
                and not self.browser.driver.execute_script(
                    "return document.querySelectorAll('#log .msg.pending, #log .msg.failed').length"
                )
            ),
            30,
            f"{said!r} to be accepted",
        )
        await self.hub.wait_idle(self.conversation, within=120)
        async with self.http.get(
            f"{self.hub.url}/webchat/api/conversations/{self.token}/messages"
        ) as r:
            last = (await r.json())["last_seq"]

        def all_shown() -> list[dict[str, Any]] | None:
            bubbles = self.browser.bubbles()
            if max((int(b["seq"] or 0) for b in bubbles), default=0) < last:
                return None
            return bubbles

        await self.browser.wait(all_shown, 30, f"the replies to {said!r} on the page")
        new = (await self.browser.call(self.browser.bubbles, "bot"))[seen:]
        turn = Turn(
            said,
            [
                {
                    "text": b["text"],
                    "buttons": [{"title": c["title"], "payload": c["payload"]} for c in b["chips"]],
                }
                for b in new
            ],
        )
        self.turns.append(turn)
        return turn

    async def tap(self, payload_part: str) -> Turn:
        """Click the newest enabled chip whose payload contains ``payload_part``."""
        chips = await self.browser.find_all("#log .chip")

        def pick() -> Any:
            for chip in reversed(chips):
                payload = chip.get_attribute("data-payload") or ""
                if payload_part in payload and chip.is_enabled():
                    return chip
            return None

        chip = await self.browser.call(pick)
        assert chip is not None, f"no chip {payload_part!r}\n{self.transcript()}"
        title = await self.browser.call(lambda: chip.text)
        before = await self.counts()
        await self.browser.click(chip)
        return await self.settle(f"[{title}]", before)

    async def type(self, text: str) -> Turn:
        before = await self.counts()
        await self.browser.type("#text", text + "\n")
        return await self.settle(text, before)

    async def share_location(self, lat: float, long: float) -> Turn:
        await self.browser.share_position(self.hub.url, lat, long)
        [button] = await self.browser.find_all("#share-location")
        before = await self.counts()
        await self.browser.click(button)
        return await self.settle(f"[location {lat}, {long}]", before)

    async def upload(self, path: Path) -> Turn:
        before = await self.counts()
        await self.browser.type("#photo", str(path))
        return await self.settle(f"[photo {path.name}]", before)

    async def form(self) -> tuple[str | None, str | None]:
        url = f"{self.rasa_url}/conversations/{self.conversation}/tracker"
        async with self.http.get(url) as response:
            tracker: dict[str, Any] = await response.json()
        loop = (tracker.get("active_loop") or {}).get("name")
        return loop, (tracker.get("slots") or {}).get("requested_slot")

    def transcript(self) -> str:
        return f"--- {self.conversation} ---\n" + "\n".join(str(t) for t in self.turns)


async def test_an_arabic_report_in_the_browser(
    web_hub: HubProcess, browser: Browser, http: aiohttp.ClientSession, bot_stack: BotStack,
    domain: Domain, staff: TawasulClient, tmp_path: Path,
) -> None:  # fmt: skip
    chat = Chat(browser, web_hub, http, bot_stack.rasa.url)
    await chat.open()
    assert await browser.script("return document.documentElement.dir") == "rtl"
    assert await browser.script("return document.documentElement.lang") == "ar"

    # The page greets the bot; the menu comes back as chips.
    greeting = await chat.settle("[greeting]", (0, 0))
    assert domain.sent(greeting, "utter_greet") == "ar", chat.transcript()
    # "New report" → the services as buttons → potholes.
    asked = await chat.tap("/report_issue")
    assert any('"pothole"' in p for p in asked.payloads), chat.transcript()
    await chat.tap('"pothole"')

    phone, pin = random_phone(), random_pin()
    picture = tmp_path / "pothole.png"
    picture.write_bytes(png(64, 48, (120, 90, 60)))
    actions: dict[str, Callable[[], Any]] = {
        "description": lambda: chat.type(DESCRIPTION),
        "location_text": lambda: chat.share_location(pin["lat"], pin["long"]),
        "photo_url": lambda: chat.upload(picture),
        "reporter_name": lambda: chat.type(NAME),
        "reporter_phone": lambda: chat.type(phone),
    }
    previous = None
    for _ in range(10):
        loop, requested = await chat.form()
        assert loop == "report_form", chat.transcript()
        if requested == "confirmed":
            break
        assert requested in actions and requested != previous, chat.transcript()
        previous = requested
        await actions[requested]()
    else:
        raise AssertionError("the form never reached the summary\n" + chat.transcript())
    summary = chat.turns[-1]
    assert domain.sent(summary, "utter_report_summary") == "ar", chat.transcript()

    filed = await chat.tap("/affirm")
    assert domain.sent(filed, "utter_report_filed") == "ar", chat.transcript()
    [number] = set(filed.ticket_numbers())  # read off the page's bubbles
    # Everything the bot said was Arabic, each bubble laid out by its own direction.
    bubbles = browser.bubbles()
    assert all(b["dir"] == "auto" for b in bubbles)
    assert all(has_arabic(b["text"]) for b in browser.bubbles("bot")), chat.transcript()
    assert domain.sent(filed, "utter_ask_rating") == "ar", chat.transcript()
    assert await browser.script("return document.documentElement.dir") == "rtl"
    shot = await browser.full_page_screenshot("webchat-ar.png")
    assert shot.stat().st_size > 10_000

    ticket = await staff.ticket(number)
    assert ticket.service_code == "pothole"
    assert ticket.channel == "web" and ticket.language == "ar"
    assert ticket.description == DESCRIPTION
    assert ticket.lat == pytest.approx(pin["lat"], abs=1e-6)
    assert ticket.long == pytest.approx(pin["long"], abs=1e-6)
    photo = f"{web_hub.url}/media/{hashlib.sha256(picture.read_bytes()).hexdigest()}.png"
    assert ticket.media_urls == (photo,)
    assert ticket.reporter is not None
    assert ticket.reporter.channel_user_id == chat.conversation
    assert (ticket.reporter.name, ticket.reporter.phone) == (NAME, phone)
    assert digits_in(number, 9) == [number]
    assert browser.console_errors() == [], json.dumps(browser.console_errors(), ensure_ascii=False)

"""The chat page in headless Chromium against the harness hub; the test plays the bot (it
reads what the page queued for the hub and answers with ``channel.deliver``, as the hub's
sender does). The real bot drives the page in test_browser_e2e.py."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from bot.model import Button, OutboundMessage
from channels.web.texts import ui_strings
from tests.channels.web.browser import Browser
from tests.channels.web.support import WebHub, png, user_id, wait_inbound

AR = ui_strings("ar")
EN = ui_strings("en")
PIN = (26.43421, 50.10347)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    opened = await Browser.open("ar")
    try:
        yield opened
    finally:
        await opened.close()


async def page_ready(browser: Browser) -> None:
    await browser.wait(
        lambda: browser.driver.execute_script("return document.body.dataset.ready === 'true'"),
        20,
        "the page to start",
    )


async def bubbles_when(
    browser: Browser, ready: Callable[[list[dict[str, Any]]], bool], what: str
) -> list[dict[str, Any]]:
    def check() -> list[dict[str, Any]] | None:
        found = browser.bubbles()
        return found if ready(found) else None

    return await browser.wait(check, 10, what)


def bot_reply(uid: str, key: str, text: str, **fields: object) -> OutboundMessage:
    return OutboundMessage(channel="web", recipient_id=uid, key=key, text=text, **fields)  # type: ignore[arg-type]


async def test_arabic_page_buttons_location_photo_reload_and_language(
    web: WebHub, browser: Browser, tmp_path: Path
) -> None:
    await browser.get(f"{web.url}/chat")
    await page_ready(browser)
    root = await browser.script(
        "return [document.documentElement.dir, document.documentElement.lang, document.title]"
    )
    assert root == ["rtl", "ar", AR["title"]]

    # A new conversation: the page greets the bot in Arabic.
    token = await browser.script("return localStorage.getItem('tawasul.webchat.token')")
    uid = user_id(token)
    [greet] = await wait_inbound(web, uid, 1)
    assert (greet.payload, greet.text, greet.language_hint) == ("/greet", AR["hello"], "ar")

    # The bot's buttons are chips; a tap sends the payload and shows the title.
    await web.channel.deliver(
        bot_reply(
            uid,
            "r1",
            "أهلاً بك في تواصل 940\nكيف أخدمك؟",
            buttons=(Button("بلاغ جديد", "/report_issue"), Button("حالة بلاغي", "/check_status")),
        )
    )
    await browser.click(await browser.chip("بلاغ جديد"))
    queued = await wait_inbound(web, uid, 2)
    assert (queued[1].payload, queued[1].text) == ("/report_issue", "بلاغ جديد")
    shown = await bubbles_when(browser, lambda b: len(b) == 3 and bool(b[-1]["seq"]), "the tap")
    assert [b["role"] for b in shown] == ["user", "bot", "user"]
    assert shown[1]["text"].startswith("أهلاً بك في تواصل 940")
    assert all(b["dir"] == "auto" for b in shown)
    assert shown[2]["text"] == "بلاغ جديد"
    assert all(chip["disabled"] for chip in shown[1]["chips"])  # answered: no second tap

    # Typed text, sent with Enter; mixed Arabic and digits.
    await browser.type("#text", "فيه حفرة كبيرة عند بيت رقم 12\n")
    queued = await wait_inbound(web, uid, 3)
    assert queued[2].text == "فيه حفرة كبيرة عند بيت رقم 12"

    # The bot asks where: the location chip shares the browser's position.
    await web.channel.deliver(bot_reply(uid, "r2", "وين مكان المشكلة؟", request_location=True))
    await browser.share_position(web.url, *PIN)
    await browser.click(await browser.chip(AR["share_location"]))
    queued = await wait_inbound(web, uid, 4)
    assert queued[3].location is not None
    assert (queued[3].location.lat, queued[3].location.long) == pytest.approx(PIN)

    # A photo from the file picker.
    picture = png()
    path = tmp_path / "pothole.png"
    path.write_bytes(picture)
    await browser.type("#photo", str(path))
    queued = await wait_inbound(web, uid, 5)
    [attachment] = queued[4].attachments
    assert attachment.mime_type == "image/png"
    assert (await web.channel.download(attachment, 10**6)).data == picture

    # The reply that closes the exchange, pushed over the WebSocket.
    await web.channel.deliver(bot_reply(uid, "r3", "تم تسجيل بلاغك برقم ٤٨٢٠٣٩١٧٥"))
    before = await bubbles_when(
        browser, lambda b: len(b) == 8 and all(x["seq"] for x in b), "every message confirmed"
    )
    await browser.screenshot("webchat-page-ar.png")

    # Reload: the same conversation, replayed from the server, no second greeting.
    await browser.get(f"{web.url}/chat")
    await page_ready(browser)
    assert await browser.script("return localStorage.getItem('tawasul.webchat.token')") == token
    after = await bubbles_when(browser, lambda b: len(b) == 8, "the replay")
    assert [b["role"] for b in after] == [b["role"] for b in before]
    assert [b["seq"] for b in after] == [str(n) for n in range(1, 9)]
    assert after[7]["text"] == "تم تسجيل بلاغك برقم ٤٨٢٠٣٩١٧٥"
    assert AR["location_sent"] in after[5]["text"]
    assert after[6]["images"] and "/media/" in after[6]["images"][0]
    loaded = await browser.script(
        "const img = document.querySelector('#log .msg.user img');"
        "return img && img.complete && img.naturalWidth;"
    )
    assert loaded == 24  # the photo, read back through the API
    assert all(chip["disabled"] for b in after for chip in b["chips"])
    assert len(await web.inbound(uid)) == 5

    # Still live after the reload.
    await web.channel.deliver(bot_reply(uid, "r4", "هل تحتاج شيئاً آخر؟"))
    await browser.wait(lambda: len(browser.bubbles()) == 9, 10, "a live reply after reload")

    # English: the page turns left-to-right and asks the bot to switch too.
    await browser.click((await browser.find_all("#language"))[0])
    state = await browser.script(
        "return [document.documentElement.dir, document.documentElement.lang,"
        " document.getElementById('text').placeholder, document.getElementById('send').textContent]"
    )
    assert state == ["ltr", "en", EN["placeholder"], EN["send"]]
    queued = await wait_inbound(web, uid, 6)
    assert (queued[5].text, queued[5].language_hint) == (EN["switch_request"], "en")
    await browser.get(f"{web.url}/chat")  # the choice is remembered
    await page_ready(browser)
    assert await browser.script("return document.documentElement.dir") == "ltr"
    assert browser.console_errors() == []


async def test_a_refused_message_is_marked_and_explained(web: WebHub, browser: Browser) -> None:
    """Over the per-conversation limit: the bubble is marked failed and the status line says
    why, in Arabic."""
    await browser.get(f"{web.url}/chat")
    await page_ready(browser)
    token = await browser.script("return localStorage.getItem('tawasul.webchat.token')")
    await wait_inbound(web, user_id(token), 1)
    for i in range(40):  # past the default 30 a minute (the greeting was one)
        code, _ = await web.post(token, {"text": f"m{i}"})
        if code == 429:
            break
    await browser.type("#text", "رسالة أخرى\n")
    status = await browser.wait(
        lambda: browser.driver.execute_script(
            "const s = document.getElementById('status'); return !s.hidden && s.textContent;"
        ),
        10,
        "the status line",
    )
    assert status == AR["error_rate_limited"]
    failed = await browser.script("return document.querySelectorAll('#log .msg.failed').length")
    assert failed == 1

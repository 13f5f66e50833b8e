"""The page and its assets as the hub serves them (the browser tests drive it)."""

from __future__ import annotations

import re

import pytest

from channels.web.page import STATIC_DIR
from channels.web.texts import ui_strings
from tests.channels.web.support import WebHub


async def test_the_chat_page_is_arabic_and_right_to_left(web: WebHub) -> None:
    async with web.http.get("/chat") as r:
        assert r.status == 200
        assert r.content_type == "text/html"
        page = await r.text()
        csp = r.headers["Content-Security-Policy"]
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["Referrer-Policy"] == "no-referrer"
    assert '<html lang="ar" dir="rtl">' in page
    assert f"<title>{ui_strings('ar')['title']}</title>" in page
    assert ui_strings("ar")["placeholder"] in page
    assert "{{" not in page
    assert "script-src 'self'" in csp and "default-src 'self'" in csp
    assert f"ws://127.0.0.1:{web.port}" in csp


async def test_assets_and_words(web: WebHub) -> None:
    for name, content_type in (("chat.js", "text/javascript"), ("chat.css", "text/css")):
        async with web.http.get(f"/webchat/static/{name}") as r:
            assert r.status == 200
            assert r.content_type == content_type
    async with web.http.get("/webchat/i18n.json") as r:
        words = await r.json()
    assert words == {"ar": ui_strings("ar"), "en": ui_strings("en")}


@pytest.mark.parametrize(
    "name",
    ["index.html", "..%2Fchannel.py", "%2e%2e%2fapi.py", "CHAT.JS", "nope.js", "chat.js.map"],
)
async def test_only_plain_asset_names_are_served(web: WebHub, name: str) -> None:
    async with web.http.get(f"/webchat/static/{name}") as r:
        assert r.status == 404


def test_the_page_loads_nothing_from_another_host() -> None:
    for path in STATIC_DIR.iterdir():
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]", text, re.I), path.name
        assert "@import" not in text


def test_the_script_never_writes_html() -> None:
    """Bot and citizen text goes in with textContent: no markup injection."""
    script = (STATIC_DIR / "chat.js").read_text(encoding="utf-8")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in script


def test_every_word_the_page_uses_is_in_the_texts() -> None:
    keys = set(ui_strings("ar"))
    page = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
    script = (STATIC_DIR / "chat.js").read_text(encoding="utf-8")
    used = set(re.findall(r"\{\{(\w+)\}\}", page))
    used |= set(re.findall(r'data-i18n(?:-placeholder)?="(\w+)"', page))
    used |= set(re.findall(r'\b(?:t|showStatus)\("(\w+)"\)', script))
    used |= set(re.findall(r'"(error_\w+)"', script))
    assert used - keys == set()
    assert {"hello", "switch_request", "location_sent", "offline"} <= used

"""The chat page: ``GET /chat``, its assets under ``/webchat/static/`` and its words.

The page is plain HTML, CSS and JavaScript from ``static/`` (no build step, nothing loaded
from another host). ``index.html`` gets the Arabic strings filled in on the server (the page
reads before its script runs); the script takes both languages from ``/webchat/i18n.json``.
"""

from __future__ import annotations

import html
import json
import re
from functools import cache
from pathlib import Path

from aiohttp import web

from channels.web.texts import LANGUAGES, ui_strings

__all__ = ["STATIC_DIR", "asset", "chat_page", "i18n", "security_headers"]

STATIC_DIR = Path(__file__).with_name("static")
_ASSET = re.compile(r"[a-z0-9-]+\.(?:js|css|svg)")
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
_TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}


def security_headers(request: web.Request) -> dict[str, str]:
    """Only this origin's scripts, styles and sockets; images also from https and uploads."""
    host = request.host
    csp = (
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        f"connect-src 'self' ws://{host} wss://{host}; "
        "img-src 'self' data: blob: https:; object-src 'none'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    )
    return {
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Permissions-Policy": "geolocation=(self), camera=(self)",
    }


@cache
def _rendered_page() -> str:
    template = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
    strings = ui_strings("ar")
    return _PLACEHOLDER.sub(lambda m: html.escape(strings[m.group(1)]), template)


async def chat_page(request: web.Request) -> web.Response:
    """``GET /chat``: the page, in Arabic until the script applies a saved choice."""
    headers = {**security_headers(request), "Cache-Control": "no-cache"}
    return web.Response(text=_rendered_page(), content_type="text/html", headers=headers)


async def asset(request: web.Request) -> web.StreamResponse:
    """``GET /webchat/static/{name}``: a file of ``static/`` by plain name only."""
    name = request.match_info["name"]
    path = STATIC_DIR / name
    if not _ASSET.fullmatch(name) or not path.is_file():
        raise web.HTTPNotFound()
    headers = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
    return web.Response(body=path.read_bytes(), content_type=_TYPES[path.suffix], headers=headers)


@cache
def _i18n_body() -> str:
    return json.dumps({lang: ui_strings(lang) for lang in LANGUAGES}, ensure_ascii=False)


async def i18n(request: web.Request) -> web.Response:
    """``GET /webchat/i18n.json``: ``{"ar": {...}, "en": {...}}`` from texts.yml."""
    return web.Response(
        text=_i18n_body(), content_type="application/json", headers={"Cache-Control": "no-cache"}
    )

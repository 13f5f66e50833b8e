"""Typed application state."""

from __future__ import annotations

import aiohttp
from aiohttp import web

from ticket_service.context import Context

CONTEXT = web.AppKey("context", Context)
HTTP_SESSION = web.AppKey("http_session", aiohttp.ClientSession)

"""Typed application state."""

from __future__ import annotations

import aiohttp
from aiohttp import web

from ticket_service.context import Context
from ticket_service.messages import Messages

CONTEXT = web.AppKey("context", Context)
HTTP_SESSION = web.AppKey("http_session", aiohttp.ClientSession)
# settings/messages.yml, read once at start-up (ticket_service.messages)
MESSAGES = web.AppKey("messages", Messages)

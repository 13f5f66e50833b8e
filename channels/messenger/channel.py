"""The Messenger channel: webhook routes, replies with the right ``messaging_type``, media.

``messaging_type`` (protocols.md §2.3-2.4): inside the 24 h window a reply to a citizen's
message (its ``reply_context`` carries the inbound ``mid``) is ``RESPONSE`` and anything else
(a ticket update) ``UPDATE``. Outside the window the reply goes as ``MESSAGE_TAG`` with the
configured tag (``TAWASUL_MESSENGER_OUTSIDE_WINDOW_TAG``), or, with none configured (the
default: no automated tag fits a municipal update well), is refused with
``PermanentSendError("outside the 24 h window")``. The window is recorded at ingest
(``channels.meta.window``).
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from aiohttp import web

from bot.errors import MediaError, PermanentSendError, TransientSendError
from bot.model import Attachment, OutboundMessage
from channels.base import HubServices, Media
from channels.messenger.config import MessengerConfig
from channels.messenger.parse import CHANNEL, parse
from channels.messenger.render import Rendered, envelope, render
from channels.meta.channel import GraphChannel
from channels.meta.media import allowed_mime
from channels.meta.verify import verify_signature
from channels.meta.webhook import ingest, mount

__all__ = ["MessengerChannel"]

log = logging.getLogger("channels.messenger")


def _message_id(answer: dict[str, Any]) -> str:
    mid = answer.get("message_id")
    if isinstance(mid, str) and mid:
        return mid
    raise TransientSendError("Messenger accepted the message without a message id")


class MessengerChannel(GraphChannel):
    """One Facebook Page (implements :class:`channels.base.Channel`)."""

    name = CHANNEL

    def __init__(self, config: MessengerConfig) -> None:
        super().__init__(config.graph, config.page_access_token)
        self.config = config

    def setup(self, app: web.Application, hub: HubServices) -> None:
        """``GET``/``POST /webhooks/messenger``."""
        self._hub = hub
        mount(
            app,
            CHANNEL,
            verify_token=self.config.verify_token,
            verify=functools.partial(verify_signature, app_secret=self.config.app_secret),
            parse=functools.partial(parse, page_id=self.config.page_id),
            submit=ingest(hub, CHANNEL),
        )

    async def _messaging_type(self, message: OutboundMessage) -> tuple[str, str | None]:
        if await self._window_open(message.recipient_id):
            return ("RESPONSE" if message.reply_context.get("mid") else "UPDATE"), None
        if self.config.outside_window_tag:
            return "MESSAGE_TAG", self.config.outside_window_tag
        raise PermanentSendError("outside the 24 h window and no message tag configured")

    async def deliver(self, message: OutboundMessage) -> None:
        """Send ``message``; each of its parts at most once across retries."""
        messaging_type, tag = await self._messaging_type(message)
        rendered: Rendered = render(message)
        if not rendered.parts:
            log.warning("messenger: nothing to send for reply %s", message.key)
            return
        bodies = [envelope(p, message.recipient_id, messaging_type, tag) for p in rendered.parts]
        await self._send(message, "me/messages", message.key, bodies, _message_id)
        await self._remember_menu(message, rendered.menu)

    async def download(self, attachment: Attachment, max_bytes: int) -> Media:
        """The attachment's bytes from Meta's CDN (its URL is signed: no token is sent)."""
        if not attachment.source_url:
            raise MediaError("messenger attachment without a URL")
        data, served = await self._client().fetch(
            attachment.source_url, max_bytes, authorized=False
        )
        mime = served if served != "application/octet-stream" else attachment.mime_type or served
        if not allowed_mime(mime):
            raise MediaError(f"media type {mime} is not accepted")
        return Media(data=data, mime_type=mime, filename=attachment.filename)

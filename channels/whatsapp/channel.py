"""The WhatsApp Cloud API channel: webhook routes, replies within the 24 h window, media.

The 24 h customer-service window is recorded by the webhook route once an inbound message is
durable (``channels.meta.window``) and checked here before each reply: inside it the reply
goes out as rendered; outside it only a configured template may be sent
(``OutboundMessage.template``, see ``templates``), and a free-form reply is refused with
``PermanentSendError("outside the 24 h window")`` (the hub dead-letters it) instead of being
sent into Meta's error 131047.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from aiohttp import web

from bot.errors import MediaError, PermanentSendError, TransientSendError
from bot.model import Attachment, InboundEvent, OutboundMessage
from channels.base import HubServices, Media
from channels.meta.channel import GraphChannel
from channels.meta.media import allowed_mime, sha256_matches
from channels.meta.verify import verify_signature
from channels.meta.webhook import ingest, mount
from channels.whatsapp.config import WhatsAppConfig
from channels.whatsapp.identity import Identities
from channels.whatsapp.parse import CHANNEL, parse
from channels.whatsapp.render import Rendered, envelope, render, render_template

__all__ = ["WhatsAppChannel"]

log = logging.getLogger("channels.whatsapp")


def _message_id(answer: dict[str, Any]) -> str:
    messages = answer.get("messages")
    if isinstance(messages, list) and messages and isinstance(messages[0], dict):
        wamid = messages[0].get("id")
        if isinstance(wamid, str):
            return wamid
    raise TransientSendError("WhatsApp accepted the message without a message id")


class WhatsAppChannel(GraphChannel):
    """One WhatsApp business number (implements :class:`channels.base.Channel`)."""

    name = CHANNEL

    def __init__(self, config: WhatsAppConfig) -> None:
        super().__init__(config.graph, config.access_token)
        self.config = config

    def setup(self, app: web.Application, hub: HubServices) -> None:
        """``GET``/``POST /webhooks/whatsapp``."""
        self._hub = hub

        async def identities(events: list[InboundEvent]) -> list[InboundEvent]:
            return await Identities(hub.redis).link_and_resolve(events)

        mount(
            app,
            CHANNEL,
            verify_token=self.config.verify_token,
            verify=functools.partial(verify_signature, app_secret=self.config.app_secret),
            parse=functools.partial(parse, phone_number_id=self.config.phone_number_id),
            submit=ingest(hub, CHANNEL, identities),
        )

    async def _plan(self, message: OutboundMessage) -> tuple[str, Rendered]:
        """("free" or "template", what to send) for the recipient's window state."""
        free_form = bool(
            message.text.strip() or message.buttons or message.image_url or message.request_location
        )
        window_open = await self._window_open(message.recipient_id)
        if window_open and free_form:
            return "free", render(message)
        if message.template:
            template = self.config.templates.get(message.template)
            if template is None:
                raise PermanentSendError(f"template {message.template!r} is not configured")
            return "template", Rendered((render_template(message, template),))
        if not window_open:
            raise PermanentSendError("outside the 24 h window and no template configured")
        return "free", Rendered(())

    async def deliver(self, message: OutboundMessage) -> None:
        """Send ``message``; each of its parts at most once across retries."""
        mode, rendered = await self._plan(message)
        if not rendered.parts:
            log.warning("whatsapp: nothing to send for reply %s", message.key)
            return
        bodies = [envelope(part, message.recipient_id) for part in rendered.parts]
        path = f"{self.config.phone_number_id}/messages"
        await self._send(message, path, f"{message.key}:{mode}", bodies, _message_id)
        await self._remember_menu(message, rendered.menu)

    async def download(self, attachment: Attachment, max_bytes: int) -> Media:
        """Two steps (protocols.md §1.7): the media's metadata and short-lived URL, then its
        bytes, both with the access token. Size, type and SHA-256 are checked."""
        if not attachment.media_id:
            raise MediaError("whatsapp attachment without a media id")
        client = self._client()
        info = await client.get_json(
            attachment.media_id, params={"phone_number_id": self.config.phone_number_id}
        )
        url = info.get("url")
        if not isinstance(url, str):
            raise MediaError("whatsapp media metadata without a url")
        size = info.get("file_size")
        if isinstance(size, int) and size > max_bytes:
            raise MediaError(f"media is {size} bytes, over {max_bytes}")
        declared_raw = info.get("mime_type")
        declared = declared_raw if isinstance(declared_raw, str) else None
        if declared is not None and not allowed_mime(declared):
            raise MediaError(f"media type {declared} is not accepted")
        data, served = await client.fetch(url, max_bytes, authorized=True)
        mime = declared or served
        if not allowed_mime(mime):
            raise MediaError(f"media type {mime} is not accepted")
        digest = info.get("sha256")
        if isinstance(digest, str) and digest and not sha256_matches(data, digest):
            raise MediaError("media SHA-256 does not match its metadata")
        base_mime = mime.split(";", 1)[0].strip()
        return Media(data=data, mime_type=base_mime, filename=attachment.filename)

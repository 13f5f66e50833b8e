"""The web chat channel: the hub serves the page and the API itself; replies go to Redis."""

from __future__ import annotations

from aiohttp import web
from redis.exceptions import RedisError

from bot.errors import MediaError, PermanentSendError, TransientSendError
from bot.model import Attachment, OutboundMessage
from channels.base import HubServices, Media
from channels.web import page
from channels.web.api import WebApi
from channels.web.config import WebConfig
from channels.web.inbound import CHANNEL
from channels.web.push import Relay
from channels.web.ratelimit import RateLimiter
from channels.web.render import bot_entry
from channels.web.store import ChatStore, ConversationGone

__all__ = ["WebChannel"]


class WebChannel:
    """``GET /chat`` and ``/webchat/...`` (the API, the page's assets). A reply is appended
    to the conversation's history and pushed to its WebSockets in any hub process."""

    name = CHANNEL

    def __init__(self, config: WebConfig) -> None:
        self.config = config
        self._store: ChatStore | None = None

    def setup(self, app: web.Application, hub: HubServices) -> None:
        store = ChatStore(hub.redis, self.config)
        relay = Relay(hub.redis)
        api = WebApi(self.config, store, RateLimiter(hub.redis), hub, relay)
        sub = web.Application(middlewares=[api.middleware])
        sub.add_routes(api.routes())
        sub.add_routes(
            [
                web.get("/static/{name}", page.asset),
                web.get("/i18n.json", page.i18n),
            ]
        )
        app.router.add_get("/chat", page.chat_page)
        app.add_subapp("/webchat", sub)
        app.cleanup_ctx.append(relay.context)
        app.on_shutdown.append(relay.close_sockets)
        self._store = store

    async def deliver(self, message: OutboundMessage) -> None:
        """Append the reply to the history once per ``message.key`` and notify the sockets.
        An expired or unknown conversation is a :class:`PermanentSendError` (no one can read
        it any more); Redis trouble is a :class:`TransientSendError`."""
        entry = bot_entry(message)
        if entry is None:
            return
        try:
            await self._require_store().append(message.recipient_id, entry, f"r:{message.key}")
        except ConversationGone:
            raise PermanentSendError("web chat conversation expired or unknown") from None
        except RedisError as exc:
            raise TransientSendError(f"web chat history unavailable: {exc}") from exc

    async def download(self, attachment: Attachment, max_bytes: int) -> Media:
        """An uploaded photo, read back from Redis (``attachment.media_id``)."""
        if not attachment.media_id:
            raise MediaError("web chat attachment without a media id")
        try:
            found = await self._require_store().get_upload(attachment.media_id)
        except RedisError as exc:
            raise MediaError(f"web chat upload unavailable: {exc}") from exc
        if found is None:
            raise MediaError("web chat upload expired or unknown")
        data, mime_type = found
        if len(data) > max_bytes:
            raise MediaError(f"web chat upload is {len(data)} bytes, over {max_bytes}")
        return Media(data=data, mime_type=mime_type, filename=attachment.filename)

    def _require_store(self) -> ChatStore:
        if self._store is None:
            raise RuntimeError("WebChannel.setup() was not called")
        return self._store

"""The X channel: webhook routes, mention polling, delivery and media download."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterator, Sequence

from aiohttp import web
from tweepy.asynchronous import AsyncClient  # type: ignore[import-untyped]

from bot.errors import ConfigError
from bot.model import Attachment, InboundEvent, OutboundMessage
from bot.tasks import cancel_and_wait
from channels.base import HubServices, Media, handle_webhook
from channels.x import choices, media
from channels.x.api import make_client
from channels.x.config import XConfig
from channels.x.parse import parse_webhook
from channels.x.poll import MentionPoller
from channels.x.render import PublicReply, RenderOptions, render
from channels.x.send import send
from channels.x.verify import crc_response_token, verify_signature

log = logging.getLogger("channels.x")

WEBHOOK_PATH = "/webhooks/x"


class XChannel:
    """X (Twitter): mentions and DMs in (Account Activity webhook, mention polling),
    public replies and DMs out through tweepy's AsyncClient (channels/x/README.md)."""

    name = "x"

    def __init__(self, config: XConfig) -> None:
        self.config = config
        self._hub: HubServices | None = None
        self._client: AsyncClient | None = None
        self._render_options = RenderOptions(
            user_id=config.user_id,
            quick_replies=config.quick_replies,
            dm_deep_link=config.dm_deep_link,
        )
        self._parse = functools.partial(parse_webhook, user_id=config.user_id)
        self._verify = functools.partial(verify_signature, config.consumer_secret)

    @property
    def hub(self) -> HubServices:
        if self._hub is None:
            raise ConfigError("the X channel is used before setup()")
        return self._hub

    @property
    def client(self) -> AsyncClient:
        if self._client is None:
            self._client = make_client(self.config, lambda: self.hub.session)
        return self._client

    def setup(self, app: web.Application, hub: HubServices) -> None:
        """Routes ``GET /webhooks/x`` (CRC) and ``POST /webhooks/x`` (events); the mention
        poller as a background task when ``TAWASUL_X_POLL_INTERVAL`` > 0."""
        self._hub = hub
        app.router.add_get(WEBHOOK_PATH, self._crc)
        app.router.add_post(WEBHOOK_PATH, self._webhook)
        if self.config.poll_interval > 0:
            app.cleanup_ctx.append(self._polling)

    def poller(self) -> MentionPoller:
        return MentionPoller(
            self.client,
            lambda: self.hub.redis,
            self.hub.submit,
            user_id=self.config.user_id,
            interval=self.config.poll_interval,
            app_auth=self.config.bearer_token is not None,
        )

    async def _polling(self, app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(self.poller().run(), name="x-mention-poller")
        yield
        await cancel_and_wait(task)

    async def _crc(self, request: web.Request) -> web.Response:
        token = request.query.get("crc_token")
        if not token:
            return web.json_response({"error": "crc_token is required"}, status=400)
        return web.json_response(
            {"response_token": crc_response_token(self.config.consumer_secret, token)}
        )

    async def _webhook(self, request: web.Request) -> web.Response:
        return await handle_webhook(request, self._verify, self._parse, self._submit)

    async def _submit(self, events: Sequence[InboundEvent]) -> None:
        resolved = await choices.resolve(self.hub.redis, events)
        await self.hub.submit(resolved)
        await choices.forget(self.hub.redis, resolved)

    async def deliver(self, message: OutboundMessage) -> None:
        """Render and send one reply (a public reply post, or DMs)."""
        requests = render(message, self._render_options)
        if message.buttons and any(not isinstance(r, PublicReply) for r in requests):
            await choices.remember(self.hub.redis, message.recipient_id, message.buttons)
        for request in requests:
            await send(self.client, request)

    async def download(self, attachment: Attachment, max_bytes: int) -> Media:
        """Fetch a photo or video of a mention or DM (signed, from X's media hosts only)."""
        return await media.download(self.hub.session, self.config, attachment, max_bytes)

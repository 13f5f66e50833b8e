"""The Telegram channel: webhook route, replies, downloads, webhook registration."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping, Sequence

from aiohttp import web
from redis.exceptions import RedisError
from telegram import Bot
from telegram.error import TelegramError

from bot.errors import RetryAfter, TransientSendError
from bot.model import Attachment, InboundEvent, OutboundMessage
from bot.tasks import cancel_and_wait
from channels.base import HubServices, Media, handle_webhook

from . import callbacks, media
from .config import TelegramConfig
from .parse import CHANNEL, parse
from .progress import Progress
from .redact import redact_token_in_logs
from .render import render
from .request import AiohttpRequest
from .send import send_error, send_part
from .texts import Texts
from .verify import verify

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/webhooks/telegram"
#: The update types the adapter reads (setWebhook ``allowed_updates``).
ALLOWED_UPDATES = ("message", "callback_query")
ANSWERED_PREFIX = "tawasul:telegram:answered:"
ANSWERED_TTL = 24 * 3600
REGISTER_BACKOFF = (1.0, 2.0, 5.0, 15.0, 60.0)


class TelegramChannel:
    """Implements :class:`channels.base.Channel` for a Telegram bot."""

    name = CHANNEL

    def __init__(self, config: TelegramConfig, texts: Texts) -> None:
        self.config = config
        self._texts = texts
        self._hub: HubServices | None = None
        self._bot: Bot | None = None

    def setup(self, app: web.Application, hub: HubServices) -> None:
        """``POST /webhooks/telegram``; with a webhook URL configured, a start-up task that
        registers it (``setWebhook`` with the secret token), retrying while Telegram is
        unreachable."""
        self._hub = hub
        redact_token_in_logs(self.config.token)
        request = AiohttpRequest(lambda: hub.session, self.config.timeout, self.config.token)
        self._bot = Bot(
            self.config.token,
            base_url=self.config.base_url,
            base_file_url=self.config.base_file_url,
            request=request,
            get_updates_request=request,
        )
        app.router.add_post(WEBHOOK_PATH, self._webhook)
        if self.config.webhook_url:
            app.cleanup_ctx.append(self._registration)

    @property
    def bot(self) -> Bot:
        """The PTB bot (after :meth:`setup`)."""
        if self._bot is None:
            raise RuntimeError("TelegramChannel.setup() was not called")
        return self._bot

    @property
    def hub(self) -> HubServices:
        if self._hub is None:
            raise RuntimeError("TelegramChannel.setup() was not called")
        return self._hub

    async def _webhook(self, request: web.Request) -> web.Response:
        return await handle_webhook(request, self._verify, parse, self._submit)

    def _verify(self, raw: bytes, headers: Mapping[str, str]) -> None:
        verify(raw, headers, self.config.secret_token)

    async def _submit(self, events: Sequence[InboundEvent]) -> None:
        resolved = await callbacks.resolve(self.hub.redis, events)
        if resolved:
            await self.hub.submit(resolved)

    async def deliver(self, message: OutboundMessage) -> None:
        """Answer the callback query the reply is for (once), then send the reply's parts
        that an earlier attempt did not send."""
        rendered = render(message, self._texts)
        redis = self.hub.redis
        chat_id = message.reply_context.get("chat_id") or message.recipient_id
        progress = Progress(redis, message.key)
        try:
            await callbacks.remember(redis, rendered.tokens, self.config.callback_ttl)
            await self._answer_callback(message.reply_context.get("callback_query_id"))
            done = await progress.sent()
            for index, part in enumerate(rendered.parts):
                if index not in done:
                    await send_part(self.bot, chat_id, part)
                    await progress.mark(index)
        except RedisError as exc:
            raise TransientSendError(f"redis: {exc}") from exc

    async def _answer_callback(self, query_id: str | None) -> None:
        """``answerCallbackQuery`` exactly once per query, however many replies a tap gets.
        It only stops the button's spinner, so its failure never fails the reply; after a
        transient failure the next reply (or retry) tries again."""
        if not query_id:
            return
        key = ANSWERED_PREFIX + query_id
        if not await self.hub.redis.set(key, "1", nx=True, ex=ANSWERED_TTL):
            return
        try:
            await self.bot.answer_callback_query(query_id)
        except TelegramError as exc:
            error = send_error(exc)
            log.warning("telegram: answerCallbackQuery failed: %s", error)
            if isinstance(error, TransientSendError):
                await self.hub.redis.delete(key)

    async def download(self, attachment: Attachment, max_bytes: int) -> Media:
        """``getFile`` then the file itself, within ``max_bytes`` (and Telegram's 20 MB)."""
        return await media.download(self.bot, self.hub.session, attachment, max_bytes)

    async def _registration(self, app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(self.register_webhook(), name="telegram-set-webhook")
        yield
        await cancel_and_wait(task)

    async def register_webhook(self) -> bool:
        """``setWebhook(url, secret_token, allowed_updates)``; retried with backoff while it
        fails transiently. False when Telegram refuses it (bad URL, bad token)."""
        for attempt in range(len(REGISTER_BACKOFF) + 1):
            try:
                await self.bot.set_webhook(
                    self.config.webhook_url or "",
                    secret_token=self.config.secret_token,
                    allowed_updates=list(ALLOWED_UPDATES),
                )
            except TelegramError as exc:
                error = send_error(exc)
                if not isinstance(error, TransientSendError) or attempt == len(REGISTER_BACKOFF):
                    log.error("telegram: setWebhook failed: %s", error)
                    return False
                log.warning("telegram: setWebhook failed, retrying: %s", error)
                wait = REGISTER_BACKOFF[attempt]
                if isinstance(error, RetryAfter):
                    wait = max(wait, error.seconds)
                await asyncio.sleep(wait)
            else:
                log.info("telegram: webhook registered")
                return True
        return False

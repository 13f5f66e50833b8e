"""The e-mail channel: a mailbox poller in the background, SMTP for the replies."""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import AsyncIterator

from aiohttp import web
from redis.exceptions import RedisError

from bot.errors import MediaError, TransientSendError
from bot.model import Attachment, OutboundMessage
from bot.tasks import cancel_and_wait
from channels.base import HubServices, Media

from .config import EmailConfig
from .parse import CHANNEL
from .poller import MailboxPoller
from .render import Identity, render
from .send import send_mail
from .state import ConversationStore
from .texts import Texts

__all__ = ["EmailChannel"]


class EmailChannel:
    """Implements :class:`channels.base.Channel` for one mailbox (README.md). There is no
    webhook: :meth:`setup` starts the IMAP poller (``app.cleanup_ctx``)."""

    name = CHANNEL

    def __init__(self, config: EmailConfig, texts: Texts | None = None) -> None:
        self.config = config
        self._texts = texts or Texts.load()
        self._identity = Identity(config.address, config.from_name)
        self._conversations: ConversationStore | None = None
        self.poller: MailboxPoller | None = None

    def setup(self, app: web.Application, hub: HubServices) -> None:
        self._conversations = ConversationStore(hub.redis, self.config.redis_prefix)
        self.poller = MailboxPoller(self.config, hub, self._conversations)
        app.cleanup_ctx.append(self._poll)

    async def _poll(self, _app: web.Application) -> AsyncIterator[None]:
        assert self.poller is not None
        task = asyncio.create_task(self.poller.run(), name="email-poller")
        yield
        await cancel_and_wait(task)

    async def deliver(self, message: OutboundMessage) -> None:
        """Thread the reply into the citizen's mail (``reply_context``, else the latest one
        kept for the conversation), remember its options, send it over SMTP."""
        if self._conversations is None:
            raise RuntimeError("EmailChannel.deliver() before setup()")
        try:
            thread = dict(message.reply_context)
            if "message_id" not in thread:
                thread = await self._conversations.thread(message.conversation_id)
            mail = render(message, self._identity, self._texts, thread)
            if message.buttons:
                await self._conversations.remember_options(message.conversation_id, message.buttons)
        except RedisError as exc:
            raise TransientSendError(f"Redis unavailable: {type(exc).__name__}") from exc
        await send_mail(mail, self.config, message.recipient_id.strip())

    async def download(self, attachment: Attachment, max_bytes: int) -> Media:
        """The bytes carried in the mail itself (``inline_b64``)."""
        if not attachment.inline_b64:
            raise MediaError("e-mail attachment without content")
        if len(attachment.inline_b64) * 3 // 4 > max_bytes + 3:
            raise MediaError(f"e-mail attachment over {max_bytes} bytes")
        try:
            data = base64.b64decode(attachment.inline_b64, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise MediaError("e-mail attachment is not valid base64") from exc
        if len(data) > max_bytes:
            raise MediaError(f"e-mail attachment over {max_bytes} bytes")
        return Media(
            data=data,
            mime_type=attachment.mime_type or "application/octet-stream",
            filename=attachment.filename,
        )

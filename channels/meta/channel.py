"""What the WhatsApp and Messenger channel classes share: the hub binding, the Graph client,
the 24 h window check, sending a reply's parts once each, and the numbered-menu fallback."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from redis.exceptions import RedisError

from bot.errors import ConfigError, PermanentSendError, TransientSendError
from bot.logs import mask
from bot.model import OutboundMessage
from channels.base import HubServices
from channels.meta.config import GraphConfig
from channels.meta.delivery import send_parts
from channels.meta.graph import GraphClient
from channels.meta.ledger import SentParts
from channels.meta.menus import Menus
from channels.meta.window import MessagingWindow

__all__ = ["GraphChannel"]


class GraphChannel:
    """Base of the two Meta channels; ``name`` is set by the subclass."""

    name: str

    def __init__(self, graph: GraphConfig, token: str) -> None:
        self._graph = graph
        self._token = token
        self._hub: HubServices | None = None
        self._log = logging.getLogger(f"channels.{self.name}")

    @property
    def hub(self) -> HubServices:
        if self._hub is None:
            raise ConfigError(f"{self.name} channel used before setup()")
        return self._hub

    def _client(self) -> GraphClient:
        return GraphClient(self.hub.session, self._graph, self._token)

    async def _window_open(self, recipient_id: str) -> bool:
        try:
            return await MessagingWindow(self.hub.redis, self.name).is_open(recipient_id)
        except (RedisError, OSError) as exc:
            raise TransientSendError(f"window state unavailable: {exc}") from exc

    async def _send(
        self,
        message: OutboundMessage,
        path: str,
        reply_key: str,
        bodies: Sequence[dict[str, Any]],
        message_id: Callable[[dict[str, Any]], str],
    ) -> None:
        """Each body at most once across retries; a refusal is logged (masked) and raised."""
        try:
            await send_parts(
                self._client(),
                path,
                SentParts(self.hub.redis, self.name),
                reply_key,
                bodies,
                message_id,
            )
        except PermanentSendError as exc:
            self._log.warning(
                "%s: reply to %s refused: %s", self.name, mask(message.recipient_id), exc
            )
            raise

    async def _remember_menu(self, message: OutboundMessage, menu: Sequence[str] | None) -> None:
        if not message.buttons:
            return
        menus = Menus(self.hub.redis, self.name)
        try:
            if menu:
                await menus.remember(message.recipient_id, menu)
            else:
                await menus.forget(message.recipient_id)
        except (RedisError, OSError):
            # The reply went out; a number typed later is then read as plain text.
            self._log.warning(
                "%s: could not store the numbered menu of reply %s", self.name, message.key
            )

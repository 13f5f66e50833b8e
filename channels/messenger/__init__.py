"""Facebook Messenger channel (protocols.md §2; settings in README.md)."""

from __future__ import annotations

from collections.abc import Mapping

from channels.base import Channel
from channels.messenger.channel import MessengerChannel
from channels.messenger.config import MessengerConfig

__all__ = ["MessengerChannel", "MessengerConfig", "from_env"]


def from_env(env: Mapping[str, str]) -> Channel | None:
    """The channel, or None when its credentials are not configured (``TAWASUL_MESSENGER_*``)."""
    config = MessengerConfig.from_env(env)
    return MessengerChannel(config) if config is not None else None

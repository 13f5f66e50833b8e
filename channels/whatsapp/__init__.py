"""WhatsApp Cloud API channel (protocols.md §1; settings in README.md)."""

from __future__ import annotations

from collections.abc import Mapping

from channels.base import Channel
from channels.whatsapp.channel import WhatsAppChannel
from channels.whatsapp.config import WhatsAppConfig

__all__ = ["WhatsAppChannel", "WhatsAppConfig", "from_env"]


def from_env(env: Mapping[str, str]) -> Channel | None:
    """The channel, or None when its credentials are not configured (``TAWASUL_WHATSAPP_*``)."""
    config = WhatsAppConfig.from_env(env)
    return WhatsAppChannel(config) if config is not None else None

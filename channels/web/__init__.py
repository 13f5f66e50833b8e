"""The web chat channel (the app channel): a bilingual chat page and a JSON + WebSocket API
served by the hub itself. On unless ``TAWASUL_WEB_ENABLED=0``; see README.md."""

from __future__ import annotations

from collections.abc import Mapping

from channels.web.channel import WebChannel
from channels.web.config import WebConfig

__all__ = ["WebChannel", "WebConfig", "from_env"]


def from_env(env: Mapping[str, str]) -> WebChannel | None:
    """The channel with its settings from ``env``; None when switched off."""
    config = WebConfig.from_env(env)
    return None if config is None else WebChannel(config)

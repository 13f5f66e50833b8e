"""The X (Twitter) channel (channels/x/README.md). The hub calls :func:`from_env`."""

from __future__ import annotations

from collections.abc import Mapping

from channels.x import config
from channels.x.channel import XChannel

__all__ = ["XChannel", "from_env"]


def from_env(env: Mapping[str, str]) -> XChannel | None:
    """The channel when its credentials are configured, else None (the channel is off)."""
    settings = config.from_env(env)
    return XChannel(settings) if settings else None

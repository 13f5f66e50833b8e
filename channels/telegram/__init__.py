"""Telegram channel (Bot API through python-telegram-bot; README.md beside this file)."""

from __future__ import annotations

from collections.abc import Mapping

from .channel import TelegramChannel
from .config import TelegramConfig
from .texts import load_texts

__all__ = ["TelegramChannel", "TelegramConfig", "from_env"]


def from_env(env: Mapping[str, str]) -> TelegramChannel | None:
    """The channel when ``TAWASUL_TELEGRAM_BOT_TOKEN`` and ``TAWASUL_TELEGRAM_SECRET_TOKEN``
    are set, else None (the channel is off). Raises ``bot.errors.ConfigError`` on values that
    are present but invalid."""
    config = TelegramConfig.from_env(env)
    if config is None:
        return None
    return TelegramChannel(config, load_texts())

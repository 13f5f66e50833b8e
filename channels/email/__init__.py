"""The e-mail channel (IMAP in, SMTP out). README.md beside this file lists the settings."""

from __future__ import annotations

from collections.abc import Mapping

from .channel import EmailChannel
from .config import EmailConfig

__all__ = ["EmailChannel", "EmailConfig", "from_env"]


def from_env(env: Mapping[str, str]) -> EmailChannel | None:
    """The channel when ``TAWASUL_EMAIL_*`` configure it, None when they do not (raises
    :class:`bot.errors.ConfigError` when half-configured or invalid)."""
    config = EmailConfig.from_env(env)
    return EmailChannel(config) if config is not None else None

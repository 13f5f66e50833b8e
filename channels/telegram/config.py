"""Telegram channel settings from the environment (``TAWASUL_TELEGRAM_*``, README.md)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

from bot.errors import ConfigError

PREFIX = "TAWASUL_TELEGRAM_"
DEFAULT_BASE_URL = "https://api.telegram.org/bot"
DEFAULT_BASE_FILE_URL = "https://api.telegram.org/file/bot"
DEFAULT_CALLBACK_TTL = 30 * 24 * 3600
DEFAULT_TIMEOUT = 10.0

# Bot API setWebhook: secret_token is 1-256 characters of A-Z, a-z, 0-9, _ and -.
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
# A bot token looks like 123456:ABC-DEF...; anything else cannot be right.
_TOKEN_RE = re.compile(r"[0-9]+:[A-Za-z0-9_-]+")


@dataclass(frozen=True, slots=True)
class TelegramConfig:
    """The bot token and webhook secret (both required), the Bot API base URLs (the fake's in
    tests), the optional public webhook URL registered at start-up, the lifetime of long
    button payloads kept in Redis, and the HTTP timeout of one Bot API call."""

    token: str
    secret_token: str
    base_url: str = DEFAULT_BASE_URL
    base_file_url: str = DEFAULT_BASE_FILE_URL
    webhook_url: str | None = None
    callback_ttl: int = DEFAULT_CALLBACK_TTL
    timeout: float = DEFAULT_TIMEOUT

    def __repr__(self) -> str:  # never print the secrets
        return f"TelegramConfig(base_url={self.base_url!r}, webhook_url={self.webhook_url!r})"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> TelegramConfig | None:
        """The configuration, or None when the bot token or the webhook secret is missing
        (fail closed: without a secret the channel is off, never unsigned). Raises
        :class:`ConfigError` for values that are present but invalid."""
        token = env.get(PREFIX + "BOT_TOKEN", "").strip()
        secret = env.get(PREFIX + "SECRET_TOKEN", "").strip()
        if not token or not secret:
            return None
        if not _TOKEN_RE.fullmatch(token):
            raise ConfigError(f"{PREFIX}BOT_TOKEN is not a bot token (digits:letters)")
        if not _SECRET_RE.fullmatch(secret):
            raise ConfigError(f"{PREFIX}SECRET_TOKEN must be 1-256 characters of A-Za-z0-9_-")
        webhook_url = env.get(PREFIX + "WEBHOOK_URL", "").strip() or None
        if webhook_url is not None and not webhook_url.startswith("https://"):
            raise ConfigError(f"{PREFIX}WEBHOOK_URL must be an https:// URL")
        return cls(
            token=token,
            secret_token=secret,
            base_url=env.get(PREFIX + "BASE_URL", "").strip() or DEFAULT_BASE_URL,
            base_file_url=env.get(PREFIX + "BASE_FILE_URL", "").strip() or DEFAULT_BASE_FILE_URL,
            webhook_url=webhook_url,
            callback_ttl=int(_positive(env, "CALLBACK_TTL", DEFAULT_CALLBACK_TTL)),
            timeout=_positive(env, "TIMEOUT", DEFAULT_TIMEOUT),
        )


def _positive(env: Mapping[str, str], key: str, default: float) -> float:
    raw = env.get(PREFIX + key, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{PREFIX}{key} must be a number, not {raw!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise ConfigError(f"{PREFIX}{key} must be a positive number")
    return value

"""Web chat settings from the environment (``TAWASUL_WEB_*``; table in README.md)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.errors import ConfigError

__all__ = ["WebConfig"]

_PREFIX = "TAWASUL_WEB_"


@dataclass(frozen=True, slots=True)
class WebConfig:
    """Limits of the web chat. Every field has a default: the channel needs no credentials."""

    #: History entries kept per conversation (the oldest are trimmed).
    history_max: int = 200
    #: Seconds a conversation lives after its last message (history, token, dedup keys).
    history_ttl: int = 7 * 24 * 3600
    #: Longest text a citizen may send, in characters.
    max_text: int = 2000
    #: Largest JSON body of the API, in bytes.
    max_body: int = 16 * 1024
    #: Largest photo upload, in bytes.
    upload_max_bytes: int = 5 * 1024 * 1024
    #: Seconds an uploaded photo stays readable (the hub copies it to its media directory).
    upload_ttl: int = 24 * 3600
    #: Messages (text, buttons, locations, photos) per conversation per minute.
    rate_messages: int = 30
    #: New conversations per client IP per minute.
    rate_conversations: int = 10
    #: API requests of any kind per client IP per minute.
    rate_ip: int = 300
    #: Open WebSockets per conversation in one hub process.
    max_sockets: int = 5
    #: Take the client IP from the last ``X-Forwarded-For`` hop (only behind a trusted proxy).
    trust_proxy: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> WebConfig | None:
        """The settings, or None when ``TAWASUL_WEB_ENABLED`` is ``0`` (the channel is off).

        Raises :class:`bot.errors.ConfigError` for a value that is not a positive integer."""
        if env.get(_PREFIX + "ENABLED", "1").strip().lower() in {"0", "false", "no", "off"}:
            return None
        defaults = cls()
        return cls(
            history_max=_positive(env, "HISTORY_MAX", defaults.history_max),
            history_ttl=_positive(env, "HISTORY_TTL", defaults.history_ttl),
            max_text=_positive(env, "MAX_TEXT", defaults.max_text),
            max_body=_positive(env, "MAX_BODY", defaults.max_body),
            upload_max_bytes=_positive(env, "UPLOAD_MAX_BYTES", defaults.upload_max_bytes),
            upload_ttl=_positive(env, "UPLOAD_TTL", defaults.upload_ttl),
            rate_messages=_positive(env, "RATE_MESSAGES", defaults.rate_messages),
            rate_conversations=_positive(env, "RATE_CONVERSATIONS", defaults.rate_conversations),
            rate_ip=_positive(env, "RATE_IP", defaults.rate_ip),
            max_sockets=_positive(env, "MAX_SOCKETS", defaults.max_sockets),
            trust_proxy=env.get(_PREFIX + "TRUST_PROXY", "0").strip().lower()
            in {"1", "true", "yes", "on"},
        )


def _positive(env: Mapping[str, str], key: str, default: int) -> int:
    raw = env.get(_PREFIX + key)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{_PREFIX}{key} must be a whole number, not {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{_PREFIX}{key} must be positive, not {value}")
    return value

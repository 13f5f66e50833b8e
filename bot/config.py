"""The hub's settings, from the environment only (secrets included; nothing is read from files).

| variable | default | meaning |
|---|---|---|
| ``TAWASUL_HUB_HOST`` / ``TAWASUL_HUB_PORT`` | ``127.0.0.1`` / ``8080`` | where the hub listens |
| ``TAWASUL_REDIS_URL`` | ``redis://127.0.0.1:6379/0`` | queues, dedup, locks, contacts |
| ``TAWASUL_RASA_URL`` | ``http://127.0.0.1:5005`` | the Rasa server (REST channel) |
| ``TAWASUL_TICKET_URL`` | ``http://127.0.0.1:8090`` | the ticket service |
| ``TAWASUL_HUB_API_KEY`` | the ``hub=`` entry of ``TAWASUL_API_KEYS`` | ticket-service key |
| ``TAWASUL_MEDIA_DIR`` | ``var/media`` | where downloaded citizen files are kept |
| ``TAWASUL_MEDIA_MAX_BYTES`` | 16 MiB | larger files are skipped |
| ``TAWASUL_PUBLIC_URL`` | ``http://127.0.0.1:8080`` | base of the media URLs given to Rasa |
| ``TAWASUL_ADMIN_TOKEN`` | unset: admin endpoints answer 403 | bearer token of ``/admin`` |
| ``TAWASUL_HUB_CONCURRENCY`` | 16 | conversation workers (and senders) per process |
| ``TAWASUL_LOCK_TTL_MS`` | 30000 | lock TTL: a dead process's work is taken over after it |
| ``TAWASUL_SEND_MAX_ATTEMPTS`` | 8 | tries of one reply before it is dead-lettered |
| ``TAWASUL_SEND_BACKOFF_MS`` | 2000 | first retry wait; doubles (with jitter) up to the cap |
| ``TAWASUL_SEND_BACKOFF_MAX_MS`` | 300000 | cap of the retry wait (8 tries ≈ 10 min) |
| ``TAWASUL_HUB_PACING_MS`` | empty | ``channel=ms,...``: least time between two replies |
| ``TAWASUL_LOG_LEVEL`` | ``INFO`` | |
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from bot.errors import ConfigError
from ticket_service.config import ConfigError as KeysError
from ticket_service.config import Role, parse_api_keys

__all__ = ["HubSettings"]

MIB = 1024 * 1024
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
DEFAULT_RASA_URL = "http://127.0.0.1:5005"
DEFAULT_TICKET_URL = "http://127.0.0.1:8090"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8080"


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, not {raw!r}") from exc
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}")
    return value


def _pacing(raw: str) -> Mapping[str, int]:
    pacing: dict[str, int] = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        channel, sep, ms = item.partition("=")
        try:
            pacing[channel.strip()] = int(ms)
        except ValueError:
            sep = ""
        if not sep or not channel.strip() or pacing.get(channel.strip(), 0) < 0:
            raise ConfigError("TAWASUL_HUB_PACING_MS must look like 'whatsapp=1000,x=2000'")
    return MappingProxyType(pacing)


def _hub_key(env: Mapping[str, str]) -> str | None:
    key = env.get("TAWASUL_HUB_API_KEY", "").strip()
    if key:
        return key
    try:
        keys = parse_api_keys(env.get("TAWASUL_API_KEYS", ""))
    except KeysError as exc:
        raise ConfigError(str(exc)) from exc
    return next((k for k, role in keys.items() if role == Role.HUB), None)


@dataclass(frozen=True, slots=True)
class HubSettings:
    """Everything the hub process is configured with (see the module's table)."""

    host: str = "127.0.0.1"
    port: int = 8080
    redis_url: str = DEFAULT_REDIS_URL
    rasa_url: str = DEFAULT_RASA_URL
    ticket_url: str = DEFAULT_TICKET_URL
    hub_api_key: str | None = None
    media_dir: Path = Path("var/media")
    media_max_bytes: int = 16 * MIB
    public_url: str = DEFAULT_PUBLIC_URL
    admin_token: str | None = None
    concurrency: int = 16
    lock_ttl_ms: int = 30_000
    send_max_attempts: int = 8
    send_backoff_ms: int = 2_000
    send_backoff_max_ms: int = 300_000
    pacing_ms: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    log_level: str = "INFO"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> HubSettings:
        """Raises :class:`bot.errors.ConfigError` naming the variable that is wrong."""
        return cls(
            host=env.get("TAWASUL_HUB_HOST") or "127.0.0.1",
            port=_int(env, "TAWASUL_HUB_PORT", 8080),
            redis_url=env.get("TAWASUL_REDIS_URL") or DEFAULT_REDIS_URL,
            rasa_url=(env.get("TAWASUL_RASA_URL") or DEFAULT_RASA_URL).rstrip("/"),
            ticket_url=(env.get("TAWASUL_TICKET_URL") or DEFAULT_TICKET_URL).rstrip("/"),
            hub_api_key=_hub_key(env),
            media_dir=Path(env.get("TAWASUL_MEDIA_DIR") or "var/media"),
            media_max_bytes=_int(env, "TAWASUL_MEDIA_MAX_BYTES", 16 * MIB, 1),
            public_url=(env.get("TAWASUL_PUBLIC_URL") or DEFAULT_PUBLIC_URL).rstrip("/"),
            admin_token=env.get("TAWASUL_ADMIN_TOKEN") or None,
            concurrency=_int(env, "TAWASUL_HUB_CONCURRENCY", 16, 1),
            lock_ttl_ms=_int(env, "TAWASUL_LOCK_TTL_MS", 30_000, 1_000),
            send_max_attempts=_int(env, "TAWASUL_SEND_MAX_ATTEMPTS", 8, 1),
            send_backoff_ms=_int(env, "TAWASUL_SEND_BACKOFF_MS", 2_000),
            send_backoff_max_ms=_int(env, "TAWASUL_SEND_BACKOFF_MAX_MS", 300_000),
            pacing_ms=_pacing(env.get("TAWASUL_HUB_PACING_MS", "")),
            log_level=(env.get("TAWASUL_LOG_LEVEL") or "INFO").upper(),
        )

"""The X channel's settings, from the environment (channels/x/README.md lists them)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.errors import ConfigError

PREFIX = "TAWASUL_X_"
REQUIRED = ("CONSUMER_KEY", "CONSUMER_SECRET", "ACCESS_TOKEN", "ACCESS_TOKEN_SECRET")
#: The provider hosts tweepy and the media URLs name, and the variable that re-points each.
HOSTS = {
    "api.twitter.com": ("API_BASE_URL", "https://api.twitter.com"),
    "ton.twitter.com": ("TON_BASE_URL", "https://ton.twitter.com"),
    "pbs.twimg.com": ("PBS_BASE_URL", "https://pbs.twimg.com"),
    "video.twimg.com": ("VIDEO_BASE_URL", "https://video.twimg.com"),
}


@dataclass(frozen=True, slots=True)
class XConfig:
    """Credentials of our X account (OAuth 1.0a user context), the optional app-only bearer
    for mention polling, and where each X host really is (``base_urls``: host → base URL;
    tests point them at a fake). The consumer secret also signs webhooks and CRC answers."""

    consumer_key: str
    consumer_secret: str
    access_token: str
    access_token_secret: str
    user_id: str
    bearer_token: str | None = None
    poll_interval: float = 0.0
    quick_replies: bool = True
    dm_deep_link: bool = True
    timeout: float = 15.0
    base_urls: Mapping[str, str] = field(
        default_factory=lambda: {host: default for host, (_, default) in HOSTS.items()}
    )

    @property
    def api_base_url(self) -> str:
        return self.base_urls["api.twitter.com"]


def _flag(env: Mapping[str, str], key: str, default: bool) -> bool:
    raw = env.get(PREFIX + key, "").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{PREFIX}{key} must be 1/0, true/false, yes/no or on/off, not {raw!r}")


def _number(env: Mapping[str, str], key: str, default: float) -> float:
    raw = env.get(PREFIX + key, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ConfigError(f"{PREFIX}{key} must be a number of seconds, not {raw!r}") from exc
    if value < 0:
        raise ConfigError(f"{PREFIX}{key} must not be negative")
    return value


def _base_url(env: Mapping[str, str], key: str, default: str) -> str:
    url = (env.get(PREFIX + key, "").strip() or default).rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"{PREFIX}{key} must be an http(s) URL, not {url!r}")
    return url


def from_env(env: Mapping[str, str]) -> XConfig | None:
    """The channel's config, or None when its four OAuth 1.0a credentials are not all set
    (the channel is then off: no webhook accepts anything unsigned). Raises
    :class:`bot.errors.ConfigError` for values that are set but unusable."""
    values = {key: env.get(PREFIX + key, "").strip() for key in REQUIRED}
    if not all(values.values()):
        return None
    user_id = env.get(PREFIX + "USER_ID", "").strip()
    if not user_id:
        # X access tokens are "<user id>-<secret part>" (tweepy relies on this too).
        user_id = values["ACCESS_TOKEN"].partition("-")[0]
    if not user_id.isdigit():
        raise ConfigError(
            f"{PREFIX}USER_ID is not set and the access token does not start with the "
            "account's numeric id"
        )
    return XConfig(
        consumer_key=values["CONSUMER_KEY"],
        consumer_secret=values["CONSUMER_SECRET"],
        access_token=values["ACCESS_TOKEN"],
        access_token_secret=values["ACCESS_TOKEN_SECRET"],
        user_id=user_id,
        bearer_token=env.get(PREFIX + "BEARER_TOKEN", "").strip() or None,
        poll_interval=_number(env, "POLL_INTERVAL", 0.0),
        quick_replies=_flag(env, "QUICK_REPLIES", True),
        dm_deep_link=_flag(env, "DM_DEEP_LINK", True),
        timeout=_number(env, "TIMEOUT", 15.0) or 15.0,
        base_urls={host: _base_url(env, key, default) for host, (key, default) in HOSTS.items()},
    )

"""The channel is on only with all four OAuth 1.0a credentials; values are checked."""

from __future__ import annotations

import pytest

import channels.x
from bot.errors import ConfigError
from channels.x.config import from_env
from tests.channels.x.support import USER_ID, x_env

BASE = x_env("http://127.0.0.1:9")


@pytest.mark.parametrize(
    "missing",
    [
        "TAWASUL_X_CONSUMER_KEY",
        "TAWASUL_X_CONSUMER_SECRET",
        "TAWASUL_X_ACCESS_TOKEN",
        "TAWASUL_X_ACCESS_TOKEN_SECRET",
    ],
)
def test_channel_is_off_without_any_credential(missing: str) -> None:
    env = {k: v for k, v in BASE.items() if k != missing}
    assert from_env(env) is None
    assert channels.x.from_env({**env, missing: "  "}) is None


def test_defaults_point_at_the_real_hosts() -> None:
    env = {k: v for k, v in BASE.items() if "BASE_URL" not in k and "TIMEOUT" not in k}
    config = from_env(env)
    assert config is not None
    assert config.user_id == USER_ID  # from the access token's "<user id>-" prefix
    assert dict(config.base_urls) == {
        "api.twitter.com": "https://api.twitter.com",
        "ton.twitter.com": "https://ton.twitter.com",
        "pbs.twimg.com": "https://pbs.twimg.com",
        "video.twimg.com": "https://video.twimg.com",
    }
    assert (config.poll_interval, config.quick_replies, config.dm_deep_link) == (0.0, True, True)
    assert config.bearer_token is None
    assert config.timeout == 15.0


def test_values_from_the_environment() -> None:
    config = from_env(
        {
            **BASE,
            "TAWASUL_X_USER_ID": "42",
            "TAWASUL_X_POLL_INTERVAL": "30",
            "TAWASUL_X_QUICK_REPLIES": "off",
            "TAWASUL_X_DM_DEEP_LINK": "no",
            "TAWASUL_X_BEARER_TOKEN": "bearer",
            "TAWASUL_X_API_BASE_URL": "http://127.0.0.1:9/",
        }
    )
    assert config is not None
    assert config.user_id == "42"
    assert config.poll_interval == 30.0
    assert not config.quick_replies and not config.dm_deep_link
    assert config.bearer_token == "bearer"
    assert config.api_base_url == "http://127.0.0.1:9"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("TAWASUL_X_POLL_INTERVAL", "often"),
        ("TAWASUL_X_POLL_INTERVAL", "-5"),
        ("TAWASUL_X_QUICK_REPLIES", "maybe"),
        ("TAWASUL_X_API_BASE_URL", "ftp://example.org"),
        ("TAWASUL_X_ACCESS_TOKEN", "not-numeric-token"),
        ("TAWASUL_X_USER_ID", "@Amanat940"),
    ],
)
def test_unusable_values_are_refused_at_start(key: str, value: str) -> None:
    with pytest.raises(ConfigError):
        from_env({**BASE, key: value})


def test_the_package_factory_builds_the_channel() -> None:
    channel = channels.x.from_env(BASE)
    assert channel is not None and channel.name == "x"

"""Configuration from the environment, and the README documenting it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import channels.telegram
from bot.errors import ConfigError
from channels.telegram.config import (
    DEFAULT_BASE_FILE_URL,
    DEFAULT_BASE_URL,
    DEFAULT_CALLBACK_TTL,
    TelegramConfig,
)

TOKEN = "123456789:AAFakeTokenForTawasulTests_0123456789"
SECRET = "Tawasul_webhook-secret_0123456789"
BASE = {"TAWASUL_TELEGRAM_BOT_TOKEN": TOKEN, "TAWASUL_TELEGRAM_SECRET_TOKEN": SECRET}
ADAPTER = Path(channels.telegram.__file__).parent


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"TAWASUL_TELEGRAM_BOT_TOKEN": TOKEN},  # no secret: off, never unsigned
        {"TAWASUL_TELEGRAM_SECRET_TOKEN": SECRET},
        {"TAWASUL_TELEGRAM_BOT_TOKEN": TOKEN, "TAWASUL_TELEGRAM_SECRET_TOKEN": "  "},
    ],
)
def test_channel_is_off_without_token_and_secret(env: dict[str, str]) -> None:
    assert TelegramConfig.from_env(env) is None
    assert channels.telegram.from_env(env) is None


def test_defaults_point_at_telegram() -> None:
    config = TelegramConfig.from_env(BASE)
    assert config is not None
    assert config.base_url == DEFAULT_BASE_URL == "https://api.telegram.org/bot"
    assert config.base_file_url == DEFAULT_BASE_FILE_URL == "https://api.telegram.org/file/bot"
    assert config.webhook_url is None
    assert config.callback_ttl == DEFAULT_CALLBACK_TTL
    channel = channels.telegram.from_env(BASE)
    assert channel is not None and channel.name == "telegram"


def test_everything_configurable() -> None:
    config = TelegramConfig.from_env(
        {
            **BASE,
            "TAWASUL_TELEGRAM_BASE_URL": "http://127.0.0.1:9/bot",
            "TAWASUL_TELEGRAM_BASE_FILE_URL": "http://127.0.0.1:9/file/bot",
            "TAWASUL_TELEGRAM_WEBHOOK_URL": "https://940.example.gov/webhooks/telegram",
            "TAWASUL_TELEGRAM_CALLBACK_TTL": "3600",
            "TAWASUL_TELEGRAM_TIMEOUT": "2.5",
        }
    )
    assert config == TelegramConfig(
        token=TOKEN,
        secret_token=SECRET,
        base_url="http://127.0.0.1:9/bot",
        base_file_url="http://127.0.0.1:9/file/bot",
        webhook_url="https://940.example.gov/webhooks/telegram",
        callback_ttl=3600,
        timeout=2.5,
    )


def test_repr_hides_the_secrets() -> None:
    config = TelegramConfig.from_env(BASE)
    assert TOKEN not in repr(config) and SECRET not in repr(config)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("BOT_TOKEN", "not-a-token"),
        ("SECRET_TOKEN", "has spaces inside"),
        ("SECRET_TOKEN", "x" * 257),
        ("SECRET_TOKEN", "سر"),
        ("WEBHOOK_URL", "http://940.example.gov/webhooks/telegram"),
        ("CALLBACK_TTL", "0"),
        ("CALLBACK_TTL", "soon"),
        ("TIMEOUT", "nan"),
        ("TIMEOUT", "-1"),
    ],
)
def test_invalid_values_are_config_errors(key: str, value: str) -> None:
    with pytest.raises(ConfigError):
        TelegramConfig.from_env({**BASE, f"TAWASUL_TELEGRAM_{key}": value})


def test_readme_documents_every_variable() -> None:
    source = (ADAPTER / "config.py").read_text()
    read = {f"TAWASUL_TELEGRAM_{key}" for key in re.findall(r'PREFIX \+ "([A-Z_]+)"', source)}
    read |= {f"TAWASUL_TELEGRAM_{key}" for key in re.findall(r'env, "([A-Z_]+)"', source)}
    readme = (ADAPTER / "README.md").read_text()
    documented = set(re.findall(r"^\| `(TAWASUL_TELEGRAM_[A-Z_]+)`", readme, re.MULTILINE))
    assert len(read) == 7
    assert read == documented

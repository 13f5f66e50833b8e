"""Settings from the environment, the channel registry, the language rule."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

from bot.channels import load_channels
from bot.config import HubSettings
from bot.errors import ConfigError
from bot.language import choose
from tests.hub.loopchannel import LoopChannel


def test_defaults() -> None:
    s = HubSettings.from_env({})
    assert (s.host, s.port) == ("127.0.0.1", 8080)
    assert s.redis_url == "redis://127.0.0.1:6379/0"
    assert s.rasa_url == "http://127.0.0.1:5005"
    assert s.ticket_url == "http://127.0.0.1:8090"
    assert s.media_dir == Path("var/media") and s.media_max_bytes == 16 * 1024 * 1024
    assert s.public_url == "http://127.0.0.1:8080"
    assert s.admin_token is None and s.hub_api_key is None
    assert s.concurrency == 16 and s.lock_ttl_ms == 30_000 and s.send_max_attempts == 8
    assert dict(s.pacing_ms) == {}


def test_values_and_the_hub_key_from_the_ticket_services_key_list() -> None:
    s = HubSettings.from_env(
        {
            "TAWASUL_HUB_PORT": "9000",
            "TAWASUL_RASA_URL": "http://rasa:5005/",
            "TAWASUL_API_KEYS": "agent=a1, hub = h1 ,admin=z",
            "TAWASUL_HUB_CONCURRENCY": "4",
            "TAWASUL_HUB_PACING_MS": "whatsapp=1000, x=2500",
            "TAWASUL_ADMIN_TOKEN": "t",
        }
    )
    assert s.port == 9000 and s.rasa_url == "http://rasa:5005"
    assert s.hub_api_key == "h1" and s.concurrency == 4 and s.admin_token == "t"
    assert dict(s.pacing_ms) == {"whatsapp": 1000, "x": 2500}
    explicit = {"TAWASUL_HUB_API_KEY": "own", "TAWASUL_API_KEYS": "hub=h1"}
    assert HubSettings.from_env(explicit).hub_api_key == "own"


@pytest.mark.parametrize(
    "env",
    [
        {"TAWASUL_HUB_PORT": "eighty"},
        {"TAWASUL_HUB_CONCURRENCY": "0"},
        {"TAWASUL_MEDIA_MAX_BYTES": "-1"},
        {"TAWASUL_HUB_PACING_MS": "whatsapp"},
        {"TAWASUL_HUB_PACING_MS": "whatsapp=-5"},
        {"TAWASUL_API_KEYS": "nobody=x"},
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match="TAWASUL_"):
        HubSettings.from_env(env)


@pytest.fixture
def fake_packages(monkeypatch: pytest.MonkeyPatch) -> None:
    """channels.whatsapp that is off, channels.x whose dependencies are missing."""
    off = types.ModuleType("channels.whatsapp")
    off.from_env = lambda env: None  # type: ignore[attr-defined]
    broken = types.ModuleType("channels.x")

    def explode(env: object) -> None:
        raise ModuleNotFoundError("No module named 'tweepy_missing'", name="tweepy_missing")

    broken.from_env = explode  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "channels.whatsapp", off)
    monkeypatch.setitem(sys.modules, "channels.x", broken)


def test_registry_skips_missing_packages_and_loads_extra_channels(fake_packages: None) -> None:
    env = {
        "TAWASUL_EXTRA_CHANNELS": "tests.hub.loopchannel",
        "TAWASUL_LOOP_SECRET": "s",
        "TAWASUL_LOOP_BASE_URL": "http://127.0.0.1:9",
    }
    loaded = load_channels(env, names=("whatsapp", "nosuchchannel"))
    assert list(loaded) == ["loop"] and isinstance(loaded["loop"], LoopChannel)
    assert load_channels({}, names=("whatsapp",)) == {}
    with pytest.raises(ConfigError, match="no module"):
        load_channels({"TAWASUL_EXTRA_CHANNELS": "tests.hub.nothing_here"}, names=())


def test_registry_raises_other_import_errors(fake_packages: None) -> None:
    with pytest.raises(ModuleNotFoundError, match="tweepy_missing"):
        load_channels({}, names=("x",))


@pytest.mark.parametrize(
    ("text", "previous", "hint", "expected"),
    [
        ("There is a pothole", None, None, "en"),
        ("في حفرة", None, None, "ar"),
        ("12345", None, None, None),
        ("12345", None, "en", "en"),
        ("hello", "ar", None, "ar"),  # sticky: one English word does not flip it
        ("There is a pothole in my street", "ar", None, "ar"),
        ("English please", "ar", None, "en"),
        ("بالعربي", "en", "en", "ar"),
        ("Bonjour, il y a un trou", None, None, None),
        ("", "en", None, "en"),
    ],
)
def test_language_rule(text: str, previous: str | None, hint: str | None, expected: str) -> None:
    assert choose(text, previous, hint) == expected

"""VoiceConfig.from_env: off without the token, fail closed on half a configuration, and the
agents' working hours in Riyadh time."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from bot.errors import ConfigError
from channels.voice import from_env
from channels.voice.config import VoiceConfig, WorkingHours
from tests.channels.voice.conftest import voice_env


def test_without_an_auth_token_the_channel_is_off() -> None:
    env = voice_env("https://ivr.example.org")
    del env["TAWASUL_VOICE_AUTH_TOKEN"]
    assert VoiceConfig.from_env(env) is None
    assert from_env(env) is None
    assert from_env({}) is None


def test_a_token_without_the_account_or_a_public_url_is_refused() -> None:
    env = voice_env("https://ivr.example.org")
    del env["TAWASUL_VOICE_ACCOUNT_SID"]
    with pytest.raises(ConfigError, match="ACCOUNT_SID"):
        VoiceConfig.from_env(env)
    env = voice_env("")
    with pytest.raises(ConfigError, match="PUBLIC_URL"):
        VoiceConfig.from_env(env)
    for bad in ("ftp://x.org", "https://x.org/?a=1", "not a url"):
        with pytest.raises(ConfigError, match="PUBLIC_URL"):
            VoiceConfig.from_env(voice_env(bad))


def test_the_public_url_falls_back_to_the_hubs_and_loses_its_slash() -> None:
    env = {**voice_env(""), "TAWASUL_PUBLIC_URL": "https://hub.example.org/"}
    config = VoiceConfig.from_env(env)
    assert config is not None
    assert config.public_url == "https://hub.example.org"
    assert (
        config.url("/webhooks/voice/menu?n=2") == "https://hub.example.org/webhooks/voice/menu?n=2"
    )
    behind_proxy = VoiceConfig.from_env({**env, "TAWASUL_VOICE_PUBLIC_URL": "https://ivr.gov.sa/"})
    assert behind_proxy is not None and behind_proxy.public_url == "https://ivr.gov.sa"


def test_defaults_and_overrides() -> None:
    config = VoiceConfig.from_env(voice_env("https://ivr.example.org"))
    assert config is not None
    assert config.api_url == "https://api.twilio.com"
    assert config.voice("ar") == "Polly.Zeina" and config.say_language("ar") == "arb"
    assert config.speech_language("en") == "en-US" and config.speech_language("ar") == "ar-SA"
    assert config.voice("fr") == config.voice("ar")
    assert not config.trust_caller_id
    assert config.turn_wait < 15  # Twilio waits about 15 s for an answer
    env = voice_env(
        "https://ivr.example.org",
        TAWASUL_VOICE_TTS_VOICE_AR="Google.ar-XA-Standard-A",
        TAWASUL_VOICE_TTS_LANGUAGE_AR="ar-XA",
        TAWASUL_VOICE_SPEECH_LANGUAGE_AR="ar-AE",
        TAWASUL_VOICE_TRUST_CALLER_ID="1",
        TAWASUL_VOICE_MIN_CONFIDENCE="0.5",
        TAWASUL_VOICE_API_URL="http://127.0.0.1:9999/",
    )
    config = VoiceConfig.from_env(env)
    assert config is not None
    assert config.voice("ar") == "Google.ar-XA-Standard-A" and config.say_language("ar") == "ar-XA"
    assert config.speech_language("ar") == "ar-AE"
    assert config.trust_caller_id and config.min_confidence == 0.5
    assert config.api_url == "http://127.0.0.1:9999"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("TAWASUL_VOICE_NUMBER", "0501234567"),
        ("TAWASUL_VOICE_AGENTS_NUMBER", "+0123"),
        ("TAWASUL_VOICE_TRUST_CALLER_ID", "maybe"),
        ("TAWASUL_VOICE_MIN_CONFIDENCE", "1.5"),
        ("TAWASUL_VOICE_TURN_WAIT", "20"),
        ("TAWASUL_VOICE_TURN_WAIT", "nan"),
        ("TAWASUL_VOICE_RECORD_MAX_SECONDS", "7200"),
        ("TAWASUL_VOICE_AGENT_HOURS", "8-16"),
        ("TAWASUL_VOICE_AGENT_HOURS", "16:00-08:00"),
        ("TAWASUL_VOICE_AGENT_HOURS", "08:00-24:30"),
        ("TAWASUL_VOICE_AGENT_DAYS", "sunday"),
        ("TAWASUL_VOICE_TIMEZONE", "Mars/Olympus"),
    ],
)
def test_invalid_values_name_the_variable(key: str, value: str) -> None:
    with pytest.raises(ConfigError, match=key.removeprefix("TAWASUL_VOICE_")):
        VoiceConfig.from_env(voice_env("https://ivr.example.org", **{key: value}))


def test_the_token_is_never_printed() -> None:
    config = VoiceConfig.from_env(voice_env("https://ivr.example.org"))
    assert config is not None
    assert config.auth_token not in repr(config) and config.auth_token not in str(config)


def riyadh(day: int, hour: int, minute: int = 0) -> datetime:
    """November 2026: the 8th is a Sunday. Riyadh is UTC+3."""
    return datetime(2026, 11, day, hour - 3, minute, tzinfo=UTC)


def test_working_hours_default_to_sunday_to_thursday_eight_to_four_in_riyadh() -> None:
    hours = WorkingHours()
    assert hours.open_at(riyadh(8, 8))  # Sunday 08:00
    assert hours.open_at(riyadh(12, 15, 59))  # Thursday 15:59
    assert not hours.open_at(riyadh(12, 16))  # Thursday 16:00: closed (end exclusive)
    assert not hours.open_at(riyadh(8, 7, 59))
    assert not hours.open_at(riyadh(13, 10))  # Friday
    assert not hours.open_at(riyadh(14, 10))  # Saturday


def test_working_hours_from_the_environment() -> None:
    env = voice_env(
        "https://ivr.example.org",
        TAWASUL_VOICE_AGENT_DAYS="thu-sat, mon",
        TAWASUL_VOICE_AGENT_HOURS="20:00-24:00",
    )
    config = VoiceConfig.from_env(env)
    assert config is not None
    assert config.hours.days == frozenset({3, 4, 5, 0})
    assert config.hours.start == time(20) and config.hours.end is None
    assert config.hours.open_at(riyadh(13, 23, 59))  # Friday night
    assert not config.hours.open_at(riyadh(8, 21))  # Sunday
    assert not config.hours.open_at(riyadh(13, 19))

"""Voice (IVR) channel settings from the environment (``TAWASUL_VOICE_*``; table in README.md).

The channel is off without ``TAWASUL_VOICE_AUTH_TOKEN``: no token, no signature check, so no
webhook is served at all (fail closed). Helper modules of the outbound callbacks read the same
:class:`VoiceConfig` (``number``, ``api_url``, ``account_sid``, ``auth_token``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time
from types import MappingProxyType
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.errors import ConfigError
from channels.env import bounded_number

__all__ = ["LANGUAGES", "PREFIX", "VoiceConfig", "WorkingHours"]

PREFIX = "TAWASUL_VOICE_"
LANGUAGES = ("ar", "en")
DEFAULT_API_URL = "https://api.twilio.com"
DEFAULT_TIMEZONE = "Asia/Riyadh"
#: Amazon Polly voices through Twilio: Zeina speaks Modern Standard Arabic (``arb``).
DEFAULT_VOICES = {"ar": "Polly.Zeina", "en": "Polly.Joanna"}
DEFAULT_SAY_LANGUAGES = {"ar": "arb", "en": "en-US"}
#: ``<Gather input="speech">`` recognition languages (BCP-47).
DEFAULT_SPEECH_LANGUAGES = {"ar": "ar-SA", "en": "en-US"}
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
_HOURS = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])-([01]?[0-9]|2[0-4]):([0-5][0-9])")


@dataclass(frozen=True, slots=True)
class WorkingHours:
    """When agents answer the phone: weekdays (0 = Monday) and a daily window, local time.
    The window's end is exclusive; ``24:00`` means midnight at the end of the day."""

    days: frozenset[int] = frozenset({6, 0, 1, 2, 3})  # Sunday to Thursday
    start: time = time(8, 0)
    end: time | None = time(16, 0)  # None: until midnight
    timezone: str = DEFAULT_TIMEZONE

    def open_at(self, moment: datetime) -> bool:
        """Whether ``moment`` (aware) falls inside the hours."""
        local = moment.astimezone(ZoneInfo(self.timezone))
        if local.weekday() not in self.days:
            return False
        now = local.time().replace(tzinfo=None)
        return now >= self.start and (self.end is None or now < self.end)


@dataclass(frozen=True, slots=True)
class VoiceConfig:
    """Credentials (the Auth Token signs every webhook), the public base URL Twilio calls
    (signatures are computed over it, so a proxy in front changes nothing), voices and
    recognition languages per language, the agents' line and hours, and the IVR's limits."""

    account_sid: str
    auth_token: str
    public_url: str
    #: The secret of a Webhooks SharedKey (HMAC-SHA256 signatures), when one is set up.
    shared_key: str | None = None
    number: str | None = None
    api_url: str = DEFAULT_API_URL
    voices: Mapping[str, str] = field(default_factory=lambda: MappingProxyType(DEFAULT_VOICES))
    say_languages: Mapping[str, str] = field(
        default_factory=lambda: MappingProxyType(DEFAULT_SAY_LANGUAGES)
    )
    speech_languages: Mapping[str, str] = field(
        default_factory=lambda: MappingProxyType(DEFAULT_SPEECH_LANGUAGES)
    )
    agents_number: str | None = None
    hours: WorkingHours = field(default_factory=WorkingHours)
    #: Speech recognised with a lower ``Confidence`` counts as not understood.
    min_confidence: float = 0.3
    #: The caller id counts as a verified phone (see README.md "Caller id").
    trust_caller_id: bool = False
    #: Seconds one webhook waits for the bot before "one moment" and a redirect.
    turn_wait: float = 8.0
    #: Redirects to wait for the bot before giving up on that turn.
    max_waits: int = 3
    #: Seconds call state lives in Redis (a Twilio call lasts at most 4 h by default).
    state_ttl: int = 4 * 3600 + 600
    #: Longest voicemail, seconds (``<Record maxLength>``).
    record_max_seconds: int = 120
    #: Seconds the agents' line rings (``<Dial timeout>``).
    dial_timeout: int = 30

    def __repr__(self) -> str:  # never print the token
        return f"VoiceConfig(account_sid={self.account_sid!r}, public_url={self.public_url!r})"

    def voice(self, language: str) -> str:
        return self.voices.get(language) or self.voices["ar"]

    def say_language(self, language: str) -> str:
        return self.say_languages.get(language) or self.say_languages["ar"]

    def speech_language(self, language: str) -> str:
        return self.speech_languages.get(language) or self.speech_languages["ar"]

    def url(self, path: str) -> str:
        """The public URL of one of our paths (``/webhooks/voice/...``)."""
        return self.public_url + path

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> VoiceConfig | None:
        """The settings, or None without ``TAWASUL_VOICE_AUTH_TOKEN`` (the channel is off).
        Raises :class:`ConfigError` for values that are present but invalid, or when the
        token is set without the account SID or a public URL."""
        token = _get(env, "AUTH_TOKEN")
        if not token:
            return None
        sid = _get(env, "ACCOUNT_SID")
        if not sid:
            raise ConfigError(f"{PREFIX}ACCOUNT_SID is required with {PREFIX}AUTH_TOKEN")
        public_url = _base_url(
            _get(env, "PUBLIC_URL") or env.get("TAWASUL_PUBLIC_URL", "").strip(), "PUBLIC_URL"
        )
        defaults = cls(account_sid=sid, auth_token=token, public_url=public_url)
        return cls(
            account_sid=sid,
            auth_token=token,
            public_url=public_url,
            shared_key=_get(env, "SHARED_KEY_SECRET") or None,
            number=_phone(env, "NUMBER"),
            api_url=_base_url(_get(env, "API_URL") or DEFAULT_API_URL, "API_URL"),
            voices=_per_language(env, "TTS_VOICE", DEFAULT_VOICES),
            say_languages=_per_language(env, "TTS_LANGUAGE", DEFAULT_SAY_LANGUAGES),
            speech_languages=_per_language(env, "SPEECH_LANGUAGE", DEFAULT_SPEECH_LANGUAGES),
            agents_number=_phone(env, "AGENTS_NUMBER"),
            hours=_hours(env),
            min_confidence=_number(env, "MIN_CONFIDENCE", defaults.min_confidence, 0.0, 1.0),
            trust_caller_id=_flag(env, "TRUST_CALLER_ID"),
            turn_wait=_number(env, "TURN_WAIT", defaults.turn_wait, 1.0, 12.0),
            max_waits=int(_number(env, "MAX_WAITS", defaults.max_waits, 0, 10)),
            state_ttl=int(_number(env, "STATE_TTL", defaults.state_ttl, 600, 7 * 24 * 3600)),
            record_max_seconds=int(
                _number(env, "RECORD_MAX_SECONDS", defaults.record_max_seconds, 5, 3600)
            ),
            dial_timeout=int(_number(env, "DIAL_TIMEOUT", defaults.dial_timeout, 5, 600)),
        )


def _get(env: Mapping[str, str], key: str) -> str:
    return env.get(PREFIX + key, "").strip()


def _base_url(raw: str, key: str) -> str:
    if not raw:
        raise ConfigError(f"{PREFIX}{key} (or TAWASUL_PUBLIC_URL) is required")
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ConfigError(f"{PREFIX}{key} must be an http(s) base URL without a query")
    return raw.rstrip("/")


def _phone(env: Mapping[str, str], key: str) -> str | None:
    raw = _get(env, key)
    if not raw:
        return None
    if not _E164.fullmatch(raw):
        raise ConfigError(f"{PREFIX}{key} must be an E.164 number (+9661...)")
    return raw


def _flag(env: Mapping[str, str], key: str) -> bool:
    raw = _get(env, key).lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise ConfigError(f"{PREFIX}{key} must be 0 or 1, not {raw!r}")


def _number(env: Mapping[str, str], key: str, default: float, low: float, high: float) -> float:
    return bounded_number(_get(env, key), PREFIX + key, default, low, high)


def _per_language(
    env: Mapping[str, str], key: str, defaults: Mapping[str, str]
) -> Mapping[str, str]:
    values = {lang: _get(env, f"{key}_{lang.upper()}") or defaults[lang] for lang in LANGUAGES}
    return MappingProxyType(values)


def _hours(env: Mapping[str, str]) -> WorkingHours:
    defaults = WorkingHours()
    zone = _get(env, "TIMEZONE") or DEFAULT_TIMEZONE
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{PREFIX}TIMEZONE: unknown time zone {zone!r}") from None
    days = defaults.days
    raw_days = _get(env, "AGENT_DAYS").lower()
    if raw_days:
        parts = [part.strip() for part in raw_days.split(",") if part.strip()]
        days = frozenset(day for part in parts for day in _day_range(part))
    start, end = defaults.start, defaults.end
    raw_hours = _get(env, "AGENT_HOURS")
    if raw_hours:
        found = _HOURS.fullmatch(raw_hours.replace(" ", ""))
        if not found:
            raise ConfigError(f"{PREFIX}AGENT_HOURS must look like 08:00-16:00")
        h1, m1, h2, m2 = (int(g) for g in found.groups())
        if h2 == 24 and m2:
            raise ConfigError(f"{PREFIX}AGENT_HOURS: 24:00 is the latest end")
        start = time(h1, m1)
        end = None if h2 == 24 else time(h2, m2)
        if end is not None and end <= start:
            raise ConfigError(f"{PREFIX}AGENT_HOURS must end after it starts")
    return WorkingHours(days=days, start=start, end=end, timezone=zone)


def _day_range(part: str) -> tuple[int, ...]:
    """``sun`` or ``sun-thu`` (wrapping over the week's end) as weekday numbers."""
    first, _, last = part.partition("-")
    if first not in _DAYS or (last and last not in _DAYS):
        raise ConfigError(f"{PREFIX}AGENT_DAYS must list days like sun-thu or sat,sun")
    a = _DAYS.index(first)
    b = _DAYS.index(last) if last else a
    return tuple((a + i) % 7 for i in range((b - a) % 7 + 1))

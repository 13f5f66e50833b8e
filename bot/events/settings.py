"""Settings of proactive updates: the event secret from the environment, the rest from
``settings/notifications.yml`` (texts, quiet hours, escalation levels, fallback order).

| variable | default | meaning |
|---|---|---|
| ``TAWASUL_EVENT_SECRET`` | unset: ``/events/tickets`` answers 403 | HMAC key of ticket events |
| ``TAWASUL_NOTIFICATIONS`` | ``settings/notifications.yml`` | the data file |
| ``TAWASUL_QUIET_HOURS`` | the file's (``22:00-07:00``) | ``HH:MM-HH:MM`` or ``off`` |
| ``TAWASUL_TIMEZONE`` | the file's (``Asia/Riyadh``) | local time of the quiet hours |
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from bot.errors import ConfigError

__all__ = ["DEFAULT_FILE", "LANGUAGES", "NotifySettings", "QuietHours", "SurveySettings"]

DEFAULT_FILE = Path(__file__).resolve().parents[2] / "settings" / "notifications.yml"
LANGUAGES = ("ar", "en")


def supported_language(value: str | None) -> str:
    """``value`` when the texts are written in it, else Arabic (the default)."""
    return value if value in LANGUAGES else "ar"


_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True, slots=True)
class QuietHours:
    """``start``–``end`` local time (may span midnight); services in ``urgent`` go out anyway."""

    start: time
    end: time
    zone: ZoneInfo
    urgent: frozenset[str]


@dataclass(frozen=True, slots=True)
class SurveySettings:
    """The closure survey (the file's ``survey`` section): what the hub puts into the reporter's
    conversation (``payload``, ``$1`` = the ticket number), when it reminds, the WhatsApp
    template for outside the window, and the channels that take the survey another way."""

    payload: str = '/start_survey{"ticket_id":"$1"}'
    reminder_hours: float = 24.0
    whatsapp_template: str | None = "closure_survey"
    skip_channels: frozenset[str] = frozenset({"voice"})

    def payload_for(self, number: str) -> str:
        return self.payload.replace("$1", number)


@dataclass(frozen=True, slots=True)
class NotifySettings:
    """Everything :mod:`bot.events` is configured with (module table)."""

    secret: bytes
    texts: Mapping[str, Mapping[str, str]]
    quiet: QuietHours | None
    escalation_levels: frozenset[int]
    received_skip_channels: frozenset[str]
    fallback_order: tuple[str, ...]
    whatsapp_template: str | None
    followup_ack_skip_channels: frozenset[str] = frozenset()
    survey: SurveySettings = SurveySettings()

    def text(self, name: str, language: str, **values: str) -> str:
        entry = self.texts[name]
        return entry.get(language, entry["ar"]).format(**values)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> NotifySettings | None:
        """None when ``TAWASUL_EVENT_SECRET`` is unset (events off: fail closed); raises
        :class:`ConfigError` for a bad file or value."""
        secret = env.get("TAWASUL_EVENT_SECRET", "")
        if not secret:
            return None
        path = Path(env.get("TAWASUL_NOTIFICATIONS") or DEFAULT_FILE)
        try:
            data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"TAWASUL_NOTIFICATIONS: cannot read {path}: {exc}") from exc
        if not isinstance(data, Mapping):
            raise ConfigError(f"{path}: not a mapping")
        return cls(
            secret=secret.encode(),
            texts=_texts(data.get("texts"), path),
            quiet=_quiet(data.get("quiet_hours") or {}, env),
            escalation_levels=frozenset(int(x) for x in data.get("escalation_levels") or ()),
            received_skip_channels=frozenset(data.get("received_skip_channels") or ()),
            fallback_order=tuple(str(c) for c in data.get("fallback_order") or ()),
            whatsapp_template=data.get("whatsapp_template") or None,
            followup_ack_skip_channels=frozenset(data.get("followup_ack_skip_channels") or ()),
            survey=_survey(data.get("survey") or {}, path),
        )


REQUIRED_TEXTS = ("received", "in_progress", "reopened", "escalated", "closed",
                  "followup_created", "followup_contacted", "note",
                  "resolution_other")  # fmt: skip


def _survey(raw: Any, path: Path) -> SurveySettings:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{path}: 'survey' must be a mapping")
    default = SurveySettings()
    payload = str(raw.get("payload") or default.payload)
    if not payload.startswith("/") or "$1" not in payload:
        raise ConfigError(f"{path}: survey.payload must be an intent payload with $1")
    try:
        hours = float(raw.get("reminder_hours", default.reminder_hours))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: survey.reminder_hours must be a number") from exc
    if not 0 < hours <= 144:  # the event is kept 7 days
        raise ConfigError(f"{path}: survey.reminder_hours must be in (0, 144]")
    template = raw.get("whatsapp_template", default.whatsapp_template)
    skip = raw.get("skip_channels", sorted(default.skip_channels))
    return SurveySettings(
        payload=payload,
        reminder_hours=hours,
        whatsapp_template=str(template) if template else None,
        skip_channels=frozenset(str(c) for c in skip or ()),
    )


def _texts(raw: Any, path: Path) -> Mapping[str, Mapping[str, str]]:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{path}: 'texts' missing")
    texts: dict[str, dict[str, str]] = {}
    for name, entry in raw.items():
        if not isinstance(entry, Mapping) or not all(
            isinstance(entry.get(lang), str) for lang in LANGUAGES
        ):
            raise ConfigError(f"{path}: text {name!r} needs 'ar' and 'en'")
        texts[str(name)] = {lang: str(entry[lang]) for lang in LANGUAGES}
    missing = [name for name in REQUIRED_TEXTS if name not in texts]
    if missing:
        raise ConfigError(f"{path}: texts missing: {', '.join(missing)}")
    return texts


def _clock_time(value: str, what: str) -> time:
    found = _HHMM.match(value.strip())
    if not found:
        raise ConfigError(f"{what} must look like 22:00, not {value!r}")
    return time(int(found.group(1)), int(found.group(2)))


def _quiet(raw: Mapping[str, Any], env: Mapping[str, str]) -> QuietHours | None:
    span = env.get("TAWASUL_QUIET_HOURS", "").strip()
    if span.lower() == "off":
        return None
    if span:
        start_s, sep, end_s = span.partition("-")
        if not sep:
            raise ConfigError("TAWASUL_QUIET_HOURS must look like 22:00-07:00 or off")
    else:
        if not raw.get("start"):
            return None
        start_s, end_s = str(raw["start"]), str(raw.get("end", ""))
    zone_name = env.get("TAWASUL_TIMEZONE") or str(raw.get("timezone") or "Asia/Riyadh")
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"unknown time zone {zone_name!r}") from exc
    start = _clock_time(start_s, "quiet hours start")
    end = _clock_time(end_s, "quiet hours end")
    if start == end:
        return None
    return QuietHours(start, end, zone, frozenset(raw.get("urgent_services") or ()))

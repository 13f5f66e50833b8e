"""The words the Meta adapters add to replies, read from ``texts.yml`` (never in Python)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

from bot.errors import ConfigError

__all__ = ["KEYS", "LANGUAGES", "text"]

LANGUAGES = ("ar", "en")
KEYS = (
    "list_button",
    "choose_option",
    "numbered_more",
    "numbered_all",
    "location_fallback",
    "location_request",
)
_PATH = Path(__file__).with_name("texts.yml")


@cache
def _load() -> dict[str, dict[str, str]]:
    data: Any = yaml.safe_load(_PATH.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ConfigError(f"{_PATH}: not a mapping")
    texts: dict[str, dict[str, str]] = {}
    for key in KEYS:
        entry = data.get(key)
        if not isinstance(entry, dict):
            raise ConfigError(f"{_PATH}: {key} missing")
        for language in LANGUAGES:
            value = entry.get(language)
            if not isinstance(value, str) or not value.strip():
                raise ConfigError(f"{_PATH}: {key}.{language} missing")
        texts[key] = {language: str(entry[language]).strip() for language in LANGUAGES}
    return texts


def text(key: str, language: str) -> str:
    """``key`` in ``language`` (Arabic for any language other than ``en``)."""
    return _load()[key]["en" if language == "en" else "ar"]

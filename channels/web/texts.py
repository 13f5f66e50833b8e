"""The web chat's words, read from ``texts.yml`` (never written in Python)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from bot.errors import ConfigError

__all__ = ["LANGUAGES", "error_message", "pick_language", "ui_strings"]

LANGUAGES = ("ar", "en")
_PATH = Path(__file__).with_name("texts.yml")


@cache
def _texts() -> dict[str, dict[str, dict[str, str]]]:
    data: Any = yaml.safe_load(_PATH.read_text(encoding="utf-8"))
    texts: dict[str, dict[str, dict[str, str]]] = {}
    for section in ("ui", "errors"):
        by_language = data.get(section) if isinstance(data, dict) else None
        if not isinstance(by_language, dict):
            raise ConfigError(f"{_PATH}: no {section!r} section")
        texts[section] = {}
        for language in LANGUAGES:
            strings = by_language.get(language)
            if not isinstance(strings, dict):
                raise ConfigError(f"{_PATH}: {section}.{language} missing")
            texts[section][language] = {str(k): str(v) for k, v in strings.items()}
        if set(texts[section]["ar"]) != set(texts[section]["en"]):
            raise ConfigError(f"{_PATH}: {section}.ar and {section}.en have different keys")
    return texts


def ui_strings(language: str) -> dict[str, str]:
    """The page's strings in ``language`` (``ar`` or ``en``)."""
    return dict(_texts()["ui"][language])


def error_message(code: str, language: str, params: Mapping[str, object]) -> str:
    """An API error's message, placeholders filled."""
    template = _texts()["errors"][language].get(code) or code
    return template.format(**params)


def pick_language(header: str | None, default: str = "ar") -> str:
    """The first of ar/en an ``Accept-Language`` header names, else ``default``."""
    for part in (header or "").split(","):
        tag = part.split(";", 1)[0].strip().lower()[:2]
        if tag in LANGUAGES:
            return tag
    return default

"""The channel's own citizen-facing texts, from ``texts.yml`` beside this module (ar, en)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.errors import ConfigError

__all__ = ["KEYS", "Texts"]

KEYS = ("subject", "choose_by_number", "share_location", "image", "footer")
DEFAULT_LANGUAGE = "ar"
_PATH = Path(__file__).with_name("texts.yml")


@dataclass(frozen=True, slots=True)
class Texts:
    """``get(language, key)``; unknown languages fall back to Arabic."""

    by_language: Mapping[str, Mapping[str, str]]

    @classmethod
    def load(cls, path: Path = _PATH) -> Texts:
        """Read and check the file: every language has every key, as a non-empty string."""
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or DEFAULT_LANGUAGE not in data:
            raise ConfigError(f"{path}: expected a mapping of languages including 'ar'")
        checked: dict[str, dict[str, str]] = {}
        for language, texts in data.items():
            if not isinstance(texts, dict):
                raise ConfigError(f"{path}: {language} must map keys to texts")
            missing = [key for key in KEYS if not isinstance(texts.get(key), str) or not texts[key]]
            if missing:
                raise ConfigError(f"{path}: {language} lacks {', '.join(missing)}")
            checked[str(language)] = {key: str(texts[key]).strip() for key in KEYS}
        return cls(checked)

    def get(self, language: str, key: str) -> str:
        return (self.by_language.get(language) or self.by_language[DEFAULT_LANGUAGE])[key]

"""The adapter's own bilingual labels, loaded from ``texts.yml`` (never hard-coded)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.errors import ConfigError

DEFAULT_PATH = Path(__file__).with_name("texts.yml")
LANGUAGES = ("ar", "en")
KEYS = ("location_button", "location_prompt", "choose")


@dataclass(frozen=True, slots=True)
class Texts:
    """Labels by key and language; :meth:`get` falls back to Arabic (the default)."""

    labels: Mapping[str, Mapping[str, str]]

    def get(self, key: str, language: str) -> str:
        by_language = self.labels[key]
        return by_language.get(language) or by_language["ar"]


def load_texts(path: Path = DEFAULT_PATH) -> Texts:
    """Read and check the labels (every key in every language); :class:`ConfigError` if not."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of labels")
    labels: dict[str, dict[str, str]] = {}
    for key in KEYS:
        entry = data.get(key)
        if not isinstance(entry, dict) or not all(
            isinstance(entry.get(lang), str) and entry[lang].strip() for lang in LANGUAGES
        ):
            raise ConfigError(f"{path}: {key!r} needs non-empty 'ar' and 'en' texts")
        labels[key] = {lang: entry[lang] for lang in LANGUAGES}
    return Texts(labels)

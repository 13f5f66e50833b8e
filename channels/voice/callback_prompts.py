"""What a callback call says around the update: the ``callback:`` section of
``settings/voice_prompts.yml`` (key → ``{ar, en}``), checked at start-up like the IVR's own
prompts (:class:`channels.voice.prompts.Prompts`)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from bot.errors import ConfigError
from channels.voice.prompts import DEFAULT_PATH, LANGUAGES, Prompts

__all__ = ["CALLBACK_PROMPTS", "load_callback_prompts"]

#: The callback's prompts and the placeholders each one takes.
CALLBACK_PROMPTS: Mapping[str, frozenset[str]] = {
    name: frozenset()
    for name in (
        "intro", "digit_separator", "survey_intro", "survey_quality", "survey_speed",
        "survey_invalid", "survey_thanks", "survey_already", "survey_no_answer", "survey_error",
        "goodbye",
    )
}  # fmt: skip


def load_callback_prompts(path: Path = DEFAULT_PATH) -> Prompts:
    """The ``callback`` section (:class:`ConfigError` when missing, incomplete or
    malformed)."""
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    section = data.get("callback") if isinstance(data, Mapping) else None
    if not isinstance(section, Mapping):
        raise ConfigError(f"{path}: the 'callback' section is missing")
    texts: dict[str, dict[str, str]] = {}
    for key, entry in section.items():
        if not isinstance(entry, Mapping) or not all(
            isinstance(entry.get(lang), str) and entry[lang] for lang in LANGUAGES
        ):
            raise ConfigError(f"{path}: callback.{key} needs non-empty 'ar' and 'en' texts")
        texts[str(key)] = {lang: str(entry[lang]) for lang in LANGUAGES}
    prompts = Prompts(texts, {})
    prompts.require(CALLBACK_PROMPTS)
    return prompts

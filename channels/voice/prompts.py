"""Everything the IVR says, and the words it listens for, from ``settings/voice_prompts.yml``.

The file has two mappings: ``prompts`` (key → ``{ar, en}`` text, ``{placeholders}`` filled
by the code) and ``words`` (key → ``{ar: [...], en: [...]}``, phrases recognised in speech).
:func:`load_prompts` checks it at start-up against what the code will ask for — every key
present in both languages with exactly the placeholders the code fills — so a missing or
misspelt entry stops the hub from starting instead of failing in the middle of a call.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.errors import ConfigError

__all__ = [
    "DEFAULT_PATH",
    "INBOUND_PROMPTS",
    "INBOUND_WORDS",
    "LANGUAGES",
    "Prompts",
    "load_prompts",
]

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "settings" / "voice_prompts.yml"
LANGUAGES = ("ar", "en")

#: The inbound IVR's prompts and the placeholders each one takes.
INBOUND_PROMPTS: Mapping[str, frozenset[str]] = {
    "welcome": frozenset(),
    "language_menu": frozenset(),
    "language_menu_keypad": frozenset(),
    "not_understood": frozenset(),
    "use_keypad": frozenset(),
    "invalid_choice": frozenset(),
    "unexpected": frozenset(),
    "too_many_tries": frozenset(),
    "main_menu": frozenset(),
    "main_menu_keypad": frozenset(),
    "report_intro": frozenset(),
    "press_for": frozenset({"digit", "title"}),
    "press_star": frozenset(),
    "speak_again_offer": frozenset(),
    "one_moment": frozenset(),
    "bot_slow": frozenset(),
    "photo_skipped": frozenset(),
    "location_hint": frozenset(),
    "switch_language": frozenset(),
    "digit_separator": frozenset(),
    "enter_ticket": frozenset(),
    "invalid_ticket": frozenset(),
    "ticket_not_found": frozenset({"number"}),
    "ticket_status": frozenset({"number", "status"}),
    "ticket_note": frozenset({"note"}),
    "status_open": frozenset(),
    "status_in_progress": frozenset(),
    "status_fixed": frozenset(),
    "status_rejected": frozenset(),
    "status_duplicate": frozenset(),
    "status_not_responsibility": frozenset(),
    "followup_record": frozenset({"number"}),
    "followup_filed": frozenset({"reference", "number"}),
    "nothing_recorded": frozenset(),
    "agent_connecting": frozenset(),
    "agent_closed": frozenset(),
    "agent_busy": frozenset(),
    "callback_filed": frozenset({"reference"}),
    "callback_description": frozenset(),
    "service_error": frozenset(),
    "goodbye": frozenset(),
}

#: Speech recognised at the main menu, per option.
INBOUND_WORDS = ("menu_report", "menu_status", "menu_followup", "menu_agent")


def _placeholders(text: str) -> frozenset[str]:
    try:
        return frozenset(name for _, name, _, _ in string.Formatter().parse(text) if name)
    except ValueError as exc:
        raise ConfigError(f"bad braces in {text!r}: {exc}") from None


@dataclass(frozen=True, slots=True)
class Prompts:
    """Checked prompts and word lists; unknown languages fall back to Arabic."""

    texts: Mapping[str, Mapping[str, str]]
    words: Mapping[str, Mapping[str, tuple[str, ...]]]

    def text(self, key: str, language: str, **params: str) -> str:
        """The prompt in ``language`` with its placeholders filled."""
        by_language = self.texts[key]
        template = by_language.get(language) or by_language["ar"]
        return template.format_map(params) if params else template

    def phrases(self, key: str, language: str) -> tuple[str, ...]:
        """The phrases of word list ``key`` in ``language``."""
        return self.words[key].get(language, ())

    def require(self, prompts: Mapping[str, frozenset[str]], words: tuple[str, ...] = ()) -> None:
        """:class:`ConfigError` unless every prompt of ``prompts`` exists with exactly those
        placeholders (in both languages) and every word list of ``words`` exists."""
        for key, expected in prompts.items():
            if key not in self.texts:
                raise ConfigError(f"voice prompts: {key!r} is missing")
            for language, text in self.texts[key].items():
                found = _placeholders(text)
                if found != expected:
                    raise ConfigError(
                        f"voice prompts: {key}.{language} has placeholders {sorted(found)}, "
                        f"the code fills {sorted(expected)}"
                    )
        for key in words:
            if key not in self.words:
                raise ConfigError(f"voice prompts: word list {key!r} is missing")


def _texts(data: Any, path: Path, section: str) -> dict[str, dict[str, str]]:
    if not isinstance(data, Mapping):
        raise ConfigError(f"{path}: '{section}' must be a mapping")
    texts: dict[str, dict[str, str]] = {}
    for key, entry in data.items():
        if not isinstance(entry, Mapping) or not all(
            isinstance(entry.get(lang), str) and entry[lang].strip() for lang in LANGUAGES
        ):
            raise ConfigError(f"{path}: {section}.{key} needs non-empty 'ar' and 'en' texts")
        values = {lang: str(entry[lang]) for lang in LANGUAGES}
        if _placeholders(values["ar"]) != _placeholders(values["en"]):
            raise ConfigError(f"{path}: {section}.{key} has different placeholders in ar and en")
        texts[str(key)] = values
    return texts


def _words(data: Any, path: Path) -> dict[str, dict[str, tuple[str, ...]]]:
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise ConfigError(f"{path}: 'words' must be a mapping")
    words: dict[str, dict[str, tuple[str, ...]]] = {}
    for key, entry in data.items():
        found = entry if isinstance(entry, Mapping) else {}
        lists = {lang: found.get(lang) for lang in LANGUAGES}
        if not all(
            isinstance(v, list) and v and all(isinstance(w, str) and w.strip() for w in v)
            for v in lists.values()
        ):
            raise ConfigError(f"{path}: word list {key!r} needs non-empty 'ar' and 'en' lists")
        words[str(key)] = {lang: tuple(str(w) for w in lists[lang] or ()) for lang in LANGUAGES}
    return words


def load_prompts(
    path: Path = DEFAULT_PATH,
    prompts: Mapping[str, frozenset[str]] = INBOUND_PROMPTS,
    words: tuple[str, ...] = INBOUND_WORDS,
    *,
    section: str = "prompts",
) -> Prompts:
    """Read and check the file's ``section`` of prompts and its ``words`` (:class:`ConfigError`
    when it is unreadable, malformed, or lacks something of ``prompts`` / ``words``)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    if not isinstance(data, Mapping):
        raise ConfigError(f"{path}: expected 'prompts' and 'words' mappings")
    loaded = Prompts(_texts(data.get(section), path, section), _words(data.get("words"), path))
    loaded.require(prompts, words)
    return loaded

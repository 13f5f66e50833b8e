"""Citizen- and staff-facing texts in Arabic and English, read from ``settings/messages.yml``.

The texts are data, not code: each entry holds ``{ar, en}`` with the same ``{placeholders}``.
Entries may be grouped in sections; a nested entry's key joins the path with ``_``
(``escalation_email: {reason: {sla: {ar, en}}}`` is ``escalation_email_reason_sla``).
"""

from __future__ import annotations

import os
import string
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from ticket_service.config import LANGUAGES, REPO_ROOT, ConfigError, Text

FILE_NAME = "messages.yml"


@dataclass(frozen=True)
class Messages:
    texts: Mapping[str, Text]

    def text(self, key: str, language: str, **fields: str) -> str:
        """The text ``key`` in ``language`` (ar or en) with its placeholders filled in.
        KeyError when the key or a placeholder's value is missing."""
        return self.texts[key].get(language).format_map(fields)


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _entries(key: str, raw: object) -> dict[str, Text]:
    """``raw`` as one entry (``{ar, en}``) or a section of entries, flattened."""
    if isinstance(raw, Mapping) and not any(k in raw for k in LANGUAGES):
        out: dict[str, Text] = {}
        for name, value in raw.items():
            out.update(_entries(f"{key}_{name}", value))
        return out
    return {key: _entry(key, raw)}


def _entry(key: str, raw: object) -> Text:
    if not isinstance(raw, Mapping) or not all(isinstance(raw.get(k), str) for k in LANGUAGES):
        raise ConfigError(f"{FILE_NAME}: {key} needs both 'ar' and 'en' text")
    text = Text(ar=raw["ar"], en=raw["en"])
    try:
        same = _placeholders(text.ar) == _placeholders(text.en)
    except ValueError as exc:
        raise ConfigError(f"{FILE_NAME}: {key}: {exc}") from exc
    if not same:
        raise ConfigError(f"{FILE_NAME}: {key}: the ar and en texts need the same placeholders")
    return text


def load_messages(
    settings_dir: Path | None = None, env: Mapping[str, str] | None = None
) -> Messages:
    """Read ``messages.yml`` from ``settings_dir`` (default: ``TAWASUL_SETTINGS_DIR`` or the
    repository's ``settings/``, as ``config.load_settings`` does). ConfigError when invalid."""
    env = os.environ if env is None else env
    base = settings_dir or Path(env.get("TAWASUL_SETTINGS_DIR", REPO_ROOT / "settings"))
    path = base / FILE_NAME
    try:
        with path.open(encoding="utf-8") as fh:
            raw = yaml.safe_load(fh) or {}
    except FileNotFoundError as exc:
        raise ConfigError(f"settings file missing: {path}") from exc
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{FILE_NAME}: expected a mapping of message keys")
    texts: dict[str, Text] = {}
    for key, value in raw.items():
        texts.update(_entries(str(key), value))
    return Messages(texts)

"""The adapter's own bilingual texts (texts.yml beside this module)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

from bot.errors import ConfigError

PATH = Path(__file__).with_name("texts.yml")
DEFAULT_LANGUAGE = "ar"


@cache
def _texts() -> dict[str, dict[str, str]]:
    with PATH.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    if not isinstance(data, dict) or not all(
        isinstance(v, dict) and DEFAULT_LANGUAGE in v for v in data.values()
    ):
        raise ConfigError(f"{PATH}: every entry needs at least an {DEFAULT_LANGUAGE!r} text")
    return data


def text(key: str, language: str) -> str:
    """The text ``key`` in ``language``, Arabic when that language has none."""
    entry = _texts()[key]
    return entry.get(language) or entry[DEFAULT_LANGUAGE]

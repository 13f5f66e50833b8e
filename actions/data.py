"""The actions' data files (YAML next to this module), read once per process."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

from nlu_components.arabic_text import normalise

HERE = Path(__file__).resolve().parent


@cache
def load(name: str) -> Any:
    """The parsed ``actions/<name>`` (``faq.yml``, ``vocabulary.yml``)."""
    with (HERE / name).open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def clean(text: str) -> str:
    """Text as the word lists are matched: normalised Arabic, lower case, words only."""
    words = "".join(c if c.isalnum() else " " for c in normalise(text).casefold())
    return " ".join(words.split())


def contains_phrase(cleaned: str, phrase: str) -> bool:
    """Whether ``cleaned`` (from :func:`clean`) holds ``phrase`` as whole words."""
    target = clean(phrase)
    return bool(target) and f" {target} " in f" {cleaned} "

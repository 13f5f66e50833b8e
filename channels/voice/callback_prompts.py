"""What a callback call says around the update: the ``callback:`` section of
``settings/voice_prompts.yml`` (key → ``{ar, en}``), checked at start-up like the IVR's own
prompts (:class:`channels.voice.prompts.Prompts`)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from channels.voice.prompts import DEFAULT_PATH, Prompts, load_prompts

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
    return load_prompts(path, CALLBACK_PROMPTS, (), section="callback")

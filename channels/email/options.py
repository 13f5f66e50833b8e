"""Buttons by e-mail: a numbered list of choices, and the citizen's numeric reply mapped back
to the chosen button's payload (``2``, ``٢``, ``(2)``, ``2.``, ``option 2``, ``الخيار ٢``, or
the option's title itself)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.model import Button

__all__ = ["choose", "numbered"]

_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
_CHOICE = re.compile(
    r"^\s*(?:(?:option|choice|number|no\.?|رقم|الخيار|خيار)\s*)?[(\[]?\s*"
    r"([0-9٠-٩۰-۹]{1,2})\s*[)\].]?\s*$",
    re.IGNORECASE,
)


def numbered(buttons: Sequence[Button]) -> list[str]:
    """``["1. Potholes", "2. Street lighting", ...]``."""
    return [f"{index}. {button.title}" for index, button in enumerate(buttons, start=1)]


def _fold(text: str) -> str:
    return " ".join(text.casefold().split())


def choose(text: str | None, options: Sequence[Button]) -> str | None:
    """The payload of the option ``text`` picks, None when it picks none."""
    if not text or not options:
        return None
    found = _CHOICE.match(text)
    if found:
        index = int(found.group(1).translate(_DIGITS))
        return options[index - 1].payload if 1 <= index <= len(options) else None
    wanted = _fold(text)
    for option in options:
        if _fold(option.title) == wanted:
            return option.payload
    return None

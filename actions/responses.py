"""Reading a response's text from the domain the Rasa server sends with each action call, for
the few texts an action must combine or choose itself (a status word inside
``utter_ticket_status``, a reply in the language just switched to)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _language_of(variation: Mapping[str, Any]) -> str | None:
    """The ``language`` slot value a variation's condition asks for; None without one."""
    for condition in variation.get("condition") or []:
        if isinstance(condition, Mapping) and condition.get("name") == "language":
            value = condition.get("value")
            return str(value) if value is not None else None
    return None


def text_of(domain: Mapping[str, Any], response: str, language: str) -> str | None:
    """The text of ``response`` for ``language``: the variation whose condition selects it,
    else the one without a condition (the default, Arabic); None when the domain lacks it."""
    variations = (domain.get("responses") or {}).get(response) or []
    chosen = [v for v in variations if isinstance(v, Mapping) and _language_of(v) == language]
    default = [v for v in variations if isinstance(v, Mapping) and not v.get("condition")]
    for variation in chosen + default:
        text = variation.get("text")
        if isinstance(text, str) and text:
            return text
    return None

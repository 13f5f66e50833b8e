"""Environment values that more than one adapter's settings parse the same way."""

from __future__ import annotations

import math

from bot.errors import ConfigError

__all__ = ["bounded_number"]


def bounded_number(raw: str, name: str, default: float, low: float, high: float) -> float:
    """``raw``, the value of the variable ``name``, as a finite number in ``[low, high]``;
    ``default`` when it is blank. Anything else raises :class:`ConfigError` naming ``name``."""
    raw = raw.strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {raw!r}") from None
    if not (math.isfinite(value) and low <= value <= high):
        raise ConfigError(f"{name} must be between {low:g} and {high:g}")
    return value

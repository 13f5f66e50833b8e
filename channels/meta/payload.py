"""Lenient reads from a decoded Graph webhook body, shared by both Meta parsers: a field of
the wrong type reads as missing (the event is then skipped), never raises."""

from __future__ import annotations

import json
import math
from typing import Any

from bot.errors import MalformedPayload
from bot.model import Location

__all__ = ["as_dict", "as_list", "as_str", "load", "valid_location"]


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def as_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def load(raw: bytes, object_type: str, what: str) -> dict[str, Any]:
    """The JSON object of a webhook body whose ``object`` is ``object_type`` with an
    ``entry`` list; :class:`MalformedPayload` (``not a <what> webhook``) otherwise."""
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedPayload(f"not JSON: {exc}") from exc
    if not isinstance(data, dict) or data.get("object") != object_type:
        raise MalformedPayload(f"not a {what} webhook")
    if not isinstance(data.get("entry"), list):
        raise MalformedPayload("webhook without an entry list")
    return data


def valid_location(
    lat: Any, long: Any, *, name: str | None = None, address: str | None = None
) -> Location | None:
    """A :class:`Location` for finite numeric coordinates on the globe, else None."""
    if isinstance(lat, bool) or isinstance(long, bool):
        return None
    if not isinstance(lat, int | float) or not isinstance(long, int | float):
        return None
    if not (math.isfinite(lat) and math.isfinite(long)):
        return None
    if not (-90 <= lat <= 90 and -180 <= long <= 180):
        return None
    return Location(lat=float(lat), long=float(long), address=address, name=name)

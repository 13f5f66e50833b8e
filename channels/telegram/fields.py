"""Typed reads from decoded Bot API JSON: a wrong or missing field is a
:class:`bot.errors.MalformedPayload`, never a KeyError or TypeError."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, TypeVar

from bot.errors import MalformedPayload

JSONObject = Mapping[str, Any]
T = TypeVar("T")


def _required(value: T | None, kind: str, key: str) -> T:
    if value is None:
        raise MalformedPayload(f"missing {kind} {key!r}")
    return value


def obj(data: JSONObject, key: str) -> JSONObject:
    return _required(opt_obj(data, key), "object", key)


def opt_obj(data: JSONObject, key: str) -> JSONObject | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise MalformedPayload(f"{key!r} is not an object")
    return value


def integer(data: JSONObject, key: str) -> int:
    return _required(opt_int(data, key), "integer", key)


def opt_int(data: JSONObject, key: str) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise MalformedPayload(f"{key!r} is not an integer")
    return value


def number(data: JSONObject, key: str) -> float:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MalformedPayload(f"{key!r} is not a number")
    try:
        result = float(value)
    except OverflowError:
        raise MalformedPayload(f"{key!r} is out of range") from None
    if not math.isfinite(result):
        raise MalformedPayload(f"{key!r} is not a finite number")
    return result


def string(data: JSONObject, key: str) -> str:
    return _required(opt_str(data, key), "string", key)


def opt_str(data: JSONObject, key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise MalformedPayload(f"{key!r} is not a string")
    return value


def objects(data: JSONObject, key: str) -> list[JSONObject]:
    """An optional array of objects (missing → empty)."""
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        raise MalformedPayload(f"{key!r} is not an array of objects")
    return value

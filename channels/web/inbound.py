"""Citizen messages of the web chat API: request bodies → validated fields → InboundMessage.

Pure functions. Anything a client may get wrong raises :class:`ApiError` (a
:class:`bot.errors.MalformedPayload`) with a code from ``texts.yml`` and the HTTP status.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.errors import MalformedPayload
from bot.model import Attachment, Contact, InboundMessage, Location

__all__ = [
    "CHANNEL",
    "ApiError",
    "MessageRequest",
    "parse_json_object",
    "parse_message",
    "to_inbound",
    "user_entry",
    "validate_message",
]

CHANNEL = "web"
MAX_PAYLOAD = 1000
MAX_ADDRESS = 300
_CLIENT_ID = re.compile(r"[A-Za-z0-9._:-]{1,100}")


class ApiError(MalformedPayload):
    """A request the API refuses: ``code`` names the message in texts.yml, ``status`` the
    HTTP status, ``params`` fill the message's placeholders."""

    def __init__(self, code: str, status: int = 400, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.status = status
        self.params = params


@dataclass(frozen=True, slots=True)
class MessageRequest:
    """What a citizen sent: at least one of text, payload, location (or a photo beside)."""

    client_message_id: str | None = None
    text: str | None = None
    payload: str | None = None
    location: Location | None = None
    language: str | None = None


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """A UTF-8 JSON object, else ``invalid_body``."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ApiError("invalid_body") from None
    if not isinstance(data, dict):
        raise ApiError("invalid_body")
    return data


def parse_message(raw: bytes, max_text: int) -> MessageRequest:
    """A ``POST .../messages`` body; one of text, payload, location is required."""
    request = validate_message(parse_json_object(raw), max_text)
    if request.text is None and request.payload is None and request.location is None:
        raise ApiError("empty_message")
    return request


def validate_message(data: Mapping[str, Any], max_text: int) -> MessageRequest:
    """The fields of a message (JSON body or photo form); unknown keys are ignored."""
    return MessageRequest(
        client_message_id=_client_id(data.get("client_message_id")),
        text=_text(data.get("text"), max_text),
        payload=_payload(data.get("payload")),
        location=_location(data.get("location")),
        language=_language(data.get("language")),
    )


def _client_id(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _CLIENT_ID.fullmatch(value):
        raise ApiError("invalid_client_message_id")
    return value


def _text(value: object, max_text: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > max_text:
        raise ApiError("invalid_text", max=max_text)
    value = value.replace("\x00", "").strip()
    return value or None


def _payload(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.startswith("/") or len(value) > MAX_PAYLOAD:
        raise ApiError("invalid_payload", max=MAX_PAYLOAD)
    return value


def _location(value: object) -> Location | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ApiError("invalid_location")
    lat, long = _coordinate(value.get("lat"), 90.0), _coordinate(value.get("long"), 180.0)
    if lat is None or long is None:
        raise ApiError("invalid_location")
    address = value.get("address")
    if address is not None and (not isinstance(address, str) or len(address) > MAX_ADDRESS):
        raise ApiError("invalid_location")
    return Location(lat=lat, long=long, address=address or None)


def _coordinate(value: object, bound: float) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:  # a huge JSON integer
        return None
    return number if math.isfinite(number) and -bound <= number <= bound else None


def _language(value: object) -> str | None:
    if value is None:
        return None
    if value not in ("ar", "en"):
        raise ApiError("invalid_language")
    return str(value)


def to_inbound(
    user_id: str,
    client_message_id: str,
    request: MessageRequest,
    timestamp: float,
    attachments: tuple[Attachment, ...] = (),
) -> InboundMessage:
    """The hub's message. ``provider_message_id`` is ``<user_id>:<client_message_id>``, so a
    retried POST is the same message to the hub's dedup and one client's ids never collide
    with another's."""
    return InboundMessage(
        channel=CHANNEL,
        provider_message_id=f"{user_id}:{client_message_id}",
        user_id=user_id,
        timestamp=timestamp,
        text=request.text,
        payload=request.payload,
        location=request.location,
        attachments=attachments,
        contact=Contact(ids={"web": user_id}),
        language_hint=request.language,
    )


def user_entry(
    client_message_id: str,
    request: MessageRequest,
    timestamp: float,
    photo: str | None = None,
) -> dict[str, Any]:
    """The citizen's message as a history entry (what the page shows again on reload)."""
    entry: dict[str, Any] = {
        "role": "user",
        "time": round(timestamp, 3),
        "client_message_id": client_message_id,
        "text": request.text,
    }
    if request.payload is not None:
        entry["payload"] = request.payload
    if request.location is not None:
        entry["location"] = {"lat": request.location.lat, "long": request.location.long}
        if request.location.address:
            entry["location"]["address"] = request.location.address
    if photo is not None:
        entry["photo"] = photo
    if request.language is not None:
        entry["language"] = request.language
    return entry

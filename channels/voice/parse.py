"""Twilio's voice webhook parameters (protocols.md §5.1) → :class:`CallParams`: pure."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from bot.errors import MalformedPayload

__all__ = ["CallParams", "caller_number", "parse_call"]

#: ``CA`` + 32 hex in Twilio; other TwiML providers use UUIDs. Anything else is refused.
_CALL_SID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{9,63}")
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
_DIGITS = re.compile(r"[0-9*#]{0,64}")
MAX_SPEECH = 2000
MAX_URL = 2048


@dataclass(frozen=True, slots=True)
class CallParams:
    """What a handler reads from one webhook; optional fields are None when absent."""

    call_sid: str
    account_sid: str | None
    caller: str | None  # ``From``, E.164, None for anonymous / withheld numbers
    digits: str | None
    speech: str | None
    confidence: float | None
    recording_url: str | None
    dial_status: str | None
    direction: str | None


def caller_number(raw: str | None) -> str | None:
    """``From`` when it is an E.164 number (withheld callers show as ``anonymous``,
    ``+266696687`` or ``client:…``: None)."""
    if raw and _E164.fullmatch(raw) and raw != "+266696687":
        return raw
    return None


def _first(params: Sequence[tuple[str, str]], name: str) -> str | None:
    return next((value for key, value in params if key == name), None)


def _confidence(raw: str | None) -> float | None:
    if raw is None or not raw.strip():
        return None
    try:
        value = float(raw)
    except ValueError:
        raise MalformedPayload("Confidence is not a number") from None
    if not math.isfinite(value) or not 0.0 <= value <= 1.0:
        raise MalformedPayload("Confidence must be between 0 and 1")
    return value


def _recording_url(raw: str | None) -> str | None:
    if not raw:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(raw) > MAX_URL:
        raise MalformedPayload("RecordingUrl is not an http(s) URL")
    return raw


def parse_call(params: Sequence[tuple[str, str]]) -> CallParams:
    """The call's parameters; :class:`MalformedPayload` without a well-formed ``CallSid`` or
    with values no Twilio request carries (non-keypad ``Digits``, a ``Confidence`` outside
    0–1, a ``RecordingUrl`` that is not a URL)."""
    call_sid = _first(params, "CallSid")
    if call_sid is None or not _CALL_SID.fullmatch(call_sid):
        raise MalformedPayload("CallSid is missing or malformed")
    digits = _first(params, "Digits")
    if digits is not None and not _DIGITS.fullmatch(digits):
        raise MalformedPayload("Digits must be keypad keys")
    speech = _first(params, "SpeechResult")
    if speech is not None:
        speech = " ".join(speech.split())[:MAX_SPEECH] or None
    return CallParams(
        call_sid=call_sid,
        account_sid=_first(params, "AccountSid"),
        caller=caller_number(_first(params, "From")),
        digits=digits or None,
        speech=speech,
        confidence=_confidence(_first(params, "Confidence")),
        recording_url=_recording_url(_first(params, "RecordingUrl")),
        dial_status=_first(params, "DialCallStatus"),
        direction=_first(params, "Direction"),
    )

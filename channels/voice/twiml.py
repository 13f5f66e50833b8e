"""Building TwiML with ``twilio.twiml.voice_response`` inside Twilio's documented limits.

- ``<Say>``: Twilio warns (13521) past 3 000 bytes of text for Polly voices, 5 000 for Google
  voices, 4 096 for the basic ones, and 4 500 characters URL-encoded for any; a longer text is
  split at a sentence or word boundary into several ``<Say>`` (:func:`say_chunks`).
- The whole response: at most 64 kB (error 11750); :func:`render` raises
  :class:`TwimlTooLarge` beyond it, and :data:`SPOKEN_BUDGET` is what callers keep spoken text
  under so it never happens.
- Characters XML 1.0 cannot carry (control characters) are dropped from spoken text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import quote

from twilio.twiml.voice_response import (  # type: ignore[import-untyped]
    Gather,
    VoiceResponse,
)

from channels.voice.config import VoiceConfig

__all__ = [
    "MAX_RESPONSE_BYTES",
    "MAX_SAY_URLENCODED",
    "SPOKEN_BUDGET",
    "Gather",
    "Speaker",
    "TwimlTooLarge",
    "VoiceResponse",
    "clean_text",
    "render",
    "say_byte_limit",
    "say_chunks",
    "spell_digits",
]

MAX_RESPONSE_BYTES = 64 * 1024
MAX_SAY_URLENCODED = 4500
#: UTF-8 bytes of spoken text one response may carry (the rest of 64 kB is markup).
SPOKEN_BUDGET = 40 * 1024
CONTENT_TYPE = "text/xml"

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff\ud800-\udfff]")
#: Where to cut a long text, best first: after a sentence, a clause, a word.
_BREAKS = ((". ", "؟ ", "? ", "! ", "۔ "), ("، ", ", ", "؛ ", "; "), (" ",))


class TwimlTooLarge(ValueError):
    """A response over Twilio's 64 kB."""


def say_byte_limit(voice: str) -> int:
    """UTF-8 bytes one ``<Say>`` may hold with ``voice``."""
    if voice.startswith("Polly."):
        return 3000
    if voice.startswith("Google."):
        return 5000
    return 4096


def _fits(text: str, byte_limit: int) -> bool:
    return len(text.encode("utf-8")) <= byte_limit and len(quote(text)) <= MAX_SAY_URLENCODED


def clean_text(text: str) -> str:
    """``text`` without characters XML cannot carry, whitespace runs collapsed."""
    return " ".join(_NOT_XML.sub("", text).split())


def say_chunks(text: str, voice: str) -> list[str]:
    """``text`` (cleaned) in pieces that each fit one ``<Say>`` with ``voice``, cut after
    a sentence end, a comma or a space when there is one; nothing for a blank text."""
    rest = clean_text(text)
    limit = say_byte_limit(voice)
    chunks: list[str] = []
    while rest:
        if _fits(rest, limit):
            chunks.append(rest)
            break
        low, high = 1, len(rest)  # the longest prefix that fits
        while low < high:
            middle = (low + high + 1) // 2
            if _fits(rest[:middle], limit):
                low = middle
            else:
                high = middle - 1
        cut = _cut(rest[:low])
        chunks.append(rest[:cut].strip())
        rest = rest[cut:].strip()
    return [c for c in chunks if c]


def _cut(head: str) -> int:
    """Where to end a chunk that may be at most ``head``: the last sentence end in its second
    half, else the last clause end, else the last space, else all of it."""
    for group in _BREAKS:
        at = max(head.rfind(b) + len(b) for b in group)
        if at > len(head) // 2:
            return at
    return len(head)


def spell_digits(number: str, separator: str) -> str:
    """A number to be read digit by digit: ``"1234"`` → ``"1, 2, 3, 4"``."""
    return separator.join(ch for ch in number if ch.isdigit())


def render(response: VoiceResponse) -> bytes:
    """The response as UTF-8 XML with its declaration; :class:`TwimlTooLarge` past 64 kB."""
    body = str(response.to_xml(xml_declaration=True)).encode("utf-8")
    if len(body) > MAX_RESPONSE_BYTES:
        raise TwimlTooLarge(f"TwiML of {len(body)} bytes is over {MAX_RESPONSE_BYTES}")
    return body


class Speaker:
    """Adds spoken text and ``<Gather>`` verbs with the configured voices and languages."""

    def __init__(self, config: VoiceConfig) -> None:
        self._config = config

    def say(self, parent: VoiceResponse | Gather, text: str, language: str) -> int:
        """``text`` as one or more ``<Say voice language>``; the UTF-8 bytes added."""
        voice = self._config.voice(language)
        added = 0
        for chunk in say_chunks(text, voice):
            parent.say(chunk, voice=voice, language=self._config.say_language(language))
            added += len(chunk.encode("utf-8"))
        return added

    def gather(
        self,
        parent: VoiceResponse,
        *,
        action: str,
        language: str,
        speech: bool = True,
        num_digits: int | None = None,
        finish_on_key: str | None = None,
        timeout: int = 6,
        hints: Sequence[str] = (),
    ) -> Gather:
        """``<Gather>`` posting to ``action`` (a public URL) even when nothing was said or
        pressed (``actionOnEmptyResult``), so every silence comes back to us."""
        attributes: dict[str, object] = {
            "action": action,
            "method": "POST",
            "input": "dtmf speech" if speech else "dtmf",
            "timeout": timeout,
            "action_on_empty_result": True,
        }
        if speech:
            attributes["language"] = self._config.speech_language(language)
            attributes["speech_timeout"] = "auto"
            if hints:
                attributes["hints"] = ", ".join(h[:100] for h in hints[:100])
        if num_digits is not None:
            attributes["num_digits"] = num_digits
        if finish_on_key is not None:
            attributes["finish_on_key"] = finish_on_key
        return parent.gather(**attributes)

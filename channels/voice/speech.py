"""The bot's replies as the caller hears them: pure.

- Texts lose what a voice cannot say (emoji and other symbols, markdown marks); numbers of
  five digits or more — ticket numbers, references, phone numbers — are read digit by digit.
- Each line of a text is a sentence (bullets dropped, a full stop added where none ends it),
  so the voice pauses where a chat would break the line.
- Buttons become "for <title>, press <key>" (:func:`channels.voice.menus.assign_keys`, at
  most ten; the last reply with buttons sets the keys, as only its question is still open).
- ``request_location`` has no picker on the phone: the question is followed by the
  ``location_hint`` prompt (say the district and street).
- The photo question (the report form's ``utter_ask_photo_url``: its only button is the Skip
  payload ``/deny``) cannot be answered on a phone: :func:`photo_question` finds it, and the
  channel answers it with Skip on the caller's behalf (see README.md "Photos").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from bot.model import Button, OutboundMessage
from channels.voice.menus import assign_keys
from channels.voice.prompts import Prompts
from nlu_components.arabic_text import to_ascii_digits

__all__ = ["SKIP_PAYLOAD", "Spoken", "photo_question", "speakable", "spoken_replies"]

#: The report form's "no photo" answer (docs/bot.md: the Skip button ``/deny``).
SKIP_PAYLOAD = "/deny"
_LONG_NUMBER = re.compile(r"\+?\d+")
_MARKUP = re.compile(r"[*_`~#>|\[\]]")
_BULLET = re.compile(r"^\s*[•◦▪‣\-–]\s*")
_ENDS_SENTENCE = (".", "!", "?", "؟", "،", ",", ":", "؛", ";", "…")
_MIN_SPELLED = 5


def speakable(text: str, separator: str) -> str:
    """``text`` fit for text-to-speech (see the module docstring)."""
    text = to_ascii_digits(text)
    text = "".join(
        " " if unicodedata.category(ch) in ("So", "Sk", "Cs", "Co") or ch == "·" else ch
        for ch in text
    )
    text = _MARKUP.sub(" ", text)
    lines = [_BULLET.sub("", line).strip() for line in text.splitlines()]
    text = " ".join(
        line if line.endswith(_ENDS_SENTENCE) or i == len(lines) - 1 else line + "."
        for i, line in enumerate(lines)
        if line
    )

    def spell(found: re.Match[str]) -> str:
        plain = found.group(0).lstrip("+")
        if len(plain) < _MIN_SPELLED:
            return found.group(0)
        return separator.join(plain)

    return " ".join(_LONG_NUMBER.sub(spell, text).split())


def photo_question(message: OutboundMessage) -> bool:
    """The report form asking for a photo (its only button is Skip)."""
    return len(message.buttons) == 1 and message.buttons[0].payload == SKIP_PAYLOAD


@dataclass(frozen=True, slots=True)
class Spoken:
    """What to say (in order) and the keys of the open question."""

    texts: tuple[str, ...]
    keys: tuple[tuple[str, Button], ...]


def spoken_replies(replies: Sequence[OutboundMessage], prompts: Prompts, language: str) -> Spoken:
    """The replies' texts, prompts added where a phone needs them, and the keys of the
    last reply with buttons (its "press" lines end ``texts``)."""
    separator = prompts.text("digit_separator", language)
    texts: list[str] = []
    buttons: tuple[Button, ...] = ()
    for reply in replies:
        if photo_question(reply):
            texts.append(prompts.text("photo_skipped", language))
            continue
        if reply.text.strip():
            texts.append(_sentence(speakable(reply.text, separator)))
        if reply.request_location:
            texts.append(prompts.text("location_hint", language))
        if reply.buttons:
            buttons = reply.buttons
    keys = tuple(assign_keys(buttons))
    texts.extend(press_lines(keys, prompts, language))
    return Spoken(tuple(t for t in texts if t), keys)


def _sentence(text: str) -> str:
    return text if not text or text.endswith(_ENDS_SENTENCE) else text + "."


def press_lines(keys: Sequence[tuple[str, Button]], prompts: Prompts, language: str) -> list[str]:
    """ "For <title>, press <key>" for each button."""
    separator = prompts.text("digit_separator", language)
    return [
        prompts.text(
            "press_for",
            language,
            digit=key,
            title=speakable(button.title, separator) or button.payload,
        )
        for key, button in keys
    ]

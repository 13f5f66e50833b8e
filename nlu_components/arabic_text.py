"""Arabic text normalisation and ticket-number extraction: pure, dependency-free functions.

This module is imported both inside the Rasa environment (Python 3.10, by the custom NLU
components next to it) and by the app (Python >= 3.11), so it uses the standard library only
and no syntax newer than 3.10.

What :func:`normalise` does, in one pass over the text:

* drops the harakat and tanween (U+064B-U+0652), superscript alef (U+0670) and tatweel (U+0640);
* drops the combining maddah / hamza marks (U+0653-U+0655) of decomposed text, composing
  ``و`` + hamza above into ``ؤ`` and ``ي`` + hamza above into ``ئ`` (on an alef the mark just
  goes, as every alef form becomes a bare alef anyway);
* unifies alef forms ``أ إ آ ٱ`` into ``ا`` and alef maqsura ``ى`` into ``ي``;
* optionally (``taa_marbuta=True``, the default) turns ``ة`` into ``ه``;
* converts Arabic-Indic (``٠``-``٩``) and Persian (``۰``-``۹``) digits to ASCII.

Only characters of the Arabic block (U+0600-U+06FF) are ever touched, so Latin text passes
through unchanged, and the function is idempotent.
"""

from __future__ import annotations

import re

__all__ = [
    "TICKET_MIN_DIGITS",
    "extract_ticket_numbers",
    "find_ticket_numbers",
    "normalise",
    "normalise_with_offsets",
    "original_span",
    "to_ascii_digits",
]

TATWEEL = "\u0640"
HAMZA_ABOVE = "\u0654"
#: Harakat and tanween (fathatan .. sukun), superscript alef, tatweel.
_DROPPED = frozenset(chr(c) for c in range(0x064B, 0x0653)) | {"\u0670", TATWEEL}
#: Combining maddah above, hamza above, hamza below (decomposed forms of آ أ إ ؤ ئ).
_COMBINING_HAMZA = frozenset({"\u0653", HAMZA_ABOVE, "\u0655"})
#: Letter + combining hamza above -> precomposed letter (only those we keep as such).
_HAMZA_COMPOSE: dict[str, str] = {"\u0648": "\u0624", "\u064a": "\u0626"}  # و→ؤ, ي→ئ

_LETTERS: dict[str, str] = {
    "\u0623": "\u0627",  # أ → ا
    "\u0625": "\u0627",  # إ → ا
    "\u0622": "\u0627",  # آ → ا
    "\u0671": "\u0627",  # ٱ → ا
    "\u0649": "\u064a",  # ى → ي
}
TAA_MARBUTA = "\u0629"
HEH = "\u0647"

_DIGITS: dict[str, str] = {}
for _i in range(10):
    _DIGITS[chr(0x0660 + _i)] = str(_i)  # Arabic-Indic
    _DIGITS[chr(0x06F0 + _i)] = str(_i)  # Extended Arabic-Indic (Persian / Urdu)
_DIGIT_TABLE = str.maketrans(_DIGITS)

_MAP_WITH_TAA: dict[str, str] = {**_LETTERS, **_DIGITS, TAA_MARBUTA: HEH}
_MAP_WITHOUT_TAA: dict[str, str] = {**_LETTERS, **_DIGITS}

#: Ticket numbers (Open311 ``service_request_id``) are digits only, at least this many.
TICKET_MIN_DIGITS = 6

# A run of 6+ ASCII digits, optionally written with a leading '#', that is not part of a
# longer token: not glued to a Latin letter or another digit, not a phone number in
# international form (+…), not part of a decimal or grouped number (12.345678, 1,234,567).
_TICKET_RE = re.compile(
    r"(?<![0-9A-Za-z+])(?<![0-9][.,])"
    rf"(?:#\s*)?(?P<number>[0-9]{{{TICKET_MIN_DIGITS},}})"
    r"(?![0-9A-Za-z])(?![.,][0-9])"
)


def _is_arabic_block(char: str) -> bool:
    return "\u0600" <= char <= "\u06ff"


def normalise_with_offsets(text: str, *, taa_marbuta: bool = True) -> tuple[str, list[int]]:
    """Normalise ``text`` and map original offsets to normalised ones.

    Returns ``(normalised, offsets)`` where ``offsets`` has ``len(text) + 1`` entries and
    ``offsets[i]`` is the length of the normalised text produced from ``text[:i]``. So the
    span ``text[start:end]`` becomes ``normalised[offsets[start]:offsets[end]]``, which is how
    entity annotations of training examples follow the text.
    """
    mapping = _MAP_WITH_TAA if taa_marbuta else _MAP_WITHOUT_TAA
    out: list[str] = []
    offsets: list[int] = [0] * (len(text) + 1)
    for i, char in enumerate(text):
        offsets[i] = len(out)
        if not _is_arabic_block(char):
            out.append(char)
        elif char in _DROPPED:
            continue
        elif char in _COMBINING_HAMZA:
            # Compose with the letter it sits on (harakat in between were already dropped).
            if char == HAMZA_ABOVE and out and out[-1] in _HAMZA_COMPOSE:
                out[-1] = _HAMZA_COMPOSE[out[-1]]
            continue
        else:
            out.append(mapping.get(char, char))
    offsets[len(text)] = len(out)
    return "".join(out), offsets


def original_span(text: str, offsets: list[int], start: int, end: int) -> tuple[int, int]:
    """Map the span ``[start, end)`` of the normalised text back to ``text``.

    ``offsets`` is what :func:`normalise_with_offsets` returned for ``text``. The original span
    starts at the character that produced the first normalised one and ends after the one
    that produced the last, including the marks dropped right after it (a final kasra,
    tanween, tatweel...). Out-of-range positions are clamped.
    """
    producers = [i for i in range(len(text)) if offsets[i + 1] > offsets[i]]
    start = max(0, min(start, len(producers)))
    end = max(start, min(end, len(producers)))
    original_start = producers[start] if start < len(producers) else len(text)
    if end == start:
        return original_start, original_start
    original_end = producers[end - 1] + 1
    while original_end < len(text) and offsets[original_end + 1] == offsets[original_end]:
        original_end += 1  # a dropped mark belonging to the last letter
    return original_start, original_end


def normalise(text: str, *, taa_marbuta: bool = True) -> str:
    """Return the normalised form of ``text`` (see the module docstring). Idempotent."""
    if not any(_is_arabic_block(c) for c in text):
        return text
    return normalise_with_offsets(text, taa_marbuta=taa_marbuta)[0]


def to_ascii_digits(text: str) -> str:
    """Replace Arabic-Indic (٠-٩) and Persian (۰-۹) digits with ASCII digits; nothing else."""
    return text.translate(_DIGIT_TABLE)


def find_ticket_numbers(text: str) -> list[tuple[int, int, str]]:
    """Find ticket numbers in ``text``: ``(start, end, digits)`` for each match, in order.

    ``start``/``end`` delimit the match in ``text`` itself, including a leading ``#`` when
    there is one; ``digits`` is the number in ASCII digits. ``text`` may use Arabic-Indic or
    Persian digits (converting digits keeps every offset, as it is one character for one).
    Duplicates are kept here (each occurrence has its own span).
    """
    ascii_text = to_ascii_digits(text)
    return [(m.start(), m.end(), m.group("number")) for m in _TICKET_RE.finditer(ascii_text)]


def extract_ticket_numbers(text: str) -> list[str]:
    """Return the ticket numbers in ``text`` as ASCII-digit strings, first occurrence first,
    without duplicates. ``text`` may be raw or normalised; digits are converted first."""
    seen: dict[str, None] = {}
    for _start, _end, number in find_ticket_numbers(text):
        seen.setdefault(number, None)
    return list(seen)

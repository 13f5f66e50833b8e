"""X's text rules: the weighted length of a post, DM size, and what must never be public.

Weighted length follows twitter-text 3 (the counter X's own clients use): text is NFC
normalised; code points U+0000–U+10FF (Latin, Arabic, Hebrew, Cyrillic …), U+2000–U+200D,
U+2010–U+201F and U+2032–U+2037 weigh 1, everything else (CJK, emoji) 2; a URL weighs 23.
twitter-text counts a whole emoji sequence as 2 where we count 2 per code point: we may
over-count, never under-count.
"""

from __future__ import annotations

import re
import unicodedata

MAX_TWEET_WEIGHT = 280
MAX_DM_CHARS = 10_000
URL_WEIGHT = 23
LIGHT_RANGES = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))
URL = re.compile(r"https?://\S+", re.IGNORECASE)
# Digits of any script (ASCII, Arabic-Indic, Extended Arabic-Indic), with the separators
# people put into phone and ticket numbers.
DIGIT_RUN = re.compile(r"[0-9٠-٩۰-۹](?:[\s\-–.()/+]*[0-9٠-٩۰-۹])*")
EMAIL = re.compile(r"[^\s@]+@[^\s@]+\.[^\s@]+")
#: A public text with a run of this many digits may carry a phone or a ticket number.
PRIVATE_DIGITS = 6


def _weight(char: str) -> int:
    point = ord(char)
    return 1 if any(low <= point <= high for low, high in LIGHT_RANGES) else 2


def weighted_length(text: str) -> int:
    """The length X checks against the 280 limit of a post."""
    text = unicodedata.normalize("NFC", text)
    total, position = 0, 0
    for match in URL.finditer(text):
        total += sum(_weight(c) for c in text[position : match.start()]) + URL_WEIGHT
        position = match.end()
    return total + sum(_weight(c) for c in text[position:])


def looks_private(text: str) -> bool:
    """True when a text meant for a public post holds what may be personal data: an e-mail
    address, or a run of six or more digits (a phone number, a ticket number, an id)."""
    if EMAIL.search(text):
        return True
    return any(
        sum(c.isdigit() for c in run.group()) >= PRIVATE_DIGITS for run in DIGIT_RUN.finditer(text)
    )


def split_text(text: str, limit: int = MAX_DM_CHARS) -> list[str]:
    """Pieces of at most ``limit`` characters, cut at a line break or a space when one is
    in the second half of a piece."""
    pieces = []
    while len(text) > limit:
        cut = max(text.rfind("\n", limit // 2, limit), text.rfind(" ", limit // 2, limit))
        cut = cut if cut > 0 else limit
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text or not pieces:
        pieces.append(text)
    return pieces

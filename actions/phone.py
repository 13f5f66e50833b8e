"""Saudi mobile numbers as citizens type them, in one canonical form (E.164, ``+9665XXXXXXXX``).

Accepted: ``05XXXXXXXX``, ``5XXXXXXXX``, ``+9665XXXXXXXX``, ``009665XXXXXXXX``, ``9665XXXXXXXX``,
with spaces, dashes, dots or brackets anywhere and Arabic-Indic or Persian digits.
"""

from __future__ import annotations

import re

from nlu_components.arabic_text import to_ascii_digits

_SEPARATORS = re.compile(r"[\s\-.()\u200e\u200f\u202a-\u202e]+")
_SAUDI_MOBILE = re.compile(r"(?:\+966|00966|966|0)?(5\d{8})")
_INTERNATIONAL = re.compile(r"(?:\+|00)?([1-9]\d{7,14})")


def _compact(text: str) -> str:
    return _SEPARATORS.sub("", to_ascii_digits(text.strip()))


def saudi_mobile(text: str) -> str | None:
    """``+9665XXXXXXXX`` for a Saudi mobile number written any accepted way, else None."""
    match = _SAUDI_MOBILE.fullmatch(_compact(text))
    return f"+966{match.group(1)}" if match else None


def canonical_phone(text: str) -> str | None:
    """A channel's phone number (any country, as WhatsApp gives it): the Saudi form when it is
    one, else ``+`` and its digits; None when it is not a phone number at all."""
    saudi = saudi_mobile(text)
    if saudi:
        return saudi
    match = _INTERNATIONAL.fullmatch(_compact(text))
    return f"+{match.group(1)}" if match else None

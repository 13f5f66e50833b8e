"""What kind of number a message contains: features for the intent classifier (pure Python).

Rasa's ``CountVectorsFeaturizer`` turns every number into the same ``__NUMBER__`` token, so a
rating ("٤ بشكل عام"), a ticket number ("is 2304718 fixed?") and a phone number
("050 444 2187") look alike to the intent classifier, and a question about a ticket drifts
towards ``rate`` or ``inform``. :func:`number_shapes` tells them apart:

* ``phone``: a Saudi mobile number (``05XXXXXXXX``, ``+9665XXXXXXXX``, ``9665…``), digits
  possibly grouped by spaces or dashes (``050 444 2187``, ``+966 55 876 2210``);
* ``ticket``: a ticket number as :func:`nlu_components.arabic_text.find_ticket_numbers` finds
  it (6+ digits, optional ``#``) that is not a phone number;
* ``small_number``: a lone digit 1-5 (a rating on the 1-5 scale), not part of a longer number;
* ``digits_only``: digits and no letters at all (a bare number, a phone, a ticket).

Standard library only and Python 3.10 syntax: the module is imported by the Rasa environment
(``nlu_components.intent_classifier``) and may be by the app. Arabic-Indic and Persian digits
count as digits (they are converted first).
"""

from __future__ import annotations

import re

from nlu_components.arabic_text import find_ticket_numbers, to_ascii_digits

__all__ = ["NUMBER_SHAPES", "number_shapes"]

#: The features, in the order :func:`number_shapes` returns them.
NUMBER_SHAPES: tuple[str, ...] = ("phone", "ticket", "small_number", "digits_only")

# Digits with single spaces or dashes between groups ("050 444 2187", "+966-55-876-2210").
_DIGIT_GROUPS = re.compile(r"\+?[0-9]+(?:[ \-][0-9]+)*")
_MOBILE = re.compile(r"^(?:\+?966|0)5[0-9]{8}$")
_SMALL = re.compile(r"(?<![0-9A-Za-z.,/])[1-5](?![0-9A-Za-z]|[.,][0-9])")
_LETTER = re.compile(r"[^\W\d_]")


def number_shapes(text: str) -> tuple[bool, ...]:
    """The :data:`NUMBER_SHAPES` of ``text``, as booleans in that order."""
    ascii_text = to_ascii_digits(text)
    phones: list[tuple[int, int]] = []
    for match in _DIGIT_GROUPS.finditer(ascii_text):
        if _MOBILE.match(re.sub(r"[ \-]", "", match.group())):
            phones.append(match.span())
    tickets = [
        (start, end)
        for start, end, _digits in find_ticket_numbers(ascii_text)
        if not any(p_start <= start and end <= p_end for p_start, p_end in phones)
    ]
    small = _SMALL.search(ascii_text) is not None
    digits_only = any(c.isdigit() for c in ascii_text) and _LETTER.search(ascii_text) is None
    return (bool(phones), bool(tickets), small, digits_only)

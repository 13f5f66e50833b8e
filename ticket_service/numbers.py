"""Citizen-facing reference numbers.

Ticket numbers are 9 digits: 8 random digits (the first never 0) and a Luhn check digit.
They are speakable and keypad-typeable, not sequential (nobody finds other people's reports by
counting), and the check digit lets the bot catch a mistyped number before asking the database.
Follow-up references use 10 digits so the two can never be confused.
"""

from __future__ import annotations

import secrets

TICKET_DIGITS = 9
FOLLOWUP_DIGITS = 10


def luhn_check_digit(payload: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(payload)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def is_valid(number: str) -> bool:
    """True when ``number`` is all ASCII digits and its last digit is the Luhn check digit."""
    if len(number) < 2 or not number.isascii() or not number.isdigit():
        return False
    return luhn_check_digit(number[:-1]) == number[-1]


def _new(length: int) -> str:
    first = str(1 + secrets.randbelow(9))
    rest = "".join(str(secrets.randbelow(10)) for _ in range(length - 2))
    payload = first + rest
    return payload + luhn_check_digit(payload)


def new_ticket_number() -> str:
    return _new(TICKET_DIGITS)


def new_followup_reference() -> str:
    return _new(FOLLOWUP_DIGITS)

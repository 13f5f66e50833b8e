"""Pure checks and conversions of what citizens and channels send (no I/O): service codes,
ticket numbers, ratings, map pins, photos, "skip" answers and the field to correct."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeGuard

from actions.data import clean, contains_phrase, load
from nlu_components.arabic_text import TICKET_MIN_DIGITS, extract_ticket_numbers, to_ascii_digits

#: The value of ``photo_url`` when the citizen chose to send no photo.
PHOTO_SKIPPED = "skip"
#: A skip answer is short: "no", "skip it", "لا ما عندي".
MAX_SKIP_WORDS = 5
#: A message describes a problem when it has this many words besides request words.
MIN_DESCRIPTION_WORDS = 3
#: An answer to "describe the problem" needs this much to be useful to the crew.
MIN_ANSWER_LETTERS = 6
MIN_ANSWER_WORDS = 2
MAX_TICKET_DIGITS = 12


def service_codes(domain: Mapping[str, Any]) -> tuple[str, ...]:
    """The service codes the domain declares (values of the categorical ``service`` slot)."""
    slot = domain.get("slots", {}).get("service", {})
    values = slot.get("values") if isinstance(slot, Mapping) else None
    return tuple(str(v) for v in values) if isinstance(values, list) else ()


def parse_service(value: Any, domain: Mapping[str, Any]) -> str | None:
    if not isinstance(value, str):
        return None
    code = value.strip().lower()
    codes = service_codes(domain)
    if codes:
        return code if code in codes else None
    return code if code and code.replace("_", "").isalpha() else None


def parse_ticket_number(value: Any) -> str | None:
    """Digits only (Arabic-Indic converted, a leading ``#`` dropped) and long enough."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    digits = to_ascii_digits(value).strip().lstrip("#").strip()
    if digits.isascii() and digits.isdigit() and len(digits) >= TICKET_MIN_DIGITS:
        return digits if len(digits) <= MAX_TICKET_DIGITS else None
    found = extract_ticket_numbers(value)
    return found[0] if len(found) == 1 and len(found[0]) <= MAX_TICKET_DIGITS else None


def parse_rating(value: Any) -> int | None:
    """1 to 5 from ``"4"``, ``"٤"``, ``4`` or ``"4/5"``."""
    if isinstance(value, bool):
        return None
    text = to_ascii_digits(str(value)).strip() if value is not None else ""
    head = text.split("/")[0].strip()
    return int(head) if head.isascii() and head.isdigit() and 1 <= int(head) <= 5 else None


def pin_text(address: Any, lat: float, long: float) -> str:
    """What a shared pin says about the place: its address, else its coordinates."""
    if isinstance(address, str) and address.strip():
        return address.strip()
    return f"{lat:.6f}, {long:.6f}"


def is_url(value: Any) -> TypeGuard[str]:
    return isinstance(value, str) and value.startswith(("https://", "http://")) and " " not in value


def photo_from_attachments(attachments: Any) -> str | None:
    """The URL of the first image the channel attached (docs/bot.md ``attachments``)."""
    if not isinstance(attachments, list):
        return None
    for item in attachments:
        if isinstance(item, Mapping) and item.get("type") == "image" and is_url(item.get("url")):
            return str(item["url"])
    return None


def is_cancel(text: str) -> bool:
    """Whether the message asks to cancel (vocabulary.yml ``cancel``)."""
    cleaned = clean(text)
    return any(contains_phrase(cleaned, word) for word in load("vocabulary.yml")["cancel"])


def is_skip(text: str, intent: str | None) -> bool:
    """A "no photo" answer: the deny intent (the Skip button), or a short message holding a
    skip word; never a request to cancel."""
    if is_cancel(text):
        return False
    if intent == "deny":
        return True
    cleaned = clean(text)
    if not cleaned or len(cleaned.split()) > MAX_SKIP_WORDS:
        return False
    return any(contains_phrase(cleaned, word) for word in load("vocabulary.yml")["skip"])


def correction_field(text: str, fields: list[str]) -> str | None:
    """Which of ``fields`` (slot names) the citizen wants to correct, if they named exactly
    one (by its slot name, as the buttons send, or a word of vocabulary.yml)."""
    cleaned = clean(text)
    words: Mapping[str, list[str]] = load("vocabulary.yml")["fields"]
    named = [
        field
        for field in fields
        if cleaned == clean(field.replace("_", " "))
        or text.strip() == field
        or any(contains_phrase(cleaned, word) for word in words.get(field, []))
    ]
    return named[0] if len(named) == 1 else None


def is_description(text: str) -> bool:
    """Whether the message that starts a report or complaint already describes it, beyond
    "I want to file a report" (vocabulary.yml ``request_words``)."""
    groups: Mapping[str, list[str]] = load("vocabulary.yml")["request_words"]
    request = {clean(str(word)) for words in groups.values() for word in words}
    return sum(1 for word in clean(text).split() if word not in request) >= MIN_DESCRIPTION_WORDS


def long_enough(answer: str) -> bool:
    """Whether a typed description says enough (else utter_description_too_short)."""
    letters = sum(1 for c in answer if c.isalpha())
    return letters >= MIN_ANSWER_LETTERS and len(answer.split()) >= MIN_ANSWER_WORDS

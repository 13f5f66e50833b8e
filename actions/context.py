"""What actions read from the tracker about the current turn: the channel's metadata, the
citizen's identity and language, the message id, and idempotency keys derived from them.

Rasa sends the metadata and id of a message on its ``user`` event (``latest_message`` carries
them only when a test or another client puts them there); both places are read.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from typing import Any

from rasa_sdk.interfaces import Tracker

from ticket_client import Contact

DEFAULT_CHANNEL = "rest"
DEFAULT_LANGUAGE = "ar"
LANGUAGES = ("ar", "en")
FALLBACK_INTENT = "nlu_fallback"
#: Sent by action_validate_slot_mappings when the citizen asked for the other language.
LANGUAGE_SWITCHED = "utter_language_switched"


def latest_user_event(tracker: Tracker) -> Mapping[str, Any] | None:
    for event in reversed(tracker.events):
        if isinstance(event, Mapping) and event.get("event") == "user":
            return event
    return None


def _from_latest(tracker: Tracker, key: str) -> Any:
    value = (tracker.latest_message or {}).get(key)
    if value:
        return value
    event = latest_user_event(tracker)
    return event.get(key) if event else None


def metadata(tracker: Tracker) -> Mapping[str, Any]:
    """The metadata the channel sent with the latest message (docs/bot.md), or ``{}``."""
    value = _from_latest(tracker, "metadata")
    return value if isinstance(value, Mapping) else {}


def message_id(tracker: Tracker) -> str | None:
    value = _from_latest(tracker, "message_id")
    return str(value) if value else None


def text(tracker: Tracker) -> str:
    value = (tracker.latest_message or {}).get("text")
    return value if isinstance(value, str) else ""


def intent(tracker: Tracker) -> str | None:
    value = (tracker.latest_message or {}).get("intent")
    name = value.get("name") if isinstance(value, Mapping) else None
    return name if isinstance(name, str) else None


def event_intent(event: Mapping[str, Any]) -> str | None:
    """The intent of a ``user`` event."""
    parsed = event.get("parse_data")
    found = parsed.get("intent") if isinstance(parsed, Mapping) else None
    name = found.get("name") if isinstance(found, Mapping) else None
    return name if isinstance(name, str) else None


def value_before_message(tracker: Tracker, slot: str) -> Any:
    """The value ``slot`` had before the citizen's latest message (what to keep when the
    message brings an unusable one, e.g. a name mistaken for a service)."""
    seen_user = False
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "user":
            seen_user = True
        elif seen_user and kind == "slot" and event.get("name") == slot:
            return event.get("value")
        elif seen_user and kind in ("session_started", "restart"):
            return None
    return None


def keep_answered(tracker: Tracker, slot: str, value: Any) -> Any:
    """``value`` for ``slot``, unless a form is asking another question and the slot was
    already answered: then what the citizen answered stays (an entity NLU found in, say, the
    name "John Smith" is no new location). Corrections go through ``correct_field``."""
    if value in (None, ""):  # emptied on purpose (a correction)
        return value
    previous = value_before_message(tracker, slot)
    asked = tracker.get_slot("requested_slot")
    if tracker.active_loop_name and asked not in (None, slot) and previous not in (None, ""):
        return previous
    return value


def said_this_turn(tracker: Tracker, responses: tuple[str, ...]) -> bool:
    """Whether one of ``responses`` was sent since the citizen's latest message."""
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "user":
            return False
        if kind == "bot" and (event.get("metadata") or {}).get("utter_action") in responses:
            return True
    return False


def proactive(tracker: Tracker) -> str | None:
    """Why the hub, not the citizen, sent the latest message (metadata ``proactive``:
    ``survey``, ``survey_reminder``); None for the citizen's own messages."""
    value = metadata(tracker).get("proactive")
    return value if isinstance(value, str) and value else None


def language(tracker: Tracker) -> str:
    value = tracker.get_slot("language")
    return value if value in LANGUAGES else DEFAULT_LANGUAGE


def channel(tracker: Tracker) -> str:
    value = tracker.get_slot("channel") or metadata(tracker).get("channel")
    return value if isinstance(value, str) and value else DEFAULT_CHANNEL


def is_public(tracker: Tracker) -> bool:
    return tracker.get_slot("public") is True or metadata(tracker).get("public") is True


def channel_contact(tracker: Tracker) -> Mapping[str, Any]:
    """The ``contact`` metadata of the most recent message that had one."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            contact = (event.get("metadata") or {}).get("contact")
            if isinstance(contact, Mapping):
                return contact
    contact = metadata(tracker).get("contact")
    return contact if isinstance(contact, Mapping) else {}


def reporter(tracker: Tracker, *, name: str | None = None, phone: str | None = None) -> Contact:
    """The citizen as the ticket service's reporter: ``(channel, sender_id)`` plus what they
    told us. A phone or e-mail counts as verified only when the channel verified that very one
    (WhatsApp's number). In public channels nothing personal is sent."""
    channel_name = channel(tracker)
    if is_public(tracker):
        return Contact(channel_name, tracker.sender_id, language=language(tracker))
    known = channel_contact(tracker)
    contact_phone = tracker.get_slot("contact_phone")
    email = tracker.get_slot("contact_email")
    phone = phone or contact_phone
    return Contact(
        channel=channel_name,
        channel_user_id=tracker.sender_id,
        name=name,
        phone=phone,
        email=email,
        language=language(tracker),
        phone_verified=bool(phone and phone == contact_phone and known.get("phone_verified")),
        email_verified=bool(email and known.get("email_verified") is True),
    )


def idempotency_key(kind: str, sender_id: str, message: str | None) -> str:
    """A key that is the same each time this sender's message is handled for ``kind``, so a
    retried action files nothing twice (sender ids can be long: the key is a digest)."""
    if message is None:  # nothing stable to derive it from
        return f"bot:{kind}:{uuid.uuid4().hex}"
    digest = hashlib.sha256(f"{sender_id}\x00{message}".encode()).hexdigest()[:40]
    return f"bot:{kind}:{digest}"

"""``action_validate_slot_mappings``: the global slots, filled on every user message from the
channel's metadata and the text (docs/bot.md, "Slots"), and the global entity slots checked.

Slots filled here need a ``custom`` mapping (no action) in domain.yml. Nothing is set when a
value did not change, so the tracker does not fill up with repeated events.

Two things happen here because this is the one action Rasa runs on every message:

* an explicit request for the other language is answered at once with
  ``utter_language_switched`` in the new language (the dialogue needs no intent for it);
* a report kept while the ticket service was down (``pending_report``) is filed, quietly
  unless it works (``utter_report_filed`` with its number), before the message is handled.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import ValidationAction
from rasa_sdk.interfaces import Tracker
from rasa_sdk.types import DomainDict

from actions import context
from actions.phone import canonical_phone
from actions.report import FIELDS, service_slot
from actions.responses import text_of
from actions.submit_report import retry_pending
from actions.values import (
    parse_rating,
    parse_ticket_number,
    photo_from_attachments,
    pin_text,
)
from nlu_components.language import detect, switch_request

Slots = dict[str, Any]


def _changed(tracker: Tracker, slot: str, value: Any) -> Slots:
    return {} if tracker.get_slot(slot) == value else {slot: value}


def choose_language(text: str, current: Any, hint: Any) -> str | None:
    """Explicit switch request > sticky previous value > the channel's hint (so only until a
    language is known: the first turn) > detection. None: nothing known yet."""
    asked = switch_request(text)
    if asked:
        return asked
    if current in context.LANGUAGES:
        return str(current)
    if hint in context.LANGUAGES:
        return str(hint)
    detected = detect(text)
    return detected if detected in context.LANGUAGES else None


def _coordinate(value: Any, limit: float) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and -limit <= number <= limit else None


class ActionValidateSlotMappings(ValidationAction):
    """Rasa runs it after every user message (``action_extract_slots``)."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        events: list[EventType] = await super().run(dispatcher, tracker, domain)
        return events + await retry_pending(dispatcher, tracker, quiet=True)

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        # location_text is also a form slot; a shared pin's address fills it here.
        extra = ["location_text"] if "location_text" in domain.get("slots", {}) else []
        return list(domain_slots) + [s for s in extra if s not in domain_slots]

    def extract_language(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        current = tracker.get_slot("language")
        chosen = choose_language(
            context.text(tracker), current, context.metadata(tracker).get("language")
        )
        if not chosen or chosen == current:
            return {}
        if current in context.LANGUAGES:  # asked for: say so, in the new language
            text = text_of(domain, context.LANGUAGE_SWITCHED, chosen)
            if text:
                dispatcher.utter_message(response=context.LANGUAGE_SWITCHED, text=text)
        return {"language": chosen}

    def extract_channel(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        given = context.metadata(tracker).get("channel")
        if isinstance(given, str) and given:
            return _changed(tracker, "channel", given)
        return {} if tracker.get_slot("channel") else {"channel": context.DEFAULT_CHANNEL}

    def extract_public(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        return _changed(tracker, "public", context.metadata(tracker).get("public") is True)

    def _contact(self, tracker: Tracker) -> Mapping[str, Any]:
        contact = context.metadata(tracker).get("contact")
        return contact if isinstance(contact, Mapping) else {}

    def extract_contact_phone(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        raw = self._contact(tracker).get("phone")
        phone = canonical_phone(str(raw)) if raw else None
        return _changed(tracker, "contact_phone", phone) if phone else {}

    def extract_contact_email(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        email = self._contact(tracker).get("email")
        if isinstance(email, str) and "@" in email.strip()[1:-1]:
            return _changed(tracker, "contact_email", email.strip())
        return {}

    def extract_latitude(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        """A shared map pin: latitude, longitude and, for the report, its address as the
        location text (the coordinates themselves when the pin has no address)."""
        pin = context.metadata(tracker).get("location")
        if not isinstance(pin, Mapping):
            return {}
        lat, long = _coordinate(pin.get("lat"), 90), _coordinate(pin.get("long"), 180)
        if lat is None or long is None:
            return {}
        return {
            "latitude": lat,
            "longitude": long,
            "location_text": pin_text(pin.get("address"), lat, long),
        }

    def extract_location_text(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        return {}  # filled with the pin by extract_latitude; by the form otherwise

    def extract_photo_url(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        url = photo_from_attachments(context.metadata(tracker).get("attachments"))
        return _changed(tracker, "photo_url", url) if url else {}

    def extract_misses(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        """Any understood message ends a run of misses."""
        understood = context.intent(tracker) not in (None, context.FALLBACK_INTENT)
        return {"misses": 0.0} if understood and tracker.get_slot("misses") else {}

    # --- global entity slots: keep only values the rest of the bot can use ----------------

    def validate_service(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        return {"service": service_slot(value, tracker, domain)}

    def validate_ticket_id(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        previous = parse_ticket_number(context.value_before_message(tracker, "ticket_id"))
        if tracker.get_slot("requested_slot") == "reporter_phone":  # a phone, not a ticket
            return {"ticket_id": previous}
        return {"ticket_id": parse_ticket_number(value) or previous}

    def validate_rating(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        score = parse_rating(value)
        return {"rating": str(score) if score else None}

    # Slots this action extracts itself are valid as extracted (no "no validation method"
    # warning on every turn).

    def validate_language(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        return {"language": value if value in context.LANGUAGES else None}

    def validate_channel(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        return {"channel": value}

    def validate_public(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        return {"public": value is True}

    def validate_contact_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        return {"contact_phone": value}

    def validate_contact_email(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        return {"contact_email": value}

    def validate_latitude(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        return {"latitude": _coordinate(value, 90)}

    def validate_longitude(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        return {"longitude": _coordinate(value, 180)}

    def validate_photo_url(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        return {"photo_url": value}

    def validate_location_text(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        if isinstance(context.metadata(tracker).get("location"), Mapping):
            return {"location_text": value}  # a pin just shared: the citizen's own choice
        return {"location_text": context.keep_answered(tracker, "location_text", value)}

    def validate_correct_field(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        return {"correct_field": value if value in FIELDS else None}

    def validate_misses(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        return {"misses": value}

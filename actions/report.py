"""The report form: ``validate_report_form`` and the questions that need data
(``action_ask_service``, ``action_ask_reporter_phone``, ``action_ask_confirmed``).

Order (domain.yml ``report_form``): service → description → location_text → photo_url →
reporter_name → reporter_phone → confirmed.

* The message that starts the form is its description when it says more than "I want to
  report" (``values.is_description``).
* A shared pin answers the location (``action_validate_slot_mappings`` fills it); public
  channels skip the name and phone.
* A photo question answered "skip" / "no" (or the Skip button, ``/deny``) stores ``"skip"``.
* The phone the channel knows is offered for confirmation (``utter_confirm_phone``); "yes"
  takes it, "no" asks for another number.
* At the summary, "no" alone is not an answer (the form rejects it and rules.yml asks
  ``utter_ask_which_field``); the chosen field (``correct_field``, a button, or the field
  named in the message: "no, the location is wrong") is emptied, so the form asks it again
  and then shows the summary again.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT, FormValidationAction
from rasa_sdk.interfaces import Action, Tracker
from rasa_sdk.types import DomainDict

from actions import catalogue, context
from actions.phone import saudi_mobile
from actions.values import (
    PHOTO_SKIPPED,
    correction_field,
    is_cancel,
    is_description,
    is_skip,
    is_url,
    long_enough,
    parse_service,
)
from ticket_client import Service, TicketClientError

Slots = dict[str, Any]

FORM = "report_form"
PERSONAL_SLOTS = ("reporter_name", "reporter_phone")
FIELDS = ("service", "description", "location_text", "photo_url", *PERSONAL_SLOTS)
#: What correcting a field empties: the location goes with a shared pin.
CLEARED_WITH = {"location_text": ("location_text", "latitude", "longitude")}
CONFIRM_PHONE = "utter_confirm_phone"
MAX_NAME = 100


def has_pin(tracker: Tracker) -> bool:
    return tracker.get_slot("latitude") is not None and tracker.get_slot("longitude") is not None


def form_fields(tracker: Tracker) -> list[str]:
    """The fields a citizen may be asked for in this channel (and so may correct)."""
    public = context.is_public(tracker)
    return [f for f in FIELDS if not (public and f in PERSONAL_SLOTS)]


def phone_offer(tracker: Tracker) -> str | None:
    """``"offered"`` when the channel's number was offered for confirmation in this form and
    not refused, ``"declined"`` when the citizen said no to it, None when never offered."""
    state: str | None = None
    for event in tracker.events:
        kind = event.get("event")
        if kind == "active_loop" and event.get("name") == FORM:
            state = None
        elif kind == "bot" and (event.get("metadata") or {}).get("utter_action") == CONFIRM_PHONE:
            state = "offered"
        elif kind == "user" and state == "offered" and context.event_intent(event) == "deny":
            state = "declined"
    if state == "offered" and context.intent(tracker) == "deny":
        return "declined"
    return state


def cleared(field: str) -> Slots:
    """The slots to empty so the form asks ``field`` again, then the summary."""
    return {slot: None for slot in CLEARED_WITH.get(field, (field,))} | {"confirmed": None}


def service_slot(value: Any, tracker: Tracker, domain: DomainDict) -> str | None:
    """The service code to keep: the NLU may take a word for a service, so an answered
    service stays unless the message names a real one."""
    code = parse_service(value, domain)
    previous = parse_service(context.value_before_message(tracker, "service"), domain)
    return context.keep_answered(tracker, "service", code or previous)  # type: ignore[no-any-return]


class ValidateReportForm(FormValidationAction):
    def name(self) -> str:
        return "validate_report_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        chosen = tracker.get_slot("correct_field")
        correcting = self._asked(tracker, "confirmed")
        events: list[EventType] = await super().run(dispatcher, tracker, domain)
        if correcting:  # slots outside the form that go with an emptied field (a pin)
            emptied = {e["name"] for e in events if e.get("event") == "slot" and e["value"] is None}
            for field in emptied & CLEARED_WITH.keys():
                events += [SlotSet(slot, None) for slot in CLEARED_WITH[field] if slot != field]
        if chosen is not None:  # used up (extract_confirmed emptied the field it names)
            events.append(SlotSet("correct_field", None))
        return events

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        skipped: set[str] = set()
        if has_pin(tracker):
            skipped.add("location_text")
        if context.is_public(tracker):
            skipped.update(PERSONAL_SLOTS)
        return [slot for slot in domain_slots if slot not in skipped]

    def _asked(self, tracker: Tracker, slot: str | None) -> bool:
        return bool(tracker.get_slot(REQUESTED_SLOT) == slot)

    # --- extraction: what the domain's mappings leave to this action ----------------------

    def extract_description(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        """At activation: the message that started the report, when it describes it."""
        text = context.text(tracker)
        starting = self._asked(tracker, None) and context.intent(tracker) == "report_issue"
        if starting and tracker.get_slot("description") is None and is_description(text):
            return {"description": text.strip()}
        return {}

    def extract_photo_url(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        skipped = is_skip(context.text(tracker), context.intent(tracker))
        if skipped and self._asked(tracker, "photo_url") and tracker.get_slot("photo_url") is None:
            return {"photo_url": PHOTO_SKIPPED}
        return {}

    def extract_reporter_phone(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        """ "Yes" or "no" to the offered number (the domain maps typed numbers)."""
        if not self._asked(tracker, "reporter_phone"):
            return {}
        intent, offer = context.intent(tracker), phone_offer(tracker)
        contact_phone = tracker.get_slot("contact_phone")
        if intent == "affirm" and offer == "offered" and contact_phone:
            return {"reporter_phone": contact_phone}
        if intent == "deny" and offer == "declined" and not is_cancel(context.text(tracker)):
            return {"reporter_phone": None}  # an answer: the form asks for another number
        return {}

    def extract_confirmed(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        """The field to correct: the ``correct_field`` button, or named in the message."""
        if not self._asked(tracker, "confirmed"):
            return {}
        fields = form_fields(tracker)
        chosen = tracker.get_slot("correct_field")
        if chosen in fields:
            return cleared(str(chosen))
        if context.intent(tracker) in ("deny", "inform"):
            named = correction_field(context.text(tracker), fields)
            if named:
                return cleared(named)
        return {}

    # --- validation -----------------------------------------------------------------------

    def validate_service(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        return {"service": service_slot(value, tracker, domain)}

    def validate_description(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        if not isinstance(value, str) or not value.strip():
            return {"description": None}
        text = value.strip()
        if not long_enough(text):
            dispatcher.utter_message(response="utter_description_too_short")
            return {"description": None}
        return {"description": text}

    def validate_location_text(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        text = value.strip() if isinstance(value, str) else ""
        if not isinstance(context.metadata(tracker).get("location"), Mapping):  # no pin now
            text = context.keep_answered(tracker, "location_text", text) or ""
        if len(text) < 2:
            return {"location_text": None}
        if has_pin(tracker) and self._asked(tracker, "location_text"):
            dispatcher.utter_message(response="utter_location_received")
        return {"location_text": text}

    def validate_photo_url(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        if is_url(value):
            dispatcher.utter_message(response="utter_photo_received")
            return {"photo_url": value}
        if value == PHOTO_SKIPPED:
            return {"photo_url": value}
        if isinstance(value, str) and is_skip(value, context.intent(tracker)):
            return {"photo_url": PHOTO_SKIPPED}
        return {"photo_url": None}

    def validate_reporter_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        text = " ".join(value.split()) if isinstance(value, str) else ""
        letters = sum(1 for c in text if c.isalpha())
        ok = letters >= 2 and len(text) <= MAX_NAME and not any(c.isdigit() for c in text)
        return {"reporter_name": text if ok else None}

    def validate_reporter_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        if not isinstance(value, str) or not value.strip():
            return {"reporter_phone": None}
        if value == tracker.get_slot("contact_phone"):  # the channel's number, confirmed
            return {"reporter_phone": value}
        phone = saudi_mobile(value)
        if phone is None:
            dispatcher.utter_message(response="utter_invalid_phone")
        return {"reporter_phone": phone}

    def validate_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        ok = value is True and self._asked(tracker, "confirmed")
        return {"confirmed": True if ok else None}


def service_buttons(services: Iterable[Service]) -> list[dict[str, str]]:
    return [
        {
            "title": service.service_name,
            "payload": "/inform" + json.dumps({"service": service.service_code}),
        }
        for service in services
    ]


class ActionAskService(Action):
    """``utter_ask_service`` with one button per service of the ticket service's catalogue
    (``/inform{"service": "<code>"}``), named in the citizen's language; without buttons when
    the catalogue cannot be had."""

    def name(self) -> str:
        return "action_ask_service"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        try:
            services: tuple[Service, ...] = await catalogue.services(context.language(tracker))
        except TicketClientError:
            services = ()
        dispatcher.utter_message(response="utter_ask_service", buttons=service_buttons(services))
        return []


class ActionAskReporterPhone(Action):
    """The number the channel knows, to confirm (``utter_confirm_phone`` with
    {reporter_phone}); else, or after a "no", ``utter_ask_reporter_phone``."""

    def name(self) -> str:
        return "action_ask_reporter_phone"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        phone = tracker.get_slot("contact_phone")
        if phone and not context.is_public(tracker) and phone_offer(tracker) != "declined":
            dispatcher.utter_message(response=CONFIRM_PHONE, reporter_phone=phone)
        else:
            dispatcher.utter_message(response="utter_ask_reporter_phone")
        return []


class ActionAskConfirmed(Action):
    """The summary (``utter_report_summary``) with {service_name} (the catalogue's name in the
    citizen's language) and {location_text} (the text or the pin) filled in."""

    def name(self) -> str:
        return "action_ask_confirmed"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        code = tracker.get_slot("service")
        lat, long = tracker.get_slot("latitude"), tracker.get_slot("longitude")
        pin = f"{lat}, {long}" if has_pin(tracker) else ""
        dispatcher.utter_message(
            response="utter_report_summary",
            service_name=await catalogue.service_name(code, context.language(tracker))
            if code
            else "",
            location_text=tracker.get_slot("location_text") or pin,
        )
        return []

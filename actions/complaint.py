"""Complaints about staff or a service: ``validate_complaint_form`` (its ``description``; the
message that started it counts when it already tells what happened) and
``action_submit_complaint`` → ``utter_complaint_filed`` with its {reference}."""

from __future__ import annotations

from typing import Any

from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT, FormValidationAction
from rasa_sdk.interfaces import Action, Tracker
from rasa_sdk.types import DomainDict

from actions import context
from actions.errors import service_error
from actions.requests import create_request, latest_text_of
from actions.values import is_description, long_enough
from ticket_client import TicketClientError


class ValidateComplaintForm(FormValidationAction):
    def name(self) -> str:
        return "validate_complaint_form"

    def extract_description(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """At activation: the message that started the complaint, when it describes it."""
        text = context.text(tracker)
        starting = (
            tracker.get_slot(REQUESTED_SLOT) is None and context.intent(tracker) == "complain"
        )
        if starting and tracker.get_slot("description") is None and is_description(text):
            return {"description": text.strip()}
        return {}

    def validate_description(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = value.strip() if isinstance(value, str) else ""
        if text and not long_enough(text):
            dispatcher.utter_message(response="utter_description_too_short")
            return {"description": None}
        return {"description": text or None}


class ActionSubmitComplaint(Action):
    def name(self) -> str:
        return "action_submit_complaint"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        description = tracker.get_slot("description") or latest_text_of(tracker, "complain")
        try:
            result = await create_request(tracker, "complaint", description)
        except TicketClientError as exc:
            service_error(dispatcher, self.name(), exc)
            return []
        dispatcher.utter_message(
            response="utter_complaint_filed", reference=result.ticket.service_request_id
        )
        return [SlotSet("description", None), SlotSet("last_flow", "complaint")]

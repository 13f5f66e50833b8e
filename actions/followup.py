"""Follow-ups ("nobody responded to my report"): ``validate_followup_form`` (the ticket must
be the contact's own), ``action_ask_ticket_id`` (their open reports as buttons) and
``action_submit_followup`` (``utter_followup_filed`` with its {reference})."""

from __future__ import annotations

from typing import Any

from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.interfaces import Action, Tracker
from rasa_sdk.types import DomainDict

from actions import context, runtime
from actions.errors import service_error
from actions.status import MAX_BUTTONS, ticket_button
from actions.values import parse_ticket_number
from ticket_client import NotFound, ServiceUnavailable, TicketClientError


def followup_text(tracker: Tracker) -> str | None:
    """What the citizen wrote when asking for the follow-up."""
    for event in reversed(tracker.events):
        if event.get("event") == "user" and context.event_intent(event) == "follow_up":
            text = event.get("text")
            return text if isinstance(text, str) and text.strip() else None
    return None


class ValidateFollowupForm(FormValidationAction):
    def name(self) -> str:
        return "validate_followup_form"

    async def validate_ticket_id(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        number = parse_ticket_number(value)
        if number is None:
            if value is not None:
                dispatcher.utter_message(response="utter_invalid_ticket_id")
            return {"ticket_id": None}
        try:
            ticket = await runtime.current().tickets.ticket_for_contact(
                number, context.channel(tracker), tracker.sender_id
            )
        except ServiceUnavailable:
            return {"ticket_id": number}  # the submit checks again and tells the citizen
        except TicketClientError as exc:
            service_error(dispatcher, self.name(), exc)
            return {"ticket_id": None}
        if ticket is None:
            dispatcher.utter_message(response="utter_ticket_not_found", ticket_id=number)
            return {"ticket_id": None}
        return {"ticket_id": number}


class ActionAskTicketId(Action):
    """Which report? The contact's open reports as buttons (``/inform{"ticket_id": …}``):
    ``utter_choose_ticket`` for several, ``utter_ask_ticket_id`` (type the number) with the
    one button, or without any (none, a public channel, or the service unreachable)."""

    def name(self) -> str:
        return "action_ask_ticket_id"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        buttons: list[dict[str, str]] = []
        if not context.is_public(tracker):
            try:
                tickets = await runtime.current().tickets.contact_tickets(
                    context.channel(tracker),
                    tracker.sender_id,
                    limit=MAX_BUTTONS * 2,
                    language=context.language(tracker),
                )
            except TicketClientError:
                tickets = []
            open_reports = [t for t in tickets if t.kind == "report" and not t.closed]
            buttons = [ticket_button(t, "inform") for t in open_reports[:MAX_BUTTONS]]
        response = "utter_choose_ticket" if len(buttons) > 1 else "utter_ask_ticket_id"
        dispatcher.utter_message(response=response, buttons=buttons)
        return []


class ActionSubmitFollowup(Action):
    def name(self) -> str:
        return "action_submit_followup"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        number = parse_ticket_number(tracker.get_slot("ticket_id"))
        if number is None:
            dispatcher.utter_message(response="utter_ask_ticket_id")
            return []
        try:
            followup = await runtime.current().tickets.create_followup(
                number,
                channel=context.channel(tracker),
                text=followup_text(tracker),
                reporter=context.reporter(tracker),
                idempotency_key=context.idempotency_key(
                    "followup", tracker.sender_id, context.message_id(tracker)
                ),
            )
        except NotFound:
            dispatcher.utter_message(response="utter_ticket_not_found", ticket_id=number)
            return [SlotSet("ticket_id", None)]
        except TicketClientError as exc:
            service_error(dispatcher, self.name(), exc)
            return [SlotSet("ticket_id", None)]
        dispatcher.utter_message(
            response="utter_followup_filed", reference=followup.reference, ticket_id=number
        )
        return [SlotSet("ticket_id", None), SlotSet("last_flow", "followup")]

"""``action_request_callback``: the citizen wants a person → a callback request for the 940
agents (``utter_handoff`` with its {reference}); the conversation is now with an agent."""

from __future__ import annotations

from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.interfaces import Action, Tracker
from rasa_sdk.types import DomainDict

from actions.errors import service_error
from actions.requests import create_request, latest_text_of
from ticket_client import TicketClientError


class ActionRequestCallback(Action):
    def name(self) -> str:
        return "action_request_callback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        try:
            result = await create_request(
                tracker, "callback", latest_text_of(tracker, "human_handoff")
            )
        except TicketClientError as exc:
            service_error(dispatcher, self.name(), exc)
            return []
        dispatcher.utter_message(
            response="utter_handoff", reference=result.ticket.service_request_id
        )
        return [
            SlotSet("with_agent", True),
            SlotSet("misses", 0.0),
            SlotSet("last_flow", "handoff"),
        ]

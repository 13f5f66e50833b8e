"""``action_reset_report``: the citizen cancelled a form (report, complaint or follow-up);
forget what it collected (and a report pending filing)."""

from __future__ import annotations

from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT
from rasa_sdk.interfaces import Action, Tracker
from rasa_sdk.types import DomainDict

from actions.submit_report import cleared_report


class ActionResetReport(Action):
    def name(self) -> str:
        return "action_reset_report"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        others = ("ticket_id", "correct_field", REQUESTED_SLOT)
        return [*cleared_report(), *[SlotSet(slot, None) for slot in others]]

"""``action_session_start``: a new session keeps who the citizen is and how they talk to us
(language, channel, contact), and a report or closure-survey answers still waiting to be filed."""

from __future__ import annotations

from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.interfaces import Action, Tracker
from rasa_sdk.types import DomainDict

from actions.submit_report import REPORT_SLOTS
from actions.survey import SURVEY_SLOTS, survey_answered

KEPT = ("language", "channel", "public", "contact_phone", "contact_email")


class ActionSessionStart(Action):
    def name(self) -> str:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        kept = list(KEPT)
        if tracker.get_slot("pending_report") is True:
            kept += [*REPORT_SLOTS, "pending_report"]
        if survey_answered(tracker):  # the service was down when they were filed
            kept += SURVEY_SLOTS
        events: list[EventType] = [SessionStarted()]
        events += [SlotSet(s, tracker.get_slot(s)) for s in kept if tracker.get_slot(s) is not None]
        events.append(ActionExecuted("action_listen"))
        return events

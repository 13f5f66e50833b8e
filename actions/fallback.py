"""``action_clarify``: the bot did not understand. A message in another language gets the
bilingual offer of a person (``utter_other_language``); the second miss in a row offers a
person (``utter_offer_human``); otherwise a clarifying question (``utter_clarify``, or inside a
form ``utter_clarify_form``, after which the form asks its question again). A request to switch
language was already answered (``utter_language_switched``): nothing more. Any understood
message resets ``misses`` (actions/slots.py)."""

from __future__ import annotations

from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.interfaces import Action, Tracker
from rasa_sdk.types import DomainDict

from actions import context
from nlu_components.language import detect

MISSES_BEFORE_HUMAN = 2


class ActionClarify(Action):
    def name(self) -> str:
        return "action_clarify"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if context.said_this_turn(tracker, (context.LANGUAGE_SWITCHED,)):
            return []
        previous = tracker.get_slot("misses")
        misses = (int(previous) if isinstance(previous, int | float) else 0) + 1
        if detect(context.text(tracker)) == "other":
            dispatcher.utter_message(response="utter_other_language")
        elif misses >= MISSES_BEFORE_HUMAN:
            dispatcher.utter_message(response="utter_offer_human")
        elif tracker.active_loop_name:
            dispatcher.utter_message(response="utter_clarify_form")
        else:
            dispatcher.utter_message(response="utter_clarify")
        return [SlotSet("misses", float(misses))]

"""``action_store_rating``: the citizen's 1–5 rating of the answer they got, stored once per
message (``Idempotency-Key``) → ``utter_thanks_rating``. The score comes from the ``rating``
entity, else from the text itself (digits or words, as the closure survey reads them)."""

from __future__ import annotations

from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.interfaces import Action, Tracker
from rasa_sdk.types import DomainDict

from actions import context, runtime
from actions.errors import service_error
from actions.survey_answers import score_of
from actions.values import parse_rating
from ticket_client import TicketClientError


def given_rating(tracker: Tracker) -> int | None:
    """The ``rating`` slot or entity; else what the text says ("4", "٤ من ٥", "excellent":
    the closure survey's reading, survey_answers.score_of), as the NLU may miss the entity."""
    score = parse_rating(tracker.get_slot("rating"))
    if score is None:
        for value in tracker.get_latest_entity_values("rating"):
            score = score or parse_rating(value)
    if score is None:
        typed = score_of(context.text(tracker))
        score = typed if isinstance(typed, int) else None
    return score


class ActionStoreRating(Action):
    def name(self) -> str:
        return "action_store_rating"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        score = given_rating(tracker)
        if score is None:
            dispatcher.utter_message(response="utter_ask_rating")
            return []
        try:
            await runtime.current().tickets.add_rating(
                kind="answer",
                score=score,
                conversation_id=tracker.sender_id,
                channel=context.channel(tracker),
                idempotency_key=context.idempotency_key(
                    "rating", tracker.sender_id, context.message_id(tracker)
                ),
            )
        except TicketClientError as exc:
            service_error(dispatcher, self.name(), exc)
            return [SlotSet("rating", None)]
        dispatcher.utter_message(response="utter_thanks_rating")
        return [SlotSet("rating", None), SlotSet("last_flow", None)]

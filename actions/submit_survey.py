"""``action_submit_survey``: the finished closure survey goes to the ticket service, or, when the
citizen said it is still not fixed, the report is reopened in their name.

Outcomes: ``utter_survey_thanks`` (the two scores echoed) or ``utter_survey_reopened``; the
survey answered meanwhile → ``utter_survey_already_answered``; reopened meanwhile →
``utter_survey_not_closed``; not theirs → ``utter_ticket_not_found``. When the service cannot
be reached the answers stay in their slots and ``utter_survey_saved_pending`` offers a "try
again" button (the start payload once more): the same survey starting again files them without
asking again (survey.py). Does nothing when no survey was started (a refused start).
"""

from __future__ import annotations

from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.interfaces import Action, Tracker
from rasa_sdk.types import DomainDict

from actions import context, runtime
from actions.errors import service_error
from actions.survey import COMMENT, cleared_survey
from actions.survey_answers import NO_COMMENT
from actions.values import parse_rating
from ticket_client import (
    Conflict,
    Contact,
    Forbidden,
    NotFound,
    ServiceUnavailable,
    TicketClientError,
)

SAVED_PENDING = "utter_survey_saved_pending"


def citizens_words(tracker: Tracker) -> str | None:
    """What the citizen wrote when saying it is not fixed (none for a button)."""
    text = context.text(tracker).strip()
    return text if text and not text.startswith("/") else None


class ActionSubmitSurvey(Action):
    def name(self) -> str:
        return "action_submit_survey"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        number = tracker.get_slot("survey_ticket")
        if not number:
            return []
        try:
            if tracker.get_slot("survey_not_fixed") is True:
                await self._reopen(dispatcher, tracker, number)
            elif not await self._submit(dispatcher, tracker, number):
                return cleared_survey()
        except ServiceUnavailable:
            dispatcher.utter_message(response=SAVED_PENDING)
            return []  # every answer kept for the next try
        except (NotFound, Forbidden):  # someone else's (a follower's) or gone: the same answer
            dispatcher.utter_message(response="utter_ticket_not_found", ticket_id=number)
            return cleared_survey()
        except TicketClientError as exc:
            service_error(dispatcher, self.name(), exc)
            return cleared_survey()
        return [*cleared_survey(), SlotSet("last_flow", "survey")]

    async def _reopen(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, number: str
    ) -> None:
        try:
            await runtime.current().tickets.reopen(
                number,
                note=citizens_words(tracker),
                contact=Contact(context.channel(tracker), tracker.sender_id),
            )
        except Conflict:  # not closed any more: staff reopened it already
            dispatcher.utter_message(response="utter_survey_not_closed", ticket_id=number)
            return
        dispatcher.utter_message(response="utter_survey_reopened", ticket_id=number)

    async def _submit(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, number: str
    ) -> bool:
        """File the scores; False when there were none to file (nothing said)."""
        quality = parse_rating(tracker.get_slot("survey_quality"))
        speed = parse_rating(tracker.get_slot("survey_speed"))
        if quality is None or speed is None:
            return False
        comment = tracker.get_slot(COMMENT)
        tickets = runtime.current().tickets
        try:
            result = await tickets.submit_survey(
                number,
                channel=context.channel(tracker),
                channel_user_id=tracker.sender_id,
                quality=quality,
                speed=speed,
                comment=None if comment in (None, NO_COMMENT) else str(comment),
            )
        except Conflict:  # answered meanwhile (another channel), or reopened: which one?
            ticket = await tickets.ticket_for_contact(
                number, context.channel(tracker), tracker.sender_id
            )
            closed = ticket is None or ticket.closed
            response = "utter_survey_already_answered" if closed else "utter_survey_not_closed"
            dispatcher.utter_message(response=response, ticket_id=number)
            return True
        dispatcher.utter_message(
            response="utter_survey_thanks",
            ticket_id=number,
            quality=result.quality,
            speed=result.speed,
        )
        return True

"""The closure survey (issue 5): ``action_start_survey`` checks the ticket and opens it,
``validate_survey_form`` reads the answers, ``action_reset_survey`` forgets them on a cancel.
Filing the answers (or reopening the report) is ``action_submit_survey`` (submit_survey.py).

The hub starts it with ``/start_survey{"ticket_id": "<n>"}`` in the reporter's conversation
(metadata ``proactive``: ``survey``, or ``survey_reminder`` for the single reminder); a
WhatsApp template tap or a citizen sends the same payload, so everything is checked here: the
ticket must be a closed report this contact filed (a follower is refused at once) with an
unanswered survey.

Rules (rules.yml): ``start_survey`` → this action → ``survey_form``. When the start is
refused, ``survey_ticket`` stays empty, the form has nothing to ask and ends at once, and
``action_submit_survey`` does nothing. Answers kept after the ticket service was down
(``utter_survey_saved_pending``) are reused when the same survey starts again, so the form
ends at once and they are filed without asking again.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT, FormValidationAction
from rasa_sdk.interfaces import Action, Tracker
from rasa_sdk.types import DomainDict

from actions import context, runtime
from actions.errors import service_error
from actions.survey_answers import (
    Reply,
    comment_answer,
    rating_answer,
    says_not_fixed,
)
from actions.values import parse_ticket_number
from ticket_client import TicketClientError

Slots = dict[str, Any]

FORM = "survey_form"
RATINGS = ("survey_quality", "survey_speed")
COMMENT = "survey_comment"
#: Everything one survey holds; kept only while its answers wait to be filed.
SURVEY_SLOTS = ("survey_ticket", *RATINGS, COMMENT, "survey_not_fixed")
REMINDER = "survey_reminder"


def cleared_survey() -> list[EventType]:
    return [SlotSet(slot, None) for slot in SURVEY_SLOTS]


def survey_answered(tracker: Tracker) -> bool:
    """Whether every answer of the survey in ``survey_ticket`` is known (they wait to be filed,
    or are being filed): "still not fixed", or both scores and the comment."""
    if tracker.get_slot("survey_ticket") is None:
        return False
    if tracker.get_slot("survey_not_fixed") is True:
        return True
    return all(tracker.get_slot(slot) is not None for slot in (*RATINGS, COMMENT))


def requested_ticket(tracker: Tracker) -> str | None:
    """The ticket number the start payload names (never the ``ticket_id`` slot: that one is
    the status and follow-up flows')."""
    for value in tracker.get_latest_entity_values("ticket_id"):
        number = parse_ticket_number(value)
        if number:
            return number
    return None


class ActionStartSurvey(Action):
    """Refused (``survey_ticket`` emptied): public channel → ``utter_public_invite_dm``; no
    number → ``utter_invalid_ticket_id``; unknown, someone else's, only followed (the survey is
    the reporter's: ``filed_by_contact`` false) or not a report → ``utter_ticket_not_found``; not
    closed → ``utter_survey_not_closed``; answered → ``utter_survey_already_answered``; service
    down → ``utter_service_error``. Otherwise
    ``survey_ticket`` is set and ``utter_survey_intro`` (``utter_survey_reminder`` for the
    hub's reminder) opens it, unless kept answers of this very survey are filed at once."""

    def name(self) -> str:
        return "action_start_survey"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        refused = [*cleared_survey(), SlotSet("rating", None)]
        number = requested_ticket(tracker)
        if context.is_public(tracker):
            dispatcher.utter_message(response="utter_public_invite_dm")
            return refused
        if number is None:
            dispatcher.utter_message(response="utter_invalid_ticket_id")
            return refused
        try:
            ticket = await runtime.current().tickets.ticket_for_contact(
                number, context.channel(tracker), tracker.sender_id
            )
        except TicketClientError as exc:
            service_error(dispatcher, self.name(), exc)
            return refused
        if ticket is None or ticket.kind != "report" or ticket.filed_by_contact is False:
            dispatcher.utter_message(response="utter_ticket_not_found", ticket_id=number)
            return refused
        if not ticket.closed:
            dispatcher.utter_message(response="utter_survey_not_closed", ticket_id=number)
            return refused
        if ticket.survey_answered:
            dispatcher.utter_message(response="utter_survey_already_answered", ticket_id=number)
            return refused
        if tracker.get_slot("survey_ticket") == number and survey_answered(tracker):
            return [SlotSet("rating", None)]  # kept answers: the form ends at once, filed
        opening = "utter_survey_reminder" if context.proactive(tracker) == REMINDER else None
        dispatcher.utter_message(response=opening or "utter_survey_intro", ticket_id=number)
        return [*cleared_survey(), SlotSet("survey_ticket", number), SlotSet("rating", None)]


class ValidateSurveyForm(FormValidationAction):
    """Quality and speed 1–5 from buttons, digits (Arabic-Indic too) or words
    (``survey_scale.yml``); not understood or out of range → ``utter_survey_invalid_score``
    and the question again (with its buttons). The comment is any text; "no", "لا شكراً",
    goodbye or the button → none. "Still not fixed" at any question sets ``survey_not_fixed``
    and ends the form (``action_submit_survey`` reopens the report). A message that is no
    answer (a question, an agent, goodbye, a cancel) is rejected: the rules handle it."""

    def name(self) -> str:
        return "validate_survey_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        asked = tracker.get_slot(REQUESTED_SLOT)
        if asked in (*RATINGS, COMMENT) and says_not_fixed(
            context.text(tracker), context.intent(tracker), rating_question=asked in RATINGS
        ):
            return [SlotSet("survey_not_fixed", True), SlotSet(REQUESTED_SLOT, None)]
        events: list[EventType] = await super().run(dispatcher, tracker, domain)
        answered = any(e.get("name") in (*RATINGS, COMMENT) and e.get("value") for e in events)
        if answered and tracker.get_slot("rating") is not None:
            events.append(SlotSet("rating", None))  # a button's entity, not a service rating
        return events

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        if tracker.get_slot("survey_ticket") is None or tracker.get_slot("survey_not_fixed"):
            return []  # nothing to ask: refused, or "still not fixed"
        return domain_slots

    def _rating(self, dispatcher: CollectingDispatcher, tracker: Tracker, slot: str) -> Slots:
        if tracker.get_slot(REQUESTED_SLOT) != slot:
            return {}
        answer = rating_answer(
            context.text(tracker),
            context.intent(tracker),
            tracker.get_latest_entity_values("rating"),
        )
        if answer is Reply.NOT_AN_ANSWER:
            return {}
        if answer is Reply.INVALID:
            dispatcher.utter_message(response="utter_survey_invalid_score")
            return {slot: None}
        return {slot: str(answer)}

    def extract_survey_quality(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        return self._rating(dispatcher, tracker, "survey_quality")

    def extract_survey_speed(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        return self._rating(dispatcher, tracker, "survey_speed")

    def extract_survey_comment(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        if tracker.get_slot(REQUESTED_SLOT) != COMMENT:
            return {}
        answer = comment_answer(context.text(tracker), context.intent(tracker))
        return {} if isinstance(answer, Reply) else {COMMENT: answer}

    # The extract methods above return final values.

    def validate_survey_quality(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        return {"survey_quality": value}

    def validate_survey_speed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        return {"survey_speed": value}

    def validate_survey_comment(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        return {COMMENT: value}


class ActionResetSurvey(Action):
    """The citizen stopped the survey (cancel, an agent, goodbye): forget its answers."""

    def name(self) -> str:
        return "action_reset_survey"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        return [*cleared_survey(), SlotSet("rating", None), SlotSet(REQUESTED_SLOT, None)]

"""Filing the report: ``action_submit_report`` after the form, ``action_retry_pending_report``
while a report is waiting because the ticket service was down.

The ``Idempotency-Key`` comes from the sender and the id of the message that completed the
form, on the first try and on every retry, so a report is never filed twice. When the service
cannot be reached the slots stay as they are, ``pending_report`` is set, and the citizen is
told the report is saved (``utter_report_saved_pending``).
"""

from __future__ import annotations

from typing import Any

from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.interfaces import Action, Tracker
from rasa_sdk.types import DomainDict

from actions import context, runtime
from actions.errors import service_error
from actions.values import is_url
from ticket_client import CreateResult, ServiceUnavailable, TicketClientError

SUBMIT = "action_submit_report"
RETRY = "action_retry_pending_report"
#: What a try to file the report answers; one try per message.
OUTCOMES = ("utter_report_filed", "utter_report_duplicate", "utter_report_saved_pending")
#: The slots of one report; cleared once it is filed or cancelled.
REPORT_SLOTS = (
    "service",
    "description",
    "location_text",
    "latitude",
    "longitude",
    "photo_url",
    "reporter_name",
    "reporter_phone",
    "confirmed",
)


def cleared_report() -> list[EventType]:
    return [SlotSet(slot, None) for slot in REPORT_SLOTS] + [SlotSet("pending_report", False)]


def submitted_message_id(tracker: Tracker) -> str | None:
    """The id of the message after which the report was last submitted."""
    latest: str | None = None
    found: str | None = None
    for event in tracker.events:
        if event.get("event") == "user":
            latest = event.get("message_id") or None
        elif event.get("event") == "action" and event.get("name") == SUBMIT:
            found = latest
    return found


async def file_report(tracker: Tracker, message: str | None) -> CreateResult:
    public = context.is_public(tracker)
    photo = tracker.get_slot("photo_url")
    reporter = context.reporter(
        tracker,
        name=None if public else tracker.get_slot("reporter_name"),
        phone=None if public else tracker.get_slot("reporter_phone"),
    )
    return await runtime.current().tickets.create(
        kind="report",
        service_code=tracker.get_slot("service"),
        description=tracker.get_slot("description"),
        lat=tracker.get_slot("latitude"),
        long=tracker.get_slot("longitude"),
        address=tracker.get_slot("location_text"),
        media_urls=[photo] if is_url(photo) else [],
        channel=context.channel(tracker),
        conversation_id=tracker.sender_id,
        language=context.language(tracker),
        reporter=reporter,
        idempotency_key=context.idempotency_key("report", tracker.sender_id, message),
    )


def announce(dispatcher: CollectingDispatcher, result: CreateResult) -> None:
    """``utter_report_filed`` or, for an open report of the same problem nearby,
    ``utter_report_duplicate``; both with {ticket_id} and {sla_hours}."""
    ticket = result.ticket
    params: dict[str, Any] = {
        "ticket_id": ticket.service_request_id,
        "sla_hours": ticket.sla_hours if ticket.sla_hours is not None else "",
    }
    response = "utter_report_duplicate" if result.duplicate else "utter_report_filed"
    dispatcher.utter_message(response=response, **params)


async def submit(
    dispatcher: CollectingDispatcher, tracker: Tracker, message: str | None, action: str
) -> list[EventType]:
    try:
        result = await file_report(tracker, message)
    except ServiceUnavailable:
        dispatcher.utter_message(response="utter_report_saved_pending")
        return [SlotSet("pending_report", True)]
    except TicketClientError as exc:
        service_error(dispatcher, action, exc)
        return [SlotSet("pending_report", False)]
    announce(dispatcher, result)
    return [*cleared_report(), SlotSet("last_flow", "report")]


class ActionSubmitReport(Action):
    def name(self) -> str:
        return SUBMIT

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if tracker.get_slot("confirmed") is not True:
            return []
        return await submit(dispatcher, tracker, context.message_id(tracker), SUBMIT)


async def retry_pending(
    dispatcher: CollectingDispatcher, tracker: Tracker, *, quiet: bool
) -> list[EventType]:
    """File the kept report with the key of its first try, at most once per message. Still
    unreachable: ``utter_report_saved_pending`` again, unless ``quiet``; the slots stay."""
    if tracker.get_slot("pending_report") is not True or context.said_this_turn(tracker, OUTCOMES):
        return []
    message = submitted_message_id(tracker) or context.message_id(tracker)
    if quiet:
        try:
            result = await file_report(tracker, message)
        except TicketClientError:
            return []
        announce(dispatcher, result)
        return [*cleared_report(), SlotSet("last_flow", "report")]
    return await submit(dispatcher, tracker, message, RETRY)


class ActionRetryPendingReport(Action):
    """Does nothing unless ``pending_report`` is set; then files the kept report. Every user
    message also tries it first, quietly (``action_validate_slot_mappings``): this action is
    for a rule or story that retries on request and says so when it fails again."""

    def name(self) -> str:
        return RETRY

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        return await retry_pending(dispatcher, tracker, quiet=False)

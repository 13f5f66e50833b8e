"""``action_check_status``: a ticket's status for the contact who filed or follows it, or the
contact's latest tickets as buttons when no number was given."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.interfaces import Action, Tracker
from rasa_sdk.types import DomainDict

from actions import context, runtime
from actions.errors import service_error
from actions.responses import text_of
from actions.values import parse_ticket_number
from ticket_client import Ticket, TicketClientError

MAX_BUTTONS = 5
#: Times are shown in Saudi Arabia's time (UTC+3 all year, no daylight saving).
LOCAL_TIME = timezone(timedelta(hours=3))
LISTED_KINDS = ("report", "complaint")


def local_time(value: datetime | None) -> str:
    return value.astimezone(LOCAL_TIME).strftime("%Y-%m-%d %H:%M") if value else ""


#: The domain response naming each status (for a closed ticket, its extended status).
STATUS_RESPONSES = {
    "open": "utter_status_open",
    "in_progress": "utter_status_in_progress",
    "fixed": "utter_status_closed_fixed",
    "closed": "utter_status_closed_fixed",
    "no_further_action": "utter_status_closed_rejected",
    "duplicate": "utter_status_closed_duplicate",
    "not_councils_responsibility": "utter_status_closed_not_responsibility",
}


def status_text(ticket: Ticket, domain: DomainDict, language: str) -> str:
    """The status in the citizen's language, from the domain's ``utter_status_*`` texts."""
    key = ticket.extended_status if ticket.closed else ticket.status
    response = STATUS_RESPONSES.get(key) or STATUS_RESPONSES.get(ticket.status)
    found = text_of(domain, response, language) if response else None
    return found or ticket.extended_status


def staff_note(ticket: Ticket) -> str | None:
    """The note staff left for the citizen: the status note, else the latest note shown."""
    if ticket.status_notes:
        return ticket.status_notes
    notes = [entry.note for entry in ticket.history if entry.note]
    return notes[-1] if notes else None


def ticket_button(ticket: Ticket, intent: str) -> dict[str, str]:
    name = ticket.service_name or ticket.service_code
    return {
        "title": f"{ticket.service_request_id} · {name}",
        "payload": f"/{intent}" + json.dumps({"ticket_id": ticket.service_request_id}),
    }


def requested_number(tracker: Tracker) -> str | None:
    number = parse_ticket_number(tracker.get_slot("ticket_id"))
    if number:
        return number
    for value in tracker.get_latest_entity_values("ticket_id"):
        number = parse_ticket_number(value)
        if number:
            return number
    return None


class ActionCheckStatus(Action):
    """By number: ``utter_ticket_status`` ({ticket_id}, {status_text}, {updated}, {note}), or
    ``utter_ticket_status_no_note``; someone else's or an unknown number:
    ``utter_ticket_not_found``. Without a number: the contact's latest reports and complaints
    as buttons (``utter_choose_ticket``; one ticket: its status at once; none:
    ``utter_no_tickets``). Public channels: ``utter_public_invite_dm`` instead of a list."""

    def name(self) -> str:
        return "action_check_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        number = requested_number(tracker)
        try:
            if number:
                await self._one(dispatcher, tracker, domain, number)
            else:
                await self._list(dispatcher, tracker, domain)
        except TicketClientError as exc:
            service_error(dispatcher, self.name(), exc)
        return [SlotSet("ticket_id", None), SlotSet("last_flow", "status")]

    async def _one(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict, number: str
    ) -> None:
        ticket = await runtime.current().tickets.ticket_for_contact(
            number, context.channel(tracker), tracker.sender_id, language=context.language(tracker)
        )
        if ticket is None:  # unknown, or someone else's: the same answer
            dispatcher.utter_message(response="utter_ticket_not_found", ticket_id=number)
            return
        self._show(dispatcher, tracker, domain, ticket)

    def _show(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict, ticket: Ticket
    ) -> None:
        note = None if context.is_public(tracker) else staff_note(ticket)
        params: dict[str, Any] = {
            "ticket_id": ticket.service_request_id,
            "status_text": status_text(ticket, domain, context.language(tracker)),
            "updated": local_time(ticket.updated_datetime or ticket.requested_datetime),
        }
        if note:
            dispatcher.utter_message(response="utter_ticket_status", note=note, **params)
        else:
            dispatcher.utter_message(response="utter_ticket_status_no_note", **params)

    async def _list(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> None:
        if context.is_public(tracker):  # whose tickets these are is personal
            dispatcher.utter_message(response="utter_public_invite_dm")
            return
        tickets = await runtime.current().tickets.contact_tickets(
            context.channel(tracker),
            tracker.sender_id,
            limit=MAX_BUTTONS * 2,
            language=context.language(tracker),
        )
        listed = [t for t in tickets if t.kind in LISTED_KINDS][:MAX_BUTTONS]
        if not listed:
            dispatcher.utter_message(response="utter_no_tickets")
        elif len(listed) == 1:
            self._show(dispatcher, tracker, domain, listed[0])
        else:
            buttons = [ticket_button(t, "check_status") for t in listed]
            dispatcher.utter_message(response="utter_choose_ticket", buttons=buttons)

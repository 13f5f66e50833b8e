"""What every action does when the ticket service fails: log it and tell the citizen, in their
language, with ``utter_service_error``; never crash the turn."""

from __future__ import annotations

import logging

from rasa_sdk.executor import CollectingDispatcher

from ticket_client import ServiceUnavailable, TicketClientError

log = logging.getLogger("actions")

SERVICE_ERROR = "utter_service_error"


def service_error(dispatcher: CollectingDispatcher, action: str, exc: TicketClientError) -> None:
    if isinstance(exc, ServiceUnavailable):
        log.warning("%s: ticket service unavailable: %s", action, exc)
    else:
        log.error("%s: ticket service refused the call: %s", action, exc)
    dispatcher.utter_message(response=SERVICE_ERROR)

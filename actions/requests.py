"""Filing a request that is not a report (a complaint, a callback) for the citizen of this
conversation."""

from __future__ import annotations

from rasa_sdk.interfaces import Tracker

from actions import context, runtime
from ticket_client import CreateResult


def latest_text_of(tracker: Tracker, intent: str) -> str | None:
    """The latest message the citizen sent with ``intent``."""
    for event in reversed(tracker.events):
        if event.get("event") == "user" and context.event_intent(event) == intent:
            text = event.get("text")
            return text.strip() if isinstance(text, str) and text.strip() else None
    return None


async def create_request(tracker: Tracker, kind: str, description: str | None) -> CreateResult:
    return await runtime.current().tickets.create(
        kind=kind,
        description=description,
        channel=context.channel(tracker),
        conversation_id=tracker.sender_id,
        language=context.language(tracker),
        reporter=context.reporter(tracker),
        idempotency_key=context.idempotency_key(
            kind, tracker.sender_id, context.message_id(tracker)
        ),
    )

"""Talk to an agent: ``<Dial>`` to the agents' line during working hours (Asia/Riyadh by
default); outside them, or when nobody answered, a voicemail that becomes a callback request
in the ticket service (kind ``callback``, the recording as its media URL)."""

from __future__ import annotations

import logging

from channels.voice.flow import CHANNEL, Call, goodbye, main_menu
from ticket_client import TicketClientError

__all__ = ["agent_dialed_step", "agent_voicemail_step", "start_agent"]

log = logging.getLogger("channels.voice")

#: ``DialCallStatus`` of a call an agent answered.
ANSWERED = "completed"


def start_agent(call: Call) -> None:
    config = call.parts.config
    if config.agents_number and config.hours.open_at(call.parts.clock.now()):
        call.answer.say("agent_connecting")
        call.answer.dial(config.agents_number, "agent-dialed")
        return
    call.answer.say("agent_closed")
    call.answer.record("agent-voicemail")


def agent_dialed_step(call: Call) -> None:
    """After the dial: the agent talked to the caller, or nobody answered (voicemail)."""
    if call.params.dial_status == ANSWERED:
        goodbye(call)
        return
    call.answer.say("agent_busy")
    call.answer.record("agent-voicemail")


async def agent_voicemail_step(call: Call) -> None:
    answer = call.answer
    url = call.params.recording_url
    if not url:
        answer.say("nothing_recorded")
        main_menu(call)
        return
    tickets = call.parts.hub.tickets()
    if tickets is None:
        answer.say("service_error")
        main_menu(call)
        return
    try:
        result = await tickets.create(
            kind="callback",
            description=answer.text("callback_description"),
            media_urls=[url],
            channel=CHANNEL,
            conversation_id=call.conversation_id,
            language=call.language,
            reporter=call.reporter(),
            idempotency_key=f"voice:callback:{call.params.call_sid}:{call.state.n}",
        )
    except TicketClientError as exc:
        log.warning("voice: callback request failed: %s", exc, extra={"event": "voice_callback"})
        answer.say("service_error")
        main_menu(call)
        return
    answer.say("callback_filed", reference=call.spell(result.ticket.service_request_id))
    goodbye(call)

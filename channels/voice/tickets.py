"""Report status by keypad and follow-up voicemails, through the ticket service.

Who may see what is the bot's rule: the caller is the identity ``(voice, voice:<number>)``
— the reporter the bot files voice reports for — and
:meth:`TawasulClient.ticket_for_contact` answers "not found" for anyone else's ticket (or,
with a verified caller id, for a ticket of none of the caller's linked identities).
"""

from __future__ import annotations

import logging

from channels.voice.flow import CHANNEL, MAX_MISSES, Call, goodbye, main_menu
from channels.voice.speech import speakable
from ticket_client import NotFound, Ticket, TicketClientError

__all__ = [
    "STATUS_PROMPTS",
    "ask_ticket",
    "followup_recorded_step",
    "followup_step",
    "status_prompt",
    "status_step",
]

log = logging.getLogger("channels.voice")

#: The prompt naming each status (for a closed ticket, its extended status); the same
#: mapping as the bot's ``action_check_status``.
STATUS_PROMPTS = {
    "open": "status_open",
    "in_progress": "status_in_progress",
    "fixed": "status_fixed",
    "closed": "status_fixed",
    "no_further_action": "status_rejected",
    "duplicate": "status_duplicate",
    "not_councils_responsibility": "status_not_responsibility",
}
MIN_DIGITS, MAX_DIGITS = 6, 16


def status_prompt(ticket: Ticket) -> str:
    key = ticket.extended_status if ticket.closed else ticket.status
    return STATUS_PROMPTS.get(key) or STATUS_PROMPTS.get(ticket.status) or "status_open"


def ask_ticket(call: Call, step: str, *, invalid: bool = False) -> None:
    """The ticket number on the keypad, ended by ``#``."""
    gather = call.answer.gather(step, speech=False, finish_on_key="#", timeout=10)
    if invalid:
        call.answer.say("invalid_ticket", gather)
    call.answer.say("enter_ticket", gather)


async def _caller_ticket(call: Call, step: str) -> Ticket | None:
    """The caller's ticket by the number typed; None when the answer is already built
    (asked again, not found, service trouble)."""
    number = (call.params.digits or "").strip("*#")
    if not (number.isdigit() and MIN_DIGITS <= len(number) <= MAX_DIGITS):
        call.state.misses += 1
        if call.state.misses >= MAX_MISSES:
            call.answer.say("too_many_tries")
            goodbye(call)
        else:
            ask_ticket(call, step, invalid=True)
        return None
    call.state.misses = 0
    tickets = call.parts.hub.tickets()
    if tickets is None:
        call.answer.say("service_error")
        main_menu(call)
        return None
    try:
        ticket = await tickets.ticket_for_contact(
            number, CHANNEL, call.conversation_id, language=call.language
        )
    except TicketClientError as exc:
        log.warning("voice: ticket lookup failed: %s", exc, extra={"event": "voice_ticket"})
        call.answer.say("service_error")
        main_menu(call)
        return None
    if ticket is None:
        call.answer.say("ticket_not_found", number=call.spell(number))
        main_menu(call)
        return None
    return ticket


async def status_step(call: Call) -> None:
    """The status of the caller's ticket, its number read digit by digit."""
    ticket = await _caller_ticket(call, "status")
    if ticket is None:
        return
    answer = call.answer
    number = call.spell(ticket.service_request_id)
    answer.say("ticket_status", number=number, status=answer.text(status_prompt(ticket)))
    if ticket.status_notes:
        note = speakable(ticket.status_notes, answer.text("digit_separator"))
        answer.say("ticket_note", note=note)
    main_menu(call)


async def followup_step(call: Call) -> None:
    """The caller's ticket, then a voicemail about it."""
    ticket = await _caller_ticket(call, "followup")
    if ticket is None:
        return
    call.state.ticket = ticket.service_request_id
    call.answer.say("followup_record", number=call.spell(ticket.service_request_id))
    call.answer.record("followup-recorded")


async def followup_recorded_step(call: Call) -> None:
    """The voicemail → a follow-up with its recording URL (Beneficiary Satisfaction)."""
    answer, number = call.answer, call.state.ticket
    url = call.params.recording_url
    tickets = call.parts.hub.tickets()
    if not url or not number:
        answer.say("nothing_recorded")
        main_menu(call)
        return
    if tickets is None:
        answer.say("service_error")
        main_menu(call)
        return
    try:
        followup = await tickets.create_followup(
            number,
            channel=CHANNEL,
            voicemail_url=url,
            reporter=call.reporter(),
            idempotency_key=f"voice:followup:{call.params.call_sid}:{call.state.n}",
        )
    except NotFound:
        answer.say("ticket_not_found", number=call.spell(number))
        main_menu(call)
        return
    except TicketClientError as exc:
        log.warning("voice: follow-up failed: %s", exc, extra={"event": "voice_followup"})
        answer.say("service_error")
        main_menu(call)
        return
    call.state.ticket = None
    answer.say(
        "followup_filed", reference=call.spell(followup.reference), number=call.spell(number)
    )
    main_menu(call)

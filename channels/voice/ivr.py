"""The call's steps: which handler answers a verified webhook, and the menus.

Every answer numbers its actions with ``n``; a request is handled only when it carries the
call's current ``n`` and a step the last answer led to. Anything else — a stale or replayed
URL, an unknown step, a call whose state expired — hears ``unexpected`` and the menu again.
(A retry of a request already answered never gets here: the webhook sends the answer it
kept.)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from channels.voice import agent, report, tickets
from channels.voice.flow import (
    Call,
    Parts,
    language_menu,
    main_menu,
    missed,
    understood_speech,
)
from channels.voice.menus import AGENT, FOLLOWUP, REPORT, STATUS, choose_language, choose_option
from channels.voice.parse import CallParams
from channels.voice.response import Answer
from channels.voice.state import CallState
from channels.voice.twiml import VoiceResponse, render

__all__ = ["ENDED", "INCOMING", "STEPS", "Ivr"]

INCOMING = "incoming"
ENDED = "ended"
BOTH = ("ar", "en")


async def language_step(call: Call) -> None:
    chosen = choose_language(call.params.digits, understood_speech(call))
    if chosen is None:
        missed(
            call,
            lambda keypad: language_menu(call, keypad=keypad),
            invalid=bool(call.params.digits),
            languages=BOTH,
        )
        return
    call.state.lang = chosen
    call.state.misses = 0
    call.answer.language = chosen
    main_menu(call)


async def menu_step(call: Call) -> None:
    state = call.state
    option = choose_option(
        call.params.digits, understood_speech(call), call.parts.prompts, call.language
    )
    if option is None:
        missed(
            call, lambda keypad: main_menu(call, keypad=keypad), invalid=bool(call.params.digits)
        )
        return
    state.misses = 0
    if option == REPORT:
        await report.start_report(call)
    elif option == STATUS:
        tickets.ask_ticket(call, "status")
    elif option == FOLLOWUP:
        tickets.ask_ticket(call, "followup")
    elif option == AGENT:
        agent.start_agent(call)


async def resume_step(call: Call) -> None:
    call.state.misses = 0
    main_menu(call)


async def _dialed(call: Call) -> None:
    agent.agent_dialed_step(call)


Step = Callable[[Call], Awaitable[None]]
STEPS: dict[str, Step] = {
    "language": language_step,
    "menu": menu_step,
    "resume": resume_step,
    "report": report.report_step,
    "report-keypad": report.keypad_step,
    "report-wait": report.wait_step,
    "status": tickets.status_step,
    "followup": tickets.followup_step,
    "followup-recorded": tickets.followup_recorded_step,
    "agent-dialed": _dialed,
    "agent-voicemail": agent.agent_voicemail_step,
}


class Ivr:
    """Runs one step of a call against its state in Redis and returns the TwiML."""

    def __init__(self, parts: Parts) -> None:
        self.parts = parts

    async def handle(self, step: str, params: CallParams, n: int | None) -> bytes:
        store = self.parts.store
        if step == ENDED:  # the call's status callback: it is over
            await store.forget(params.call_sid)
            return render(VoiceResponse())
        state = await store.load(params.call_sid)
        fresh = state is None
        if state is None:
            state = CallState()
        answer = Answer(self.parts.config, self.parts.prompts, state.n + 1, state.lang)
        call = Call(params, state, answer, self.parts)
        if step == INCOMING and fresh:
            language_menu(call, welcome=True)
        elif fresh or n != state.n or step not in state.steps or step not in STEPS:
            self._unexpected(call)
        else:
            await STEPS[step](call)
        state.n, state.steps = answer.n, answer.steps
        body = answer.body()
        await store.save(params.call_sid, state)
        return body

    def _unexpected(self, call: Call) -> None:
        state = call.state
        state.misses, state.pending, state.buttons = 0, [], []
        if state.lang is None:
            for lang in BOTH:
                call.answer.say("unexpected", language=lang)
            language_menu(call)
        else:
            call.answer.say("unexpected")
            main_menu(call)

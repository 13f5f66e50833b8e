"""What every step of a call shares: its context (:class:`Call`), the channel's parts
(:class:`Parts`), and the menus every step may fall back to."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.model import Contact, InboundMessage, conversation_id
from channels.base import HubServices
from channels.voice.config import VoiceConfig
from channels.voice.parse import CallParams
from channels.voice.prompts import Prompts
from channels.voice.response import Answer
from channels.voice.state import CallState, CallStore
from ticket_client import Contact as TicketContact
from ticket_service.clock import Clock

__all__ = [
    "CHANNEL",
    "MAX_MISSES",
    "Call",
    "Parts",
    "goodbye",
    "language_menu",
    "main_menu",
    "missed",
    "understood_speech",
]

CHANNEL = "voice"
#: Misses at one question before the call is ended politely.
MAX_MISSES = 4


@dataclass(frozen=True, slots=True)
class Parts:
    """The channel's long-lived parts, lent to every step."""

    config: VoiceConfig
    prompts: Prompts
    store: CallStore
    hub: HubServices
    clock: Clock


@dataclass(slots=True)
class Call:
    """One webhook request of one call: its parameters, state and the answer being built."""

    params: CallParams
    state: CallState
    answer: Answer
    parts: Parts

    @property
    def language(self) -> str:
        return self.state.lang or "ar"

    @property
    def user_id(self) -> str:
        """The caller's number; a withheld number gets an identity of this call only."""
        return self.params.caller or f"anonymous-{self.params.call_sid}"

    @property
    def conversation_id(self) -> str:
        return conversation_id(CHANNEL, self.user_id)

    @property
    def caller_verified(self) -> bool:
        return self.parts.config.trust_caller_id and self.params.caller is not None

    def inbound(
        self, turn_id: str, text: str | None = None, payload: str | None = None
    ) -> InboundMessage:
        """A message to the bot from this caller (``turn_id`` is its dedup id)."""
        caller = self.params.caller
        return InboundMessage(
            channel=CHANNEL,
            provider_message_id=turn_id,
            user_id=self.user_id,
            timestamp=time.time(),
            text=text,
            payload=payload,
            contact=Contact(
                phone=caller,
                phone_verified=self.caller_verified,
                ids={"caller_id": caller} if caller else {},
            ),
            language_hint=self.language,
            reply_context={"call_sid": self.params.call_sid},
        )

    def reporter(self) -> TicketContact:
        """The caller as the ticket service's reporter (the bot's identity on voice)."""
        return TicketContact(
            channel=CHANNEL,
            channel_user_id=self.conversation_id,
            phone=self.params.caller,
            language=self.language,
            phone_verified=self.caller_verified,
        )

    def spell(self, number: str) -> str:
        """``number`` to be read digit by digit in the caller's language."""
        separator = self.answer.text("digit_separator")
        return separator.join(ch for ch in number if ch.isdigit())


def understood_speech(call: Call) -> str | None:
    """The transcript when there is one and the recogniser was confident enough."""
    params = call.params
    if not params.speech:
        return None
    confidence = params.confidence
    if confidence is not None and confidence < call.parts.config.min_confidence:
        return None
    return params.speech


def language_menu(call: Call, *, keypad: bool = False, welcome: bool = False) -> None:
    """Arabic or English, by key or by saying so (keys only with ``keypad``)."""
    answer = call.answer
    gather = answer.gather(
        "language",
        speech=not keypad,
        num_digits=1,
        hints=("English", "عربي", "العربية", "انجليزي"),
    )
    if welcome:
        answer.say("welcome", gather, language="ar")
        answer.say("welcome", gather, language="en")
    key = "language_menu_keypad" if keypad else "language_menu"
    answer.say(key, gather, language="ar")
    answer.say(key, gather, language="en")


def main_menu(call: Call, *, keypad: bool = False) -> None:
    """New report, status, follow-up, agent; by key or speech (keys only with ``keypad``)."""
    answer = call.answer
    prompts = call.parts.prompts
    hints = [
        phrase
        for key in ("menu_report", "menu_status", "menu_followup", "menu_agent")
        for phrase in prompts.phrases(key, call.language)
    ]
    gather = answer.gather("menu", speech=not keypad, num_digits=1, hints=hints)
    answer.say("main_menu_keypad" if keypad else "main_menu", gather)


def goodbye(call: Call) -> None:
    call.answer.say("goodbye")
    call.answer.hangup()


def missed(
    call: Call, ask: Callable[[bool], None], *, invalid: bool, languages: Sequence[str] = ()
) -> None:
    """The caller's answer was no answer: say why and ask again — by voice once more, then
    by keypad only — or, after :data:`MAX_MISSES`, say goodbye. ``languages``: say it in
    these (before the caller chose one), default the caller's."""
    state, answer = call.state, call.answer
    state.misses += 1
    spoken = tuple(languages) or (call.language,)
    if state.misses >= MAX_MISSES:
        for lang in spoken:
            answer.say("too_many_tries", language=lang)
        for lang in spoken:
            answer.say("goodbye", language=lang)
        answer.hangup()
        return
    keypad = state.misses >= 2
    key = "invalid_choice" if invalid else "use_keypad" if keypad else "not_understood"
    for lang in spoken:
        answer.say(key, language=lang)
    ask(keypad)

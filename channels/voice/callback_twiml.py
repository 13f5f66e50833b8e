"""The TwiML of a callback call (pure): the update in the recipient's language with the report
number read digit by digit, then — after a closure — the keypad survey's questions."""

from __future__ import annotations

from urllib.parse import urlencode

from bot.model import OutboundMessage
from channels.voice.callback_dialer import callback_path
from channels.voice.config import VoiceConfig
from channels.voice.prompts import Prompts
from channels.voice.survey_keypad import Question
from channels.voice.twiml import SPOKEN_BUDGET, Speaker, VoiceResponse, render, spell_digits

__all__ = ["CLOSED", "CallbackTwiml", "spoken_update"]

CLOSED = "ticket.closed"
#: Seconds the caller has to press a key.
KEY_TIMEOUT = 8
#: The update's share of a response's spoken budget (the rest is prompts).
UPDATE_BUDGET = SPOKEN_BUDGET // 2


def spoken_update(message: OutboundMessage, separator: str) -> str:
    """The update's text with its report number spelled out digit by digit, within budget."""
    text = message.text
    number = message.reply_context.get("ticket_number", "")
    if number:
        text = text.replace(number, spell_digits(number, separator))
    data = text.encode("utf-8")[:UPDATE_BUDGET]
    return data.decode("utf-8", "ignore")


def takes_survey(message: OutboundMessage) -> bool:
    """A closure update with its ticket number: the keypad survey follows the update."""
    context = message.reply_context
    return context.get("event_type") == CLOSED and bool(context.get("ticket_number"))


class CallbackTwiml:
    """Responses for one callback's webhooks."""

    def __init__(self, config: VoiceConfig, prompts: Prompts) -> None:
        self.config = config
        self.prompts = prompts
        self.speaker = Speaker(config)

    def _say(self, response: VoiceResponse, key: str, language: str) -> None:
        self.speaker.say(response, self.prompts.text(key, language), language)

    def _bye(self, response: VoiceResponse, language: str, *before: str) -> bytes:
        for key in (*before, "goodbye"):
            self._say(response, key, language)
        response.hangup()
        return render(response)

    def empty(self) -> bytes:
        """``<Response/>``: the answer to a status callback."""
        return render(VoiceResponse())

    def hangup(self) -> bytes:
        response = VoiceResponse()
        response.hangup()
        return render(response)

    def answer(self, callback_id: str, message: OutboundMessage) -> bytes:
        """What the callee hears on picking up."""
        language = message.language
        response = VoiceResponse()
        self._say(response, "intro", language)
        separator = self.prompts.text("digit_separator", language)
        self.speaker.say(response, spoken_update(message, separator), language)
        if not takes_survey(message):
            return self._bye(response, language)
        self._say(response, "survey_intro", language)
        return self._question(response, callback_id, language, "quality", 1, None)

    def ask(
        self,
        callback_id: str,
        language: str,
        question: Question,
        tries: int,
        quality: int | None,
        *,
        again: bool,
    ) -> bytes:
        """``question`` (asked for the ``tries``-th time; ``again``: after a wrong key)."""
        response = VoiceResponse()
        if again:
            self._say(response, "survey_invalid", language)
        return self._question(response, callback_id, language, question, tries, quality)

    def _question(
        self,
        response: VoiceResponse,
        callback_id: str,
        language: str,
        question: Question,
        tries: int,
        quality: int | None,
    ) -> bytes:
        query = {"try": str(tries)} | ({"q": str(quality)} if quality is not None else {})
        action = self.config.url(
            callback_path(callback_id, f"survey/{question}") + "?" + urlencode(query)
        )
        gather = self.speaker.gather(
            response, action=action, language=language, speech=False, num_digits=1,
            timeout=KEY_TIMEOUT,
        )  # fmt: skip
        self.speaker.say(gather, self.prompts.text(f"survey_{question}", language), language)
        return render(response)

    def survey_end(self, language: str, outcome: str) -> bytes:
        """After the survey: ``thanks`` / ``already`` / ``no_answer`` / ``error``."""
        return self._bye(VoiceResponse(), language, f"survey_{outcome}")

"""One TwiML answer of the IVR: prompts, gathers, recordings, dials and redirects whose
URLs all carry the answer's sequence number ``n``; the steps they lead to are recorded so the
next request can be checked against them (:class:`channels.voice.state.CallState`)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from channels.voice.config import VoiceConfig
from channels.voice.prompts import Prompts
from channels.voice.twiml import SPOKEN_BUDGET, Gather, Speaker, VoiceResponse, render

__all__ = ["PATH", "Answer"]

log = logging.getLogger("channels.voice")

PATH = "/webhooks/voice"


class Answer:
    """Build with the verbs below, then :meth:`body`. ``language`` is the caller's (Arabic
    until chosen)."""

    def __init__(self, config: VoiceConfig, prompts: Prompts, n: int, language: str | None) -> None:
        self.config = config
        self.prompts = prompts
        self.n = n
        self.language = language or "ar"
        self.steps: list[str] = []
        self.twiml = VoiceResponse()
        self._speaker = Speaker(config)
        self._spoken = 0

    def url(self, step: str) -> str:
        """The public URL of ``step`` for this answer (and allow the request)."""
        if step not in self.steps:
            self.steps.append(step)
        return self.config.url(f"{PATH}/{step}?n={self.n}")

    def text(self, key: str, **params: str) -> str:
        return self.prompts.text(key, self.language, **params)

    def say(
        self, key: str, into: Gather | None = None, language: str | None = None, **params: str
    ) -> None:
        """The prompt ``key`` (in ``language``, default the caller's)."""
        lang = language or self.language
        self.say_text(self.prompts.text(key, lang, **params), into, lang)

    def say_text(self, text: str, into: Gather | None = None, language: str | None = None) -> None:
        """Spoken text, within the answer's budget (beyond it, the text is cut at a word)."""
        room = SPOKEN_BUDGET - self._spoken
        encoded = text.encode("utf-8")
        if len(encoded) > room:
            log.warning("voice: spoken text over the budget of one answer; cut")
            head = encoded[: max(room, 0)].decode("utf-8", "ignore")
            text = head[: head.rfind(" ")] if " " in head else head
            if not text.strip():
                return
        target = self.twiml if into is None else into
        self._spoken += self._speaker.say(target, text, language or self.language)

    def gather(
        self,
        step: str,
        *,
        speech: bool = True,
        num_digits: int | None = None,
        finish_on_key: str | None = None,
        timeout: int = 6,
        hints: Sequence[str] = (),
    ) -> Gather:
        """A ``<Gather>`` answered at ``step``; put its prompts inside (barge-in)."""
        return self._speaker.gather(
            self.twiml,
            action=self.url(step),
            language=self.language,
            speech=speech,
            num_digits=num_digits,
            finish_on_key=finish_on_key,
            timeout=timeout,
            hints=hints,
        )

    def record(self, step: str) -> None:
        """A voicemail posted to ``step``; an empty one (Twilio then skips the action) hears
        ``nothing_recorded`` and goes back to the menu (``resume``)."""
        self.twiml.record(
            action=self.url(step),
            method="POST",
            max_length=self.config.record_max_seconds,
            finish_on_key="#",
            play_beep=True,
            timeout=5,
        )
        self.say("nothing_recorded")
        self.redirect("resume")

    def dial(self, number: str, step: str) -> None:
        """Connect the caller to ``number``; how it ended is posted to ``step``."""
        self.twiml.dial(
            number, action=self.url(step), method="POST", timeout=self.config.dial_timeout
        )

    def redirect(self, step: str) -> None:
        self.twiml.redirect(self.url(step), method="POST")

    def pause(self, seconds: int) -> None:
        self.twiml.pause(length=seconds)

    def hangup(self) -> None:
        self.twiml.hangup()

    def body(self) -> bytes:
        """The TwiML document (``TwimlTooLarge`` past 64 kB; the budget prevents it)."""
        return render(self.twiml)

"""The closure survey by keypad (pure): quality 1–5, then speed 1–5; a key that is not 1–5 (or
silence) asks the same question once more, a second miss ends the survey unanswered."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["QUESTIONS", "SurveyStep", "next_step", "score"]

Question = Literal["quality", "speed"]
QUESTIONS: tuple[Question, ...] = ("quality", "speed")
#: How many times one question is asked in all.
TRIES = 2


def score(digits: str | None) -> int | None:
    """The 1–5 score a caller pressed, or None for anything else (``"6"``, ``"55"``, ``""``)."""
    value = (digits or "").strip()
    return int(value) if len(value) == 1 and value in "12345" else None


@dataclass(frozen=True, slots=True)
class SurveyStep:
    """What to do after a key press: ``ask`` ``question`` (``again`` after a miss), ``submit``
    both scores, or ``give_up``."""

    action: Literal["ask", "submit", "give_up"]
    question: Question | None = None
    again: bool = False
    quality: int | None = None
    speed: int | None = None


def next_step(
    question: Question, digits: str | None, tries: int, quality: int | None
) -> SurveyStep:
    """The step after ``digits`` were pressed at ``question`` (asked ``tries`` times so far;
    ``quality`` is the first answer once given)."""
    pressed = score(digits)
    if pressed is None:
        if tries < TRIES:
            return SurveyStep("ask", question, again=True, quality=quality)
        return SurveyStep("give_up", quality=quality)
    if question == "quality":
        return SurveyStep("ask", "speed", quality=pressed)
    if quality is None:  # speed without a quality: start over
        return SurveyStep("ask", "quality")
    return SurveyStep("submit", quality=quality, speed=pressed)

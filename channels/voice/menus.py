"""What the caller chose, from keys pressed or words said: pure functions."""

from __future__ import annotations

from collections.abc import Sequence

from bot.model import Button
from channels.voice.prompts import Prompts
from nlu_components.arabic_text import normalise, to_ascii_digits
from nlu_components.language import switch_request

__all__ = [
    "AGENT",
    "FOLLOWUP",
    "MENU_KEYS",
    "REPORT",
    "STATUS",
    "assign_keys",
    "choose_language",
    "choose_option",
    "pressed",
]

REPORT, STATUS, FOLLOWUP, AGENT = "report", "status", "followup", "agent"
#: Main-menu keys (0 and 4 both reach an agent).
MENU_KEYS = {"1": REPORT, "2": STATUS, "3": FOLLOWUP, "0": AGENT, "4": AGENT}
_WORDS = {
    REPORT: "menu_report",
    STATUS: "menu_status",
    FOLLOWUP: "menu_followup",
    AGENT: "menu_agent",
}
LANGUAGE_KEYS = {"1": "ar", "2": "en"}
#: Buttons get keys 1-9, then 0.
MAX_BUTTONS = 10


def _clean(text: str) -> str:
    return " " + " ".join(normalise(text).casefold().split()) + " "


def choose_language(digits: str | None, speech: str | None) -> str | None:
    """``ar`` / ``en`` for key 1 / 2, or for "عربي" / "English" (the bot's language-switch
    phrases, nlu_components/language_words.json); None otherwise."""
    if digits:
        return LANGUAGE_KEYS.get(digits)
    if speech:
        return switch_request(speech)
    return None


def choose_option(
    digits: str | None, speech: str | None, prompts: Prompts, language: str
) -> str | None:
    """The main-menu option: by key, or the option whose phrase is the longest found in the
    transcript (in either language); None when nothing or two options match equally."""
    if digits:
        return MENU_KEYS.get(digits)
    if not speech:
        return None
    said = _clean(speech)
    best: dict[str, int] = {}
    for option, key in _WORDS.items():
        for lang in (language, "en" if language == "ar" else "ar"):
            for phrase in prompts.phrases(key, lang):
                if _clean(phrase) in said:
                    best[option] = max(best.get(option, 0), len(phrase))
    if not best:
        return None
    top = max(best.values())
    winners = [option for option, length in best.items() if length == top]
    return winners[0] if len(winners) == 1 else None


def assign_keys(buttons: Sequence[Button]) -> list[tuple[str, Button]]:
    """The key of each button (at most ten): the digit its title starts with when every
    title starts with a different one ("5 Excellent" → 5, a rating keeps its number), else
    1-9 then 0 in order."""
    listed = list(buttons[:MAX_BUTTONS])
    leading = [to_ascii_digits(b.title.strip())[:1] for b in listed]
    if all(d.isdigit() for d in leading) and len(set(leading)) == len(leading):
        return list(zip(leading, listed, strict=True))
    return [(str((i + 1) % 10), button) for i, button in enumerate(listed)]


def pressed(digits: str | None, keyed: Sequence[Sequence[str]]) -> tuple[str, str] | None:
    """``(title, payload)`` of the button whose key was pressed (``keyed`` holds
    ``[key, title, payload]`` rows); None for any other input."""
    if not digits or len(digits) != 1:
        return None
    for key, title, payload in keyed:
        if key == digits:
            return title, payload
    return None

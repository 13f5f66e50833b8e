"""Which language a citizen writes in, and whether they ask to switch: pure functions.

Standard library only and no syntax newer than Python 3.10: the action server (Python 3.11) and
the hub use it, and it must stay loadable next to the Rasa components (Python 3.10).

:func:`detect` looks at the script first, because short messages fool statistical detectors:

* no letters at all (digits, emoji, punctuation) → ``None``, there is no signal;
* letters of scripts other than Arabic and Latin (Devanagari, Bengali, Cyrillic, CJK ...)
  in the majority → ``"other"``;
* Arabic script → ``"ar"``, unless letters that Urdu and Persian use and Arabic does not
  (ٹ ڈ ڑ ں ے ھ پ چ ژ گ ک ی ہ ...) or Urdu/Persian function words outweigh the Arabic
  evidence → ``"other"``; a lone چ or گ, as Gulf dialect writes them, is still Arabic;
* Latin script → counts of short function words decide between English and the Latin-script
  languages we meet (Tagalog, Indonesian/Malay, Roman Urdu/Hindi, French, Spanish, German,
  Turkish): English wins ties and messages without any known word; Arabic written in Latin
  letters (Arabizi: "salam", "3ndi mushkila") → ``"ar"``.

:func:`switch_request` recognises "English please", "in english", "بالعربي", "عربي" and the
like. The word lists and phrases are data: ``language_words.json`` next to this module.
"""

from __future__ import annotations

import json
import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from nlu_components.arabic_text import normalise

__all__ = ["LANGUAGES", "detect", "switch_request"]

#: What :func:`detect` may return besides ``None``.
LANGUAGES = ("ar", "en", "other")

WORDS_FILE = Path(__file__).with_name("language_words.json")
#: Only the start of a long message is looked at (an e-mail with a quoted thread ...).
MAX_CHARS = 2000
#: A switch phrase counts in a message at most this many words longer than the phrase.
SWITCH_SLACK = 4

# Arabizi: a word mixing Latin letters with the digits that stand for Arabic letters (3 = ع,
# 7 = ح, 5 = خ, 2 = ء, 6 = ط, 9 = ق / ص, 8 = غ).
_ARABIZI = re.compile(r"^(?=.*[a-z])(?=.*[2356789])[a-z2356789']+$")
_TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)*")


class _Words(NamedTuple):
    latin: dict[str, frozenset[str]]
    latin_target: dict[str, str]
    markers: frozenset[str]
    arabic: frozenset[str]
    urdu_persian: frozenset[str]
    switch: dict[str, tuple[tuple[str, ...], ...]]


def _clean(text: str) -> str:
    return normalise(text).casefold()


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(_clean(text))


@lru_cache(maxsize=1)
def _words() -> _Words:
    data = json.loads(WORDS_FILE.read_text(encoding="utf-8"))
    latin = {
        group: frozenset(_clean(w) for w in words)
        for group, words in data["latin"].items()
        if not group.startswith("_")
    }
    script = data["arabic_script"]
    switch = {
        language: tuple(tuple(_tokens(phrase)) for phrase in phrases)
        for language, phrases in data["switch"].items()
        if not language.startswith("_")
    }
    return _Words(
        latin=latin,
        latin_target=dict(data["latin_target"]),
        markers=frozenset(script["marker_letters"]),
        arabic=frozenset(_clean(w) for w in script["ar"]),
        urdu_persian=frozenset(_clean(w) for w in script["ur"] + script["fa"]),
        switch=switch,
    )


def _script(char: str) -> str | None:
    """``"arabic"``, ``"latin"`` or ``"other"`` for a letter; None for anything else."""
    if not unicodedata.category(char).startswith("L"):
        return None
    name = unicodedata.name(char, "")
    if name.startswith("ARABIC"):
        return "arabic"
    if name.startswith(("LATIN", "FULLWIDTH LATIN")):
        return "latin"
    return "other"


def _arabic_script(text: str, words: _Words) -> str:
    letters = [c for c in text if _script(c) == "arabic"]
    markers = sum(1 for c in letters if c in words.markers)
    tokens = _tokens(text)
    arabic = sum(1 for t in tokens if t in words.arabic or (len(t) > 3 and t.startswith("ال")))
    foreign = sum(1 for t in tokens if t in words.urdu_persian)
    if markers >= 2 and markers >= 0.1 * len(letters) and markers + 2 * foreign > 2 * arabic:
        return "other"
    if foreign > arabic and (markers >= 1 or foreign >= 2):
        return "other"
    return "ar"


def _latin_script(text: str, words: _Words) -> str:
    scores: dict[str, int] = {group: 0 for group in words.latin}
    foreign_letters = 0
    for token in _tokens(text):
        for group, vocabulary in words.latin.items():
            if token in vocabulary:
                scores[group] += 1
        if "ar_latin" in scores and _ARABIZI.match(token):
            scores["ar_latin"] += 1
        if any(_script(c) == "latin" and not c.isascii() for c in token):
            foreign_letters += 1
    english = scores.get("en", 0)
    best_group, best = max(
        ((g, s) for g, s in scores.items() if g != "en"), key=lambda item: item[1], default=("", 0)
    )
    if best > english:
        return words.latin_target.get(best_group, "other")
    if foreign_letters > english:
        return "other"
    return "en"


def detect(text: str) -> str | None:
    """``"ar"``, ``"en"`` or ``"other"`` for the language of ``text``; None when it has no
    letters (digits, emoji, punctuation only). Never raises."""
    sample = text[:MAX_CHARS]
    counts = {"arabic": 0, "latin": 0, "other": 0}
    for char in sample:
        script = _script(char)
        if script is not None:
            counts[script] += 1
    if not any(counts.values()):
        return None
    words = _words()
    if counts["other"] > counts["arabic"] and counts["other"] > counts["latin"]:
        return "other"
    if counts["arabic"] >= counts["latin"]:
        return _arabic_script(sample, words)
    return _latin_script(sample, words)


def _contains(tokens: list[str], phrase: tuple[str, ...]) -> bool:
    size = len(phrase)
    return any(tuple(tokens[i : i + size]) == phrase for i in range(len(tokens) - size + 1))


def switch_request(text: str) -> str | None:
    """``"en"`` or ``"ar"`` when the message asks to switch to that language ("English
    please", "بالعربي"); None otherwise, and when it names both. Never raises."""
    tokens = _tokens(text[:MAX_CHARS])
    if not tokens:
        return None
    asked = {
        language
        for language, phrases in _words().switch.items()
        for phrase in phrases
        if phrase and len(tokens) <= len(phrase) + SWITCH_SLACK and _contains(tokens, phrase)
    }
    return asked.pop() if len(asked) == 1 else None

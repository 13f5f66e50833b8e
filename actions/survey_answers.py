"""What a citizen's answer to a closure-survey question means (no I/O): a score 1–5, "still
not fixed", a comment or none. The words live in ``actions/survey_scale.yml``.

Answers are read from the text first, whatever intent the NLU gave them ("ممتاز" is often no
intent at all, "زين" an affirm, "الحفرة على حالها" a status question); only requests that mean
something else (an agent, a question, a status, goodbye) leave the question unanswered so the
dialogue's rules handle them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from enum import Enum
from functools import cache
from typing import Any

from actions.data import clean, contains_phrase, load
from actions.values import is_cancel, parse_rating
from nlu_components.arabic_text import to_ascii_digits

#: The survey_comment value when the citizen has nothing to add.
NO_COMMENT = "skip"
MAX_COMMENT = 1000
#: The "Still not fixed" button.
NOT_FIXED_PAYLOAD = "/follow_up"
#: Intents that are never an answer: the rules answer them, then the question comes again.
REDIRECTS = frozenset({"check_status", "inquire", "human_handoff", "start_survey"})
#: At a rating question, also: these, unless the message holds a score.
RATING_REDIRECTS = REDIRECTS | {"goodbye", "report_issue", "complain"}
NUMBER = re.compile(r"\d+")


class Reply(Enum):
    """What an answer is when it is no score or comment."""

    INVALID = "invalid"  # meant as an answer, not understood or out of range: ask again
    NOT_AN_ANSWER = "not_an_answer"  # something else: the dialogue's rules take it


@cache
def _scale() -> tuple[tuple[tuple[str, ...], int], ...]:
    """(cleaned phrase as words, score), longest phrases first."""
    scores: Mapping[Any, list[Any]] = load("survey_scale.yml")["scores"]
    phrases = {
        tuple(clean(str(word)).split()): int(score)
        for score, words in scores.items()
        for word in words
    }
    return tuple(sorted(phrases.items(), key=lambda item: -len(item[0])))


def _word_scores(words: list[str]) -> list[int]:
    """The scores of the scale's phrases in ``words``, longest match first, no word twice."""
    used = [False] * len(words)
    found: list[int] = []
    for phrase, score in _scale():
        size = len(phrase)
        for start in range(len(words) - size + 1):
            span = range(start, start + size)
            if tuple(words[start : start + size]) == phrase and not any(used[i] for i in span):
                for i in span:
                    used[i] = True
                found.append(score)
    return found


def score_of(text: str) -> int | Reply | None:
    """The score a typed answer gives: its first number (``4``, ``٤ من ٥``, ``4/5``; outside
    1–5: INVALID), else the mean of its scale words rounded half up, else None."""
    numbers = NUMBER.findall(to_ascii_digits(text))
    if numbers:
        value = int(numbers[0])
        return value if 1 <= value <= 5 else Reply.INVALID
    found = _word_scores(clean(text).split())
    if not found:
        return None
    return int(sum(found) / len(found) + 0.5)


def says_not_fixed(text: str, intent: str | None, *, rating_question: bool) -> bool:
    """The "Still not fixed" button, a phrase of ``not_fixed``, or at a rating question the
    follow_up intent ("nobody came to fix it")."""
    stripped = text.strip()
    if stripped.startswith("/"):
        return stripped.startswith(NOT_FIXED_PAYLOAD)
    if rating_question and intent == "follow_up":
        return True
    cleaned = clean(text)
    return any(contains_phrase(cleaned, str(p)) for p in load("survey_scale.yml")["not_fixed"])


def rating_answer(text: str, intent: str | None, ratings: Iterable[Any]) -> int | Reply:
    """The score of an answer to "how good" / "how fast". ``ratings``: the message's ``rating``
    entity values (a button's ``/inform{"rating":"5"}``, or "five" found by the NLU)."""
    if intent in REDIRECTS:
        return Reply.NOT_AN_ANSWER
    entity = next((s for s in map(parse_rating, ratings) if s is not None), None)
    if text.strip().startswith("/"):  # a button: its entity, or another button
        if entity is not None:
            return entity
        return Reply.INVALID if intent in ("inform", "rate") else Reply.NOT_AN_ANSWER
    typed = score_of(text)
    if typed is not None:
        return typed
    if entity is not None:
        return entity
    if intent in RATING_REDIRECTS or (intent == "deny" and is_cancel(text)):
        return Reply.NOT_AN_ANSWER
    return Reply.INVALID


def _only_no_comment_words(text: str) -> bool:
    remaining = f" {clean(text)} "
    phrases = sorted((clean(str(w)) for w in load("survey_scale.yml")["no_comment"]), key=len)
    for phrase in filter(None, reversed(phrases)):  # longest first
        while f" {phrase} " in remaining:
            remaining = remaining.replace(f" {phrase} ", " ")
    return not remaining.strip()


def comment_answer(text: str, intent: str | None) -> str | Reply:
    """The optional comment: the text itself, NO_COMMENT ("no thanks", the button, goodbye),
    or NOT_AN_ANSWER for a request that means something else."""
    stripped = text.strip()
    if stripped.startswith("/"):
        return NO_COMMENT if intent == "deny" else Reply.NOT_AN_ANSWER
    if intent in REDIRECTS:
        return Reply.NOT_AN_ANSWER
    if intent == "goodbye" or not stripped or _only_no_comment_words(stripped):
        return NO_COMMENT
    return stripped[:MAX_COMMENT]

"""``action_answer_faq``: answers from ``actions/faq.yml``, chosen by word overlap.

The question and each topic's keywords and sample questions are reduced to word stems
(:func:`stems`: normalised Arabic, lower case, common prefixes and suffixes stripped, stopwords
dropped). A topic scores, for every distinct stem of the question it knows, the stem's weight
(one-word keyword 2, a word of a longer keyword or of a sample question 1) times its rarity
among topics, plus 3 for each multi-word keyword found whole. The best topic answers when it
scores at least :data:`THRESHOLD` and strictly more than the runner-up; otherwise
``utter_faq_unknown`` (which offers a person). A message without any content word (the "Ask a
question" button) gets ``utter_ask_question``; a language switch request taken for a question
(already answered by ``action_validate_slot_mappings``) gets nothing more.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.interfaces import Action, Tracker
from rasa_sdk.types import DomainDict

from actions import context
from actions.data import clean, load

KEYWORD_WEIGHT = 2.0
QUESTION_WEIGHT = 1.0
PHRASE_BONUS = 3.0
THRESHOLD = 4.0

_AR_PREFIXES = ("وال", "بال", "كال", "فال", "لل", "ال")
_AR_SUFFIXES = ("ات", "ه", "ي")


def _is_arabic(word: str) -> bool:
    return any("\u0600" <= c <= "\u06ff" for c in word)


def stem(word: str) -> str:
    """A light stem: enough to meet "المخالفات" and "مخالفة", "permits" and "permit"."""
    if _is_arabic(word):
        for prefix in _AR_PREFIXES:
            if word.startswith(prefix) and len(word) - len(prefix) >= 2:
                word = word[len(prefix) :]
                break
        for suffix in _AR_SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                return word[: -len(suffix)]
        return word
    word = word.removesuffix("'s")
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith("es") and word[:-2].endswith(("s", "x", "ch", "sh", "o")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


@cache
def _stopwords() -> frozenset[str]:
    words: Mapping[str, list[Any]] = load("faq.yml")["stopwords"]
    return frozenset(
        stem(w) for group in words.values() for w in clean(" ".join(map(str, group))).split()
    )


def stems(text: str) -> list[str]:
    """The content word stems of ``text``, in order (stopwords dropped)."""
    stop = _stopwords()
    return [s for s in (stem(w) for w in clean(text).split()) if s not in stop]


@dataclass(frozen=True)
class Topic:
    id: str
    answer: Mapping[str, str]
    weights: Mapping[str, float]
    phrases: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Index:
    topics: tuple[Topic, ...]
    rarity: Mapping[str, float]


def _both(entry: Mapping[str, Any]) -> Iterable[str]:
    for language in ("ar", "en"):
        yield from (str(item) for item in entry.get(language) or [])


def _topic(raw: Mapping[str, Any]) -> Topic:
    weights: dict[str, float] = {}
    for question in _both(raw.get("questions") or {}):
        for s in stems(question):
            weights[s] = max(weights.get(s, 0.0), QUESTION_WEIGHT)
    phrases: list[tuple[str, ...]] = []
    for keyword in _both(raw.get("keywords") or {}):
        parts = stems(keyword)
        if len(parts) == 1:
            weights[parts[0]] = KEYWORD_WEIGHT
        elif parts:  # its words count as much as a question's; the whole phrase adds more
            for s in parts:
                weights[s] = max(weights.get(s, 0.0), QUESTION_WEIGHT)
            phrases.append(tuple(parts))
    return Topic(str(raw["id"]), dict(raw["answer"]), weights, tuple(phrases))


@cache
def index() -> Index:
    topics = tuple(_topic(raw) for raw in load("faq.yml")["topics"])
    seen = Counter(s for topic in topics for s in topic.weights)
    rarity = {s: 1.0 + math.log(len(topics) / n) for s, n in seen.items()}
    return Index(topics, rarity)


def _has_phrase(words: list[str], phrase: tuple[str, ...]) -> bool:
    size = len(phrase)
    return any(tuple(words[i : i + size]) == phrase for i in range(len(words) - size + 1))


def scores(text: str) -> list[tuple[float, Topic]]:
    """Every topic's score for ``text``, best first."""
    found = index()
    words = stems(text)
    distinct = set(words)
    ranked = []
    for topic in found.topics:
        score = sum(topic.weights.get(s, 0.0) * found.rarity.get(s, 1.0) for s in distinct)
        score += PHRASE_BONUS * sum(1 for p in topic.phrases if _has_phrase(words, p))
        ranked.append((score, topic))
    ranked.sort(key=lambda item: item[0], reverse=True)
    return ranked


def match(text: str) -> Topic | None:
    """The topic that answers ``text``, or None when none is clearly the one."""
    ranked = scores(text)
    if not ranked:
        return None
    best_score, best = ranked[0]
    runner_up = ranked[1][0] if len(ranked) > 1 else 0.0
    return best if best_score >= THRESHOLD and best_score > runner_up else None


class ActionAnswerFaq(Action):
    def name(self) -> str:
        return "action_answer_faq"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        text = context.text(tracker)
        switched = context.said_this_turn(tracker, (context.LANGUAGE_SWITCHED,))
        if switched and match(text) is None:  # "English please" taken for a question
            return []
        if text.startswith("/") or not stems(text):
            dispatcher.utter_message(response="utter_ask_question")
            return []
        topic = match(text)
        if topic is None:
            dispatcher.utter_message(response="utter_faq_unknown")
            return []
        language = context.language(tracker)
        dispatcher.utter_message(text=topic.answer.get(language) or topic.answer["ar"])
        return [SlotSet("last_flow", "faq")]

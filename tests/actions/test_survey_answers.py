"""The closure survey's reading of free-text answers (actions/survey_answers.py) and its word
list (actions/survey_scale.yml): pure, no server."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from actions.data import clean, load
from actions.survey_answers import (
    MAX_COMMENT,
    NO_COMMENT,
    Reply,
    comment_answer,
    rating_answer,
    says_not_fixed,
    score_of,
)


@pytest.mark.parametrize(
    ("typed", "score"),
    [
        ("ممتاز", 5),
        ("ممتازة جداً", 5),
        ("ما قصّرتوا", 5),
        ("جيد جداً", 4),
        ("زين", 3),
        ("مقبول", 2),
        ("سيء", 1),
        ("بطيء", 2),
        ("بطيئة جداً", 1),
        ("سريع", 4),
        ("سريع جدا", 5),
        ("٤", 4),
        ("٥ من ٥", 5),
        ("4/5", 4),
        ("3 stars but slow", 3),  # a digit wins over words
        ("excellent", 5),
        ("very good", 4),
        ("good", 3),
        ("ok", 3),
        ("not good", 2),  # the longest phrase wins: not "good"
        ("not bad", 3),
        ("poor", 1),
        ("slow", 2),
        ("took too long but fine", 3),  # (2 + 3) / 2 rounded half up
        ("ممتاز بس تأخروا", 4),  # (5 + 2) / 2
        ("five", 5),
        ("خمسة", 5),
    ],
)
def test_scores_from_typed_answers(typed: str, score: int) -> None:
    assert score_of(typed) == score


@pytest.mark.parametrize("typed", ["0", "6", "10 out of 10", "١٠", "123456789"])
def test_numbers_outside_one_to_five_are_invalid(typed: str) -> None:
    assert score_of(typed) is Reply.INVALID
    assert rating_answer(typed, "rate", []) is Reply.INVALID


@pytest.mark.parametrize("typed", ["banana", "hmm", "بطاطس", ""])
def test_no_score_in_words_that_say_none(typed: str) -> None:
    assert score_of(typed) is None


@pytest.mark.parametrize(
    ("text", "intent", "ratings", "expected"),
    [
        ('/inform{"rating":"5"}', "inform", ["5"], 5),  # the buttons
        ('/inform{"rating":"9"}', "inform", ["9"], Reply.INVALID),
        ("/greet", "greet", [], Reply.NOT_AN_ANSWER),  # an old menu button
        ("ممتاز", "nlu_fallback", [], 5),  # the NLU's intent does not matter
        ("زين", "affirm", [], 3),
        ("good", "greet", [], 3),
        ("five", "rate", ["5"], 5),
        ("I'd give it", "rate", ["4"], 4),  # the NLU's entity when the text has no score
        ("no", "deny", [], Reply.INVALID),  # asked again, with the "still not fixed" button
        ("hello", "greet", [], Reply.INVALID),
        ("cancel", "deny", [], Reply.NOT_AN_ANSWER),  # the rules cancel the survey
        ("الغاء", "deny", [], Reply.NOT_AN_ANSWER),
        ("what is the status of my report", "check_status", [], Reply.NOT_AN_ANSWER),
        ("is it excellent to ask when you open", "inquire", [], Reply.NOT_AN_ANSWER),
        ("I want an agent", "human_handoff", [], Reply.NOT_AN_ANSWER),
        ("bye", "goodbye", [], Reply.NOT_AN_ANSWER),
        ("there is a pothole", "report_issue", [], Reply.NOT_AN_ANSWER),
        ("the crew were slow", "complain", [], 2),
    ],
)
def test_rating_answers(text: str, intent: str, ratings: list[Any], expected: Any) -> None:
    assert rating_answer(text, intent, ratings) == expected


@pytest.mark.parametrize(
    "text",
    [
        "المشكلة ما انحلت",
        "مازالت المشكلة قائمة",
        "الحفرة على حالها",
        "لم يتم إصلاح المشكلة",
        "ما سووا شي",
        "محد جا",
        "still not fixed",
        "it wasn't fixed",
        "nothing was done",
        "nobody came",
        "/follow_up",
        '/follow_up{"ticket_id":"481920375"}',  # the WhatsApp template's button
    ],
)
def test_still_not_fixed_at_any_question(text: str) -> None:
    for rating_question in (True, False):
        assert says_not_fixed(text, "deny", rating_question=rating_question)


def test_the_follow_up_intent_means_not_fixed_only_when_a_score_is_asked() -> None:
    comment = "the crew did not call me back during the work"
    assert says_not_fixed(comment, "follow_up", rating_question=True)
    assert not says_not_fixed(comment, "follow_up", rating_question=False)
    assert not says_not_fixed('/inform{"rating":"1"}', "inform", rating_question=True)
    assert not says_not_fixed("fixed quickly, thanks", "thank", rating_question=True)


@pytest.mark.parametrize(
    ("text", "intent", "expected"),
    [
        ("لا شكراً", "deny", NO_COMMENT),
        ("ما عندي شي", "deny", NO_COMMENT),
        ("no thanks", "deny", NO_COMMENT),
        ("nothing to add, thank you very much", "thank", NO_COMMENT),
        ("/deny", "deny", NO_COMMENT),  # the "No, thanks" button
        ("bye", "goodbye", NO_COMMENT),
        ("took too long but fine", "rate", "took too long but fine"),
        ("  الفريق كان ممتاز وشكرا لكم ", "thank", "الفريق كان ممتاز وشكرا لكم"),
        ("the crew was great, thank you", "thank", "the crew was great, thank you"),
        ("no, but please repaint the lines", "deny", "no, but please repaint the lines"),
        ("where is my other report", "check_status", Reply.NOT_AN_ANSWER),
        ("/greet", "greet", Reply.NOT_AN_ANSWER),
    ],
)
def test_comment_answers(text: str, intent: str, expected: Any) -> None:
    assert comment_answer(text, intent) == expected


def test_a_long_comment_is_cut_to_what_the_service_stores() -> None:
    assert comment_answer("ب" * 5000, "inform") == "ب" * MAX_COMMENT


def test_the_word_list_is_consistent() -> None:
    scale = load("survey_scale.yml")
    assert set(scale["scores"]) == {1, 2, 3, 4, 5}
    scored = Counter(clean(str(w)) for words in scale["scores"].values() for w in words)
    assert [w for w, n in scored.items() if n > 1] == [], "a word listed twice"
    assert all(scored), "a word that normalises to nothing"
    not_fixed = {clean(str(w)) for w in scale["not_fixed"]}
    no_comment = {clean(str(w)) for w in scale["no_comment"]}
    assert not not_fixed & set(scored) and not not_fixed & no_comment
    for word in scored:
        assert score_of(word) == next(
            int(s) for s, ws in scale["scores"].items() if word in {clean(str(w)) for w in ws}
        ), word

"""Inquiries (FAQ), a human agent (callback request) and the rating after a flow, end to end in
Arabic and in English."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import yaml

from tests.bot.conftest import ROOT, CitizenFactory
from tests.bot.support import random_phone, tickets_of
from ticket_client import TawasulClient

NOT_ANSWERS = ("utter_faq_unknown", "utter_clarify", "utter_default", "utter_offer_human")


@dataclass(frozen=True)
class Phrases:
    language: str
    working_hours: str
    unknown_question: str
    agent: str
    complaint: str
    rating: str  # 4 out of 5


ARABIC = Phrases(
    language="ar",
    working_hours="متى أوقات الدوام في البلدية؟",
    unknown_question="كم سعر تذكرة الطيران من الدمام إلى القاهرة؟",
    agent="ابي اكلم موظف لو سمحت",
    complaint="ابي اشتكي على موظف في فرع البلدية كان اسلوبه سيء جداً معي ورفض يستقبل اوراقي",
    rating="٤",
)
ENGLISH = Phrases(
    language="en",
    working_hours="What are the municipality's working hours?",
    unknown_question="How much is a flight ticket from Dammam to Cairo?",
    agent="I want to talk to a real person please",
    complaint="I want to complain about an employee at the municipality office who was very "
    "rude to me and refused to accept my papers",
    rating="4",
)
LANGUAGES = [pytest.param(ARABIC, id="ar"), pytest.param(ENGLISH, id="en")]


def faq_answers(language: str) -> set[str]:
    """Every answer of the FAQ data file (docs/bot.md: action_answer_faq) in ``language``."""
    data = yaml.safe_load((ROOT / "actions" / "faq.yml").read_text(encoding="utf-8"))
    return {" ".join(str(t["answer"][language]).split()) for t in data["topics"]}


@pytest.mark.parametrize("p", LANGUAGES)
async def test_inquiry_answered_from_the_faq(p: Phrases, citizen: CitizenFactory) -> None:
    """Working hours: an answer of the FAQ (with the hours), in the citizen's language."""
    who = citizen("web")
    turn = await who.say(p.working_hours)
    assert turn.text and turn.in_language(p.language), who.transcript()
    assert not [name for name in NOT_ANSWERS if who.domain.sent(turn, name)], who.transcript()
    answers = faq_answers(p.language)
    assert [m for m in turn.messages if " ".join(str(m.get("text")).split()) in answers], (
        f"not an answer of actions/faq.yml\n{who.transcript()}"
    )
    assert any(c.isdigit() for c in turn.text), f"no hours in the answer\n{who.transcript()}"


@pytest.mark.parametrize("p", LANGUAGES)
async def test_unknown_question_offers_a_human(p: Phrases, citizen: CitizenFactory) -> None:
    who = citizen("web")
    turn = await who.say(p.unknown_question)
    assert turn.in_language(p.language), who.transcript()
    assert [x for x in turn.payloads if x.startswith("/human_handoff")], who.transcript()


@pytest.mark.parametrize("p", LANGUAGES)
async def test_human_handoff_files_a_callback_request(
    p: Phrases, citizen: CitizenFactory, hub: TawasulClient, staff: TawasulClient
) -> None:
    phone = random_phone()
    who = citizen("whatsapp", contact={"phone": phone, "phone_verified": True})
    turn = await who.say(p.agent)
    found = who.domain.match(turn, "utter_handoff", p.language)
    assert found is not None, f"no callback reference\n{who.transcript()}"
    callbacks = [t for t in await tickets_of(hub, who) if t.kind == "callback"]
    assert [t.service_request_id for t in callbacks] == [found["reference"]], who.transcript()
    ticket = await staff.ticket(found["reference"])
    assert ticket.reporter is not None and ticket.reporter.phone == phone
    assert ticket.channel == "whatsapp" and ticket.language == p.language
    assert (await who.slots()).get("with_agent") is True


@pytest.mark.parametrize("p", LANGUAGES)
async def test_rating_after_a_complaint_is_stored(
    p: Phrases,
    citizen: CitizenFactory,
    ratings_of: Callable[[str], list[dict[str, Any]]],
) -> None:
    """After a completed flow the bot asks for a 1-5 rating; the answer is stored."""
    who = citizen("telegram")
    filed = await who.say(p.complaint)
    assert who.domain.sent(filed, "utter_ask_rating") == p.language, who.transcript()
    assert [x for x in filed.payloads if x.startswith("/rate")], who.transcript()
    thanks = await who.say(p.rating)
    assert who.domain.count(thanks, "utter_thanks_rating", p.language) == 1, who.transcript()
    stored = ratings_of(who.sender)
    assert [(r["kind"], r["score"], r["channel"]) for r in stored] == [("answer", 4, "telegram")], (
        stored
    )

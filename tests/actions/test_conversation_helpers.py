"""The actions around the flows, through the real action server: FAQ answers, clarifying
questions, session start, cancelling; and the server itself: every action the domain names is
served, every response an action sends exists in the domain, SIGTERM stops it cleanly."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from actions.data import load
from tests.actions.conftest import ROOT, ActionServerProcess, TicketServiceUnderTest
from tests.actions.support import ActionServer, Turn, bot_event

FAQ = "action_answer_faq"
CLARIFY = "action_clarify"


def faq_answer(topic: str, language: str) -> str:
    found = [t for t in load("faq.yml")["topics"] if t["id"] == topic]
    return str(found[0]["answer"][language])


@pytest.mark.parametrize(
    ("language", "text", "topic"),
    [
        ("ar", "متى أوقات الدوام في البلدية؟", "working_hours"),
        ("en", "What are the municipality's working hours?", "working_hours"),
        ("ar", "كيف اطلع رخصة بناء لبيتي الجديد", "building_permit"),
        ("en", "which papers do I need to open a restaurant", "shop_licence"),
    ],
)
async def test_faq_answers_in_the_citizens_language(
    language: str, text: str, topic: str, actions: ActionServer, sender: str
) -> None:
    turn = Turn(sender, text=text, intent="inquire", slots={"language": language})
    reply = await actions.ok(FAQ, turn)
    assert [r["text"] for r in reply.responses] == [faq_answer(topic, language)]
    assert reply.slots["last_flow"] == "faq"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("How much is a flight ticket from Dammam to Cairo?", "utter_faq_unknown"),
        ("كم سعر تذكرة الطيران من الدمام إلى القاهرة؟", "utter_faq_unknown"),
        ("/inquire", "utter_ask_question"),
        ("عندي سؤال", "utter_ask_question"),
    ],
)
async def test_faq_without_an_answer(
    text: str, expected: str, actions: ActionServer, sender: str
) -> None:
    reply = await actions.ok(FAQ, Turn(sender, text=text, intent="inquire"))
    assert reply.names == [expected] and reply.events == []


async def test_clarify_then_offer_a_person(actions: ActionServer, sender: str) -> None:
    first = await actions.ok(CLARIFY, Turn(sender, text="blorp", intent="nlu_fallback"))
    assert first.names == ["utter_clarify"] and first.slots["misses"] == 1.0
    second = Turn(sender, text="blorp blorp", intent="nlu_fallback", slots={"misses": 1.0})
    reply = await actions.ok(CLARIFY, second)
    assert reply.names == ["utter_offer_human"] and reply.slots["misses"] == 2.0


async def test_clarify_inside_a_form(actions: ActionServer, sender: str) -> None:
    turn = Turn(sender, text="blorp", intent="nlu_fallback", active_loop="report_form")
    assert (await actions.ok(CLARIFY, turn)).names == ["utter_clarify_form"]


@pytest.mark.parametrize(
    "text",
    [
        "میری گلی میں کئی دنوں سے کچرا پڑا ہے، براہ کرم مدد کریں",
        "Magandang araw po, may malaking butas sa kalsada sa harap ng bahay namin",
        "हमारी गली में कचरा पड़ा है",
    ],
)
async def test_another_language_gets_the_bilingual_offer(
    text: str, actions: ActionServer, sender: str
) -> None:
    reply = await actions.ok(CLARIFY, Turn(sender, text=text, intent="nlu_fallback"))
    assert reply.names == ["utter_other_language"]


async def test_nothing_more_after_a_language_switch(actions: ActionServer, sender: str) -> None:
    """action_validate_slot_mappings already answered "English please" in English."""
    turn = Turn(sender, text="English please", intent="nlu_fallback", slots={"language": "en"})
    assert (await actions.ok(CLARIFY, turn)).names == ["utter_clarify"]
    body = turn.body(CLARIFY, actions.domain)
    body["tracker"]["events"].append(bot_event("utter_language_switched"))
    async with actions.http.post(f"{actions.url}/webhook", json=body) as response:
        assert (await response.json())["responses"] == []


async def test_no_faq_answer_after_a_language_switch(actions: ActionServer, sender: str) -> None:
    turn = Turn(sender, text="English please", intent="inquire", slots={"language": "en"})
    body = turn.body(FAQ, actions.domain)
    body["tracker"]["events"].append(bot_event("utter_language_switched"))
    async with actions.http.post(f"{actions.url}/webhook", json=body) as response:
        assert (await response.json())["responses"] == []


async def test_session_start_keeps_who_the_citizen_is(actions: ActionServer, sender: str) -> None:
    kept = {"language": "en", "channel": "whatsapp", "contact_phone": "+966501112233"}
    dropped = {"service": "pothole", "description": "an old half-finished report"}
    reply = await actions.ok("action_session_start", Turn(sender, slots={**kept, **dropped}))
    kinds = [e["event"] for e in reply.events]
    assert kinds[0] == "session_started" and kinds[-1] == "action"
    assert reply.slots == kept


async def test_session_start_keeps_a_pending_report(actions: ActionServer, sender: str) -> None:
    slots = {"language": "ar", "service": "pothole", "description": "حفرة", "pending_report": True}
    reply = await actions.ok("action_session_start", Turn(sender, slots=slots))
    assert reply.slots == slots


async def test_session_start_keeps_survey_answers_waiting_to_be_filed(
    actions: ActionServer, sender: str
) -> None:
    waiting = {
        "survey_ticket": "481920375",
        "survey_quality": "4",
        "survey_speed": "2",
        "survey_comment": "skip",
    }
    reply = await actions.ok(
        "action_session_start", Turn(sender, slots={"language": "en", **waiting})
    )
    assert reply.slots == {"language": "en", **waiting}
    half_done = {**waiting, "survey_comment": None}  # interrupted, not waiting: a fresh start
    reply = await actions.ok("action_session_start", Turn(sender, slots=half_done))
    assert reply.slots == {}


async def test_reset_report(actions: ActionServer, sender: str) -> None:
    slots = {"service": "waste", "description": "x", "pending_report": True, "ticket_id": "1234567"}
    reply = await actions.ok("action_reset_report", Turn(sender, slots=slots))
    for slot in ("service", "description", "ticket_id", "requested_slot", "correct_field"):
        assert slot in reply.slots and reply.slots[slot] is None, slot
    assert reply.slots["pending_report"] is False


# --- the server ----------------------------------------------------------------------------


async def test_every_action_of_the_domain_is_served(
    actions: ActionServer, domain: dict[str, Any]
) -> None:
    async with actions.http.get(f"{actions.url}/actions") as response:
        served = {item["name"] for item in await response.json()}
    custom = {a for a in domain["actions"] if not a.startswith("utter_")}
    assert custom <= served, custom - served


def responses_used() -> set[str]:
    """Every ``utter_*`` string literal in the actions package."""
    found: set[str] = set()
    for path in (ROOT / "actions").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                name = node.value
                if name.startswith("utter_") and name.isidentifier() and name != "utter_action":
                    found.add(name)
    return found


def test_every_response_the_actions_send_is_in_the_domain_in_both_languages(
    domain: dict[str, Any],
) -> None:
    used = responses_used()
    assert len(used) > 30
    missing = sorted(used - set(domain["responses"]))
    assert not missing, f"responses used by actions/ but missing from domain.yml: {missing}"
    for name in used:
        conditions = [v.get("condition") or [] for v in domain["responses"][name]]
        assert [] in conditions, f"{name}: no Arabic (default) variation"
        english = [
            c for c in conditions if {"type": "slot", "name": "language", "value": "en"} in c
        ]
        assert english, f"{name}: no English variation"


async def test_sigterm_stops_the_server_cleanly(
    ticket_service: TicketServiceUnderTest, tmp_path: Path
) -> None:
    process = ActionServerProcess(ticket_service.url, tmp_path / "actions.log")
    await process.start()
    assert await process.stop() == 0, process.tail()  # one SIGTERM
    assert "Server Stopped" in process.tail()

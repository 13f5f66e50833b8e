"""Follow-ups ("nobody responded") and complaints end to end, in Arabic and in English: the
citizen gets a reference, and the ticket service holds the follow-up (ticket escalated, queued
for Beneficiary Satisfaction) or the complaint (routed to Beneficiary Satisfaction)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from tests.bot.conftest import BotStack, CitizenFactory
from tests.bot.support import Citizen, Turn, digits_in, own_ticket, random_phone, tickets_of
from tests.ticket_service.conftest import KEYS
from ticket_client import TawasulClient


@dataclass(frozen=True)
class Phrases:
    language: str
    followup: str  # {n}: the ticket number
    followup_no_number: str
    complaint: str
    complaint_start: str  # no details yet
    complaint_details: str


ARABIC = Phrases(
    language="ar",
    followup="بلغت عن المشكلة من أسبوعين برقم {n} وما أحد رد علي ولا تحرك أحد",
    followup_no_number="بلاغي صار له وقت طويل وما أحد تجاوب معه",
    complaint="ابي اشتكي على موظف في فرع البلدية كان اسلوبه سيء جداً معي ورفض يستقبل اوراقي",
    complaint_start="ابي اقدم شكوى",
    complaint_details="الموظف في مكتب الرخص رفض يستلم طلبي بدون سبب وكان يتكلم بأسلوب غير لائق",
)
ENGLISH = Phrases(
    language="en",
    followup="I reported this two weeks ago as {n} and nobody has responded or done anything",
    followup_no_number="My report has been ignored for ages, nobody followed up on it",
    complaint="I want to complain about an employee at the municipality office who was very "
    "rude to me and refused to accept my papers",
    complaint_start="I want to make a complaint",
    complaint_details="The clerk at the licensing desk refused to take my application for no "
    "reason and spoke to me disrespectfully",
)
LANGUAGES = [pytest.param(ARABIC, id="ar"), pytest.param(ENGLISH, id="en")]


async def followup_queue(http: aiohttp.ClientSession, stack: BotStack) -> list[dict[str, Any]]:
    """Beneficiary Satisfaction's queue of follow-ups, as that department sees it."""
    url = f"{stack.ticket.url}/api/v1/followups"
    headers = {"X-Api-Key": KEYS["satisfaction"]}
    async with http.get(url, params={"page_size": "100"}, headers=headers) as response:
        assert response.status == 200, await response.text()
        body = await response.json()
    followups: list[dict[str, Any]] = body["followups"]
    return followups


async def assert_followup_filed(
    turn: Turn,
    who: Citizen,
    number: str,
    language: str,
    staff: TawasulClient,
    http: aiohttp.ClientSession,
    stack: BotStack,
) -> None:
    references = turn.references()
    assert len(references) == 1, f"no 10-digit reference\n{who.transcript()}"
    assert who.domain.sent(turn, "utter_followup_filed") == language, who.transcript()
    assert "24" in digits_in(turn.text, 2), f"no 24 h promise\n{who.transcript()}"
    queued = [f for f in await followup_queue(http, stack) if f["reference"] == references[0]]
    assert queued and queued[0]["service_request_id"] == number
    assert (await staff.ticket(number)).escalation_level >= 1


@pytest.mark.parametrize("p", LANGUAGES)
async def test_followup_with_the_number(
    p: Phrases,
    citizen: CitizenFactory,
    hub: TawasulClient,
    staff: TawasulClient,
    http: aiohttp.ClientSession,
    bot_stack: BotStack,
) -> None:
    phone = random_phone()
    who = citizen("whatsapp", contact={"phone": phone, "phone_verified": True})
    number = await own_ticket(hub, who, language=p.language)
    turn = await who.say(p.followup.format(n=number))
    await assert_followup_filed(turn, who, number, p.language, staff, http, bot_stack)


@pytest.mark.parametrize("p", LANGUAGES)
async def test_followup_chooses_among_my_tickets(
    p: Phrases,
    citizen: CitizenFactory,
    hub: TawasulClient,
    staff: TawasulClient,
    http: aiohttp.ClientSession,
    bot_stack: BotStack,
) -> None:
    """No number given: the citizen's open tickets are offered as buttons."""
    who = citizen("messenger")
    number = await own_ticket(hub, who, service="waste", language=p.language)
    other = await own_ticket(hub, who, service="sidewalk", language=p.language)
    ask = await who.say(p.followup_no_number)
    assert await who.form() == ("followup_form", "ticket_id"), who.transcript()
    assert ask.in_language(p.language), who.transcript()
    choice = [x for x in ask.payloads if number in x]
    assert choice and [x for x in ask.payloads if other in x], who.transcript()
    turn = await who.say(choice[0])
    await assert_followup_filed(turn, who, number, p.language, staff, http, bot_stack)


@pytest.mark.parametrize("p", LANGUAGES)
@pytest.mark.parametrize("details_first", [True, False], ids=["described", "asked"])
async def test_complaint(
    p: Phrases,
    details_first: bool,
    citizen: CitizenFactory,
    hub: TawasulClient,
    staff: TawasulClient,
) -> None:
    """A complaint about staff: filed as a complaint for Beneficiary Satisfaction, with its
    reference in the reply. Either the first message says it all, or the bot asks."""
    who = citizen("web")
    if details_first:
        turn = await who.say(p.complaint)
    else:
        await who.say(p.complaint_start)
        assert await who.form() == ("complaint_form", "description"), who.transcript()
        assert who.turns[-1].in_language(p.language), who.transcript()
        turn = await who.say(p.complaint_details)
    found = who.domain.match(turn, "utter_complaint_filed", p.language)
    assert found is not None, f"no complaint reference\n{who.transcript()}"
    complaints = [t for t in await tickets_of(hub, who) if t.kind == "complaint"]
    assert len(complaints) == 1, who.transcript()
    assert complaints[0].service_request_id == found["reference"]
    ticket = await staff.ticket(found["reference"])
    assert ticket.department == "beneficiary_satisfaction"
    assert ticket.description == (p.complaint if details_first else p.complaint_details)
    assert ticket.channel == "web" and ticket.language == p.language

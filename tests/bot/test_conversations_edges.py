"""The unhappy paths end to end: cancelling mid-form, a question in the middle of a report, public
channels, languages the bot does not speak, and the ticket service being down."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest

from tests.bot.conftest import CitizenFactory, TicketService
from tests.bot.support import (
    Citizen,
    has_arabic,
    has_english,
    own_ticket,
    random_phone,
    tickets_of,
)
from ticket_client import TawasulClient


@dataclass(frozen=True)
class Phrases:
    language: str
    report: str  # names the service (pothole) and describes the problem
    location: str
    cancel: str
    status: str  # {n}: a ticket number
    name: str
    phone: str
    yes: str
    skip: str
    thanks: str


ARABIC = Phrases(
    language="ar",
    report="فيه حفرة كبيرة في الشارع الرئيسي عند الإشارة والسيارات تتضرر منها",
    location="حي العزيزية، طريق الملك فهد عند الإشارة",
    cancel="الغاء البلاغ",
    status="كم حالة بلاغي رقم {n}؟",
    name="خالد الدوسري",
    phone="0559876543",
    yes="نعم",
    skip="تخطي",
    thanks="شكراً",
)
ENGLISH = Phrases(
    language="en",
    report="There is a big pothole on the main road near the roundabout and cars are "
    "getting damaged",
    location="Al Aziziyah district, King Fahd Road near the roundabout",
    cancel="cancel the report",
    status="what is the status of report {n}?",
    name="John Smith",
    phone="0559876543",
    yes="yes",
    skip="skip",
    thanks="thank you",
)
LANGUAGES = [pytest.param(ARABIC, id="ar"), pytest.param(ENGLISH, id="en")]
POTHOLE_BUTTON = '/inform{"service": "pothole"}'


def answers(p: Phrases) -> dict[str, str]:
    """What the citizen answers to each question of the report form (the service: the button
    the bot offers when it did not get it from the first message)."""
    return {
        "service": POTHOLE_BUTTON,
        "description": p.report,
        "location_text": p.location,
        "photo_url": p.skip,
        "reporter_name": p.name,
        "reporter_phone": p.phone,
    }


@pytest.mark.parametrize("p", LANGUAGES)
async def test_cancel_mid_form_files_nothing(
    p: Phrases, citizen: CitizenFactory, hub: TawasulClient
) -> None:
    who = citizen("whatsapp")
    await who.say(p.report)
    await who.answer(answers(p), until="location_text")
    assert await who.form() == ("report_form", "location_text"), who.transcript()
    turn = await who.say(p.cancel)
    assert who.domain.sent(turn, "utter_cancelled") == p.language, who.transcript()
    assert await who.form() == (None, None)
    await who.say(p.thanks)
    assert await tickets_of(hub, who) == [], who.transcript()
    slots = await who.slots()
    assert slots.get("description") is None and slots.get("location_text") is None


@pytest.mark.parametrize("p", LANGUAGES)
async def test_status_question_in_the_middle_of_a_report(
    p: Phrases, citizen: CitizenFactory, hub: TawasulClient, staff: TawasulClient
) -> None:
    """Asked where the problem is, the citizen asks about an earlier report: the bot answers,
    asks the question again, and the report is then finished and filed."""
    who = citizen("whatsapp")
    earlier = await own_ticket(hub, who, language=p.language)
    await who.say(p.report)
    await who.answer(answers(p), until="location_text")
    turn = await who.say(p.status.format(n=earlier))
    status = who.domain.match(turn, "utter_ticket_status_no_note", p.language) or (
        who.domain.match(turn, "utter_ticket_status", p.language)
    )
    assert status is not None and status["ticket_id"] == earlier, who.transcript()
    assert who.domain.sent(turn, "utter_ask_location_text") == p.language, who.transcript()
    assert await who.form() == ("report_form", "location_text"), who.transcript()

    await who.answer(answers(p), until="confirmed")
    filed = await who.say(p.yes)
    assert who.domain.sent(filed, "utter_report_filed") == p.language, who.transcript()
    new = [t for t in await tickets_of(hub, who) if t.service_request_id != earlier]
    assert len(new) == 1 and new[0].service_request_id in filed.ticket_numbers()
    ticket = await staff.ticket(new[0].service_request_id)
    assert ticket.service_code == "pothole" and ticket.address == p.location


@pytest.mark.parametrize("p", LANGUAGES)
async def test_public_channel_asks_no_personal_data(
    p: Phrases, citizen: CitizenFactory, hub: TawasulClient
) -> None:
    """An X mention: no name or phone asked, none echoed; an invitation to a private message."""
    who = citizen("x", public=True, language=p.language)
    turn = await who.say(p.report)
    assert turn.in_language(p.language), who.transcript()
    public_answers = {k: v for k, v in answers(p).items() if not k.startswith("reporter_")}
    if (await who.form())[0] is not None:  # a report without personal data is allowed
        await who.answer({**public_answers, "confirmed": p.yes})
    invited = [t for t in who.turns if who.domain.sent(t, "utter_public_invite_dm") == p.language]
    assert invited, f"no invitation to a private message\n{who.transcript()}"
    slots = await who.slots()
    assert slots.get("reporter_name") is None and slots.get("reporter_phone") is None
    for ticket in await tickets_of(hub, who):
        assert ticket.reporter is None or (ticket.reporter.name, ticket.reporter.phone) == (
            None,
            None,
        )


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("میری گلی میں کئی دنوں سے کچرا پڑا ہے، براہ کرم مدد کریں", id="urdu"),
        pytest.param(
            "Magandang araw po, may malaking butas sa kalsada sa harap ng bahay namin", id="tagalog"
        ),
    ],
)
async def test_other_language_gets_a_bilingual_offer_of_a_human(
    text: str, citizen: CitizenFactory
) -> None:
    who = citizen("whatsapp")
    turn = await who.say(text)
    assert has_arabic(turn.text) and has_english(turn.text), who.transcript()
    assert who.domain.sent(turn, "utter_other_language"), who.transcript()
    assert [x for x in turn.payloads if x.startswith("/human_handoff")], who.transcript()


async def wait_for_tickets(hub: TawasulClient, who: Citizen, seconds: float = 15.0) -> list[str]:
    for _ in range(int(seconds / 0.5)):
        found = [t.service_request_id for t in await tickets_of(hub, who)]
        if found:
            return found
        await asyncio.sleep(0.5)
    return []


@pytest.mark.parametrize("p", LANGUAGES)
async def test_report_while_the_ticket_service_is_down(
    p: Phrases,
    citizen: CitizenFactory,
    ticket_service: TicketService,
    hub: TawasulClient,
    staff: TawasulClient,
) -> None:
    """The citizen is told the report is saved and will be filed; once the service is back
    (and the citizen writes again) it is filed with everything they said."""
    phone = random_phone()
    who = citizen("whatsapp", contact={"phone": phone, "phone_verified": True})
    await who.say(p.report)
    ticket_service.stop()
    await who.answer({**answers(p), "reporter_phone": p.yes}, until="confirmed")
    saved = await who.say(p.yes)
    assert who.domain.sent(saved, "utter_report_saved_pending") == p.language, who.transcript()
    assert saved.ticket_numbers() == [], who.transcript()
    assert (await who.slots()).get("pending_report") is True

    ticket_service.start()
    later = await who.say(p.thanks)
    filed = await wait_for_tickets(hub, who)
    assert len(filed) == 1, f"the saved report was not filed\n{who.transcript()}"
    assert filed[0] in later.ticket_numbers(), f"number not sent\n{who.transcript()}"
    ticket = await staff.ticket(filed[0])
    assert ticket.service_code == "pothole" and ticket.address == p.location
    assert ticket.reporter is not None and ticket.reporter.name == p.name
    assert (await who.slots()).get("pending_report") is not True

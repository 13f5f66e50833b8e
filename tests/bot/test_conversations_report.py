"""Filing a report end to end, in Arabic and in English: the citizen talks to Rasa over the REST
channel, the actions file the ticket, and the ticket service holds what the citizen said."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.bot.conftest import CitizenFactory
from tests.bot.support import Citizen, Turn, random_phone, tickets_of
from tests.spots import random_pin
from ticket_client import TawasulClient, Ticket


@dataclass(frozen=True)
class Phrases:
    language: str
    report: str  # names the service and describes the problem
    location: str
    corrected_location: str
    photo_caption: str
    name: str
    phone: str  # typed by the citizen
    yes: str
    no: str
    skip: str
    generic_report: str  # a report without the service
    description: str


ARABIC = Phrases(
    language="ar",
    report="فيه حفرة كبيرة وعميقة في الشارع قدام بيتنا وخربت كفر سيارتي",
    location="حي الروضة، شارع الأمير سلطان",
    corrected_location="حي الفيصلية، شارع الملك سعود قرب المسجد",
    photo_caption="هذي صورة الحفرة",
    name="محمد العتيبي",
    phone="٠٥٥١٢٣٤٥٦٧",
    yes="نعم",
    no="لا",
    skip="تخطي",
    generic_report="ابغى اقدم بلاغ",
    description="عمود الإنارة طافي من أسبوع والشارع ظلام في الليل",
)
ENGLISH = Phrases(
    language="en",
    report="There is a big deep pothole in the road in front of our house, it damaged my tyre",
    location="Al Rawdah district, Prince Sultan Street",
    corrected_location="Al Faisaliyah district, King Saud Street near the mosque",
    photo_caption="here is a photo of the pothole",
    name="Sarah Ahmed",
    phone="0551234567",
    yes="yes",
    no="no",
    skip="skip",
    generic_report="I want to file a report",
    description="The street light has been off for a week and the street is dark at night",
)
LANGUAGES = [pytest.param(ARABIC, id="ar"), pytest.param(ENGLISH, id="en")]


def said(who: Citizen) -> list[str]:
    return [" ".join(turn.said.split()) for turn in who.turns]


def assert_filed(turn: Turn, who: Citizen, language: str) -> str:
    """The citizen got one 9-digit ticket number, in their language; returns it."""
    numbers = set(turn.ticket_numbers())
    assert len(numbers) == 1, f"no (single) ticket number in the reply\n{who.transcript()}"
    assert who.domain.sent(turn, "utter_report_filed") == language, who.transcript()
    return numbers.pop()


async def the_ticket(staff: TawasulClient, hub: TawasulClient, who: Citizen, number: str) -> Ticket:
    mine = [t.service_request_id for t in await tickets_of(hub, who)]
    assert number in mine, f"ticket {number} is not among the citizen's tickets {mine}"
    return await staff.ticket(number)


@pytest.mark.parametrize("p", LANGUAGES)
async def test_report_with_photo_and_a_correction_at_the_summary(
    p: Phrases, citizen: CitizenFactory, staff: TawasulClient, hub: TawasulClient
) -> None:
    """WhatsApp knows the phone (verified): it is offered for confirmation, not asked. The
    citizen sends a photo, then corrects the location at the summary."""
    phone = random_phone()
    who = citizen("whatsapp", contact={"phone": phone, "phone_verified": True})
    photo = f"http://127.0.0.1:9/media/{who.sender}.jpg"
    await who.say(p.report)
    await who.answer(
        {
            "service": '/inform{"service": "pothole"}',  # the button, if the bot asks
            "description": p.report,
            "location_text": p.location,
            "photo_url": (p.photo_caption, {"attachments": [{"type": "image", "url": photo}]}),
            "reporter_name": p.name,
            "reporter_phone": p.yes,  # the number WhatsApp gave
        },
        until="confirmed",
    )
    loop, requested = await who.form()
    assert (loop, requested) == ("report_form", "confirmed"), who.transcript()
    assert who.turns[-1].in_language(p.language), who.transcript()

    # "No" at the summary: which field? The location button, then the new location.
    fields = await who.say(p.no)
    location_buttons = [x for x in fields.payloads if "location" in x]
    assert location_buttons, f"no button to correct the location\n{who.transcript()}"
    await who.say(location_buttons[0])
    assert await who.form() == ("report_form", "location_text"), who.transcript()
    await who.answer({"location_text": p.corrected_location}, until="confirmed")
    filed = await who.say(p.yes)
    number = assert_filed(filed, who, p.language)
    assert (await who.form())[0] is None

    ticket = await the_ticket(staff, hub, who, number)
    assert ticket.kind == "report" and ticket.service_code == "pothole"
    assert " ".join((ticket.description or "").split()) in said(who)
    assert ticket.address == p.corrected_location
    assert photo in ticket.media_urls
    assert ticket.channel == "whatsapp" and ticket.language == p.language
    assert ticket.reporter is not None
    assert ticket.reporter.channel == "whatsapp" and ticket.reporter.channel_user_id == who.sender
    assert ticket.reporter.name == p.name
    assert ticket.reporter.phone == phone


@pytest.mark.parametrize("p", LANGUAGES)
async def test_report_with_service_buttons_and_a_map_pin(
    p: Phrases, citizen: CitizenFactory, staff: TawasulClient, hub: TawasulClient
) -> None:
    """The citizen shares a map pin with the first message, which names no service: the bot
    offers the services as buttons and never asks where; no photo; the phone is typed
    (Arabic-Indic digits in Arabic)."""
    who = citizen("telegram")
    pin = {**random_pin(), "address": p.location}
    first = await who.say(p.generic_report, location=pin)
    assert first.in_language(p.language), who.transcript()
    assert await who.form() == ("report_form", "service"), who.transcript()
    streetlight = [x for x in first.payloads if '"streetlight"' in x]
    assert streetlight, f"no service buttons\n{who.transcript()}"
    assert len(first.buttons) >= 10, who.transcript()
    await who.say(streetlight[0])
    await who.answer(
        {
            "description": p.description,
            "photo_url": p.skip,
            "reporter_name": p.name,
            "reporter_phone": p.phone,
        },
        until="confirmed",
    )
    filed = await who.say(p.yes)
    number = assert_filed(filed, who, p.language)

    ticket = await the_ticket(staff, hub, who, number)
    assert ticket.service_code == "streetlight"
    assert ticket.description == p.description
    assert ticket.address == p.location  # the pin's address
    assert ticket.lat == pytest.approx(pin["lat"], abs=1e-6)
    assert ticket.long == pytest.approx(pin["long"], abs=1e-6)
    assert ticket.media_urls == ()
    assert ticket.channel == "telegram" and ticket.language == p.language
    assert ticket.reporter is not None
    assert ticket.reporter.name == p.name and ticket.reporter.phone == "+966551234567"
    # The pin answered the location: the bot never asked for it.
    assert not [t for t in who.turns if who.domain.sent(t, "utter_ask_location_text")]

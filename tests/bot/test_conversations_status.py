"""Status questions end to end: by number (the citizen's own ticket, someone else's, Arabic-Indic
digits) and "my reports", in Arabic and in English."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.bot.conftest import CitizenFactory
from tests.bot.support import own_ticket
from ticket_client import TawasulClient

ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


@dataclass(frozen=True)
class Phrases:
    language: str
    status: str  # {n}: the ticket number
    my_reports: str
    note: str  # the team's note on the ticket


ARABIC = Phrases(
    language="ar",
    status="السلام عليكم، وين وصل بلاغي رقم {n}؟",
    my_reports="ابي اشوف بلاغاتي",
    note="تم تكليف فريق الصيانة وسيباشر العمل غداً",
)
ENGLISH = Phrases(
    language="en",
    status="Hi, what's the status of my report {n}?",
    my_reports="show me my reports",
    note="A maintenance crew has been assigned and starts tomorrow",
)
LANGUAGES = [pytest.param(ARABIC, id="ar"), pytest.param(ENGLISH, id="en")]


@pytest.mark.parametrize("p", LANGUAGES)
async def test_status_of_my_ticket_by_number(
    p: Phrases, citizen: CitizenFactory, hub: TawasulClient, staff: TawasulClient
) -> None:
    """The status, last update and the team's note, in the citizen's language. In Arabic the
    number is typed with Arabic-Indic digits."""
    who = citizen("whatsapp")
    number = await own_ticket(hub, who, language=p.language)
    await staff.change_status(number, "in_progress", note=p.note)
    typed = number.translate(ARABIC_INDIC) if p.language == "ar" else number
    turn = await who.say(p.status.format(n=typed))

    assert turn.in_language(p.language), who.transcript()
    found = who.domain.match(turn, "utter_ticket_status", p.language)
    assert found is not None, f"no status answer\n{who.transcript()}"
    assert found["ticket_id"] == number
    assert found["status_text"] == who.domain.variations("utter_status_in_progress")[p.language]
    assert found["note"] == p.note


@pytest.mark.parametrize("p", LANGUAGES)
async def test_someone_elses_number_is_not_found(
    p: Phrases, citizen: CitizenFactory, hub: TawasulClient
) -> None:
    owner, other = citizen("whatsapp"), citizen("whatsapp")
    number = await own_ticket(hub, owner, language=p.language, description="secret-details-xyz")
    turn = await other.say(p.status.format(n=number))
    assert other.domain.sent(turn, "utter_ticket_not_found") == p.language, other.transcript()
    assert "secret-details-xyz" not in turn.text


@pytest.mark.parametrize("p", LANGUAGES)
async def test_my_reports(p: Phrases, citizen: CitizenFactory, hub: TawasulClient) -> None:
    """Two tickets: both offered (buttons); choosing one answers its status. Someone else's
    ticket is never offered."""
    who, other = citizen("messenger"), citizen("messenger")
    mine = {
        await own_ticket(hub, who, service="waste", language=p.language),
        await own_ticket(hub, who, service="sidewalk", language=p.language),
    }
    theirs = await own_ticket(hub, other, language=p.language)
    turn = await who.say(p.my_reports)
    assert turn.in_language(p.language), who.transcript()
    offered = {n for payload in turn.payloads for n in mine if n in payload}
    assert offered == mine, f"both tickets should be offered\n{who.transcript()}"
    assert theirs not in turn.text and not [x for x in turn.payloads if theirs in x]

    choice = next(x for x in turn.payloads if any(n in x for n in mine))
    status = await who.say(choice)
    found = who.domain.match(status, "utter_ticket_status_no_note", p.language) or (
        who.domain.match(status, "utter_ticket_status", p.language)
    )
    assert found is not None and found["ticket_id"] in mine, who.transcript()
    assert found["status_text"] == who.domain.variations("utter_status_open")[p.language]


@pytest.mark.parametrize("p", LANGUAGES)
async def test_my_reports_when_there_are_none(p: Phrases, citizen: CitizenFactory) -> None:
    who = citizen("web", language=p.language)
    turn = await who.say(p.my_reports)
    assert who.domain.sent(turn, "utter_no_tickets") == p.language, who.transcript()

"""The closure survey end to end (real Rasa, action server and ticket service): the hub's
``/start_survey`` payload in the reporter's conversation, answers typed in Arabic and English
stored with the ticket and moving the KPIs by exactly one response, "still not fixed" reopening
the report, another citizen's number (or a follower's start) refused, the reminder, and the
service down at the end."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.bot.conftest import BotStack, CitizenFactory, TicketService
from tests.bot.support import Citizen, Turn, own_ticket
from tests.stack import stored_surveys
from ticket_client import Contact, KpiMetrics, TawasulClient


@dataclass(frozen=True)
class Phrases:
    language: str
    quality: str  # a typed answer to "how good"
    quality_score: int
    speed: str
    speed_score: int
    comment: str  # typed at the comment question
    stored_comment: str | None
    not_fixed: str
    gibberish: str
    cancel: str


ARABIC = Phrases(
    language="ar",
    quality="ممتاز",
    quality_score=5,
    speed="٤",
    speed_score=4,
    comment="لا شكراً",
    stored_comment=None,
    not_fixed="المشكلة ما انحلت، الحفرة على حالها",
    gibberish="بطاطس",
    cancel="الغاء",
)
ENGLISH = Phrases(
    language="en",
    quality="very good",
    quality_score=4,
    speed="2",
    speed_score=2,
    comment="took too long but fine",
    stored_comment="took too long but fine",
    not_fixed="it's still not fixed, nothing was done",
    gibberish="banana",
    cancel="cancel",
)
LANGUAGES = [pytest.param(ARABIC, id="ar"), pytest.param(ENGLISH, id="en")]
RATING_BUTTONS = [f'/inform{{"rating":"{n}"}}' for n in (1, 2, 3, 4, 5)] + ["/follow_up"]


def start(number: str) -> str:
    return f'/start_survey{{"ticket_id":"{number}"}}'


async def closed_report(hub: TawasulClient, staff: TawasulClient, who: Citizen, lang: str) -> str:
    """A report this citizen filed on their channel, closed by staff (fixed)."""
    number = await own_ticket(hub, who, service="pothole", language=lang)
    await staff.change_status(number, "closed", resolution="fixed", note="تم ردم الحفرة")
    return number


async def in_survey(
    citizen: CitizenFactory, hub: TawasulClient, staff: TawasulClient, channel: str, lang: str
) -> tuple[Citizen, str]:
    """A citizen on ``channel`` whose report was closed, in the survey the hub started."""
    who = citizen(channel, language=lang)
    number = await closed_report(hub, staff, who, lang)
    await who.say(start(number), proactive="survey")
    return who, number


def surveys_in_db(stack: BotStack, number: str) -> list[dict[str, Any]]:
    return stored_surveys(stack.ticket.db_path, number)


async def totals(staff: TawasulClient) -> tuple[int, int]:
    """(survey responses, satisfied ones) of the last 30 days, as staff read the KPIs."""
    metrics: KpiMetrics = (await staff.kpis()).total
    rate = metrics.satisfaction_rate or 0.0
    return metrics.survey_responses, round(rate * metrics.survey_responses)


def asks(who: Citizen, turn: Turn, response: str, language: str) -> None:
    assert who.domain.sent(turn, response) == language, who.transcript()


def asks_rating(who: Citizen, turn: Turn, response: str, language: str) -> None:
    asks(who, turn, response, language)
    assert turn.payloads[-len(RATING_BUTTONS) :] == RATING_BUTTONS, who.transcript()


async def survey_slots(who: Citizen) -> dict[str, Any]:
    slots = await who.slots()
    return {k: v for k, v in slots.items() if k.startswith("survey_")}


@pytest.mark.parametrize("p", LANGUAGES)
async def test_typed_answers_are_stored_and_move_the_kpis(
    p: Phrases,
    citizen: CitizenFactory,
    hub: TawasulClient,
    staff: TawasulClient,
    bot_stack: BotStack,
) -> None:
    who = citizen("telegram", language=p.language)
    number = await closed_report(hub, staff, who, p.language)
    responses, satisfied = await totals(staff)

    opening = await who.say(start(number), proactive="survey")
    intro = who.domain.match(opening, "utter_survey_intro", p.language)
    assert intro == {"ticket_id": number}, who.transcript()
    asks_rating(who, opening, "utter_ask_survey_quality", p.language)
    assert await who.form() == ("survey_form", "survey_quality")
    asks_rating(who, await who.say(p.quality), "utter_ask_survey_speed", p.language)
    asks(who, await who.say(p.speed), "utter_ask_survey_comment", p.language)
    done = await who.say(p.comment)

    thanks = who.domain.match(done, "utter_survey_thanks", p.language)
    expected = {"quality": p.quality_score, "speed": p.speed_score}
    assert thanks == {"ticket_id": number, **{k: str(v) for k, v in expected.items()}}
    assert surveys_in_db(bot_stack, number) == [{**expected, "comment": p.stored_comment}]
    survey_rows = [h for h in await staff.history(number) if h.kind == "survey"]
    assert len(survey_rows) == 1 and dict(survey_rows[0].data) == expected
    assert survey_rows[0].actor == "telegram"
    happy = (p.quality_score + p.speed_score) / 2 >= 4
    assert await totals(staff) == (responses + 1, satisfied + int(happy))
    assert await who.form() == (None, None)
    assert all(v is None for v in (await survey_slots(who)).values()), await who.slots()
    assert (await who.slots())["last_flow"] == "survey"

    again = await who.say(start(number), proactive="survey_reminder")
    asks(who, again, "utter_survey_already_answered", p.language)
    assert await who.form() == (None, None)
    assert len(surveys_in_db(bot_stack, number)) == 1
    assert await totals(staff) == (responses + 1, satisfied + int(happy))


async def test_button_answers_and_a_typed_comment(
    citizen: CitizenFactory, hub: TawasulClient, staff: TawasulClient, bot_stack: BotStack
) -> None:
    """What the hub's buttons send, in the order of a WhatsApp conversation."""
    who = citizen("whatsapp", language="ar", contact={"phone": "+966512345670"})
    number = await closed_report(hub, staff, who, "ar")
    await who.say(start(number))  # the template's quick-reply tap: no proactive metadata
    await who.say('/inform{"rating":"3"}')
    await who.say('/inform{"rating":"5"}')
    done = await who.say("الفريق تأخر يومين لكن الشغل نظيف")
    assert who.domain.match(done, "utter_survey_thanks", "ar") is not None, who.transcript()
    stored = surveys_in_db(bot_stack, number)
    assert stored == [{"quality": 3, "speed": 5, "comment": "الفريق تأخر يومين لكن الشغل نظيف"}]
    assert (await who.slots())["rating"] is None  # the buttons' entity is no service rating


@pytest.mark.parametrize("p", LANGUAGES)
async def test_still_not_fixed_reopens_the_report(
    p: Phrases,
    citizen: CitizenFactory,
    hub: TawasulClient,
    staff: TawasulClient,
    bot_stack: BotStack,
) -> None:
    who = citizen("web", language=p.language)
    number = await closed_report(hub, staff, who, p.language)
    responses, _ = await totals(staff)
    await who.say(start(number), proactive="survey")

    turn = await who.say(p.not_fixed)

    reopened = who.domain.match(turn, "utter_survey_reopened", p.language)
    assert reopened == {"ticket_id": number}, who.transcript()
    ticket = await staff.ticket(number)
    assert ticket.status == "open" and ticket.resolution is None
    last = ticket.history[-1]
    assert (last.kind, last.actor) == ("reopen", "web")
    assert dict(last.data) == {"citizen_note": p.not_fixed}
    assert surveys_in_db(bot_stack, number) == []
    assert (await totals(staff))[0] == responses
    assert await who.form() == (None, None)
    assert all(v is None for v in (await survey_slots(who)).values())


async def test_the_still_not_fixed_button_at_the_second_question(
    citizen: CitizenFactory, hub: TawasulClient, staff: TawasulClient, bot_stack: BotStack
) -> None:
    who, number = await in_survey(citizen, hub, staff, "telegram", "en")
    await who.say('/inform{"rating":"2"}')
    turn = await who.say("/follow_up")
    assert who.domain.match(turn, "utter_survey_reopened", "en") == {"ticket_id": number}
    ticket = await staff.ticket(number)
    assert ticket.status == "open" and ticket.history[-1].kind == "reopen"
    assert dict(ticket.history[-1].data) == {}  # a button says nothing to keep
    assert surveys_in_db(bot_stack, number) == []


async def test_another_citizens_ticket_is_not_found_and_nothing_is_stored(
    citizen: CitizenFactory, hub: TawasulClient, staff: TawasulClient, bot_stack: BotStack
) -> None:
    owner = citizen("whatsapp", language="ar")
    number = await closed_report(hub, staff, owner, "ar")
    stranger = citizen("whatsapp", language="ar")

    turn = await stranger.say(start(number))

    assert stranger.domain.match(turn, "utter_ticket_not_found", "ar") == {"ticket_id": number}
    assert await stranger.form() == (None, None)
    assert (await stranger.slots())["survey_ticket"] is None
    await stranger.say("٥")  # no survey to answer: nothing reaches the ticket
    assert surveys_in_db(bot_stack, number) == []
    assert (await staff.ticket(number)).status == "closed"
    opening = await owner.say(start(number), proactive="survey")  # still the owner's to answer
    assert owner.domain.match(opening, "utter_survey_intro", "ar") == {"ticket_id": number}


async def test_a_follower_is_refused_at_the_start_and_nothing_is_stored(
    citizen: CitizenFactory, hub: TawasulClient, staff: TawasulClient, bot_stack: BotStack
) -> None:
    owner, follower = citizen("telegram", language="en"), citizen("whatsapp", language="en")
    point = {"service_code": "pothole", "lat": 26.4207, "long": 50.0888, "language": "en"}
    filed = await hub.create(description="A deep pothole in the right lane",
                             channel=owner.channel,
                             reporter=Contact(owner.channel, owner.sender), **point)  # fmt: skip
    joined = await hub.create(description="Pothole next to the roundabout",
                              channel=follower.channel,
                              reporter=Contact(follower.channel, follower.sender),
                              **point)  # fmt: skip
    number = filed.ticket.service_request_id
    assert joined.duplicate and joined.ticket.service_request_id == number  # a follower now
    await staff.change_status(number, "closed", resolution="fixed")

    turn = await follower.say(start(number))

    # refused at once: no question asked, the same reply as for a stranger
    assert follower.domain.match(turn, "utter_ticket_not_found", "en") == {"ticket_id": number}
    assert follower.domain.sent(turn, "utter_ask_survey_quality") is None, follower.transcript()
    assert await follower.form() == (None, None)
    assert (await follower.slots())["survey_ticket"] is None
    await follower.say("5")
    assert surveys_in_db(bot_stack, number) == []
    opening = await owner.say(start(number), proactive="survey")  # still the reporter's
    assert owner.domain.match(opening, "utter_survey_intro", "en") == {"ticket_id": number}


@pytest.mark.parametrize("p", LANGUAGES)
async def test_the_reminder_says_it_is_one(
    p: Phrases, citizen: CitizenFactory, hub: TawasulClient, staff: TawasulClient
) -> None:
    who = citizen("email", language=p.language)
    number = await closed_report(hub, staff, who, p.language)
    turn = await who.say(start(number), proactive="survey_reminder")
    assert who.domain.match(turn, "utter_survey_reminder", p.language) == {"ticket_id": number}
    assert who.domain.sent(turn, "utter_survey_intro") is None, who.transcript()
    asks_rating(who, turn, "utter_ask_survey_quality", p.language)


@pytest.mark.parametrize("p", LANGUAGES)
async def test_not_understood_is_asked_again_then_cancelled(
    p: Phrases,
    citizen: CitizenFactory,
    hub: TawasulClient,
    staff: TawasulClient,
    bot_stack: BotStack,
) -> None:
    who, number = await in_survey(citizen, hub, staff, "telegram", p.language)
    for answer in (p.gibberish, "7"):
        turn = await who.say(answer)
        assert who.domain.count(turn, "utter_survey_invalid_score", p.language) == 1, answer
        asks_rating(who, turn, "utter_ask_survey_quality", p.language)
        assert await who.form() == ("survey_form", "survey_quality")
    asks_rating(who, await who.say("4"), "utter_ask_survey_speed", p.language)

    cancelled = await who.say(p.cancel)

    asks(who, cancelled, "utter_survey_cancelled", p.language)
    assert await who.form() == (None, None)
    assert all(v is None for v in (await survey_slots(who)).values())
    assert surveys_in_db(bot_stack, number) == []


async def test_an_open_ticket_has_no_survey_yet(
    citizen: CitizenFactory, hub: TawasulClient
) -> None:
    who = citizen("telegram", language="en")
    number = await own_ticket(hub, who, language="en")
    turn = await who.say(start(number))
    assert who.domain.match(turn, "utter_survey_not_closed", "en") == {"ticket_id": number}
    assert await who.form() == (None, None)


async def test_answers_are_kept_while_the_ticket_service_is_down(
    citizen: CitizenFactory,
    hub: TawasulClient,
    staff: TawasulClient,
    bot_stack: BotStack,
    ticket_service: TicketService,
) -> None:
    """Service down at the end: "try later", the answers stay; the "try again" button (the
    start payload) files them without asking again."""
    who, number = await in_survey(citizen, hub, staff, "telegram", "ar")
    await who.say("زين")
    await who.say("سريع")
    ticket_service.stop()
    try:
        saved = await who.say("شكراً على سرعة الاستجابة")
        asks(who, saved, "utter_survey_saved_pending", "ar")
        assert saved.payloads == [start(number)], who.transcript()
        kept = await survey_slots(who)
    finally:
        ticket_service.start()
    assert kept == {
        "survey_ticket": number,
        "survey_quality": "3",
        "survey_speed": "4",
        "survey_comment": "شكراً على سرعة الاستجابة",
        "survey_not_fixed": None,
    }
    assert surveys_in_db(bot_stack, number) == []

    retried = await who.say(saved.payloads[0])

    assert who.domain.match(retried, "utter_survey_thanks", "ar") == {
        "ticket_id": number,
        "quality": "3",
        "speed": "4",
    }, who.transcript()
    assert who.domain.sent(retried, "utter_ask_survey_quality") is None
    assert surveys_in_db(bot_stack, number) == [
        {"quality": 3, "speed": 4, "comment": "شكراً على سرعة الاستجابة"}
    ]

"""Status, follow-ups, complaints, callbacks and ratings through the real action server and the
real ticket service: a citizen sees only their own tickets, and what they ask for is filed."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from tests.actions.conftest import TicketServiceUnderTest
from tests.actions.support import ActionServer, Turn, entity
from ticket_client import Contact, TawasulClient
from ticket_service.db.schema import ratings

STATUS = "action_check_status"
#: What rasa-sdk puts in every message, whatever the action adds.
MESSAGE_KEYS = {
    "text",
    "buttons",
    "elements",
    "custom",
    "template",
    "response",
    "image",
    "attachment",
}


async def own_ticket(
    hub: TawasulClient,
    sender: str,
    *,
    service: str = "streetlight",
    channel: str = "whatsapp",
    language: str = "ar",
) -> str:
    """A report this citizen filed earlier on their channel."""
    created = await hub.create(
        kind="report",
        service_code=service,
        description="عمود الإنارة مطفأ منذ أسبوع",
        address="حي الشاطئ، شارع الخليج",
        channel=channel,
        language=language,
        reporter=Contact(channel, sender, language=language),
    )
    return created.ticket.service_request_id


def variation(domain: dict[str, Any], response: str, language: str) -> str:
    for v in domain["responses"][response]:
        wanted = [c.get("value") for c in v.get("condition") or []]
        if wanted == ([language] if language == "en" else []):
            return str(v["text"])
    raise AssertionError(response)


# --- status --------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["ar", "en"])
async def test_status_of_my_ticket_with_the_team_note(
    language: str,
    actions: ActionServer,
    hub: TawasulClient,
    admin: TawasulClient,
    domain: dict[str, Any],
    sender: str,
) -> None:
    number = await own_ticket(hub, sender, language=language)
    await admin.change_status(number, "in_progress", note="crew assigned for tomorrow")
    typed = number.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    turn = Turn(
        sender,
        text=f"وين وصل بلاغي {typed}",
        intent="check_status",
        entities=[entity("ticket_id", number)],
        slots={"language": language, "channel": "whatsapp", "ticket_id": typed},
    )
    reply = await actions.ok(STATUS, turn)
    status = reply.response("utter_ticket_status")
    assert status["ticket_id"] == number
    assert status["status_text"] == variation(domain, "utter_status_in_progress", language)
    assert status["note"] == "crew assigned for tomorrow"
    assert status["updated"].startswith("2026-03-01 ")  # Riyadh time of the (fake) clock
    assert reply.slots["ticket_id"] is None and reply.slots["last_flow"] == "status"


async def test_closed_ticket_says_how_it_was_closed(
    actions: ActionServer,
    hub: TawasulClient,
    admin: TawasulClient,
    domain: dict[str, Any],
    sender: str,
) -> None:
    number = await own_ticket(hub, sender)
    await admin.change_status(number, "closed", resolution="duplicate")
    turn = Turn(sender, slots={"language": "en", "channel": "whatsapp", "ticket_id": number})
    status = (await actions.ok(STATUS, turn)).response("utter_ticket_status_no_note")
    assert status["status_text"] == variation(domain, "utter_status_closed_duplicate", "en")


@pytest.mark.parametrize("language", ["ar", "en"])
async def test_someone_elses_ticket_is_not_found(
    language: str, actions: ActionServer, hub: TawasulClient, sender: str
) -> None:
    number = await own_ticket(hub, sender + "-owner")
    turn = Turn(sender, slots={"language": language, "channel": "whatsapp", "ticket_id": number})
    reply = await actions.ok(STATUS, turn)
    assert reply.names == ["utter_ticket_not_found"]
    said = reply.response("utter_ticket_not_found")
    assert set(said) - MESSAGE_KEYS == {"ticket_id"}  # nothing about the ticket but its number
    unknown = Turn(sender, slots={"language": language, "ticket_id": "100000001"})
    assert (await actions.ok(STATUS, unknown)).names == ["utter_ticket_not_found"]


async def test_my_tickets_as_buttons(
    actions: ActionServer, hub: TawasulClient, sender: str
) -> None:
    mine = {
        await own_ticket(hub, sender, service=s, channel="messenger") for s in ("waste", "sidewalk")
    }
    theirs = await own_ticket(hub, sender + "-other", channel="messenger")
    turn = Turn(
        sender,
        text="my reports",
        intent="check_status",
        slots={"language": "en", "channel": "messenger"},
    )
    choose = (await actions.ok(STATUS, turn)).response("utter_choose_ticket")
    payloads = [b["payload"] for b in choose["buttons"]]
    assert {n for n in mine if any(n in p for p in payloads)} == mine
    assert not [p for p in payloads if theirs in p]
    assert all(p.startswith('/check_status{"ticket_id": "') for p in payloads)


async def test_one_ticket_is_shown_at_once_and_none_is_said(
    actions: ActionServer, hub: TawasulClient, sender: str
) -> None:
    nothing = Turn(sender, text="بلاغاتي", intent="check_status", slots={"channel": "web"})
    assert (await actions.ok(STATUS, nothing)).names == ["utter_no_tickets"]
    number = await own_ticket(hub, sender, channel="web")
    one = (await actions.ok(STATUS, nothing)).response("utter_ticket_status_no_note")
    assert one["ticket_id"] == number


async def test_public_channel_lists_nothing(actions: ActionServer, sender: str) -> None:
    turn = Turn(sender, text="@940 my reports", slots={"channel": "x", "public": True})
    assert (await actions.ok(STATUS, turn)).names == ["utter_public_invite_dm"]


# --- follow-up -----------------------------------------------------------------------------


async def test_followup_form_accepts_only_my_ticket(
    actions: ActionServer, hub: TawasulClient, sender: str
) -> None:
    mine = await own_ticket(hub, sender)
    theirs = await own_ticket(hub, sender + "-other")
    form = {"channel": "whatsapp", "requested_slot": "ticket_id"}
    for number, kept in ((mine, mine), (theirs, None)):
        turn = Turn(
            sender,
            text=number,
            intent="inform",
            slots=form,
            active_loop="followup_form",
            candidates={"ticket_id": number},
        )
        reply = await actions.ok("validate_followup_form", turn)
        assert reply.slots["ticket_id"] == kept
        assert reply.names == ([] if kept else ["utter_ticket_not_found"])
    bad = Turn(
        sender,
        text="12",
        intent="inform",
        slots=form,
        active_loop="followup_form",
        candidates={"ticket_id": "12"},
    )
    assert (await actions.ok("validate_followup_form", bad)).names == ["utter_invalid_ticket_id"]


async def test_followup_asks_with_my_open_tickets(
    actions: ActionServer, hub: TawasulClient, admin: TawasulClient, sender: str
) -> None:
    ask = Turn(sender, slots={"channel": "messenger"}, active_loop="followup_form")
    assert (await actions.ok("action_ask_ticket_id", ask)).names == ["utter_ask_ticket_id"]
    first = await own_ticket(hub, sender, channel="messenger", service="waste")
    one = (await actions.ok("action_ask_ticket_id", ask)).response("utter_ask_ticket_id")
    assert [b["payload"] for b in one["buttons"]] == [f'/inform{{"ticket_id": "{first}"}}']
    second = await own_ticket(hub, sender, channel="messenger", service="sidewalk")
    closed = await own_ticket(hub, sender, channel="messenger", service="pothole")
    await admin.change_status(closed, "closed", resolution="fixed")
    several = (await actions.ok("action_ask_ticket_id", ask)).response("utter_choose_ticket")
    offered = " ".join(b["payload"] for b in several["buttons"])
    assert first in offered and second in offered and closed not in offered


@pytest.mark.parametrize("language", ["ar", "en"])
async def test_submit_followup(
    language: str, actions: ActionServer, hub: TawasulClient, admin: TawasulClient, sender: str
) -> None:
    number = await own_ticket(hub, sender)
    said = "ما أحد رد على بلاغي" if language == "ar" else "nobody answered my report"
    turn = Turn(
        sender,
        text=said,
        intent="follow_up",
        entities=[entity("ticket_id", number)],
        slots={"language": language, "channel": "whatsapp", "ticket_id": number},
    )
    reply = await actions.ok("action_submit_followup", turn)
    filed = reply.response("utter_followup_filed")
    assert filed["reference"].isdigit() and len(filed["reference"]) == 10
    assert reply.slots["ticket_id"] is None and reply.slots["last_flow"] == "followup"
    assert (await admin.ticket(number)).escalation_level >= 1
    again = await actions.ok("action_submit_followup", turn)  # the same message, retried
    assert again.response("utter_followup_filed")["reference"] == filed["reference"]


async def test_followup_on_someone_elses_ticket(
    actions: ActionServer, hub: TawasulClient, sender: str
) -> None:
    theirs = await own_ticket(hub, sender + "-other")
    turn = Turn(
        sender,
        text="follow up",
        intent="follow_up",
        slots={"channel": "whatsapp", "ticket_id": theirs},
    )
    assert (await actions.ok("action_submit_followup", turn)).names == ["utter_ticket_not_found"]


# --- complaint, callback, rating -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "prefilled"),
    [
        ("ابي اشتكي على موظف في فرع البلدية كان اسلوبه سيء جداً معي", True),
        ("The clerk at the licensing desk was rude and refused my papers", True),
        ("ابي اقدم شكوى", False),
        ("I want to make a complaint", False),
    ],
)
async def test_complaint_form_takes_a_describing_first_message(
    text: str, prefilled: bool, actions: ActionServer, sender: str
) -> None:
    turn = Turn(sender, text=text, intent="complain", active_loop="complaint_form")
    reply = await actions.ok("validate_complaint_form", turn)
    assert reply.slots.get("description") == (text if prefilled else None)


@pytest.mark.parametrize("language", ["ar", "en"])
async def test_submit_complaint(
    language: str, actions: ActionServer, admin: TawasulClient, sender: str
) -> None:
    description = "الموظف رفض استلام طلبي" if language == "ar" else "The clerk refused my request"
    turn = Turn(
        sender,
        text=description,
        intent="inform",
        slots={"language": language, "channel": "web", "description": description},
    )
    reply = await actions.ok("action_submit_complaint", turn)
    reference = reply.response("utter_complaint_filed")["reference"]
    ticket = await admin.ticket(reference)
    assert ticket.kind == "complaint" and ticket.description == description
    assert ticket.department == "beneficiary_satisfaction"
    assert ticket.channel == "web" and ticket.language == language
    assert reply.slots["description"] is None and reply.slots["last_flow"] == "complaint"


async def test_callback_request_marks_the_conversation_with_an_agent(
    actions: ActionServer, admin: TawasulClient, sender: str
) -> None:
    turn = Turn(
        sender,
        text="ابي اكلم موظف",
        intent="human_handoff",
        slots={"channel": "whatsapp", "contact_phone": "+966507778899"},
    )
    reply = await actions.ok("action_request_callback", turn)
    reference = reply.response("utter_handoff")["reference"]
    ticket = await admin.ticket(reference)
    assert ticket.kind == "callback" and ticket.description == "ابي اكلم موظف"
    assert ticket.reporter is not None and ticket.reporter.phone == "+966507778899"
    assert reply.slots["with_agent"] is True


async def ratings_of(service: TicketServiceUnderTest, conversation: str) -> list[tuple[Any, ...]]:
    async with service.ctx.db.read() as conn:
        query = select(ratings.c.kind, ratings.c.score, ratings.c.channel).where(
            ratings.c.conversation_id == conversation
        )
        return [tuple(row) for row in (await conn.execute(query)).all()]


async def test_rating_is_stored_once_per_message(
    actions: ActionServer, ticket_service: TicketServiceUnderTest, sender: str
) -> None:
    turn = Turn(
        sender,
        text="٤",
        intent="rate",
        entities=[entity("rating", "٤")],
        slots={"channel": "telegram", "rating": "4"},
    )
    reply = await actions.ok("action_store_rating", turn)
    assert reply.names == ["utter_thanks_rating"] and reply.slots["rating"] is None
    await actions.ok("action_store_rating", turn)  # retried
    assert await ratings_of(ticket_service, sender) == [("answer", 4, "telegram")]


async def test_no_rating_asks_for_one(actions: ActionServer, sender: str) -> None:
    for text in ("I want to rate you", "10 out of 10"):  # no score, or none from 1 to 5
        turn = Turn(sender, text=text, intent="rate", slots={"rating": "ten"})
        assert (await actions.ok("action_store_rating", turn)).names == ["utter_ask_rating"]


async def test_a_rating_the_nlu_missed_is_read_from_the_text(
    actions: ActionServer, ticket_service: TicketServiceUnderTest, sender: str
) -> None:
    turn = Turn(sender, text="great", intent="rate", slots={"channel": "telegram"})
    assert (await actions.ok("action_store_rating", turn)).names == ["utter_thanks_rating"]
    assert await ratings_of(ticket_service, sender) == [("answer", 5, "telegram")]

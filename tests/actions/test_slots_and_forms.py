"""Slot filling on every message (``action_validate_slot_mappings``) and the report form's
validation and questions, through the real action server."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.actions.support import ActionServer, Turn, bot_event, entity, slot_event, user_event
from tests.spots import random_pin

MAPPINGS = "action_validate_slot_mappings"
FORM = "validate_report_form"


# --- action_validate_slot_mappings ---------------------------------------------------------


async def test_channel_metadata_fills_the_global_slots(actions: ActionServer, sender: str) -> None:
    pin = random_pin()
    photo = "https://media.example/abc.jpg"
    metadata = {
        "channel": "whatsapp",
        "language": "ar",
        "contact": {
            "phone": "966501112233",
            "email": "citizen@example.com",
            "phone_verified": True,
        },
        "location": {**pin, "address": "حي الشاطئ، شارع الخليج"},
        "attachments": [
            {"type": "audio", "url": "https://media.example/voice.ogg"},
            {"type": "image", "url": photo},
        ],
    }
    turn = Turn(sender, text="فيه حفرة هنا", intent="report_issue", metadata=metadata)
    slots = (await actions.ok(MAPPINGS, turn)).slots
    assert slots["channel"] == "whatsapp" and slots["public"] is False
    assert slots["language"] == "ar"
    assert slots["contact_phone"] == "+966501112233"
    assert slots["contact_email"] == "citizen@example.com"
    assert (slots["latitude"], slots["longitude"]) == (pin["lat"], pin["long"])
    assert slots["location_text"] == "حي الشاطئ، شارع الخليج"
    assert slots["photo_url"] == photo


async def test_metadata_in_latest_message_works_too(actions: ActionServer, sender: str) -> None:
    """Some clients put metadata and message id into latest_message, as the brief shows."""
    turn = Turn(
        sender,
        text="hello",
        intent="greet",
        metadata={"channel": "telegram", "public": False},
        rich_latest_message=True,
    )
    slots = (await actions.ok(MAPPINGS, turn)).slots
    assert slots["channel"] == "telegram" and slots["language"] == "en"


async def test_a_pin_without_address_gives_its_coordinates(
    actions: ActionServer, sender: str
) -> None:
    pin = random_pin()
    turn = Turn(sender, text="📍", metadata={"location": pin})
    slots = (await actions.ok(MAPPINGS, turn)).slots
    assert slots["location_text"] == f"{pin['lat']:.6f}, {pin['long']:.6f}"


async def test_public_mention_and_default_channel(actions: ActionServer, sender: str) -> None:
    public = await actions.ok(
        MAPPINGS, Turn(sender, text="@940 hi", metadata={"channel": "x", "public": True})
    )
    assert public.slots["public"] is True and public.slots["channel"] == "x"
    bare = Turn(sender + "b", text="مرحبا", intent="greet", slots={"public": False})
    slots = (await actions.ok(MAPPINGS, bare)).slots
    assert slots["channel"] == "rest"
    assert "public" not in slots  # False already: nothing to set


@pytest.mark.parametrize(
    ("text", "current", "hint", "expected"),
    [
        ("عندي بلاغ عن حفرة", None, None, "ar"),  # detected
        ("There is a pothole", None, None, "en"),
        ("عندي بلاغ عن حفرة", None, "en", "en"),  # the channel's hint wins on the first turn
        ("There is a pothole", "ar", None, None),  # sticky: no change
        ("English please", "ar", None, "en"),  # explicit switch wins
        ("٤٨٢٩١٣٧٥٦", None, None, None),  # digits only: nothing known yet
        ("میری گلی میں پانی کا پائپ ٹوٹ گیا ہے", None, None, None),  # Urdu: neither
    ],
)
async def test_language(
    text: str,
    current: str | None,
    hint: str | None,
    expected: str | None,
    actions: ActionServer,
    sender: str,
) -> None:
    metadata = {"language": hint} if hint else None
    turn = Turn(sender, text=text, metadata=metadata, slots={"language": current})
    slots = (await actions.ok(MAPPINGS, turn)).slots
    assert slots.get("language") == expected


@pytest.mark.parametrize(("text", "to"), [("English please", "en"), ("بالعربي لو سمحت", "ar")])
async def test_a_switch_is_answered_in_the_new_language(
    text: str, to: str, actions: ActionServer, domain: dict[str, Any], sender: str
) -> None:
    turn = Turn(sender, text=text, slots={"language": "en" if to == "ar" else "ar"})
    reply = await actions.ok(MAPPINGS, turn)
    assert reply.slots["language"] == to
    said = reply.response("utter_language_switched")["text"]
    variations = domain["responses"]["utter_language_switched"]
    expected = [
        v["text"]
        for v in variations
        if (v.get("condition") or [{}])[0].get("value") == ("en" if to == "en" else None)
    ]
    assert said == expected[0]


async def test_entities_are_checked(actions: ActionServer, sender: str) -> None:
    turn = Turn(
        sender,
        text="x",
        intent="inform",
        candidates={"service": "spaceship", "ticket_id": "#٤٨٢٩١٣٧٥٦", "rating": "٥"},
    )
    slots = (await actions.ok(MAPPINGS, turn)).slots
    assert slots["service"] is None
    assert slots["ticket_id"] == "482913756"
    assert slots["rating"] == "5"


async def test_an_unusable_entity_keeps_the_known_value(actions: ActionServer, sender: str) -> None:
    """NLU took a name for a service, a phone for a ticket number: what was known stays."""
    history = [user_event("حفرة", "report_issue"), slot_event("service", "pothole")]
    name = Turn(
        sender,
        text="خالد الدوسري",
        intent="inform",
        slots={"service": "pothole"},
        history=history,
        candidates={"service": "خالد"},
    )
    assert (await actions.ok(MAPPINGS, name)).slots["service"] == "pothole"
    phone = Turn(
        sender,
        text="0559876543",
        intent="inform",
        slots={"requested_slot": "reporter_phone"},
        candidates={"ticket_id": "0559876543"},
    )
    assert (await actions.ok(MAPPINGS, phone)).slots["ticket_id"] is None


@pytest.mark.parametrize("action", [MAPPINGS, FORM])
async def test_an_answered_field_is_not_replaced_by_an_entity_of_another_answer(
    action: str, actions: ActionServer, sender: str
) -> None:
    """Asked for the name, "John Smith" yields a location entity "Smith": the location
    answered earlier stays, and so does the service."""
    history = [
        user_event("King Fahd Road", "inform"),
        slot_event("location_text", "King Fahd Road"),
        slot_event("service", "pothole"),
    ]
    turn = Turn(
        sender,
        text="John Smith",
        intent="inform",
        slots={
            "requested_slot": "reporter_name",
            "language": "en",
            "service": "pothole",
            "location_text": "King Fahd Road",
        },
        history=history,
        active_loop="report_form",
        candidates={
            "location_text": "Smith",
            "service": "streetlight",
            "reporter_name": "John Smith",
        },
    )
    slots = (await actions.ok(action, turn)).slots
    assert slots.get("location_text", "King Fahd Road") == "King Fahd Road"
    assert slots.get("service", "pothole") == "pothole"


async def test_an_understood_message_resets_the_misses(actions: ActionServer, sender: str) -> None:
    turn = Turn(sender, text="hi", intent="greet", slots={"misses": 1.0, "language": "en"})
    assert (await actions.ok(MAPPINGS, turn)).slots["misses"] == 0.0
    missed = Turn(sender, text="???", intent="nlu_fallback", slots={"misses": 1.0})
    assert "misses" not in (await actions.ok(MAPPINGS, missed)).slots


# --- validate_report_form ------------------------------------------------------------------


def in_form(sender: str, asked: str | None, **kwargs: Any) -> Turn:
    slots = {"language": "ar", "channel": "whatsapp", "requested_slot": asked}
    slots.update(kwargs.pop("slots", {}))
    return Turn(sender, active_loop="report_form", slots=slots, **kwargs)


@pytest.mark.parametrize(
    ("text", "prefilled"),
    [
        ("فيه حفرة كبيرة في الشارع الرئيسي عند الإشارة", True),
        ("There is a deep pothole on King Fahd Road by the mosque", True),
        ("ابغى اقدم بلاغ", False),
        ("I want to file a report", False),
        ("ابي ابلغ عن حفرة", False),
    ],
)
async def test_the_first_message_is_the_description_when_it_describes(
    text: str, prefilled: bool, actions: ActionServer, sender: str
) -> None:
    reply = await actions.ok(FORM, in_form(sender, None, text=text, intent="report_issue"))
    assert reply.slots.get("description") == (text if prefilled else None)


async def test_a_too_short_description_is_asked_again(actions: ActionServer, sender: str) -> None:
    turn = in_form(
        sender, "description", text="حفرة", intent="inform", candidates={"description": "حفرة"}
    )
    reply = await actions.ok(FORM, turn)
    assert reply.names == ["utter_description_too_short"]
    assert reply.slots["description"] is None


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("٠٥٥١٢٣٤٥٦٧", "+966551234567"),
        ("055 123 4567", "+966551234567"),
        ("+966551234567", "+966551234567"),
        ("966551234567", "+966551234567"),
    ],
)
async def test_a_typed_phone_is_normalised(
    typed: str, stored: str, actions: ActionServer, sender: str
) -> None:
    turn = in_form(
        sender, "reporter_phone", text=typed, intent="inform", candidates={"reporter_phone": typed}
    )
    reply = await actions.ok(FORM, turn)
    assert reply.slots["reporter_phone"] == stored and reply.names == []


async def test_a_bad_phone_is_refused(actions: ActionServer, sender: str) -> None:
    turn = in_form(
        sender,
        "reporter_phone",
        text="12345",
        intent="inform",
        candidates={"reporter_phone": "12345"},
    )
    reply = await actions.ok(FORM, turn)
    assert reply.names == ["utter_invalid_phone"] and reply.slots["reporter_phone"] is None


async def test_the_channel_phone_is_offered_then_confirmed_or_replaced(
    actions: ActionServer, sender: str
) -> None:
    known = {"contact_phone": "+966501112233"}
    ask = await actions.ok(
        "action_ask_reporter_phone", in_form(sender, "reporter_phone", slots=known)
    )
    assert ask.response("utter_confirm_phone")["reporter_phone"] == "+966501112233"

    offered = [bot_event("utter_confirm_phone", reporter_phone="+966501112233")]
    yes = in_form(
        sender, "reporter_phone", text="نعم", intent="affirm", slots=known, history=offered
    )
    assert (await actions.ok(FORM, yes)).slots["reporter_phone"] == "+966501112233"

    no = in_form(sender, "reporter_phone", text="لا", intent="deny", slots=known, history=offered)
    refused = await actions.ok(FORM, no)
    assert "reporter_phone" in refused.slots and refused.slots["reporter_phone"] is None
    assert refused.names == []  # "no" is an answer here (not a cancel, not a bad number)
    asked_again = await actions.ok("action_ask_reporter_phone", no)
    assert asked_again.names == ["utter_ask_reporter_phone"]


@pytest.mark.parametrize("text", ["الغاء البلاغ", "cancel the report"])
async def test_cancel_is_no_answer_to_the_photo_or_phone_question(
    text: str, actions: ActionServer, sender: str
) -> None:
    """The form leaves it unanswered (Rasa rejects it, rules.yml cancels)."""
    photo = await actions.ok(FORM, in_form(sender, "photo_url", text=text, intent="deny"))
    assert "photo_url" not in photo.slots
    known = {"contact_phone": "+966501112233"}
    offered = [bot_event("utter_confirm_phone", reporter_phone="+966501112233")]
    phone = in_form(
        sender, "reporter_phone", text=text, intent="deny", slots=known, history=offered
    )
    assert "reporter_phone" not in (await actions.ok(FORM, phone)).slots


@pytest.mark.parametrize(
    ("text", "intent"),
    [("تخطي", "inform"), ("skip", None), ("/deny", "deny"), ("لا ما عندي", "inform")],
)
async def test_the_photo_can_be_skipped(
    text: str, intent: str | None, actions: ActionServer, sender: str
) -> None:
    reply = await actions.ok(FORM, in_form(sender, "photo_url", text=text, intent=intent))
    assert reply.slots["photo_url"] == "skip"


async def test_a_photo_sent_to_the_question_is_acknowledged(
    actions: ActionServer, sender: str
) -> None:
    url = "https://media.example/p.jpg"
    turn = in_form(
        sender, "photo_url", text="هذي الصورة", intent="inform", candidates={"photo_url": url}
    )
    reply = await actions.ok(FORM, turn)
    assert reply.slots["photo_url"] == url and reply.names == ["utter_photo_received"]


async def test_a_pin_skips_the_location_and_public_channels_skip_name_and_phone(
    actions: ActionServer, sender: str
) -> None:
    pin = random_pin()
    slots = {
        "service": "pothole",
        "description": "حفرة كبيرة في الطريق",
        "latitude": pin["lat"],
        "longitude": pin["long"],
        "photo_url": "skip",
        "public": True,
        "channel": "x",
    }
    turn = in_form(sender, "photo_url", text="تخطي", slots=slots)
    reply = await actions.ok(FORM, turn)
    assert reply.slots["requested_slot"] == "confirmed"


async def test_no_at_the_summary_is_left_to_the_rules(actions: ActionServer, sender: str) -> None:
    """A bare "no" fills nothing: the form rejects it and rules.yml asks which field."""
    reply = await actions.ok(FORM, in_form(sender, "confirmed", text="لا", intent="deny"))
    assert [e for e in reply.events if e.get("name") != "requested_slot"] == []


async def test_a_field_chosen_at_the_summary_is_asked_again(
    actions: ActionServer, sender: str
) -> None:
    pin = random_pin()
    slots = {"location_text": "حي الروضة", "latitude": pin["lat"], "longitude": pin["long"]}
    payload = "/inform" + json.dumps({"correct_field": "location_text"})
    turn = in_form(
        sender,
        "confirmed",
        text=payload,
        intent="inform",
        slots=slots,
        entities=[entity("correct_field", "location_text")],
        candidates={"correct_field": "location_text"},
    )
    reply = await actions.ok(FORM, turn)
    for slot in ("location_text", "latitude", "longitude", "confirmed", "correct_field"):
        assert slot in reply.slots and reply.slots[slot] is None, slot


async def test_a_field_named_with_the_no_is_asked_again(actions: ActionServer, sender: str) -> None:
    turn = in_form(
        sender,
        "confirmed",
        text="no, the description is wrong",
        intent="deny",
        slots={"language": "en", "description": "x y z"},
    )
    reply = await actions.ok(FORM, turn)
    assert reply.slots["description"] is None and reply.slots["confirmed"] is None


async def test_yes_at_another_question_does_not_confirm(actions: ActionServer, sender: str) -> None:
    turn = in_form(sender, "photo_url", text="yes", intent="affirm", candidates={"confirmed": True})
    assert (await actions.ok(FORM, turn)).slots["confirmed"] is None


# --- the form's questions ------------------------------------------------------------------


@pytest.mark.parametrize("language", ["ar", "en"])
async def test_service_buttons_from_the_catalogue(
    language: str, actions: ActionServer, sender: str
) -> None:
    reply = await actions.ok(
        "action_ask_service", in_form(sender, "service", slots={"language": language})
    )
    buttons = reply.response("utter_ask_service")["buttons"]
    codes = [json.loads(b["payload"].removeprefix("/inform"))["service"] for b in buttons]
    assert len(codes) == 10 and "streetlight" in codes and codes[-1] == "other"
    titles = {
        json.loads(b["payload"].removeprefix("/inform"))["service"]: b["title"] for b in buttons
    }
    assert titles["streetlight"] == ("إنارة الشوارع" if language == "ar" else "Street lighting")


async def test_service_question_without_the_catalogue(
    actions_down: ActionServer, sender: str
) -> None:
    reply = await actions_down.ok("action_ask_service", in_form(sender, "service"))
    assert reply.response("utter_ask_service")["buttons"] == []


@pytest.mark.parametrize("language", ["ar", "en"])
async def test_the_summary(language: str, actions: ActionServer, sender: str) -> None:
    slots = {
        "language": language,
        "service": "water_leak",
        "description": "تسرب من الماسورة",
        "location_text": "حي النور",
        "reporter_name": "خالد",
        "reporter_phone": "+966551234567",
    }
    reply = await actions.ok("action_ask_confirmed", in_form(sender, "confirmed", slots=slots))
    summary = reply.response("utter_report_summary")
    assert summary["service_name"] == ("تسرب مياه" if language == "ar" else "Water leak")
    assert summary["location_text"] == "حي النور"


async def test_history_of_declining_the_phone_is_remembered(
    actions: ActionServer, sender: str
) -> None:
    """After "no" to the offered number and a bad one typed, the number is not offered again."""
    known = {"contact_phone": "+966501112233"}
    history = [
        bot_event("utter_confirm_phone", reporter_phone="+966501112233"),
        user_event("لا", "deny"),
        bot_event("utter_ask_reporter_phone"),
        user_event("123", "inform"),
        bot_event("utter_invalid_phone"),
    ]
    turn = in_form(
        sender, "reporter_phone", text="123", intent="inform", slots=known, history=history
    )
    reply = await actions.ok("action_ask_reporter_phone", turn)
    assert reply.names == ["utter_ask_reporter_phone"]

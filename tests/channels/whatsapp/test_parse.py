"""WhatsApp parsing from recorded real-format webhook bodies (protocols.md §1.4-1.6, §1.12)."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.errors import MalformedPayload
from bot.model import Attachment, DeliveryStatus, InboundMessage, Location
from channels.whatsapp.parse import parse
from tests.channels.parsing import json_garbage, only_message
from tests.channels.whatsapp.conftest import PAYLOADS

PNID = "106540352242922"
SARA = "966501234567"
SARA_BSUID = "SA.13491208655302741918"


def one(name: str) -> InboundMessage:
    return only_message(parse((PAYLOADS / name).read_bytes(), PNID))


def test_arabic_text_with_wa_id_and_bsuid() -> None:
    message = one("text_ar.json")
    assert message.channel == "whatsapp"
    assert message.provider_message_id.startswith("wamid.HBgM")
    assert message.user_id == SARA
    assert message.conversation_id == f"whatsapp:{SARA}"
    assert message.timestamp == 1739321024.0
    assert message.text == "السلام عليكم، في حفرة كبيرة في شارع الملك فهد"
    assert message.payload is None
    assert message.contact.phone == "+966501234567"
    assert message.contact.phone_verified is True
    assert message.contact.name == "سارة"
    assert dict(message.contact.ids) == {"wa_id": SARA, "user_id": SARA_BSUID}
    assert message.language_hint is None
    assert message.reply_context["phone_number_id"] == PNID


def test_english_text_without_bsuid() -> None:
    message = one("text_en.json")
    assert message.user_id == "447700900123"
    assert message.text == "Hi, the street light outside my house is broken"
    assert dict(message.contact.ids) == {"wa_id": "447700900123"}


def test_shared_place_keeps_name_address_and_the_quoted_message() -> None:
    message = one("location.json")
    assert message.location == Location(
        lat=26.4207, long=50.0888, address="طريق الملك فهد، الدمام", name="حديقة الملك فهد"
    )
    assert message.text is None
    assert message.reply_context["context_id"].startswith("wamid.")


def test_dropped_pin_has_only_coordinates() -> None:
    assert one("location_pin.json").location == Location(lat=26.3927, long=49.9777)


@pytest.mark.parametrize(
    ("name", "attachment", "text"),
    [
        (
            "image.json",
            Attachment(type="image", media_id="1479537139650973", mime_type="image/jpeg"),
            "صورة الحفرة",
        ),
        (
            "audio.json",
            Attachment(
                type="audio", media_id="1003383421387256", mime_type="audio/ogg; codecs=opus"
            ),
            None,
        ),
        (
            "document.json",
            Attachment(
                type="document",
                media_id="2143880999303712",
                mime_type="application/pdf",
                filename="report.pdf",
            ),
            "Photo report",
        ),
        (
            "video.json",
            Attachment(type="video", media_id="891637715765981", mime_type="video/mp4"),
            None,
        ),
        (
            "sticker.json",
            Attachment(type="sticker", media_id="775012741019385", mime_type="image/webp"),
            None,
        ),
    ],
)
def test_media_become_attachments_with_their_media_id(
    name: str, attachment: Attachment, text: str | None
) -> None:
    message = one(name)
    assert message.attachments == (attachment,)
    assert message.text == text


def test_reply_button_tap_carries_the_payload() -> None:
    message = one("interactive_button_reply.json")
    assert message.payload == "/affirm"
    assert message.text == "نعم"


def test_list_row_tap_carries_the_rasa_payload() -> None:
    message = one("interactive_list_reply.json")
    assert message.payload == '/inform{"service":"pothole"}'
    assert message.text == "حفر وتلف الطرق"


def test_template_quick_reply_tap_carries_the_payload() -> None:
    message = one("button_template.json")
    assert message.payload == '/follow_up{"ticket_id":"4819302"}'
    assert message.text == "ما زالت المشكلة قائمة"


@pytest.mark.parametrize("name", ["reaction.json", "unsupported.json"])
def test_types_we_do_not_answer_are_skipped(name: str) -> None:
    assert parse((PAYLOADS / name).read_bytes(), PNID) == []


def test_username_user_without_phone_is_keyed_by_bsuid_and_unverified() -> None:
    message = one("username_only.json")
    assert message.user_id == "SA.82014470912213360112"
    assert message.contact.phone is None
    assert message.contact.phone_verified is False
    assert dict(message.contact.ids) == {"user_id": "SA.82014470912213360112"}
    assert message.contact.name == "Noura"


def test_other_business_number_is_skipped_but_read_without_a_filter() -> None:
    raw = (PAYLOADS / "other_number.json").read_bytes()
    assert parse(raw, PNID) == []
    assert len(parse(raw)) == 1


def test_batched_webhook_yields_every_message_of_every_entry_in_order() -> None:
    events = parse((PAYLOADS / "batched.json").read_bytes(), PNID)
    assert [e.provider_message_id for e in events] == [
        "wamid.BATCH-E1-M1",
        "wamid.BATCH-E1-M2",
        "wamid.BATCH-E2-M1",
        "wamid.BATCH-E2-M2",
    ]
    assert [e.user_id for e in events] == [SARA, "447700900123", SARA, SARA]
    messages = [e for e in events if isinstance(e, InboundMessage)]
    assert messages[1].contact.name == "John"
    assert messages[3].location == Location(lat=26.43, long=50.1)


def test_statuses_become_delivery_statuses_and_unknown_states_are_skipped() -> None:
    events = parse((PAYLOADS / "statuses.json").read_bytes(), PNID)
    assert all(isinstance(e, DeliveryStatus) for e in events)
    statuses = [e for e in events if isinstance(e, DeliveryStatus)]
    assert [s.state for s in statuses] == ["sent", "delivered", "read", "failed"]  # not "played"
    assert statuses[0].recipient_id == SARA
    assert statuses[0].provider_message_id.startswith("wamid.")
    assert statuses[0].timestamp == 1739321500.0
    assert statuses[0].error is None
    assert statuses[3].error is not None
    assert statuses[3].error.startswith("131047 Re-engagement message: Message failed")


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"not json",
        b"[]",
        b'{"object": "page", "entry": []}',
        b'{"object": "whatsapp_business_account"}',
        b'{"object": "whatsapp_business_account", "entry": {}}',
        "\udcff".encode("utf-8", "surrogatepass"),
    ],
)
def test_not_a_whatsapp_webhook_is_malformed(raw: bytes) -> None:
    with pytest.raises(MalformedPayload):
        parse(raw, PNID)


def test_broken_items_are_skipped_not_fatal() -> None:
    body = json.loads((PAYLOADS / "batched.json").read_text())
    value = body["entry"][0]["changes"][0]["value"]
    value["messages"][0]["timestamp"] = "yesterday"
    value["messages"][1]["from"] = "+not-a-number"
    value["messages"].append("garbage")
    body["entry"][1]["changes"][0]["value"]["messages"][1]["location"]["latitude"] = 123.0
    body["entry"].append(None)
    events = parse(json.dumps(body).encode(), PNID)
    assert [e.provider_message_id for e in events] == ["wamid.BATCH-E2-M1"]


json_values = json_garbage(
    [
        "object",
        "entry",
        "changes",
        "value",
        "field",
        "messages",
        "statuses",
        "contacts",
        "from",
        "id",
        "timestamp",
        "type",
        "text",
        "body",
        "location",
        "latitude",
        "longitude",
        "image",
        "interactive",
        "button_reply",
        "button",
        "payload",
        "metadata",
        "phone_number_id",
        "wa_id",
        "user_id",
        "status",
        "recipient_id",
    ]
)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(st.sampled_from(["object", "entry"]), json_values, max_size=2),
    st.booleans(),
)
def test_garbage_gives_malformed_or_a_list(body: dict[str, object], ours: bool) -> None:
    if ours:
        body["object"] = "whatsapp_business_account"
    try:
        events = parse(json.dumps(body).encode(), PNID)
    except MalformedPayload:
        return
    assert isinstance(events, list)


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_garbage_inside_a_valid_envelope_never_raises(value: object) -> None:
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}],
    }
    assert isinstance(parse(json.dumps(body).encode()), list)


@settings(max_examples=300, deadline=None)
@given(st.lists(json_values, max_size=4), st.lists(json_values, max_size=3))
def test_garbage_messages_and_contacts_never_raise(
    messages: list[object], contacts: list[object]
) -> None:
    value = {"metadata": {"phone_number_id": PNID}, "messages": messages, "contacts": contacts}
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}],
    }
    assert isinstance(parse(json.dumps(body).encode(), PNID), list)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_give_malformed_or_a_list(raw: bytes) -> None:
    with contextlib.suppress(MalformedPayload):
        assert isinstance(parse(raw), list)

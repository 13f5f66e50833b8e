"""Recorded Bot API updates → InboundMessage; garbage → MalformedPayload or [], nothing else."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.errors import MalformedPayload
from bot.model import Attachment, InboundMessage, Location
from channels.telegram.parse import parse
from tests.channels.telegram.conftest import payload, payload_json


def one(name: str, received_at: float | None = None) -> InboundMessage:
    events = parse(payload(name), received_at)
    assert len(events) == 1
    event = events[0]
    assert isinstance(event, InboundMessage)
    # What the queue stores comes back equal.
    assert InboundMessage.from_json(event.to_json()) == event
    return event


def test_arabic_text() -> None:
    m = one("text_ar.json")
    assert m.channel == "telegram"
    assert m.provider_message_id == "871203441"  # update_id: the dedup key
    assert m.user_id == "5180236917"
    assert m.conversation_id == "telegram:5180236917"
    assert m.text == "في حفرة كبيرة في شارع الملك فهد"
    assert m.timestamp == 1764321024.0
    assert m.language_hint == "ar"
    assert m.contact.name == "سارة العتيبي"
    assert m.contact.ids == {"telegram_id": "5180236917"}
    assert m.contact.phone is None and not m.contact.phone_verified
    assert m.reply_context == {"chat_id": "5180236917", "message_id": "1524"}
    assert m.payload is None and m.location is None and m.attachments == ()
    assert not m.public


def test_english_command_and_regional_language_code() -> None:
    m = one("text_en.json")
    assert m.text == "/start"
    assert m.payload == "/greet"  # every Telegram chat opens with /start
    assert m.language_hint == "en"  # from "en-GB"
    assert m.contact.name == "John"


@pytest.mark.parametrize(
    ("text", "payload"),
    [
        ("/start", "/greet"),
        ("/start ref-poster-42", "/greet"),  # a deep link's parameter
        ("/help@tawasul_test_bot", "/greet"),
        ("/START", "/greet"),
        ("/unknown", None),
        ("/", None),
        ("/ ", None),
        ("a /start", None),
    ],
)
def test_commands(text: str, payload: str | None) -> None:
    data = payload_json("text_ar.json")
    data["message"]["text"] = text
    (m,) = parse(json.dumps(data).encode())
    assert isinstance(m, InboundMessage)
    assert (m.text, m.payload) == (text, payload)


def test_location() -> None:
    m = one("location.json")
    assert m.location == Location(lat=24.713552, long=46.675296)
    assert m.text is None


def test_venue_keeps_title_and_address() -> None:
    m = one("venue.json")
    assert m.location == Location(
        lat=24.690466,
        long=46.685149,
        address="King Fahd Rd, Al Olaya, Riyadh",
        name="Kingdom Centre",
    )


def test_photo_takes_the_largest_size_and_the_caption() -> None:
    m = one("photo.json")
    assert m.attachments == (
        Attachment(
            type="image",
            media_id="AgACAgQAAxkBAAIF6Wd0sm1AAQ-large",
            mime_type="image/jpeg",
            size=112034,
        ),
    )
    assert m.text == "هذه صورة الحفرة"


def test_photo_largest_is_by_resolution_not_position() -> None:
    data = payload_json("photo.json")
    data["message"]["photo"].reverse()
    (m,) = parse(json.dumps(data).encode())
    assert isinstance(m, InboundMessage)
    assert m.attachments[0].media_id == "AgACAgQAAxkBAAIF6Wd0sm1AAQ-large"


def test_image_sent_as_a_file_is_an_image() -> None:
    m = one("document_image.json")
    assert m.attachments == (
        Attachment(
            type="image",
            media_id="BQACAgQAAxkBAAIF6md0sk5DocFull",
            mime_type="image/jpeg",
            filename="IMG_20261128_101500.jpg",
            size=2481907,
        ),
    )


def test_pdf_is_a_document() -> None:
    data = payload_json("document_image.json")
    data["message"]["document"].update(mime_type="application/pdf", file_name="permit.pdf")
    (m,) = parse(json.dumps(data).encode())
    assert isinstance(m, InboundMessage)
    assert m.attachments[0].type == "document"
    assert m.attachments[0].filename == "permit.pdf"


def test_voice_note() -> None:
    m = one("voice.json")
    assert m.attachments == (
        Attachment(
            type="audio",
            media_id="AwACAgQAAxkBAAIF62d0sVoice",
            mime_type="audio/ogg",
            size=15204,
        ),
    )


def test_callback_query_carries_the_data_and_the_query_to_answer() -> None:
    m = one("callback_query.json", received_at=1764321410.5)
    assert m.provider_message_id == "871203448"
    assert m.user_id == "5180236917"
    assert m.payload == '/inform{"service":"pothole"}'
    assert m.text == "حفر وتلف الطرق"  # the tapped button's label
    assert m.timestamp == 1764321410.5
    assert m.reply_context == {
        "chat_id": "5180236917",
        "message_id": "1531",
        "callback_query_id": "4382519072873716522",
    }
    assert m.language_hint == "ar"


def test_callback_query_with_a_token_is_left_for_ingest_to_resolve() -> None:
    m = one("callback_query_token.json", received_at=1.0)
    assert m.payload == "~3qf0Z1nZ6v1u9mTnq8yQjA"
    assert m.text == "مخالفات البناء"


def test_own_contact_gives_a_verified_phone() -> None:
    m = one("contact_own.json")
    assert m.contact.phone == "+966501234567"
    assert m.contact.phone_verified
    assert m.contact.name == "John Smith"


def test_someone_elses_contact_is_not_read() -> None:
    data = payload_json("contact_own.json")
    data["message"]["contact"]["user_id"] = 111
    assert parse(json.dumps(data).encode()) == []


@pytest.mark.parametrize(
    "name",
    ["group_message.json", "edited_message.json", "sticker.json", "my_chat_member.json"],
)
def test_skipped_updates(name: str) -> None:
    assert parse(payload(name)) == []


def test_messages_from_bots_are_skipped() -> None:
    data = payload_json("text_ar.json")
    data["message"]["from"]["is_bot"] = True
    assert parse(json.dumps(data).encode()) == []


def test_callback_from_a_group_message_is_skipped() -> None:
    data = payload_json("callback_query.json")
    data["callback_query"]["message"]["chat"] = {"id": -100123, "title": "g", "type": "group"}
    assert parse(json.dumps(data).encode()) == []


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b"[1, 2]", "JSON object"),
        (b"[" * 100_000 + b"]" * 100_000, "not JSON"),
        (b'{"message": {}}', "update_id"),
        (b'{"update_id": "12"}', "update_id"),
        (b'{"update_id": true}', "update_id"),
        (b'{"update_id": 1, "message": "hi"}', "message"),
        (b'{"update_id": 1, "message": {"chat": {"type": "private"}}}', "from"),
        (
            b'{"update_id": 1, "message": {"message_id": 1, "date": 1,'
            b' "chat": {"id": 1, "type": "private"}, "from": {"id": 1},'
            b' "location": {"latitude": 91, "longitude": 0}}}',
            "latitude",
        ),
        (
            b'{"update_id": 1, "message": {"message_id": 1, "date": 1,'
            b' "chat": {"id": 1, "type": "private"}, "from": {"id": 1},'
            b' "location": {"latitude": 1' + b"0" * 400 + b', "longitude": 0}}}',
            "latitude",
        ),
    ],
)
def test_malformed(body: bytes, reason: str) -> None:
    with pytest.raises(MalformedPayload, match=reason):
        parse(body)


# --- garbage in: MalformedPayload or a list, never another exception -----------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**300, max_value=10**400)
    | st.floats()
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


def mutations(base: Any) -> st.SearchStrategy[Any]:
    """The recorded update with one nested field replaced by any JSON value (or removed)."""
    paths: list[tuple[Any, ...]] = []

    def walk(node: Any, path: tuple[Any, ...]) -> None:
        paths.append(path)
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, (*path, key))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, (*path, index))

    walk(base, ())

    def apply(path: tuple[Any, ...], value: Any, delete: bool) -> Any:
        data = json.loads(json.dumps(base))
        if not path:
            return value
        node = data
        for step in path[:-1]:
            node = node[step]
        if delete and isinstance(node, dict):
            del node[path[-1]]
        else:
            node[path[-1]] = value
        return data

    return st.builds(apply, st.sampled_from(paths), json_values, st.booleans())


def check(body: bytes) -> None:
    try:
        events = parse(body, 1.0)
    except MalformedPayload:
        return
    assert isinstance(events, list)
    for event in events:
        InboundMessage.from_json(event.to_json())


@given(st.binary(max_size=200))
def test_any_bytes(body: bytes) -> None:
    check(body)


@given(json_values)
def test_any_json(value: Any) -> None:
    check(json.dumps(value).encode())


@pytest.mark.parametrize(
    "name",
    ["text_ar.json", "photo.json", "venue.json", "callback_query.json", "contact_own.json"],
)
@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_recorded_updates(name: str, data: st.DataObject) -> None:
    check(json.dumps(data.draw(mutations(payload_json(name)))).encode())

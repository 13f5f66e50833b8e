"""Messenger parsing from recorded real-format webhook bodies (protocols.md §2.2)."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.errors import MalformedPayload
from bot.model import Attachment, DeliveryStatus, InboundMessage, Location
from channels.messenger.parse import parse
from tests.channels.messenger.conftest import PAYLOADS
from tests.channels.parsing import json_garbage, only_message

PAGE = "1234567890123"
AMAL = "24023847293847"


def one(name: str) -> InboundMessage:
    return only_message(parse((PAYLOADS / name).read_bytes(), PAGE))


def test_arabic_text() -> None:
    message = one("text_ar.json")
    assert message.channel == "messenger"
    assert message.provider_message_id.startswith("m_AG5Hz2")
    assert message.user_id == AMAL
    assert message.conversation_id == f"messenger:{AMAL}"
    assert message.timestamp == 1739321024.312
    assert message.text == "السلام عليكم، أبي أبلغ عن إنارة طافية"
    assert message.contact.phone is None and message.contact.email is None
    assert dict(message.contact.ids) == {"psid": AMAL}
    assert message.reply_context == {"mid": message.provider_message_id, "page_id": PAGE}


def test_quick_reply_tap_carries_the_payload_and_its_title() -> None:
    message = one("quick_reply.json")
    assert message.payload == '/inform{"service":"pothole"}'
    assert message.text == "حفر وتلف الطرق"


def test_postback_carries_the_payload() -> None:
    message = one("postback.json")
    assert message.payload == "/greet"
    assert message.text == "ابدأ"
    assert message.provider_message_id.startswith("m_PBh")


def test_postback_without_mid_gets_a_stable_id() -> None:
    raw = (PAYLOADS / "postback_legacy.json").read_bytes()
    first, again = parse(raw, PAGE)[0], parse(raw, PAGE)[0]
    assert first.provider_message_id == again.provider_message_id
    assert first.provider_message_id == "postback:7012384759201234:1739321220555"


def test_image_attachment_by_cdn_url() -> None:
    message = one("image.json")
    (attachment,) = message.attachments
    assert attachment.type == "image"
    assert attachment.source_url is not None
    assert attachment.source_url.startswith("https://scontent.xx.fbcdn.net/")
    assert attachment.media_id is None
    assert message.text is None


def test_audio_video_file_and_shared_link() -> None:
    message = one("media_mix.json")
    assert [a.type for a in message.attachments] == ["audio", "video", "document"]
    assert all(isinstance(a, Attachment) and a.source_url for a in message.attachments)


def test_sticker() -> None:
    (attachment,) = one("sticker.json").attachments
    assert attachment.type == "sticker"


def test_legacy_location_attachment() -> None:
    message = one("location.json")
    assert message.location == Location(lat=26.4207, long=50.0888, name="موقع أمل")
    assert message.attachments == ()


@pytest.mark.parametrize("name", ["echo.json", "reaction.json", "standby.json", "other_page.json"])
def test_echoes_reactions_standby_and_other_pages_are_skipped(name: str) -> None:
    assert parse((PAYLOADS / name).read_bytes(), PAGE) == []


def test_delivery_gives_one_status_per_mid() -> None:
    events = parse((PAYLOADS / "delivery.json").read_bytes(), PAGE)
    assert events == [
        DeliveryStatus(
            "messenger",
            "m_ECHOa9b8c7d6e5f4g3h2i1j0k9l8m7n6o5p4q3r2s1t0u9v8w7x6y5z4a3b2c1d0e9f8g7h6i5j4k3l2m1n0o9",
            AMAL,
            "delivered",
            1739321500.0,
        ),
        DeliveryStatus("messenger", "m_second-sent-message", AMAL, "delivered", 1739321500.0),
    ]


def test_read_gives_a_watermark_status() -> None:
    assert parse((PAYLOADS / "read.json").read_bytes(), PAGE) == [
        DeliveryStatus("messenger", "watermark:1739321505000", AMAL, "read", 1739321505.0)
    ]


def test_batched_webhook_yields_every_event_in_order() -> None:
    events = parse((PAYLOADS / "batched.json").read_bytes(), PAGE)
    assert [e.provider_message_id for e in events] == [
        "m_BATCH-E1-M1",
        "m_BATCH-E1-M2",
        "m_BATCH-E2-M1",
        "m_BATCH-E2-M2",
    ]
    assert isinstance(events[3], InboundMessage) and events[3].payload == "/affirm"


def test_without_a_page_filter_every_page_is_read() -> None:
    assert len(parse((PAYLOADS / "other_page.json").read_bytes())) == 1


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"{",
        b"[]",
        b'{"object": "whatsapp_business_account", "entry": []}',
        b'{"object": "page"}',
        b'{"object": "page", "entry": "x"}',
    ],
)
def test_not_a_page_webhook_is_malformed(raw: bytes) -> None:
    with pytest.raises(MalformedPayload):
        parse(raw, PAGE)


json_values = json_garbage(
    [
        "sender",
        "recipient",
        "id",
        "timestamp",
        "message",
        "mid",
        "text",
        "is_echo",
        "quick_reply",
        "payload",
        "attachments",
        "type",
        "url",
        "coordinates",
        "lat",
        "long",
        "postback",
        "title",
        "delivery",
        "mids",
        "watermark",
        "read",
        "sticker_id",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(json_values, max_size=4))
def test_garbage_events_never_raise(events: list[object]) -> None:
    body = {"object": "page", "entry": [{"id": PAGE, "time": 1, "messaging": events}]}
    assert isinstance(parse(json.dumps(body).encode(), PAGE), list)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_give_malformed_or_a_list(raw: bytes) -> None:
    with contextlib.suppress(MalformedPayload):
        assert isinstance(parse(raw), list)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["message", "postback", "delivery", "read"]),
    json_values,
    st.one_of(st.integers(), st.text(max_size=5), st.none()),
)
def test_garbage_inside_well_addressed_events_never_raises(
    kind: str, content: object, timestamp: object
) -> None:
    event = {
        "sender": {"id": AMAL},
        "recipient": {"id": PAGE},
        "timestamp": timestamp,
        kind: content,
    }
    body = {"object": "page", "entry": [{"id": PAGE, "time": 1, "messaging": [event]}]}
    assert isinstance(parse(json.dumps(body).encode(), PAGE), list)

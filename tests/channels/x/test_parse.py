"""Recorded Account Activity payloads and mention pages → InboundMessages; garbage → a
MalformedPayload or nothing, never another exception."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.errors import MalformedPayload
from bot.model import Attachment, InboundMessage, Location
from channels.x.mentions import parse_mentions
from channels.x.parse import parse_webhook
from tests.channels.x.support import JOHN, SARA, USER_ID, payload, payload_json


def parse(name: str) -> list[InboundMessage]:
    events = parse_webhook(payload(name), user_id=USER_ID)
    assert all(isinstance(e, InboundMessage) for e in events)
    return events  # type: ignore[return-value]


def test_a_batch_of_mentions_yields_every_mention() -> None:
    sara, john = parse("webhook_mentions.json")

    assert sara.provider_message_id == "tweet:1853000000000000101"
    assert (sara.channel, sara.user_id, sara.conversation_id) == ("x", SARA, f"x:{SARA}")
    # our handle and the photo's t.co link are gone, X's HTML escaping undone
    assert sara.text == "حفرة كبيرة في شارع التحلية أمام المدرسة & خطيرة على السيارات"
    assert sara.public is True and sara.language_hint == "ar"
    assert sara.reply_context == {"mode": "public", "in_reply_to_tweet_id": "1853000000000000101"}
    assert sara.location == Location(lat=24.7136, long=46.6753)
    assert sara.attachments == (
        Attachment(
            type="image",
            media_id="1853000000000000201",
            source_url="https://pbs.twimg.com/media/GbXk2aBWAAA1xyz.jpg",
        ),
    )
    assert sara.contact.name == "سارة العتيبي"
    assert sara.contact.ids == {"x_id": SARA, "x_handle": "sara_otb"}
    assert sara.contact.phone is None and sara.contact.email is None
    assert sara.timestamp == 1793697302.0
    assert sara.no_reply_reason is None

    # a long reply in our thread: the full text, without the "@Amanat940" reply prefix
    assert john.user_id == JOHN and john.language_hint == "en"
    assert john.text is not None
    assert john.text.startswith("The streetlights on King Fahd Road near exit 5")
    assert john.text.endswith("dangerous for pedestrians. Please fix them.")
    assert john.reply_context["in_reply_to_tweet_id"] == "1853000000000000102"
    assert john.location is None and john.attachments == ()


def test_a_direct_message() -> None:
    (dm,) = parse("webhook_dm.json")
    assert dm.provider_message_id == "dm:1853000000000000301"
    assert dm.user_id == SARA and dm.text == "أبغى أبلغ عن حفرة في الشارع"
    assert dm.public is False and dm.payload is None
    assert dm.reply_context == {"mode": "dm"}
    assert dm.contact.name == "سارة العتيبي" and dm.contact.ids["x_handle"] == "sara_otb"
    assert dm.timestamp == pytest.approx(1793697600.123)


def test_a_mention_and_a_dm_of_one_citizen_are_one_conversation() -> None:
    mention = parse("webhook_mentions.json")[0]
    (dm,) = parse("webhook_dm.json")
    assert mention.conversation_id == dm.conversation_id == f"x:{SARA}"
    assert mention.provider_message_id != dm.provider_message_id


def test_a_quick_reply_tap_carries_its_payload() -> None:
    (tap,) = parse("webhook_dm_quick_reply.json")
    assert tap.payload == '/inform{"service":"pothole"}'
    assert tap.text == "حفر وتلف الطرق"


def test_a_dm_photo_is_an_attachment_on_ton() -> None:
    (dm,) = parse("webhook_dm_media.json")
    assert dm.user_id == JOHN
    assert dm.text == "Here is a photo of the broken light"
    (photo,) = dm.attachments
    assert photo.type == "image" and photo.media_id == "1853000000000000401"
    assert photo.source_url == (
        "https://ton.twitter.com/1.1/ton/data/dm/1853000000000000303/1853000000000000401/kPZ3aG1w.jpg"
    )


@pytest.mark.parametrize(
    "name", ["webhook_own_echoes.json", "webhook_own_dm.json", "webhook_other_events.json"]
)
def test_our_own_posts_retweets_and_other_events_are_skipped(name: str) -> None:
    assert parse(name) == []


def test_another_subscribed_account_is_not_ours() -> None:
    assert parse_webhook(payload("webhook_dm.json"), user_id="777") == []


def test_a_mention_by_a_blocked_account_is_recorded_not_answered() -> None:
    body = payload_json("webhook_mentions.json")
    body["user_has_blocked"] = True
    events = parse_webhook(json.dumps(body).encode(), user_id=USER_ID)
    assert [e.no_reply_reason for e in events] == ["blocked by our account"] * 2  # type: ignore[union-attr]


def test_a_tweet_that_does_not_mention_us_is_skipped() -> None:
    body = payload_json("webhook_mentions.json")
    tweet = body["tweet_create_events"][0]
    tweet["entities"]["user_mentions"] = []
    body["tweet_create_events"] = [tweet]
    assert parse_webhook(json.dumps(body).encode(), user_id=USER_ID) == []


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"not json",
        b"\xff\xfe",
        b"[]",
        b'{"tweet_create_events": []}',
        b'{"for_user_id": "abc"}',
        b'{"for_user_id": "' + USER_ID.encode() + b'", "tweet_create_events": {}}',
        b'{"for_user_id": "' + USER_ID.encode() + b'", "direct_message_events": [1]}',
        b'{"for_user_id": "' + USER_ID.encode() + b'", "direct_message_events": '
        b'[{"type": "message_create", "id": "1", "message_create": {}}]}',
    ],
)
def test_malformed_bodies(raw: bytes) -> None:
    with pytest.raises(MalformedPayload):
        parse_webhook(raw, user_id=USER_ID)


def _check(raw: bytes) -> None:
    try:
        events = parse_webhook(raw, user_id=USER_ID)
    except MalformedPayload:
        return
    assert isinstance(events, list)
    for event in events:
        assert isinstance(event, InboundMessage)
        InboundMessage.from_json(event.to_json())  # stays serialisable


@given(st.binary(max_size=300))
def test_garbage_bytes(raw: bytes) -> None:
    _check(raw)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)
KEYS = st.sampled_from(
    [
        "type", "id", "id_str", "text", "user", "message_create", "message_data", "sender_id",
        "target", "recipient_id", "created_timestamp", "attachment", "media", "entities",
        "user_mentions", "extended_entities", "quick_reply_response", "metadata",
        "coordinates", "timestamp_ms", "truncated", "extended_tweet", "video_info",
    ]
)  # fmt: skip


def _mutate(node: Any, data: st.DataObject, depth: int = 0) -> Any:
    """Replace a random part of a recorded payload with a random JSON value."""
    if depth > 6 or data.draw(st.integers(0, 4)) == 0:
        return data.draw(json_values)
    if isinstance(node, dict) and node:
        key = data.draw(st.sampled_from(sorted(node)) | KEYS)
        return {**node, key: _mutate(node.get(key), data, depth + 1)}
    if isinstance(node, list) and node:
        index = data.draw(st.integers(0, len(node) - 1))
        return [*node[:index], _mutate(node[index], data, depth + 1), *node[index + 1 :]]
    return data.draw(json_values)


RECORDED = [
    "webhook_mentions.json", "webhook_dm.json", "webhook_dm_quick_reply.json",
    "webhook_dm_media.json", "webhook_own_echoes.json", "webhook_own_dm.json",
]  # fmt: skip


@settings(max_examples=300)
@given(name=st.sampled_from(RECORDED), data=st.data())
def test_mutated_recorded_payloads(name: str, data: st.DataObject) -> None:
    _check(json.dumps(_mutate(payload_json(name), data)).encode())


def test_mention_pages_of_the_polling_api() -> None:
    john, sara = parse_mentions(payload_json("mentions_page1.json"), user_id=USER_ID)
    assert john.provider_message_id == "tweet:1853000000000000505"
    assert john.text == (
        "The streetlights on King Fahd Road near exit 5 have been out for a week. Please fix them."
    )
    assert john.contact.ids == {"x_id": JOHN, "x_handle": "john_reed"}
    assert john.reply_context == {"mode": "public", "in_reply_to_tweet_id": "1853000000000000505"}
    assert john.timestamp == 1793700060.0

    assert sara.text == "تسرب مياه في حي الملقا من الصباح"
    assert sara.location == Location(lat=24.8105, long=46.6064)
    assert sara.attachments == (
        Attachment(
            type="image",
            media_id="3_1853000000000000601",
            source_url="https://pbs.twimg.com/media/GbYzQ1xWcAAm9Lp.jpg",
        ),
    )
    assert sara.public and sara.language_hint == "ar" and sara.contact.name == "سارة العتيبي"

    (noura,) = parse_mentions(payload_json("mentions_page2.json"), user_id=USER_ID)  # no RT
    assert noura.text == "الإنارة مطفأة في حي النرجس منذ يومين"


def test_a_mention_seen_by_webhook_and_by_polling_has_one_dedup_key() -> None:
    page = {
        "data": [
            {
                "id": "1853000000000000101",
                "text": "@Amanat940 حفرة https://t.co/Hf3kQ9xZ1a",
                "author_id": SARA,
                "created_at": "2026-11-03T09:15:02.000Z",
            }
        ]
    }
    (polled,) = parse_mentions(page, user_id=USER_ID)
    webhook = parse("webhook_mentions.json")[0]
    assert polled.provider_message_id == webhook.provider_message_id


@given(json_values)
def test_garbage_mention_pages(page: Any) -> None:
    if not isinstance(page, dict):
        page = {"data": page}
    try:
        messages = parse_mentions(page, user_id=USER_ID)
    except MalformedPayload:
        return
    assert all(isinstance(m, InboundMessage) and m.public for m in messages)


def test_a_bare_mention_says_hello() -> None:
    body = payload_json("webhook_mentions.json")
    tweet = body["tweet_create_events"][0]
    tweet.update(text="@Amanat940 ", coordinates=None, extended_entities={"media": []})
    body["tweet_create_events"] = [tweet]
    (message,) = parse_webhook(json.dumps(body).encode(), user_id=USER_ID)
    assert (message.text, message.payload) == (None, "/greet")  # type: ignore[union-attr]
    tweet = {
        "id": "9",
        "text": "@Amanat940",
        "author_id": SARA,
        "created_at": "2026-11-03T09:15:02.000Z",
        "entities": {"mentions": [{"username": "Amanat940", "id": USER_ID}]},
    }
    page = {"data": [tweet]}
    assert parse_mentions(page, user_id=USER_ID)[0].payload == "/greet"

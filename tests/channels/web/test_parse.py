"""Pure parts: request bodies → InboundMessage, replies → entries, tokens, texts."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.errors import MalformedPayload
from bot.model import Button, InboundMessage, OutboundMessage
from channels.web.inbound import (
    ApiError,
    MessageRequest,
    parse_message,
    to_inbound,
    validate_message,
)
from channels.web.render import bot_entry
from channels.web.texts import _texts, error_message, pick_language, ui_strings
from channels.web.tokens import new_token, user_id_for

PAYLOADS = Path(__file__).with_name("payloads")
UID = "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("text_message.json", {"text": "في حفرة كبيرة قدام البيت", "language": "ar"}),
        ("english_text.json", {"language": "en"}),
        ("button_tap.json", {"payload": '/inform{"service":"pothole"}'}),
        ("greeting.json", {"payload": "/greet", "text": "مرحباً"}),
        ("location.json", {"text": None, "payload": None}),
    ],
)
def test_recorded_bodies_parse(name: str, expected: dict[str, Any]) -> None:
    raw = (PAYLOADS / name).read_bytes()
    request = parse_message(raw, max_text=2000)
    for field, value in expected.items():
        assert getattr(request, field) == value
    message = to_inbound(UID, request.client_message_id or "x", request, 1.0)
    assert message.channel == "web"
    assert message.provider_message_id == f"{UID}:{json.loads(raw)['client_message_id']}"
    # The hub's queues carry it as JSON: it survives the round trip.
    assert InboundMessage.from_json(message.to_json()) == message


def test_a_location_becomes_a_pin() -> None:
    request = parse_message((PAYLOADS / "location.json").read_bytes(), max_text=10)
    assert request.location is not None
    assert (request.location.lat, request.location.long) == (26.43421, 50.10347)
    with_address = validate_message(
        {"location": {"lat": 1, "long": 2, "address": "حي الروضة"}}, max_text=10
    )
    assert with_address.location is not None
    assert with_address.location.address == "حي الروضة"


def test_text_is_trimmed_and_nul_free() -> None:
    assert validate_message({"text": "  \x00hi \n"}, 10).text == "hi"
    assert validate_message({"text": "\n\t "}, 10).text is None


def test_errors_are_malformed_payloads_with_a_known_code() -> None:
    with pytest.raises(MalformedPayload):
        parse_message(b"{}", 10)
    codes = set(_texts()["errors"]["en"])
    for raw in (b"", b"{", b"[]", b'{"text": 1}', b'{"location": {"lat": 1e400, "long": 0}}'):
        with pytest.raises(ApiError) as caught:
            parse_message(raw, 10)
        assert caught.value.code in codes


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=20,
)
message_like = st.fixed_dictionaries(
    {},
    optional={
        "text": json_values,
        "payload": json_values,
        "location": st.fixed_dictionaries(
            {}, optional={"lat": json_values, "long": json_values, "address": json_values}
        )
        | json_values,
        "client_message_id": json_values,
        "language": st.sampled_from(["ar", "en", "fr", None]) | json_values,
    },
)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_garbage_bytes_never_raise_anything_else(raw: bytes) -> None:
    try:
        request = parse_message(raw, max_text=50)
    except ApiError as exc:
        assert exc.status == 400
        return
    assert isinstance(request, MessageRequest)


@settings(max_examples=400, deadline=None)
@given(message_like)
def test_any_json_shape_is_a_request_or_an_api_error(data: dict[str, Any]) -> None:
    raw = json.dumps(data).encode()
    try:
        request = parse_message(raw, max_text=50)
    except ApiError as exc:
        assert error_message(exc.code, "en", exc.params)
        return
    message = to_inbound(UID, "c", request, 0.0)
    assert message.text or message.payload or message.location
    assert InboundMessage.from_json(message.to_json()) == message


def test_a_reply_entry() -> None:
    entry = bot_entry(
        OutboundMessage(
            channel="web",
            recipient_id=UID,
            key="k",
            text="Pick one",
            buttons=(Button("Potholes", "/inform"),),
            language="en",
        ),
        timestamp=12.3456,
    )
    assert entry == {
        "role": "bot",
        "time": 12.346,
        "text": "Pick one",
        "language": "en",
        "buttons": [{"title": "Potholes", "payload": "/inform"}],
    }


def test_tokens() -> None:
    tokens = {new_token() for _ in range(100)}
    assert len(tokens) == 100
    for token in tokens:
        uid = user_id_for(token)
        assert uid is not None and re.fullmatch(r"[0-9a-f]{32}", uid)
        assert user_id_for(token) == uid
        assert token not in uid
    assert len({user_id_for(t) for t in tokens}) == 100
    for bad in ("", "short", "a" * 42, "a" * 44, "a" * 42 + "/", "ا" * 43):
        assert user_id_for(bad) is None


def test_texts_have_both_languages_and_the_same_placeholders() -> None:
    texts = _texts()
    for section in ("ui", "errors"):
        assert set(texts[section]["ar"]) == set(texts[section]["en"])
        for key, arabic in texts[section]["ar"].items():
            english = texts[section]["en"][key]
            assert re.search(r"[\u0600-\u06FF]", arabic) or key in {"switch_language", "title"}
            assert sorted(re.findall(r"(?<!\{)\{(\w+)\}", arabic)) == sorted(
                re.findall(r"(?<!\{)\{(\w+)\}", english)
            ), key
    assert ui_strings("ar")["switch_language"] == "English"
    assert ui_strings("en")["switch_language"] == "العربية"
    assert error_message("rate_limited", "en", {"seconds": 7}).endswith("7 seconds.")
    assert "{lat, long}" in error_message("invalid_location", "en", {})


def test_the_switch_requests_are_understood_by_the_bot() -> None:
    """The language button sends these; the hub and the bot must take them as a switch."""
    from nlu_components.language import switch_request

    assert switch_request(ui_strings("en")["switch_request"]) == "en"
    assert switch_request(ui_strings("ar")["switch_request"]) == "ar"


@pytest.mark.parametrize(
    ("header", "language"),
    [(None, "ar"), ("", "ar"), ("en-US,en;q=0.9", "en"), ("fr, ar;q=0.5", "ar"), ("de", "ar")],
)
def test_accept_language(header: str | None, language: str) -> None:
    assert pick_language(header) == language

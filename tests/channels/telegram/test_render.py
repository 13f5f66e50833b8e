"""OutboundMessage → Bot API messages (pure), checked with the fake's own markup rules."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from telegram import InlineKeyboardMarkup, ReplyKeyboardMarkup

from bot.errors import ConfigError
from bot.model import Button, OutboundMessage
from channels.telegram.callbacks import MAX_CALLBACK_BYTES, callback_data, is_token
from channels.telegram.render import PhotoPart, TextPart, render, split_text, utf16_len
from channels.telegram.texts import load_texts
from tests.channels.telegram.fake_telegram import check_reply_markup

TEXTS = load_texts()
SERVICES = ("pothole", "streetlight", "waste", "water_leak", "sewage", "stray_animals")


def reply(**fields: object) -> OutboundMessage:
    values: dict[str, object] = {"channel": "telegram", "recipient_id": "5180236917", "key": "k"}
    values.update(fields)
    return OutboundMessage(**values)  # type: ignore[arg-type]


def test_plain_text() -> None:
    rendered = render(reply(text="مرحباً بك في 940"), TEXTS)
    assert rendered.parts == (TextPart("مرحباً بك في 940"),)
    assert rendered.tokens == {}


def test_nothing_to_say_sends_nothing() -> None:
    assert render(reply(text="  \n"), TEXTS).parts == ()


def test_buttons_become_an_inline_keyboard_on_the_last_message() -> None:
    buttons = tuple(Button(s, f'/inform{{"service":"{s}"}}') for s in SERVICES)
    rendered = render(reply(text="ما نوع البلاغ؟", buttons=buttons), TEXTS)
    (part,) = rendered.parts
    assert isinstance(part, TextPart) and isinstance(part.markup, InlineKeyboardMarkup)
    markup = part.markup.to_dict()
    check_reply_markup(markup)
    assert markup["inline_keyboard"] == [
        [{"text": s, "callback_data": f'/inform{{"service":"{s}"}}'}] for s in SERVICES
    ]


def test_long_payloads_travel_as_tokens() -> None:
    long = '/inform{"service":"building_violation","description":"عمارة بلا ترخيص"}'
    assert len(long.encode()) > MAX_CALLBACK_BYTES
    rendered = render(reply(text="?", buttons=(Button("مخالفات البناء", long),)), TEXTS)
    markup = rendered.parts[0].markup
    assert isinstance(markup, InlineKeyboardMarkup)
    data = markup.inline_keyboard[0][0].callback_data
    assert isinstance(data, str) and is_token(data)
    assert len(data.encode()) <= MAX_CALLBACK_BYTES
    assert rendered.tokens == {data: long}
    # Deterministic: the same payload always gets the same token.
    assert callback_data(long) == data


def test_a_short_payload_that_looks_like_a_token_is_tokenised_too() -> None:
    assert is_token(callback_data("~abc"))
    assert callback_data("~abc") != "~abc"


def test_buttons_without_text_get_the_choose_prompt() -> None:
    rendered = render(reply(text="", buttons=(Button("Yes", "/affirm"),), language="en"), TEXTS)
    (part,) = rendered.parts
    assert isinstance(part, TextPart) and part.text == "Please choose:"


def test_location_request_is_a_one_time_reply_keyboard() -> None:
    rendered = render(reply(text="Where is it?", request_location=True, language="en"), TEXTS)
    (part,) = rendered.parts
    assert isinstance(part, TextPart) and isinstance(part.markup, ReplyKeyboardMarkup)
    markup = part.markup.to_dict()
    check_reply_markup(markup)
    assert markup == {
        "keyboard": [[{"text": "📍 Send my location", "request_location": True}]],
        "resize_keyboard": True,
        "one_time_keyboard": True,
    }


def test_location_request_with_buttons_gets_its_own_prompt_in_arabic() -> None:
    rendered = render(
        reply(text="أين المشكلة؟", buttons=(Button("تخطي", "/deny"),), request_location=True),
        TEXTS,
    )
    first, second = rendered.parts
    assert isinstance(first.markup, InlineKeyboardMarkup)
    assert isinstance(second, TextPart)
    assert second.text == "أو اضغط الزر بالأسفل لإرسال موقعك."
    assert isinstance(second.markup, ReplyKeyboardMarkup)
    assert second.markup.keyboard[0][0].text == "📍 إرسال موقعي"


def test_image_after_the_text_with_the_buttons_on_it() -> None:
    image = "https://940.example.gov/m/a.jpg"
    buttons = (Button("OK", "/affirm"),)
    rendered = render(reply(text="Here it is", image_url=image, buttons=buttons), TEXTS)
    text, photo = rendered.parts
    assert text == TextPart("Here it is")
    assert isinstance(photo, PhotoPart) and photo.url == "https://940.example.gov/m/a.jpg"
    assert isinstance(photo.markup, InlineKeyboardMarkup)


def test_unknown_language_falls_back_to_arabic() -> None:
    rendered = render(reply(text="", buttons=(Button("x", "/x"),), language="fr"), TEXTS)
    assert rendered.parts[0] == TextPart("اختر من القائمة:", rendered.parts[0].markup)


def test_long_text_is_split_at_line_breaks() -> None:
    paragraph = "سطر من النص العربي الطويل. " * 40 + "\n"
    text = paragraph * 10
    pieces = split_text(text)
    assert len(pieces) > 1
    assert all(utf16_len(p) <= 4096 for p in pieces)
    assert all(p.endswith("\n") for p in pieces[:-1])
    assert "".join(pieces) == text


def test_split_counts_utf16_units() -> None:
    text = "😀" * 3000  # 6000 UTF-16 units, 3000 code points
    pieces = split_text(text)
    assert [utf16_len(p) for p in pieces] == [4096, 6000 - 4096]


@given(st.text(max_size=9000), st.integers(min_value=2, max_value=5000))
def test_split_loses_nothing_and_respects_the_limit(text: str, limit: int) -> None:
    pieces = split_text(text, limit)
    assert all(utf16_len(p) <= limit and p.strip() for p in pieces)
    assert "".join("".join(pieces).split()) == "".join(text.split())


@given(
    st.text(max_size=5000),
    st.lists(
        st.tuples(
            st.sampled_from(["", " ", "نعم"]) | st.text(max_size=30),
            st.sampled_from(["", " ", "/affirm", "~x"]) | st.text(max_size=120),
        ),
        max_size=12,
    ),
    st.booleans(),
    st.sampled_from(["ar", "en"]),
)
def test_every_rendering_is_accepted_by_telegram_rules(
    text: str, buttons: list[tuple[str, str]], location: bool, language: str
) -> None:
    message = reply(
        text=text,
        buttons=tuple(Button(t, p) for t, p in buttons),
        request_location=location,
        language=language,
    )
    rendered = render(message, TEXTS)
    for part in rendered.parts:
        if isinstance(part, TextPart):
            assert part.text.strip() and utf16_len(part.text) <= 4096
        if part.markup is not None:
            check_reply_markup(part.markup.to_dict())
    for _title, payload in buttons:
        data = callback_data(payload)
        assert data == payload or rendered.tokens[data] == payload or not payload.strip()


def test_blank_buttons() -> None:
    buttons = (Button("", "/affirm"), Button("Skip", " "), Button(" ", ""))
    (part,) = render(reply(text="?", buttons=buttons), TEXTS).parts
    assert isinstance(part.markup, InlineKeyboardMarkup)
    assert part.markup.to_dict()["inline_keyboard"] == [
        [{"text": "/affirm", "callback_data": "/affirm"}]
    ]


def test_texts_need_both_languages(tmp_path: Path) -> None:
    broken = tmp_path / "texts.yml"
    broken.write_text("location_button: {ar: 'x'}\nlocation_prompt: {ar: a, en: b}\n")
    with pytest.raises(ConfigError, match="location_button"):
        load_texts(broken)

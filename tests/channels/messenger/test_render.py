"""Messenger rendering within the Send API's limits (protocols.md §2.3, §2.5). Pure."""

from __future__ import annotations

from typing import Any

from bot.model import Button, OutboundMessage
from channels.messenger.render import envelope, render
from channels.meta import texts


def out(**kwargs: Any) -> OutboundMessage:
    return OutboundMessage(channel="messenger", recipient_id="24023847293847", key="k", **kwargs)


def options(n: int) -> tuple[Button, ...]:
    return tuple(Button(f"خيار رقم {i}", f'/inform{{"n":{i}}}') for i in range(1, n + 1))


def test_text() -> None:
    rendered = render(out(text=" مرحباً "))
    assert rendered.parts == ({"text": "مرحباً"},)
    assert rendered.menu is None


def test_long_text_splits_within_2000() -> None:
    text = "\n".join(f"سطر رقم {i} من رد طويل" for i in range(300))
    parts = render(out(text=text)).parts
    assert len(parts) > 1
    assert all(len(p["text"]) <= 2000 for p in parts)
    assert "\n".join(p["text"] for p in parts) == text


def test_quick_replies_ride_on_the_last_message() -> None:
    text = "\n\n".join(["أ" * 1990, "اختر نوع البلاغ"])
    parts = render(out(text=text, buttons=options(3))).parts
    assert "quick_replies" not in parts[0]
    assert parts[-1]["quick_replies"] == [
        {"content_type": "text", "title": "خيار رقم 1", "payload": '/inform{"n":1}'},
        {"content_type": "text", "title": "خيار رقم 2", "payload": '/inform{"n":2}'},
        {"content_type": "text", "title": "خيار رقم 3", "payload": '/inform{"n":3}'},
    ]


def test_thirteen_quick_replies_fit() -> None:
    rendered = render(out(text="اختر", buttons=options(13)))
    (part,) = rendered.parts
    assert len(part["quick_replies"]) == 13
    assert rendered.menu is None


def test_more_than_thirteen_number_the_rest() -> None:
    rendered = render(out(text="Choose", buttons=options(15), language="en"))
    (part,) = rendered.parts
    assert len(part["quick_replies"]) == 13
    assert texts.text("numbered_more", "en") in part["text"]
    assert "14. خيار رقم 14" in part["text"] and "15. خيار رقم 15" in part["text"]
    assert rendered.menu is not None and rendered.menu[14] == '/inform{"n":15}'


def test_titles_are_shortened_on_grapheme_boundaries() -> None:
    buttons = (Button("مُتابَعةُ بلاغٍ سابقٍ لديَّ", "/follow_up"),)
    (part,) = render(out(text="?", buttons=buttons)).parts
    title = part["quick_replies"][0]["title"]
    assert len(title) <= 20 and title.endswith("…")
    assert not "\u064b" <= "مُتابَعةُ بلاغٍ سابقٍ لديَّ"[len(title) - 1] <= "\u0652"


def test_payload_too_long_sends_numbered_text_only() -> None:
    long_payload = "/inform" + "x" * 1000
    rendered = render(out(text="Pick", buttons=(Button("A", long_payload),), language="en"))
    (part,) = rendered.parts
    assert "quick_replies" not in part
    assert part["text"] == "Pick\n\n" + texts.text("numbered_all", "en") + "\n1. A"
    assert rendered.menu == (long_payload,)


def test_buttons_without_text_get_words_from_texts_yml() -> None:
    (part,) = render(out(buttons=options(2), language="en")).parts
    assert part["text"] == texts.text("choose_option", "en")


def test_location_request_falls_back_to_asking_for_an_address() -> None:
    (part,) = render(out(text="أين المشكلة؟", request_location=True)).parts
    assert part == {"text": "أين المشكلة؟\n\n" + texts.text("location_fallback", "ar")}


def test_image_goes_first_by_url() -> None:
    parts = render(out(text="الخريطة", image_url="https://example.org/map.png")).parts
    assert parts == (
        {
            "attachment": {
                "type": "image",
                "payload": {"url": "https://example.org/map.png", "is_reusable": True},
            }
        },
        {"text": "الخريطة"},
    )


def test_template_is_ignored_on_messenger() -> None:
    rendered = render(out(text="Closed", template="ticket_update", template_params=("1", "x")))
    assert rendered.parts == ({"text": "Closed"},)


def test_envelope() -> None:
    assert envelope({"text": "x"}, "1", "RESPONSE") == {
        "recipient": {"id": "1"},
        "messaging_type": "RESPONSE",
        "message": {"text": "x"},
    }
    assert envelope({"text": "x"}, "1", "MESSAGE_TAG", "ACCOUNT_UPDATE")["tag"] == "ACCOUNT_UPDATE"

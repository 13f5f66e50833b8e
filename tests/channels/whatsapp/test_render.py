"""WhatsApp rendering within the Cloud API's limits (protocols.md §1.8). Pure."""

from __future__ import annotations

from typing import Any

import pytest

from bot.errors import PermanentSendError
from bot.model import Button, OutboundMessage
from channels.meta import texts
from channels.whatsapp.render import envelope, render, render_template
from channels.whatsapp.templates import Template

SERVICES = [
    ("حفر وتلف الطرق", "pothole"),
    ("إنارة الشوارع", "streetlight"),
    ("النظافة ورفع النفايات", "waste"),
    ("تسرب مياه", "water_leak"),
    ("طفح الصرف الصحي", "sewage"),
    ("الحيوانات الضالة", "stray_animals"),
    ("مخالفات البناء", "building_violation"),
    ("الحدائق والأشجار", "trees_parks"),
    ("الأرصفة والممرات", "sidewalk"),
    ("أخرى", "other"),
]


def services(n: int) -> tuple[Button, ...]:
    buttons = [Button(t, f'/inform{{"service":"{c}"}}') for t, c in SERVICES]
    buttons += [Button(f"Option {i}", f'/choose{{"n":{i}}}') for i in range(11, n + 1)]
    return tuple(buttons[:n])


def out(**kwargs: Any) -> OutboundMessage:
    return OutboundMessage(channel="whatsapp", recipient_id="966501234567", key="k", **kwargs)


def test_short_text_is_one_text_message_without_link_preview() -> None:
    rendered = render(out(text="  أهلاً بك في تواصل 940  "))
    assert rendered.parts == (
        {"type": "text", "text": {"body": "أهلاً بك في تواصل 940", "preview_url": False}},
    )
    assert rendered.menu is None


def test_long_text_is_split_at_paragraphs_within_4096() -> None:
    paragraph = "هذه فقرة طويلة من النص العربي. " * 40  # ≈ 1240 characters
    text = "\n\n".join([paragraph.strip()] * 5)
    parts = render(out(text=text)).parts
    bodies = [p["text"]["body"] for p in parts]
    assert len(bodies) == 2
    assert all(len(b) <= 4096 for b in bodies)
    assert "\n\n".join(bodies) == text


def test_three_buttons_are_reply_buttons_with_payload_ids() -> None:
    buttons = (Button("نعم", "/affirm"), Button("لا", "/deny"), Button("تعديل", "/correct"))
    (part,) = render(out(text="هل المعلومات صحيحة؟", buttons=buttons)).parts
    assert part["type"] == "interactive"
    interactive = part["interactive"]
    assert interactive["type"] == "button"
    assert interactive["body"] == {"text": "هل المعلومات صحيحة؟"}
    assert interactive["action"]["buttons"] == [
        {"type": "reply", "reply": {"id": "/affirm", "title": "نعم"}},
        {"type": "reply", "reply": {"id": "/deny", "title": "لا"}},
        {"type": "reply", "reply": {"id": "/correct", "title": "تعديل"}},
    ]


def test_long_arabic_button_titles_are_cut_on_grapheme_boundaries() -> None:
    title = "الإبلاغ عن مُخالَفةٍ في البِناء"  # harakat are combining marks
    (part,) = render(out(text="اختر", buttons=(Button(title, "/x"),))).parts
    shown = part["interactive"]["action"]["buttons"][0]["reply"]["title"]
    assert len(shown) <= 20
    assert shown.endswith("…")
    head = shown[:-1]
    assert title.startswith(head)
    # The character after the cut is a new letter, never a haraka of the last one kept.
    assert title[len(head)] not in "\u064b\u064c\u064d\u064e\u064f\u0650\u0651\u0652"


def test_four_to_ten_buttons_are_a_list_with_full_titles_as_descriptions() -> None:
    (part,) = render(out(text="ما نوع البلاغ؟", buttons=services(10))).parts
    interactive = part["interactive"]
    assert interactive["type"] == "list"
    assert interactive["action"]["button"] == texts.text("list_button", "ar")
    (section,) = interactive["action"]["sections"]
    rows = section["rows"]
    assert len(rows) == 10
    assert rows[0] == {"id": '/inform{"service":"pothole"}', "title": "حفر وتلف الطرق"}
    assert all(len(r["title"]) <= 24 for r in rows)
    long_titles = [r for r in rows if "description" in r]
    assert all(len(r["description"]) <= 72 for r in long_titles)


def test_colliding_short_titles_fall_back_to_a_list() -> None:
    buttons = (
        Button("Report a broken street light", "/a"),
        Button("Report a broken street sign", "/b"),
    )
    (part,) = render(out(text="Which one?", buttons=buttons, language="en")).parts
    assert part["interactive"]["type"] == "list"
    titles = [r["title"] for r in part["interactive"]["action"]["sections"][0]["rows"]]
    assert titles == ["Report a broken street…", "Report a broken street…"]


def test_more_than_ten_options_list_the_first_ten_and_number_the_rest() -> None:
    rendered = render(out(text="Choose", buttons=services(12), language="en"))
    first, second = rendered.parts
    assert len(first["interactive"]["action"]["sections"][0]["rows"]) == 10
    numbered = second["text"]["body"]
    assert numbered.startswith(texts.text("numbered_more", "en"))
    assert "11. Option 11" in numbered and "12. Option 12" in numbered
    assert rendered.menu is not None and len(rendered.menu) == 12
    assert rendered.menu[10] == '/choose{"n":11}'


def test_payloads_too_long_for_ids_go_out_as_numbered_text() -> None:
    long_payload = "/inform" + '{"description":"' + "x" * 300 + '"}'
    buttons = (Button("Yes", "/affirm"), Button("Long", long_payload))
    rendered = render(out(text="Pick", buttons=buttons, language="en"))
    (part,) = rendered.parts
    assert part["type"] == "text"
    assert part["text"]["body"] == (
        "Pick\n\n" + texts.text("numbered_all", "en") + "\n1. Yes\n2. Long"
    )
    assert rendered.menu == ("/affirm", long_payload)


def test_body_over_1024_goes_first_as_text_then_buttons_with_the_tail() -> None:
    text = ("word " * 400).strip()  # 1999 characters
    parts = render(out(text=text, buttons=(Button("OK", "/affirm"),), language="en")).parts
    assert [p["type"] for p in parts] == ["text", "interactive"]
    assert len(parts[1]["interactive"]["body"]["text"]) <= 1024
    joined = parts[0]["text"]["body"] + " " + parts[1]["interactive"]["body"]["text"]
    assert joined == text


def test_buttons_without_text_get_a_body_from_texts_yml() -> None:
    (part,) = render(out(buttons=(Button("Yes", "/affirm"),), language="en")).parts
    assert part["interactive"]["body"]["text"] == texts.text("choose_option", "en")


def test_location_request() -> None:
    (part,) = render(out(text="أين المشكلة؟ أرسل الموقع", request_location=True)).parts
    assert part == {
        "type": "interactive",
        "interactive": {
            "type": "location_request_message",
            "body": {"text": "أين المشكلة؟ أرسل الموقع"},
            "action": {"name": "send_location"},
        },
    }


def test_location_request_with_buttons_sends_both() -> None:
    parts = render(
        out(text="Where?", request_location=True, buttons=(Button("Skip", "/deny"),))
    ).parts
    kinds = [p["interactive"]["type"] for p in parts]
    assert kinds == ["location_request_message", "button"]


def test_image_alone_carries_the_text_as_caption() -> None:
    (part,) = render(out(text="الخريطة", image_url="https://example.org/map.png")).parts
    assert part == {
        "type": "image",
        "image": {"link": "https://example.org/map.png", "caption": "الخريطة"},
    }


def test_image_with_buttons_goes_first_without_caption() -> None:
    parts = render(
        out(text="Like it?", image_url="https://example.org/a.png", buttons=(Button("Y", "/y"),))
    ).parts
    assert parts[0] == {"type": "image", "image": {"link": "https://example.org/a.png"}}
    assert parts[1]["interactive"]["body"]["text"] == "Like it?"


def test_nothing_to_say_renders_nothing() -> None:
    assert render(out()).parts == ()


@pytest.mark.parametrize(
    ("recipient", "field"),
    [("966501234567", "to"), ("SA.13491208655302741918", "recipient")],
)
def test_envelope_addresses_phone_or_bsuid(recipient: str, field: str) -> None:
    body = envelope({"type": "text", "text": {"body": "x"}}, recipient)
    assert body["messaging_product"] == "whatsapp"
    assert body["recipient_type"] == "individual"
    assert body[field] == recipient
    assert ({"to", "recipient"} - {field}).isdisjoint(body)


TEMPLATE = Template(
    name="tawasul_ticket_update",
    languages={"ar": "ar", "en": "en_US"},
    body_params=2,
    quick_replies=("/thank", '/follow_up{"ticket_id":"$1"}'),
)


def test_template_fills_body_and_quick_reply_payloads() -> None:
    message = out(
        template="ticket_update",
        template_params=("4819302", "تم الإغلاق\nشكراً"),
        language="en",
    )
    assert render_template(message, TEMPLATE) == {
        "type": "template",
        "template": {
            "name": "tawasul_ticket_update",
            "language": {"code": "en_US"},
            "components": [
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": "4819302"},
                        {"type": "text", "text": "تم الإغلاق شكراً"},
                    ],
                },
                {
                    "type": "button",
                    "sub_type": "quick_reply",
                    "index": "0",
                    "parameters": [{"type": "payload", "payload": "/thank"}],
                },
                {
                    "type": "button",
                    "sub_type": "quick_reply",
                    "index": "1",
                    "parameters": [
                        {"type": "payload", "payload": '/follow_up{"ticket_id":"4819302"}'}
                    ],
                },
            ],
        },
    }


def test_template_with_the_wrong_parameter_count_is_refused() -> None:
    with pytest.raises(PermanentSendError, match="takes 2 parameters, got 1"):
        render_template(out(template="ticket_update", template_params=("1",)), TEMPLATE)

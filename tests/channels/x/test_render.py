"""X's text limits and what a reply becomes: one safe public post, or DMs with options."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.model import Button, OutboundMessage
from channels.x.limits import looks_private, split_text, weighted_length
from channels.x.render import (
    DirectMessage,
    PublicReply,
    QuickReplyMessage,
    RenderOptions,
    public_text,
    render,
)
from channels.x.texts import text as local_text
from tests.channels.x.support import SARA, USER_ID

OPTIONS = RenderOptions(user_id=USER_ID)
TWEET = "1853000000000000101"
DEEP_LINK = f"https://twitter.com/messages/compose?recipient_id={USER_ID}"
SERVICES = tuple(
    Button(title, f'/inform{{"service":"{code}"}}')
    for code, title in [
        ("pothole", "حفر وتلف الطرق"),
        ("streetlight", "إنارة الشوارع"),
        ("waste", "النظافة ورفع النفايات"),
        ("water_leak", "تسرب مياه"),
    ]
)


def public(text: str, language: str = "ar", **fields: object) -> OutboundMessage:
    return OutboundMessage(
        channel="x",
        recipient_id=SARA,
        key="tweet:1:0",
        text=text,
        language=language,
        public=True,
        reply_context={"mode": "public", "in_reply_to_tweet_id": TWEET},
        **fields,  # type: ignore[arg-type]
    )


def private(text: str, **fields: object) -> OutboundMessage:
    return OutboundMessage(channel="x", recipient_id=SARA, key="dm:1:0", text=text, **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "weight"),
    [
        ("a" * 280, 280),
        ("ب" * 280, 280),  # Arabic weighs 1 (twitter-text: U+0000–U+10FF)
        ("中" * 10, 20),  # CJK weighs 2
        ("🌟", 2),
        ("see https://example.org/a/very/long/path?with=query&and=more", 4 + 23),
        ("‘quotes’ — and", 14),  # general punctuation in the light ranges…
        ("…", 2),  # … but U+2026 is outside them
        ("é", 1),  # NFC: e + combining acute is one character
    ],
)
def test_weighted_length(text: str, weight: int) -> None:
    assert weighted_length(text) == weight


@pytest.mark.parametrize(
    "text",
    [
        "اتصل على 0551234567",
        "رقمك +966 55 123 4567 صحيح؟",
        "جوالك ٠٥٥١٢٣٤٥٦٧",
        "رقم البلاغ ۴۸۳۹۲۰",
        "Your report number is 483920.",
        "We will write to sara@example.com",
    ],
)
def test_personal_data_is_recognised(text: str) -> None:
    assert looks_private(text)


@pytest.mark.parametrize(
    "text",
    ["سنعالج البلاغ خلال 72 ساعة", "Call 940 any time", "Thank you 🌟", "Reply 1, 2 or 3"],
)
def test_ordinary_text_is_not_private(text: str) -> None:
    assert not looks_private(text)


def test_split_text_cuts_at_spaces_and_keeps_everything() -> None:
    text = " ".join(["كلمة"] * 5000)  # 24,999 characters
    pieces = split_text(text, 10_000)
    assert len(pieces) == 3 and all(len(p) <= 10_000 for p in pieces)
    assert " ".join(pieces) == text
    assert split_text("") == [""]


def test_a_public_reply_is_one_post_in_the_thread_with_a_dm_button() -> None:
    invite = "شكراً لتواصلك معنا 🌟 حرصاً على خصوصيتك نرجو مراسلتنا برسالة خاصة."
    assert render(
        public(invite, buttons=SERVICES, image_url="https://x.example/p.jpg"), OPTIONS
    ) == [PublicReply(TWEET, invite, DEEP_LINK)]
    no_link = RenderOptions(user_id=USER_ID, dm_deep_link=False)
    assert render(public(invite), no_link) == [PublicReply(TWEET, invite, None)]


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("تم تسجيل بلاغك رقم 483920 وسنتواصل معك على 0551234567", "ar"),
        ("Your report 483920 is filed; we will call +966 55 123 4567.", "en"),
        ("Confirm your e-mail sara@example.com", "en"),
        ("word " * 60, "en"),  # 300 weighted characters: too long for a post
    ],
)
def test_a_public_text_with_personal_data_or_too_long_becomes_the_safe_invitation(
    text: str, language: str
) -> None:
    (reply,) = render(public(text, language), OPTIONS)
    assert isinstance(reply, PublicReply)
    assert reply.text == local_text("public_safe", language)
    assert not looks_private(reply.text) and weighted_length(reply.text) <= 280


def test_public_without_a_post_to_answer_goes_by_dm_and_nothing_is_posted_unprompted() -> None:
    message = OutboundMessage(
        channel="x", recipient_id=SARA, key="k", text="تم تحديث بلاغك 483920", public=True
    )
    assert render(message, OPTIONS) == [DirectMessage(SARA, "تم تحديث بلاغك 483920")]


def test_an_empty_public_reply_posts_nothing() -> None:
    assert render(public("  ", image_url="https://x.example/p.jpg"), OPTIONS) == []


@given(st.text(max_size=400), st.sampled_from(["ar", "en"]))
def test_no_public_post_ever_carries_personal_data_or_exceeds_280(text: str, lang: str) -> None:
    for reply in render(public(text, lang), OPTIONS):
        assert isinstance(reply, PublicReply)
        assert not looks_private(reply.text)
        assert weighted_length(reply.text) <= 280
        assert reply.text in (text.strip(), public_text("555 555 555", lang))


def test_buttons_become_quick_reply_options() -> None:
    (dm,) = render(private("ما نوع البلاغ؟", buttons=SERVICES), OPTIONS)
    assert dm == QuickReplyMessage(
        SARA, "ما نوع البلاغ؟", tuple((b.title, b.payload) for b in SERVICES)
    )
    body = dm.body()
    assert body["event"]["message_create"]["target"] == {"recipient_id": SARA}
    data = body["event"]["message_create"]["message_data"]
    assert data["quick_reply"]["type"] == "options"
    assert data["quick_reply"]["options"][0] == {
        "label": "حفر وتلف الطرق",
        "metadata": '/inform{"service":"pothole"}',
    }


def test_long_labels_are_cut_to_36_characters() -> None:
    title = "Building violations and unlicensed construction works"
    (dm,) = render(private("Which one?", buttons=(Button(title, "/x"),)), OPTIONS)
    assert isinstance(dm, QuickReplyMessage)
    label = dm.options[0][0]
    assert len(label) <= 36 and label.endswith("…") and title.startswith(label[:-1])
    assert label == "Building violations and unlicensed…"


def numbered(language: str, buttons: tuple[Button, ...]) -> str:
    lines = [f"{n}. {b.title}" for n, b in enumerate(buttons, 1)]
    return "\n".join([*lines, "", local_text("choices_hint", language)])


def test_more_than_20_buttons_become_a_numbered_list() -> None:
    buttons = tuple(Button(f"Option {n}", f'/choose{{"n":{n}}}') for n in range(1, 23))
    (dm,) = render(private("Pick one", buttons=buttons, language="en"), OPTIONS)
    assert dm == DirectMessage(SARA, "Pick one\n\n" + numbered("en", buttons))


def test_with_quick_replies_off_buttons_are_a_numbered_list() -> None:
    off = RenderOptions(user_id=USER_ID, quick_replies=False)
    (dm,) = render(private("ما نوع البلاغ؟", buttons=SERVICES), off)
    assert dm == DirectMessage(SARA, "ما نوع البلاغ؟\n\n" + numbered("ar", SERVICES))


def test_an_image_is_sent_as_its_link() -> None:
    (dm,) = render(private("الصورة:", image_url="https://hub.example/media/a.jpg"), OPTIONS)
    assert dm == DirectMessage(SARA, "الصورة:\nhttps://hub.example/media/a.jpg")


def test_a_long_dm_is_split_and_the_options_go_with_the_last_piece() -> None:
    text = " ".join(["word"] * 4000)  # 19,999 characters
    first, last = render(private(text, buttons=SERVICES), OPTIONS)
    assert isinstance(first, DirectMessage) and isinstance(last, QuickReplyMessage)
    assert len(first.text) <= 10_000 and len(last.text) <= 10_000
    assert f"{first.text} {last.text}" == text


def test_buttons_without_text_get_a_prompt_and_nothing_is_nothing() -> None:
    (dm,) = render(private("", buttons=SERVICES, language="en"), OPTIONS)
    assert isinstance(dm, QuickReplyMessage) and dm.text == local_text("choose", "en")
    assert render(private("   ", request_location=True), OPTIONS) == []

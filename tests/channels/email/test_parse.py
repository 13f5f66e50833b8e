"""Raw mails (payloads/*.eml, in the formats of Gmail, Outlook, Apple Mail, Thunderbird, a
webmail, Postfix bounces and list servers) → InboundMessage; garbage → MalformedPayload."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.errors import MalformedPayload
from bot.model import InboundMessage, Location
from channels.email.parse import ParseSettings, message_key, parse_mail
from tests.channels.email.conftest import payload

SETTINGS = ParseSettings(
    own_addresses=frozenset({"reports@tawasul.test"}), authserv_id="mx.tawasul.test"
)
NOW = 1_800_000_000.0


def parse(name: str, settings: ParseSettings = SETTINGS) -> InboundMessage:
    return parse_mail(payload(name), settings, uidvalidity=17, uid=4, received_at=NOW)


def test_gmail_english_reply_keeps_only_the_new_text_and_threads() -> None:
    msg = parse("gmail_reply_en.eml")
    assert msg.channel == "email"
    assert msg.provider_message_id == "CAHx8q=Z7vE0pQ1m3kq4w@mail.example.com"
    assert msg.user_id == "sara.khan@example.com"  # lower-cased
    assert msg.conversation_id == "email:sara.khan@example.com"
    assert msg.text == "It's right in front of building 12, the hole is about a metre wide."
    assert msg.contact.email == "sara.khan@example.com" and msg.contact.name == "Sara Khan"
    assert msg.contact.email_verified  # dmarc=pass from our server
    assert msg.contact.ids == {"email": "sara.khan@example.com"}
    assert msg.no_reply_reason is None and msg.attachments == ()
    assert msg.reply_context == {
        "subject": "Re: Your report to the 940 centre [#482913657]",
        "message_id": "<CAHx8q=Z7vE0pQ1m3kq4w@mail.example.com>",
        "references": "<8f2c1a0e9b7d4c6e.tawasul@tawasul.test>",
        "ticket_id": "482913657",
    }
    assert msg.timestamp == 1767598258.0  # Date: Mon, 5 Jan 2026 10:30:58 +0300


def test_gmail_arabic_reply_cuts_at_the_arabic_reply_header() -> None:
    msg = parse("gmail_reply_ar.eml")
    assert msg.text == "الحفرة أمام مدرسة الملك فهد في حي النزهة، وهي عميقة وخطرة على السيارات."
    assert msg.contact.name == "محمد العتيبي"
    assert msg.reply_context["subject"] == "رد: بلاغك لدى مركز 940"


def test_outlook_english_reply_drops_the_signature_and_the_from_sent_block() -> None:
    msg = parse("outlook_reply_en.eml")
    assert msg.text == (
        "Hello,\n\nThe street light has been off for a week now, the whole street is dark at night."
    )
    assert msg.language_hint == "en"  # Content-Language: en-GB


def test_outlook_arabic_reply_cuts_at_the_arabic_header_block() -> None:
    msg = parse("outlook_reply_ar.eml")
    assert msg.text is not None
    assert msg.text.startswith("السلام عليكم،")
    assert "تجمعت النفايات بجانب الحاوية" in msg.text
    assert "كيف يمكننا مساعدتك" not in msg.text and "تاريخ الإرسال" not in msg.text
    assert msg.language_hint == "ar"
    assert msg.contact.email_verified  # dmarc=pass although dkim failed


def test_outlook_original_message_separator_in_arabic() -> None:
    msg = parse("outlook_original_message_ar.eml")
    assert msg.text == "تم إصلاح الإنارة في الجهة الشمالية فقط، والجهة الجنوبية ما زالت مطفأة."
    assert msg.reply_context["ticket_id"] == "731502846"  # from the windows-1256 subject
    assert msg.reply_context["references"] == "<9e8d7c6b5a4f3e2d.tawasul@tawasul.test>"
    assert not msg.contact.email_verified  # no Authentication-Results at all


def test_apple_mail_with_inline_photo_and_a_map_link() -> None:
    msg = parse("apple_mail_photo_en.eml")
    assert msg.text == (
        "There is a water leak on the pavement, water is running into the street.\n"
        "Location: https://maps.google.com/?q=24.7136,46.6753"
    )
    assert msg.location == Location(lat=24.7136, long=46.6753)
    (photo,) = msg.attachments
    assert (photo.type, photo.mime_type, photo.filename) == ("image", "image/png", "IMG_2041.png")
    assert photo.inline_b64 is not None
    data = base64.b64decode(photo.inline_b64)
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and photo.size == len(data)
    assert msg.contact.email_verified  # dkim=pass header.d=example.com (spf softfail)


def test_thunderbird_arabic_report_with_an_attached_photo() -> None:
    msg = parse("photo_attachment_ar.eml")
    assert msg.text == "يوجد تسرب مياه كبير في شارع العليا بجانب الصيدلية، الصورة مرفقة."
    (photo,) = msg.attachments
    assert photo.filename == "تسرب.png" and photo.type == "image"
    assert "message_id" in msg.reply_context and "references" not in msg.reply_context


def test_html_only_mail_becomes_text() -> None:
    msg = parse("html_only_ar.eml")
    assert msg.text == (
        "مرحباً،\nأرغب بالإبلاغ عن كلاب ضالة قرب حديقة الملك عبدالله & المدرسة.\n"
        "- العدد: خمسة تقريباً\n- الوقت: كل مساء\n\nشكراً لكم"
    )
    assert "var x" not in msg.text and "font-family" not in msg.text


def test_bounce_is_recorded_with_the_failed_recipient() -> None:
    msg = parse("bounce.eml")
    assert msg.no_reply_reason == "bounce"
    assert msg.user_id == "mailer-daemon@mx.tawasul.test"
    assert msg.reply_context["bounced_recipient"] == "gone.user@example.net"
    assert msg.attachments == ()  # the returned mail's image is not a citizen's photo


@pytest.mark.parametrize(
    "name, reason",
    [
        ("vacation_autoreply.eml", "auto-submitted:auto-replied"),
        ("out_of_office_ar.eml", "auto-submitted:auto-generated"),
        ("list_mail.eml", "precedence:list"),
        ("x_autoreply.eml", "autoresponder"),
        ("noreply_sender.eml", "system-sender"),
    ],
)
def test_mails_never_to_be_answered_carry_a_reason(name: str, reason: str) -> None:
    msg = parse(name)
    assert msg.no_reply_reason == reason
    assert msg.text  # still recorded with its text


def test_no_message_id_falls_back_to_uidvalidity_and_uid_and_forged_results_do_not_verify() -> None:
    msg = parse("no_message_id_forged_auth.eml")
    assert msg.provider_message_id == "17:4"
    assert "message_id" not in msg.reply_context
    assert not msg.contact.email_verified  # our header vouches for evil.example only
    assert message_key(payload("no_message_id_forged_auth.eml")).startswith("sha256:")


def test_without_a_configured_authserv_id_nobody_is_verified() -> None:
    assert not parse("gmail_reply_en.eml", ParseSettings()).contact.email_verified


def test_our_own_mail_coming_back_is_a_loop() -> None:
    raw = (
        b"From: Tawasul 940 <Reports@tawasul.test>\r\nTo: reports@tawasul.test\r\n"
        b"Subject: x\r\nMessage-ID: <a@tawasul.test>\r\n\r\nhello\r\n"
    )
    msg = parse_mail(raw, SETTINGS, uidvalidity=1, uid=1, received_at=NOW)
    assert msg.no_reply_reason == "own-address"


def test_a_new_mail_with_only_a_subject_uses_the_subject_as_text() -> None:
    raw = b"From: a@example.com\r\nSubject: Pothole near gate 3\r\n\r\n\r\n"
    msg = parse_mail(raw, SETTINGS, uidvalidity=1, uid=9, received_at=NOW)
    assert msg.text == "Pothole near gate 3"
    assert msg.timestamp == NOW  # no Date header


def test_an_empty_reply_is_not_its_subject() -> None:
    raw = b"From: a@example.com\r\nSubject: Re: Your report\r\n\r\n\r\n"
    assert parse_mail(raw, SETTINGS, uidvalidity=1, uid=9, received_at=NOW).text is None


def test_a_reply_carrying_only_a_photo_has_no_text() -> None:
    photo = base64.b64encode(b"\xff\xd8\xff\xe0" + bytes(3000)).decode()
    raw = (
        "From: a@example.com\r\nSubject: Re: Your report\r\nIn-Reply-To: <x@tawasul.test>\r\n"
        'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain\r\n\r\n\r\n"
        "On Mon, Tawasul 940 <reports@tawasul.test> wrote:\r\n> Send a photo or say skip.\r\n"
        "--b\r\nContent-Type: image/jpeg\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        f"{photo}\r\n--b--\r\n"
    ).encode()
    msg = parse_mail(raw, SETTINGS, uidvalidity=1, uid=9, received_at=NOW)
    assert msg.text is None
    assert [a.mime_type for a in msg.attachments] == ["image/jpeg"]


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"   \r\n",
        b"Subject: no sender\r\n\r\nbody\r\n",
        b"From: not an address\r\n\r\nbody\r\n",
        b"\x00\x01\x02garbage",
    ],
)
def test_not_a_mail_with_a_sender_is_malformed(raw: bytes) -> None:
    with pytest.raises(MalformedPayload):
        parse_mail(raw, SETTINGS, uidvalidity=1, uid=1, received_at=NOW)


def _parse_or_malformed(raw: bytes) -> None:
    try:
        msg = parse_mail(raw, SETTINGS, uidvalidity=1, uid=1, received_at=NOW)
    except MalformedPayload:
        return
    assert msg.user_id and "@" in msg.user_id
    assert InboundMessage.from_json(msg.to_json()) == msg


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_random_bytes_parse_or_are_malformed(raw: bytes) -> None:
    _parse_or_malformed(raw)


_header_value = st.text(st.characters(codec="utf-8", exclude_characters="\r\n"), max_size=80).map(
    lambda s: s.encode("utf-8", "surrogateescape")
)
_header_name = st.sampled_from(
    [
        b"From", b"Subject", b"Message-ID", b"References", b"Date", b"Content-Type",
        b"Content-Transfer-Encoding", b"Content-Disposition", b"Auto-Submitted", b"Precedence",
        b"Authentication-Results", b"Return-Path", b"Content-Language", b"In-Reply-To",
    ]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(_header_name, _header_value), max_size=12),
    st.binary(max_size=600),
)
def test_random_headers_and_bodies_parse_or_are_malformed(
    headers: list[tuple[bytes, bytes]], body: bytes
) -> None:
    raw = b"From: Citizen <c@example.com>\r\n" + b"".join(
        name + b": " + value + b"\r\n" for name, value in headers
    )
    _parse_or_malformed(raw + b"\r\n" + body)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(["multipart/mixed", "multipart/alternative", "multipart/report"]),
       st.binary(max_size=400))  # fmt: skip
def test_random_multipart_bodies_parse_or_are_malformed(kind: str, body: bytes) -> None:
    raw = (
        b"From: c@example.com\r\nContent-Type: " + kind.encode() + b'; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + body + b"\r\n--b--\r\n"
    )  # fmt: skip
    _parse_or_malformed(raw)

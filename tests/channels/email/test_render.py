"""OutboundMessage → MIME mail: threading, subject and ticket token, RTL HTML, numbered
options and the numeric answers mapped back, refusal of system recipients."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.errors import PermanentSendError
from bot.model import Button, OutboundMessage
from channels.email.options import choose, numbered
from channels.email.parse import ParseSettings, parse_mail
from channels.email.render import Identity, message_id_for, render
from channels.email.texts import Texts
from channels.email.tickets import ticket_number

TEXTS = Texts.load()
US = Identity("reports@tawasul.test", "Tawasul 940")
THREAD = {
    "message_id": "<CAHx8q=Z7vE0pQ1m3kq4w@mail.example.com>",
    "references": "<8f2c1a0e9b7d4c6e.tawasul@tawasul.test>",
    "subject": "Re: Your report to the 940 centre",
}
SERVICES = (
    Button("Potholes", '/inform{"service":"pothole"}'),
    Button("Street lighting", '/inform{"service":"streetlight"}'),
    Button("Other", '/inform{"service":"other"}'),
)


def reply(**fields: object) -> OutboundMessage:
    values: dict[str, object] = {
        "channel": "email",
        "recipient_id": "sara.khan@example.com",
        "key": "CAHx8q=Z7vE0pQ1m3kq4w@mail.example.com:0",
        "text": "Thank you.",
        "language": "en",
    }
    values.update(fields)
    return OutboundMessage(**values)  # type: ignore[arg-type]


def roundtrip(mail: EmailMessage) -> EmailMessage:
    """What the recipient's server parses from the bytes we send."""
    parsed = email.message_from_bytes(mail.as_bytes(), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def parts(mail: EmailMessage) -> tuple[str, str]:
    plain, html = list(mail.iter_parts())
    return str(plain.get_content()), str(html.get_content())


def test_a_reply_is_threaded_into_the_citizens_mail() -> None:
    message = reply(reply_context=THREAD)
    mail = roundtrip(render(message, US, TEXTS, THREAD, now=1767600000.0))
    assert mail["From"] == "Tawasul 940 <reports@tawasul.test>"
    assert mail["To"] == "sara.khan@example.com"
    assert mail["Subject"] == "Re: Your report to the 940 centre"
    assert mail["In-Reply-To"] == THREAD["message_id"]
    assert mail["References"] == f"{THREAD['references']} {THREAD['message_id']}"
    assert mail["Auto-Submitted"] == "auto-replied"
    assert mail["X-Auto-Response-Suppress"] == "OOF, AutoReply"
    assert mail["Content-Language"] == "en"
    assert mail["Date"].datetime.timestamp() == 1767600000.0
    assert mail["Message-ID"] == message_id_for(message.key, "tawasul.test")
    assert mail.get_content_type() == "multipart/alternative"
    plain, html = parts(mail)
    assert plain.startswith("Thank you.\n\n-- \nThis is an automated message")
    assert '<html lang="en" dir="ltr">' in html and "text-align:left" in html


def test_the_message_id_is_stable_across_retries_and_unique_per_reply() -> None:
    first = render(reply(), US, TEXTS, {})
    again = render(reply(), US, TEXTS, {})
    other = render(reply(key="CAHx8q=Z7vE0pQ1m3kq4w@mail.example.com:1"), US, TEXTS, {})
    assert first["Message-ID"] == again["Message-ID"] != other["Message-ID"]


def test_an_update_without_a_mail_to_answer_starts_a_thread() -> None:
    mail = roundtrip(render(reply(language="ar", text="تم إغلاق البلاغ"), US, TEXTS, {}))
    assert mail["Subject"] == "بلاغك لدى مركز 940"
    assert "In-Reply-To" not in mail and "References" not in mail
    assert mail["Auto-Submitted"] == "auto-generated"


def test_an_update_threaded_from_the_stored_thread_is_auto_generated() -> None:
    mail = render(reply(text="Report 482913657 is closed."), US, TEXTS, THREAD)
    assert mail["In-Reply-To"] == THREAD["message_id"]
    assert mail["Auto-Submitted"] == "auto-generated"  # answers no mail of this turn
    assert mail["Subject"] == "Re: Your report to the 940 centre [#482913657]"


@pytest.mark.parametrize(
    "text, subject, expected",
    [
        ("Report number: 482913657\nTo check…", "Re: Pothole", "Re: Pothole [#482913657]"),
        ("رقم البلاغ: 731502846", "رد: حفرة", "Re: حفرة [#731502846]"),
        ("البلاغ رقم ٤٨٢٩١٣٦٥٧: قيد المعالجة", "", "بلاغك لدى مركز 940 [#482913657]"),
        ("مُبلَّغ عنها مسبقاً بالبلاغ رقم 123456789", "x", "Re: x [#123456789]"),
        # the token is not repeated, and a newer number replaces an older one
        ("Report 482913657: open", "Re: Re: Pothole [#482913657]", "Re: Pothole [#482913657]"),
        ("Report 555666777: open", "RE: Pothole [#482913657]", "Re: Pothole [#555666777]"),
        # no ticket: no token; a phone number is not a ticket
        ("Call us on 0501234567.", "Re: Hello", "Re: Hello"),
    ],
)
def test_subject_and_ticket_token(text: str, subject: str, expected: str) -> None:
    thread = {**THREAD, "subject": subject} if subject else {}
    language = "ar" if not subject else "en"
    mail = render(reply(text=text, language=language), US, TEXTS, thread)
    assert mail["Subject"] == expected


def test_the_ticket_of_the_citizens_subject_stays_in_the_reply() -> None:
    thread = {**THREAD, "subject": "Re: Update [#482913657]", "ticket_id": "482913657"}
    mail = render(reply(text="Thanks, noted."), US, TEXTS, thread)
    assert mail["Subject"] == "Re: Update [#482913657]"


def test_ticket_number_reads_template_params_and_context() -> None:
    assert ticket_number(reply(text="", template_params=("482913657",))) is None
    assert ticket_number(reply(text="", template_params=("Report 482913657",))) == "482913657"
    assert ticket_number(reply(text="", reply_context={"ticket_id": "731502846"})) == "731502846"
    assert ticket_number(reply(text="#731502846 closed")) == "731502846"


def test_buttons_become_a_numbered_list_and_arabic_is_right_to_left() -> None:
    message = reply(language="ar", text="ما نوع المشكلة؟", buttons=SERVICES)
    plain, html = parts(roundtrip(render(message, US, TEXTS, THREAD)))
    assert "ما نوع المشكلة؟\n\n1. Potholes\n2. Street lighting\n3. Other\n\n" in plain
    assert "ردّ على هذه الرسالة برقم الخيار فقط" in plain
    assert '<html lang="ar" dir="rtl">' in html and '<div dir="rtl" lang="ar">' in html
    assert "text-align:right" in html
    assert "<ol><li>Potholes</li><li>Street lighting</li><li>Other</li></ol>" in html
    assert "/inform" not in plain and "/inform" not in html  # payloads stay with us


def test_location_request_image_and_escaping() -> None:
    message = reply(
        text="<b>Where?</b> & when",
        request_location=True,
        image_url="https://media.tawasul.test/a.png?x=1&y=2",
    )
    plain, html = parts(render(message, US, TEXTS, {}))
    assert "paste a link to the place from your maps app" in plain
    assert "Image: https://media.tawasul.test/a.png?x=1&y=2" in plain
    assert "&lt;b&gt;Where?&lt;/b&gt; &amp; when" in html and "<b>Where?" not in html
    assert '<img src="https://media.tawasul.test/a.png?x=1&amp;y=2"' in html


def test_our_reply_quoted_back_is_stripped_by_our_own_parser() -> None:
    """The footer sits under a "-- " delimiter, and the list we sent is quoted: a citizen
    answering "2" above it reaches the bot as "2"."""
    sent = render(reply(text="Which service?", buttons=SERVICES), US, TEXTS, {})
    plain, _ = parts(sent)
    quoted = "\n".join("> " + line for line in plain.splitlines())
    raw = (
        "From: sara.khan@example.com\r\nMessage-ID: <r1@example.com>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        f"2\r\n\r\nOn Mon, 5 Jan 2026, Tawasul 940 <reports@tawasul.test> wrote:\r\n{quoted}\r\n"
    )
    msg = parse_mail(raw.encode(), ParseSettings(), uidvalidity=1, uid=1, received_at=0.0)
    assert msg.text == "2"
    assert choose(msg.text, SERVICES) == '/inform{"service":"streetlight"}'


@pytest.mark.parametrize(
    "recipient",
    ["MAILER-DAEMON@mx.example.com", "no-reply@example.com", "not an address", "a@b\r\nBcc: x"],
)
def test_system_and_malformed_recipients_are_refused(recipient: str) -> None:
    with pytest.raises(PermanentSendError):
        render(reply(recipient_id=recipient), US, TEXTS, {})


def test_header_injection_through_the_subject_is_impossible() -> None:
    thread = {**THREAD, "subject": "Hello\r\nBcc: victim@example.com"}
    mail = roundtrip(render(reply(), US, TEXTS, thread))
    assert "Bcc" not in mail and mail["Subject"] == "Re: Hello Bcc: victim@example.com"


@pytest.mark.parametrize(
    "answer, payload",
    [
        ("1", '/inform{"service":"pothole"}'),
        (" 2 ", '/inform{"service":"streetlight"}'),
        ("٣", '/inform{"service":"other"}'),
        ("۲", '/inform{"service":"streetlight"}'),
        ("(1)", '/inform{"service":"pothole"}'),
        ("3.", '/inform{"service":"other"}'),
        ("option 2", '/inform{"service":"streetlight"}'),
        ("الخيار ١", '/inform{"service":"pothole"}'),
        ("street  LIGHTING", '/inform{"service":"streetlight"}'),
        ("4", None),
        ("0", None),
        ("12 potholes on my street", None),
        ("482913657", None),
        ("", None),
    ],
)
def test_choose(answer: str, payload: str | None) -> None:
    assert choose(answer, SERVICES) == payload


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_choose_picks_an_offered_payload_or_nothing(text: str) -> None:
    assert choose(text, SERVICES) in {None, *(b.payload for b in SERVICES)}
    assert choose(text, ()) is None


def test_numbered() -> None:
    assert numbered(SERVICES[:2]) == ["1. Potholes", "2. Street lighting"]


def test_every_language_has_every_text() -> None:
    for language in ("ar", "en"):
        for key in ("subject", "choose_by_number", "share_location", "image", "footer"):
            assert TEXTS.get(language, key)
    assert TEXTS.get("fr", "subject") == TEXTS.get("ar", "subject")  # Arabic by default

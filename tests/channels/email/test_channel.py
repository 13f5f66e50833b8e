"""The channel end to end at its own edges: a citizen's mail arrives by IMAP, the answer
leaves by SMTP threaded into it, a numbered choice comes back as the button's payload, a
status update threads into the latest mail, and attachments are handed to the hub."""

from __future__ import annotations

import base64
import dataclasses

import pytest

import channels.email
from bot.errors import MediaError, PermanentSendError
from bot.model import Attachment, Button, InboundMessage, OutboundMessage
from channels.base import Channel
from tests.channels.email.conftest import (
    Mailbox,
    StandInHub,
    Start,
    make_config,
    payload,
    wait_until,
)
from tests.channels.email.fake_smtp import FakeSmtp

CITIZEN = "sara.khan@example.com"
SERVICES = (
    Button("حفر وتلف الطرق", '/inform{"service":"pothole"}'),
    Button("إنارة الشوارع", '/inform{"service":"streetlight"}'),
)


def answer(inbound: InboundMessage, index: int = 0, **fields: object) -> OutboundMessage:
    values: dict[str, object] = {
        "channel": "email",
        "recipient_id": inbound.user_id,
        "key": f"{inbound.provider_message_id}:{index}",
        "reply_context": inbound.reply_context,
        "language": "ar",
    }
    values.update(fields)
    return OutboundMessage(**values)  # type: ignore[arg-type]


def citizen_reply(in_reply_to: str, text: str, message_id: str) -> bytes:
    return (
        f"From: Sara Khan <{CITIZEN}>\r\nTo: reports@tawasul.test\r\n"
        f"Subject: =?UTF-8?B?2LHYrzog2KjZhNin2LrZgyDZhNiv2Ykg2YXYsdmD2LIgOTQw?=\r\n"
        f"Message-ID: <{message_id}>\r\nIn-Reply-To: {in_reply_to}\r\n"
        f"References: {in_reply_to}\r\nDate: Mon, 5 Jan 2026 11:00:00 +0300\r\n"
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        f"{text}\r\n\r\nفي الاثنين، ٥ يناير ٢٠٢٦ كتب Tawasul 940 <reports@tawasul.test>:\r\n"
        "> ما نوع المشكلة؟\r\n> 1. حفر وتلف الطرق\r\n> 2. إنارة الشوارع\r\n"
    ).encode()


def test_the_package_builds_a_channel_from_the_environment(email_env: dict[str, str]) -> None:
    channel = channels.email.from_env(email_env)
    assert isinstance(channel, channels.email.EmailChannel)
    assert channel.name == "email"
    _: Channel = channel  # satisfies the hub's protocol


async def test_a_reply_with_options_and_the_numeric_answer(
    email_env: dict[str, str],
    mailbox: Mailbox,
    hub: StandInHub,
    smtp: FakeSmtp,
    start_channel: Start,
) -> None:
    await mailbox.append(payload("gmail_reply_en.eml"))
    running = await start_channel(make_config(email_env))
    await wait_until(lambda: _count(hub, 1), what="the first mail")
    (inbound,) = await hub.submitted()

    await running.channel.deliver(answer(inbound, text="ما نوع المشكلة؟", buttons=SERVICES))
    (sent,) = smtp.delivered
    assert sent.rcpt_tos == (CITIZEN,)
    assert sent.message["In-Reply-To"] == "<CAHx8q=Z7vE0pQ1m3kq4w@mail.example.com>"
    assert sent.message["References"] == (
        "<8f2c1a0e9b7d4c6e.tawasul@tawasul.test> <CAHx8q=Z7vE0pQ1m3kq4w@mail.example.com>"
    )
    assert sent.message["Subject"] == "Re: Your report to the 940 centre [#482913657]"
    assert sent.message["Auto-Submitted"] == "auto-replied"
    plain = sent.message.get_body(preferencelist=("plain",))
    assert plain is not None and "1. حفر وتلف الطرق\n2. إنارة الشوارع" in plain.get_content()

    # The citizen answers "٢" above the quote: the bot gets the second button's payload.
    our_id = str(sent.message["Message-ID"])
    await mailbox.append(citizen_reply(our_id, "٢", "answer-1@mail.example.com"))
    await wait_until(lambda: _count(hub, 2), what="the answer")
    choice = (await hub.submitted())[1]
    assert choice.text == "٢" and choice.payload == '/inform{"service":"streetlight"}'
    assert choice.reply_context["references"].endswith(our_id)

    # The options answered one mail only: a later "1" is just text.
    await mailbox.append(citizen_reply(our_id, "1", "answer-2@mail.example.com"))
    await wait_until(lambda: _count(hub, 3), what="the next mail")
    later = (await hub.submitted())[2]
    assert later.text == "1" and later.payload is None


async def test_a_status_update_threads_into_the_latest_mail(
    email_env: dict[str, str],
    mailbox: Mailbox,
    hub: StandInHub,
    smtp: FakeSmtp,
    start_channel: Start,
) -> None:
    await mailbox.append(payload("outlook_reply_ar.eml"))
    running = await start_channel(make_config(email_env))
    await wait_until(lambda: _count(hub, 1), what="the mail")
    (inbound,) = await hub.submitted()

    update = OutboundMessage(
        channel="email",
        recipient_id=inbound.user_id,
        key="event-77:0",
        text="البلاغ رقم 731502846: تم الإغلاق.",
        language="ar",
    )  # no reply_context: a ticket event, not an answer
    await running.channel.deliver(update)
    (sent,) = smtp.delivered
    assert str(sent.message["In-Reply-To"]).strip() == inbound.reply_context["message_id"]
    assert sent.message["Subject"] == "Re: بلاغك لدى مركز 940 [#731502846]"
    assert sent.message["Auto-Submitted"] == "auto-generated"
    html = sent.message.get_body(preferencelist=("html",))
    assert html is not None and 'dir="rtl"' in html.get_content()


async def test_no_mail_ever_goes_to_a_bounce_sender(
    email_env: dict[str, str], hub: StandInHub, smtp: FakeSmtp, start_channel: Start
) -> None:
    running = await start_channel(make_config(email_env))
    bounce = OutboundMessage(
        channel="email", recipient_id="mailer-daemon@mx.tawasul.test", key="b:0", text="?"
    )
    with pytest.raises(PermanentSendError):
        await running.channel.deliver(bounce)
    assert smtp.delivered == []


async def test_download_returns_the_attachment_bytes(
    email_env: dict[str, str], start_channel: Start
) -> None:
    running = await start_channel(make_config(email_env))
    png = b"\x89PNG\r\n\x1a\n" + bytes(2000)
    photo = Attachment(
        type="image",
        mime_type="image/png",
        filename="a.png",
        inline_b64=base64.b64encode(png).decode(),
    )
    media = await running.channel.download(photo, max_bytes=10_000)
    assert (media.data, media.mime_type, media.filename) == (png, "image/png", "a.png")
    with pytest.raises(MediaError):
        await running.channel.download(photo, max_bytes=1000)
    with pytest.raises(MediaError):
        await running.channel.download(dataclasses.replace(photo, inline_b64=None), 10_000)
    with pytest.raises(MediaError):
        await running.channel.download(dataclasses.replace(photo, inline_b64="@@@"), 10_000)


async def _count(hub: StandInHub, n: int) -> bool:
    return await hub.count() >= n

"""End to end through the real hub (``python -m bot``), Rasa, the action server and the ticket
service, with a real Dovecot as the municipality's mailbox and a real SMTP server: a citizen
files a report by e-mail in Arabic and in English — answering numbered choices by number,
sharing the place as a map link and the photo as an attachment, every mail a reply quoting
the previous one — and the filed ticket is checked through the staff API. Auto-replies get
no answer, and a mail delivered three times is answered once."""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from typing import Any

import aiohttp
import pytest

from tests.channels.e2e import filed_number, fill_report, in_language
from tests.channels.email.conftest import Mailbox, payload
from tests.channels.email.dovecot import Dovecot
from tests.channels.email.fake_smtp import FakeSmtp
from tests.hubstack import HubFactory, HubProcess
from tests.spots import random_pin
from tests.stack import BotStack
from ticket_client import TawasulClient

TURN_TIMEOUT = 90.0
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 64 + b"\xff\xd9"
OPTION = re.compile(r"^(\d+)\. (.+)$", re.MULTILINE)


@dataclass
class EmailHub:
    process: HubProcess
    mailbox: Mailbox
    smtp: FakeSmtp
    rasa_url: str

    @property
    def address(self) -> str:
        return self.mailbox.user


@pytest.fixture(scope="module")
async def email_hub(
    hub_factory: HubFactory, bot_stack: BotStack, dovecot: Dovecot
) -> AsyncIterator[EmailHub]:
    mailbox = Mailbox(dovecot, dovecot.new_user())
    smtp = FakeSmtp(
        dovecot.ca_file, dovecot.base / "key.pem", mailbox.user, secrets.token_urlsafe(9)
    )
    smtp.start()
    env = {
        "TAWASUL_EMAIL_ADDRESS": mailbox.user,
        "TAWASUL_EMAIL_FROM_NAME": "Tawasul 940",
        "TAWASUL_EMAIL_AUTHSERV_ID": "mx.tawasul.test",
        "TAWASUL_EMAIL_TIMEOUT": "10",
        **dovecot.env(mailbox.user, "starttls"),
        **smtp.env(),
    }
    process = await hub_factory.start(env=env, name="email")
    try:
        yield EmailHub(process, mailbox, smtp, bot_stack.rasa.url)
    finally:
        await process.stop()
        smtp.stop()


def plain_of(mail: EmailMessage) -> str:
    body = mail.get_body(preferencelist=("plain",))
    return str(body.get_content()) if body is not None else ""


@dataclass
class Citizen:
    """One citizen writing to the hub's address, each mail answering the bot's last one."""

    name: str
    address: str
    subject: str
    hub: EmailHub
    http: aiohttp.ClientSession
    language: str
    transcript: list[str] = field(default_factory=list)
    sent_ids: list[str] = field(default_factory=list)

    @property
    def sender(self) -> str:
        return f"email:{self.address}"

    def received(self) -> list[EmailMessage]:
        return [d.message for d in self.hub.smtp.delivered if d.rcpt_tos == (self.address,)]

    async def tracker(self) -> dict[str, Any]:
        url = f"{self.hub.rasa_url}/conversations/{self.sender}/tracker"
        async with self.http.get(url) as response:
            assert response.status == 200, await response.text()
            tracker: dict[str, Any] = await response.json()
            return tracker

    async def form(self) -> tuple[str | None, str | None]:
        tracker = await self.tracker()
        loop = (tracker.get("active_loop") or {}).get("name")
        return loop, (tracker.get("slots") or {}).get("requested_slot") if loop else None

    def compose(self, text: str, photo: bytes | None = None) -> bytes:
        """A mail as the citizen's provider would hand it to us: authenticated by our MX,
        replying to (and quoting) the bot's latest mail."""
        mail = EmailMessage()
        domain = self.address.rpartition("@")[2]
        mail["Authentication-Results"] = (
            f"mx.tawasul.test; dkim=pass header.d={domain}; "
            f"spf=pass smtp.mailfrom={self.address}; dmarc=pass header.from={domain}"
        )
        mail["From"] = formataddr((self.name, self.address))
        mail["To"] = self.hub.address
        mail["Date"] = format_datetime(datetime.now(UTC))
        mail["Message-ID"] = make_msgid(domain=domain)
        mail["Content-Language"] = self.language
        body = text
        previous = self.received()
        if previous:
            last = previous[-1]
            mail["Subject"] = f"Re: {str(last['Subject']).removeprefix('Re: ')}"
            mail["In-Reply-To"] = str(last["Message-ID"])
            mail["References"] = f"{last.get('References', '')} {last['Message-ID']}".strip()
            quoted = "\n".join(f"> {line}" for line in plain_of(last).splitlines())
            header = (
                f"On {last['Date']}, Tawasul 940 <{self.hub.address}> wrote:"
                if self.language == "en"
                else f"في {last['Date']}، كتب Tawasul 940 <{self.hub.address}>:"
            )
            body = f"{text}\n\n{header}\n{quoted}\n"
        else:
            mail["Subject"] = self.subject
        mail.set_content(body)
        if photo is not None:
            mail.add_attachment(photo, maintype="image", subtype="jpeg", filename="hole.jpg")
        self.sent_ids.append(str(mail["Message-ID"]))
        return mail.as_bytes()

    async def send(self, text: str, photo: bytes | None = None, said: str = "") -> str:
        """Deliver the mail to the hub's mailbox; wait until Rasa finished the turn and every
        reply reached the SMTP server; return the replies' plain text."""
        said = said or text
        before = len(self.received())
        users_before = sum(1 for e in (await self.tracker())["events"] if e["event"] == "user")
        await self.hub.mailbox.append(self.compose(text, photo))
        deadline = time.monotonic() + TURN_TIMEOUT
        while True:
            events = (await self.tracker())["events"]
            users = [i for i, e in enumerate(events) if e["event"] == "user"]
            listening = events[-1].get("name") == "action_listen"
            if len(users) > users_before and listening:
                replies = sum(1 for e in events[users[-1] :] if e["event"] == "bot")
                if len(self.received()) - before >= replies:
                    break
            assert time.monotonic() < deadline, self.failure(f"no answer to {said!r}")
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.3)
        new = self.received()[before:]
        self.transcript.append(f"citizen: {said}")
        self.transcript += [f"bot [{m['Subject']}]: {plain_of(m)}" for m in new]
        for mail in new:  # every answer threads into the mail it answers
            assert str(mail["In-Reply-To"]).strip() == self.sent_ids[-1], self.failure("thread")
        return "\n".join(plain_of(m).split("\n-- \n")[0] for m in new)

    async def choose(self, *keywords: str) -> str:
        """Answer the latest numbered list with the number of the option naming a keyword."""
        for mail in reversed(self.received()):
            for number, title in OPTION.findall(plain_of(mail)):
                if any(k.lower() in title.lower() for k in keywords):
                    return await self.send(number, said=f"{number} ({title})")
        raise AssertionError(self.failure(f"no option with {keywords}"))

    def failure(self, what: str) -> str:
        return (
            f"{what}\n" + "\n".join(self.transcript) + "\n--- hub ---\n"
            + self.hub.process.log_tail(30)
        )  # fmt: skip


@dataclass(frozen=True)
class Phrases:
    language: str
    name: str
    subject: str
    report: str
    reporter: str
    phone: str
    expected_phone: str
    pothole: tuple[str, ...]
    send_it: tuple[str, ...]


ARABIC = Phrases(
    "ar",
    "نورة",
    "حفرة أمام البيت",
    "فيه حفرة كبيرة وعميقة في الشارع قدام بيتنا وخربت كفر سيارتي",
    "نورة القحطاني",
    "٠٥٥١٢٣٤٥٦٧",
    "+966551234567",
    ("حفر",),
    ("أرسل البلاغ",),
)
ENGLISH = Phrases(
    "en",
    "Sarah",
    "Pothole in front of our house",
    "There is a big deep pothole in the road in front of our house, it damaged my tyre",
    "Sarah Ahmed",
    "0551234568",
    "+966551234568",
    ("pothole",),
    ("send it",),
)


@pytest.mark.parametrize("p", [pytest.param(ARABIC, id="ar"), pytest.param(ENGLISH, id="en")])
async def test_report_by_email_with_map_link_photo_and_numbered_choices(
    p: Phrases, email_hub: EmailHub, http: aiohttp.ClientSession, staff: TawasulClient
) -> None:
    address = f"citizen-{secrets.token_hex(3)}@example.com"
    citizen = Citizen(p.name, address, p.subject, email_hub, http, p.language)
    pin = random_pin()

    first = await citizen.send(p.report)
    assert first and in_language(first, p.language), citizen.failure("first answer")
    link = f"https://maps.google.com/?q={pin['lat']},{pin['long']}"
    answers = {
        "service": lambda: citizen.choose(*p.pothole),
        "description": lambda: citizen.send(p.report),
        "location_text": lambda: citizen.send(link, said=f"<map link {link}>"),
        "photo_url": lambda: citizen.send("", photo=JPEG, said="<photo attached>"),
        "reporter_name": lambda: citizen.send(p.reporter),
        "reporter_phone": lambda: citizen.send(p.phone),
        "confirmed": lambda: citizen.choose(*p.send_it),
    }
    required = ["location_text", "photo_url"]
    filed = await fill_report(citizen, answers, citizen.failure, required=required)
    number = filed_number(filed, p.language, citizen.failure)
    # The ticket token rides in the subject from then on (threading fallback, §6.2).
    assert any(f"[#{number}]" in str(m["Subject"]) for m in citizen.received())

    ticket = await staff.ticket(number)
    assert ticket.service_code == "pothole"
    assert " ".join((ticket.description or "").split()) == " ".join(p.report.split())
    assert ticket.lat == pytest.approx(pin["lat"], abs=1e-6)
    assert ticket.long == pytest.approx(pin["long"], abs=1e-6)
    assert ticket.channel == "email" and ticket.language == p.language
    assert ticket.reporter is not None
    assert ticket.reporter.channel == "email"
    assert ticket.reporter.channel_user_id == citizen.sender
    assert ticket.reporter.name == p.reporter
    assert ticket.reporter.phone == p.expected_phone
    assert ticket.reporter.email == address
    # Our MX's Authentication-Results (dmarc=pass) made the address verified, for Rasa and on
    # the ticket's reporter (so it links to the citizen's other channels).
    assert ticket.reporter.email_verified
    contacts = [
        (e.get("metadata") or {}).get("contact")
        for e in (await citizen.tracker())["events"]
        if e["event"] == "user"
    ]
    assert contacts and all(
        c == {"email": address, "name": p.name, "email_verified": True} for c in contacts
    ), citizen.failure(f"contact metadata {contacts}")
    (photo_url,) = ticket.media_urls
    assert photo_url.startswith(f"{email_hub.process.url}/media/")
    async with http.get(photo_url) as response:
        assert response.status == 200 and await response.read() == JPEG
    # Every mail the hub sent passed the SMTP server's checks; the mailbox is worked off.
    assert email_hub.smtp.problems == [], citizen.failure(str(email_hub.smtp.problems))
    assert await email_hub.mailbox.contents() == []


async def test_auto_replies_and_bounces_get_no_answer(
    email_hub: EmailHub, http: aiohttp.ClientSession
) -> None:
    before = len(email_hub.smtp.delivered)
    for name in ("vacation_autoreply.eml", "out_of_office_ar.eml", "bounce.eml"):
        await email_hub.mailbox.append(payload(name))
    await _until_processed(email_hub.mailbox)
    await email_hub.process.wait_idle()
    await asyncio.sleep(2)
    assert len(email_hub.smtp.delivered) == before
    url = f"{email_hub.rasa_url}/conversations/email:sara.khan@example.com/tracker"
    async with http.get(url) as response:
        events = (await response.json()).get("events") or []
    assert not [e for e in events if e["event"] == "user"]  # never even reached Rasa


async def test_a_mail_delivered_three_times_is_answered_once(
    email_hub: EmailHub, http: aiohttp.ClientSession
) -> None:
    address = f"twice-{secrets.token_hex(3)}@example.com"
    citizen = Citizen("Twice", address, "Hello", email_hub, http, "en")
    raw = citizen.compose("Hello")
    for _ in range(3):  # the MTA retried: three copies, one Message-ID
        await email_hub.mailbox.append(raw)
    await _until_processed(email_hub.mailbox)
    await email_hub.process.wait_idle(citizen.sender)
    await asyncio.sleep(2)
    answers = citizen.received()
    assert answers, citizen.failure("no answer")
    events = (await citizen.tracker())["events"]
    assert sum(1 for e in events if e["event"] == "user") == 1
    assert all(str(m["In-Reply-To"]).strip() == citizen.sent_ids[0] for m in answers)


async def _until_processed(mailbox: Mailbox, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while await mailbox.contents():
        assert time.monotonic() < deadline, "the hub did not work off its mailbox"
        await asyncio.sleep(0.1)

"""End to end with the REAL ticket service process (its events signed and delivered to the hub):
a closure starts the survey (also on the channel a voice reporter's closure fell back to), the
single reminder after 24 h on the injected clock (never when answered, never twice, one of two
racing workers), and Beneficiary Satisfaction's recorded contact told to the citizen who filed
the follow-up."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import aiohttp
from redis.asyncio import Redis

from bot import keys
from bot.events import EventWorker, NotifySettings
from bot.events.store import OUTCOMES, REMINDERS
from tests.bot.support import random_phone
from tests.channels.telegram.fake_telegram import FakeTelegram, User
from tests.hub.fake_rasa import Call, FakeRasa
from tests.spots import distinct_spot
from tests.ticket_service.conftest import KEYS
from ticket_client import Contact, HistoryEntry
from ticket_service.clock import FakeClock

from .conftest import EVENT_SECRET, HubMaker, Subscribed, client


async def wait_for(condition: Callable[[], bool], within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.1)


def surveys(rasa: FakeRasa, sender: str) -> list[Call]:
    return [c for c in rasa.calls if c.sender == sender and "proactive" in c.metadata]


def a_user(telegram: FakeTelegram, language: str) -> User:
    first, last = ("سلمان", "الدوسري") if language == "ar" else ("Adam", "Reed")
    return telegram.add_user(User(6_000_000_000 + secrets.randbelow(10**9), first, last, None,
                                  language))  # fmt: skip


async def closed_ticket(http: aiohttp.ClientSession, url: str, sender: str, language: str) -> str:
    """A report filed for ``sender`` on Telegram, then worked and closed by an agent."""
    hub = client(http, url, "hub")
    lat, long = distinct_spot()
    created = await hub.create(
        service_code="streetlight", description="The street light has been out for a week",
        lat=lat, long=long,
        channel="telegram", language=language,
        reporter=Contact(channel="telegram", channel_user_id=sender, language=language),
    )  # fmt: skip
    assert not created.duplicate
    number = created.ticket.service_request_id
    agent = client(http, url, "agent")
    await agent.change_status(number, "in_progress")
    await agent.change_status(number, "closed", resolution="fixed", note="Lamp replaced")
    return number


async def surveyed(
    make_hub: HubMaker,
    subscribed: Subscribed,
    http: aiohttp.ClientSession,
    telegram: FakeTelegram,
    fake_rasa: FakeRasa,
    language: str,
) -> tuple[str, str, str]:
    """The hub served, and a Telegram citizen's ticket closed and its survey started:
    (the ticket service's URL, the sender, the ticket's number)."""
    url = subscribed.service.url
    await make_hub(ticket_url=url, port=subscribed.hub_port, rasa_url=fake_rasa.url)
    user = a_user(telegram, language)
    sender = f"telegram:{user.id}"
    number = await closed_ticket(http, url, sender, language)
    await wait_for(lambda: len(surveys(fake_rasa, sender)) == 1)
    return url, sender, number


async def history_notes(http: aiohttp.ClientSession, url: str, number: str) -> list[str]:
    rows = await client(http, url, "agent").history(number)
    return [f"{r.data.get('outcome')} {r.note}" for r in rows if r.kind == "notification"]


async def test_one_reminder_after_24_hours_and_never_a_second(
    make_hub: HubMaker,
    subscribed: Subscribed,
    http: aiohttp.ClientSession,
    telegram: FakeTelegram,
    fake_rasa: FakeRasa,
    clock: FakeClock,
) -> None:
    url, sender, number = await surveyed(make_hub, subscribed, http, telegram, fake_rasa, "en")

    first = surveys(fake_rasa, sender)[0]
    assert first.message == f'/start_survey{{"ticket_id":"{number}"}}'
    assert first.metadata["proactive"] == "survey" and first.metadata["language"] == "en"
    await wait_for(lambda: any(f"Your report {number}" in m.get("text", "") and "closed" in
                               m.get("text", "") for m in telegram.sent))  # fmt: skip
    ticket = await client(http, url, "hub").ticket_for_contact(number, "telegram", sender)
    assert ticket is not None and ticket.survey_answered is False

    clock.advance(timedelta(hours=23, minutes=59))
    await asyncio.sleep(1.5)
    assert len(surveys(fake_rasa, sender)) == 1
    clock.advance(timedelta(minutes=1))
    await wait_for(lambda: len(surveys(fake_rasa, sender)) == 2)
    reminder = surveys(fake_rasa, sender)[1]
    assert reminder.message == first.message
    assert reminder.metadata["proactive"] == "survey_reminder"

    clock.advance(timedelta(hours=24))
    await asyncio.sleep(1.5)
    clock.advance(timedelta(days=3))
    await asyncio.sleep(1.5)
    assert len(surveys(fake_rasa, sender)) == 2
    notes = await history_notes(http, url, number)
    assert "queued telegram: survey: started in the conversation" in notes
    assert "queued telegram: survey-reminder: started in the conversation" in notes
    assert "sent telegram: survey" in notes and "sent telegram: survey-reminder" in notes


async def test_answered_before_24_hours_means_no_reminder(
    make_hub: HubMaker,
    subscribed: Subscribed,
    http: aiohttp.ClientSession,
    telegram: FakeTelegram,
    fake_rasa: FakeRasa,
    clock: FakeClock,
    redis_db: tuple[str, Redis],
) -> None:
    url, sender, number = await surveyed(make_hub, subscribed, http, telegram, fake_rasa, "ar")
    assert surveys(fake_rasa, sender)[0].metadata["language"] == "ar"

    hub = client(http, url, "hub")
    await hub.submit_survey(number, channel="telegram", channel_user_id=sender, quality=5,
                            speed=4)  # fmt: skip
    ticket = await hub.ticket_for_contact(number, "telegram", sender)
    assert ticket is not None and ticket.survey_answered is True

    clock.advance(timedelta(hours=24))
    deadline = time.monotonic() + 20
    while await redis_db[1].zcard(REMINDERS):  # taken by the worker, which asked the service
        assert time.monotonic() < deadline
        await asyncio.sleep(0.1)
    await asyncio.sleep(1.0)
    assert len(surveys(fake_rasa, sender)) == 1


async def test_two_workers_racing_for_a_reminder_send_it_once(
    make_hub: HubMaker,
    subscribed: Subscribed,
    http: aiohttp.ClientSession,
    telegram: FakeTelegram,
    fake_rasa: FakeRasa,
    clock: FakeClock,
    redis_db: tuple[str, Redis],
) -> None:
    url, sender, _ = await surveyed(make_hub, subscribed, http, telegram, fake_rasa, "en")
    assert await redis_db[1].zcard(REMINDERS) == 1

    # two more hub processes' workers, a day later (the hub's own clock stays put)
    later = FakeClock(clock.now() + timedelta(hours=24, seconds=1))
    settings = NotifySettings.from_env({"TAWASUL_EVENT_SECRET": EVENT_SECRET})
    assert settings is not None
    tickets = client(http, url, "hub")
    connections = [Redis.from_url(redis_db[0]) for _ in range(2)]  # as two processes have
    racers = [
        EventWorker(redis=connection, settings=settings, channels=["telegram"],
                    tickets=lambda: tickets, clock=later, consumer=f"racer-{n}")
        for n, connection in enumerate(connections)
    ]  # fmt: skip
    for connection in connections:
        await connection.ping()
    # both see the reminder due before either takes it
    seen = await asyncio.gather(*(r.store.due_reminders(later.now().timestamp()) for r in racers))
    assert seen[0] == seen[1] and len(seen[0]) == 1
    claimed = await asyncio.gather(*(racer.remind_due() for racer in racers))
    assert sorted(claimed) == [0, 1]
    await wait_for(lambda: len(surveys(fake_rasa, sender)) == 2)
    assert surveys(fake_rasa, sender)[1].metadata["proactive"] == "survey_reminder"

    clock.advance(timedelta(hours=48))  # the hub's own worker finds nothing left
    await asyncio.sleep(1.5)
    assert sum(await asyncio.gather(*(racer.remind_due() for racer in racers))) == 0
    assert len(surveys(fake_rasa, sender)) == 2
    for connection in connections:
        await connection.aclose()


async def test_satisfaction_contact_is_told_to_the_filer_in_their_language(
    make_hub: HubMaker,
    subscribed: Subscribed,
    http: aiohttp.ClientSession,
    telegram: FakeTelegram,
) -> None:
    url = subscribed.service.url
    await make_hub(ticket_url=url, port=subscribed.hub_port)
    hub = client(http, url, "hub")
    english, arabic = a_user(telegram, "en"), a_user(telegram, "ar")
    numbers = []
    for user, language in ((english, "en"), (arabic, "ar")):
        lat, long = distinct_spot()
        created = await hub.create(
            service_code="sidewalk", description="Broken paving stones everywhere",
            lat=lat, long=long,
            channel="telegram", language=language,
            reporter=Contact(channel="telegram", channel_user_id=f"telegram:{user.id}",
                             language=language),
        )  # fmt: skip
        numbers.append(created.ticket.service_request_id)

    def said_to(user: User) -> list[str]:
        return [m.get("text", "") for m in telegram.sent if m["chat"]["id"] == user.id]

    # filed in the chat: the bot gave the reference there, so no second acknowledgement
    chat = await hub.create_followup(
        numbers[0], channel="telegram", text="Nobody came",
        reporter=Contact(channel="telegram", channel_user_id=f"telegram:{english.id}"),
    )  # fmt: skip
    # filed by an agent on the phone, for nobody in particular: the reporter is acknowledged
    phoned = await client(http, url, "agent").create_followup(numbers[1], channel="voice",
                                                              text="اتصل المواطن")  # fmt: skip
    await wait_for(lambda: any(phoned.reference in t for t in said_to(arabic)))
    assert "سجّلنا متابعتك رقم" in next(t for t in said_to(arabic) if phoned.reference in t)

    for reference in (chat.reference, phoned.reference):
        async with http.post(
            f"{url}/api/v1/followups/{reference}/contact",
            json={"note": "Called the citizen, crew booked for Sunday"},
            headers={"X-Api-Key": KEYS["satisfaction"]},
        ) as response:
            assert response.status == 200, await response.text()

    await wait_for(lambda: any(chat.reference in t for t in said_to(english)))
    told = [t for t in said_to(english) if chat.reference in t]
    assert told == [
        f"Beneficiary Satisfaction has recorded that they contacted you about your follow-up "
        f"{chat.reference} on report {numbers[0]}. If nobody reached you, reply to this message "
        "and tell us."
    ]  # the contact, and no "We recorded your follow-up" before it
    await wait_for(lambda: sum(phoned.reference in t for t in said_to(arabic)) == 2)
    contact = [t for t in said_to(arabic) if phoned.reference in t][1]
    assert contact.startswith("سجّلت إدارة رضا المستفيدين أنها تواصلت معك بشأن متابعتك رقم")
    assert "crew booked" not in contact  # the staff note stays with staff


async def test_whatsapp_survey_refused_falls_back_to_the_verified_telegram(
    make_hub: HubMaker,
    subscribed: Subscribed,
    http: aiohttp.ClientSession,
    telegram: FakeTelegram,
    fake_rasa: FakeRasa,
) -> None:
    url = subscribed.service.url
    await make_hub(ticket_url=url, port=subscribed.hub_port, rasa_url=fake_rasa.url)
    user = a_user(telegram, "en")
    wa = "9665" + "".join(secrets.choice("0123456789") for _ in range(8))
    wa_id, tg_id = f"whatsapp:{wa}", f"telegram:{user.id}"
    hub = client(http, url, "hub")
    lat, long = distinct_spot()
    created = await hub.create(
        service_code="trees_parks", description="A fallen tree blocks the park path",
        lat=lat, long=long,
        channel="whatsapp", language="en",
        reporter=Contact(channel="whatsapp", channel_user_id=wa_id, language="en"),
    )  # fmt: skip
    number = created.ticket.service_request_id
    await hub.upsert_contact(Contact(channel="telegram", channel_user_id=tg_id, language="en"))
    await hub.verify_contact("whatsapp", wa_id, phone=f"+{wa}")
    await hub.verify_contact("telegram", tg_id, phone=f"+{wa}")
    # the reporter never wrote on WhatsApp (window closed) and no template is approved at the
    # fake: Graph refuses the survey template (132001, permanent)
    await client(http, url, "agent").change_status(number, "closed", resolution="fixed")

    await wait_for(lambda: len(surveys(fake_rasa, tg_id)) == 1)
    started = surveys(fake_rasa, tg_id)[0]
    assert started.message == f'/start_survey{{"ticket_id":"{number}"}}'
    assert started.metadata["proactive"] == "survey" and started.metadata["language"] == "en"
    assert surveys(fake_rasa, wa_id) == []
    deadline = time.monotonic() + 30
    while "sent telegram: survey" not in (notes := await history_notes(http, url, number)):
        assert time.monotonic() < deadline, notes
        await asyncio.sleep(0.2)
    survey_rows = [n.split(":")[0] + ":" + n.split(":")[1] for n in notes if ": survey" in n]
    assert survey_rows == ["queued whatsapp: survey", "failed whatsapp: survey",
                           "fallback telegram: survey", "queued telegram: survey",
                           "sent telegram: survey"]  # fmt: skip


async def voice_report(http: aiohttp.ClientSession, url: str, voice_id: str) -> str:
    """A report filed on the 940 line (the reporter's identity is ``voice``)."""
    lat, long = distinct_spot()
    created = await client(http, url, "hub").create(
        service_code="streetlight", description="بلاغ هاتفي: عمود الإنارة مطفأ منذ أسبوع",
        lat=lat, long=long,
        channel="voice", language="en",
        reporter=Contact(channel="voice", channel_user_id=voice_id, language="en"),
    )  # fmt: skip
    assert not created.duplicate
    return created.ticket.service_request_id


@dataclass(frozen=True)
class PhoneReporter:
    """A citizen who reported on the 940 line and also uses Telegram."""

    user: User
    phone: str
    number: str

    @property
    def voice_id(self) -> str:
        return f"voice:{self.phone}"

    @property
    def tg_id(self) -> str:
        return f"telegram:{self.user.id}"

    @classmethod
    async def file(cls, http: aiohttp.ClientSession, url: str, user: User) -> PhoneReporter:
        phone = random_phone()
        return cls(user, phone, await voice_report(http, url, f"voice:{phone}"))

    async def link_telegram(self, http: aiohttp.ClientSession, url: str) -> None:
        """Their Telegram identity, linked to the phone one by the same verified number."""
        hub = client(http, url, "hub")
        language = self.user.language_code or "ar"
        await hub.upsert_contact(Contact(channel="telegram", channel_user_id=self.tg_id,
                                         language=language))  # fmt: skip
        await hub.verify_contact("voice", self.voice_id, phone=self.phone)
        await hub.verify_contact("telegram", self.tg_id, phone=self.phone)

    async def closure_sent_on_telegram(
        self, http: aiohttp.ClientSession, url: str, redis: Redis
    ) -> None:
        """The sender's outcome "the closure update went out on Telegram" (the fallback's)."""
        event_id = closed_event_id(await client(http, url, "agent").history(self.number))
        await redis.xadd(OUTCOMES, {"k": f"event:{event_id}:0:telegram", "o": "sent",
                                    "e": "", "u": str(self.user.id)})  # fmt: skip


async def test_voice_closure_fallen_back_to_telegram_takes_the_survey_and_its_reminder(
    make_hub: HubMaker,
    subscribed: Subscribed,
    http: aiohttp.ClientSession,
    telegram: FakeTelegram,
    fake_rasa: FakeRasa,
    clock: FakeClock,
    redis_db: tuple[str, Redis],
) -> None:
    # this hub has no voice channel: the closure call cannot go, so it falls back at once (the
    # callback's "busy ×3" report takes the same path: tests/channels/voice)
    url = subscribed.service.url
    await make_hub(ticket_url=url, port=subscribed.hub_port, rasa_url=fake_rasa.url)
    who = await PhoneReporter.file(http, url, a_user(telegram, "en"))
    user, voice_id, tg_id, number = who.user, who.voice_id, who.tg_id, who.number
    await who.link_telegram(http, url)
    await client(http, url, "agent").change_status(number, "closed", resolution="fixed")

    await wait_for(lambda: len(surveys(fake_rasa, tg_id)) == 1)
    started = surveys(fake_rasa, tg_id)[0]
    assert started.message == f'/start_survey{{"ticket_id":"{number}"}}'
    assert started.metadata["proactive"] == "survey" and started.metadata["language"] == "en"
    await wait_for(lambda: any(m.get("text") == f"re: {started.message}" for m in telegram.sent))
    said = [m.get("text", "") for m in telegram.sent if m["chat"]["id"] == user.id]
    closed = [n for n, text in enumerate(said) if f"Your report {number}" in text]
    assert len(closed) == 1 and "was closed" in said[closed[0]]
    assert closed[0] < said.index(f"re: {started.message}")  # the closure text came first
    assert surveys(fake_rasa, voice_id) == []
    deadline = time.monotonic() + 30
    while "sent telegram: survey" not in (notes := await history_notes(http, url, number)):
        assert time.monotonic() < deadline, notes
        await asyncio.sleep(0.2)
    assert "fallback telegram: survey: survey follows the closure from voice" in notes
    assert "queued telegram: survey: started in the conversation" in notes

    # the closure's outcome processed again (a crash, another process claiming it): no second
    await who.closure_sent_on_telegram(http, url, redis_db[1])
    await asyncio.sleep(1.5)
    assert len(surveys(fake_rasa, tg_id)) == 1
    assert await redis_db[1].zcard(REMINDERS) == 1

    clock.advance(timedelta(hours=24))  # the single reminder, on telegram too
    await wait_for(lambda: len(surveys(fake_rasa, tg_id)) == 2)
    assert surveys(fake_rasa, tg_id)[1].metadata["proactive"] == "survey_reminder"
    clock.advance(timedelta(days=2))
    await asyncio.sleep(1.5)
    assert len(surveys(fake_rasa, tg_id)) == 2 and surveys(fake_rasa, voice_id) == []


def closed_event_id(rows: list[HistoryEntry]) -> str:
    """The ``ticket.closed`` event's id, from the hub's rows on the ticket's history."""
    ids = {r.data.get("event_id") for r in rows
           if r.kind == "notification" and r.data.get("event_type") == "ticket.closed"}  # fmt: skip
    assert len(ids) == 1, ids
    return str(ids.pop())


async def test_voice_closure_fallen_back_after_the_survey_was_answered_starts_none(
    make_hub: HubMaker,
    subscribed: Subscribed,
    http: aiohttp.ClientSession,
    telegram: FakeTelegram,
    fake_rasa: FakeRasa,
    redis_db: tuple[str, Redis],
) -> None:
    url = subscribed.service.url
    await make_hub(ticket_url=url, port=subscribed.hub_port, rasa_url=fake_rasa.url)
    who = await PhoneReporter.file(http, url, a_user(telegram, "ar"))
    voice_id, tg_id, number = who.voice_id, who.tg_id, who.number
    agent = client(http, url, "agent")
    await agent.change_status(number, "closed", resolution="fixed")
    # nowhere to fall back to yet: the closure is undeliverable
    deadline = time.monotonic() + 30
    while not any(n.startswith("undeliverable") for n in await history_notes(http, url, number)):
        assert time.monotonic() < deadline
        await asyncio.sleep(0.2)
    # the citizen answered on a later call (keypad), then the telegram identity was linked and
    # the closure went there (the sender's "sent" for the fallback update)
    hub = client(http, url, "hub")
    await hub.submit_survey(number, channel="voice", channel_user_id=voice_id, quality=4,
                            speed=3)  # fmt: skip
    await who.link_telegram(http, url)
    await who.closure_sent_on_telegram(http, url, redis_db[1])
    while "sent telegram" not in await history_notes(http, url, number):
        assert time.monotonic() < deadline + 30
        await asyncio.sleep(0.2)
    await asyncio.sleep(1.0)
    assert surveys(fake_rasa, tg_id) == []
    assert await redis_db[1].xlen(keys.conv_in(tg_id)) == 0
    assert not [n for n in await history_notes(http, url, number) if ": survey" in n]
    assert await redis_db[1].zcard(REMINDERS) == 0

"""Event delivery with real parts: signed webhooks to a fake subscriber on 127.0.0.1 that checks
signatures the way the hub will, escalation e-mails to a real SMTP server (aiosmtpd), the real
database, and the fake clock for backoff."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import logging
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from aiohttp import web
from aiohttp.test_utils import TestServer
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import select

from tests.services import free_port
from ticket_service.clock import FakeClock
from ticket_service.config import REPO_ROOT, Settings
from ticket_service.context import Context
from ticket_service.db.engine import Database
from ticket_service.db.migrate import upgrade
from ticket_service.db.schema import outbox_deliveries, outbox_events
from ticket_service.delivery import deliver_due, delivery_loop
from ticket_service.domain import escalation, tickets
from ticket_service.domain.reporters import Contact
from ticket_service.domain.statuses import Kind, Resolution, Status
from ticket_service.signing import HEADER, sign, verify

from .conftest import BOTH_BACKENDS, EVENT_SECRET, make_settings

SECRET = EVENT_SECRET.encode()
CITIZEN = Contact("whatsapp", "966500000201", name="سارة", phone="+966500000201", language="ar")
DAMMAM = (26.4126, 50.0645)  # inside Dammam's routing area
LIFECYCLE = ["ticket.created", "ticket.status_changed", "ticket.closed", "ticket.survey_requested"]


# --- a fake subscriber: checks the signature on the raw bytes, like the hub -------------------


@dataclass
class Received:
    event: dict[str, Any]
    body: bytes
    headers: dict[str, str]


@dataclass
class FakeSubscriber:
    """Answers 204 to a validly signed event, 401 to a bad signature, 503 while failing."""

    fail_first: int = 0  # answer 503 to this many requests first
    down: bool = False  # answer 503 to everything
    delay_s: float = 0.0
    requests: int = 0
    rejected: int = 0
    received: list[Received] = field(default_factory=list)
    server: TestServer | None = None

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.requests += 1
        if not verify(SECRET, body, request.headers.get(HEADER)):
            self.rejected += 1
            return web.Response(status=401, text="bad signature")
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.down or self.requests <= self.fail_first:
            return web.Response(status=503, text="try later")
        event = json.loads(body.decode("utf-8"))
        self.received.append(Received(event, body, dict(request.headers)))
        return web.Response(status=204)

    async def start(self, port: int | None = None) -> str:
        app = web.Application()
        app.router.add_post("/events", self.handle)
        self.server = TestServer(app, host="127.0.0.1", port=port)
        await self.server.start_server()
        return self.url

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("/events"))

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.close()

    def types(self) -> list[str]:
        return [r.event["type"] for r in self.received]

    def event_ids(self) -> list[str]:
        return [r.event["event_id"] for r in self.received]


@pytest.fixture
async def hub() -> AsyncIterator[FakeSubscriber]:
    subscriber = FakeSubscriber()
    await subscriber.start()
    yield subscriber
    await subscriber.stop()


@pytest.fixture
def settings(hub: FakeSubscriber) -> Settings:
    """The conftest's settings with the fake hub subscribed (conftest's ``ctx`` uses these)."""
    return make_settings(TAWASUL_EVENT_SUBSCRIBERS=f"hub={hub.url}")


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


# --- a real SMTP server -----------------------------------------------------------------------


@dataclass
class Mailbox:
    """aiosmtpd handler keeping every message it accepts."""

    messages: list[tuple[list[str], EmailMessage]] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        self.messages.append((list(envelope.rcpt_tos), msg))
        return "250 Message accepted for delivery"


def smtp_env(port: int) -> dict[str, str]:
    return {
        "TAWASUL_SMTP_HOST": "127.0.0.1",
        "TAWASUL_SMTP_PORT": str(port),
        "TAWASUL_SMTP_STARTTLS": "false",
        "TAWASUL_SMTP_FROM": "940 Tawasul <no-reply@easternprovince.example.gov.sa>",
    }


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield box, controller.port
    controller.stop()


# --- helpers ----------------------------------------------------------------------------------


async def _report(
    ctx: Context, *, lat: float = DAMMAM[0], service: str = "pothole", contact: Contact = CITIZEN
) -> dict[str, Any]:
    new = tickets.NewTicket(
        kind=Kind.REPORT,
        service_code=service,
        channel="whatsapp",
        description="حفرة كبيرة في الشارع",
        lat=lat,
        long=DAMMAM[1],
        contact=contact,
        language="ar",
    )
    return (await tickets.create(ctx, new)).ticket


async def _deliveries(ctx: Context) -> list[dict[str, Any]]:
    async with ctx.db.read() as conn:
        rows = await conn.execute(
            select(outbox_deliveries, outbox_events.c.event_id, outbox_events.c.type)
            .join(outbox_events, outbox_events.c.id == outbox_deliveries.c.outbox_event_id)
            .order_by(outbox_deliveries.c.id)
        )
        return [dict(r) for r in rows.mappings()]


# --- signing ----------------------------------------------------------------------------------


def test_verify_accepts_only_the_exact_body_under_the_same_secret() -> None:
    body = '{"type":"ticket.created","text":"حفرة"}'.encode()
    header = sign(SECRET, body)
    assert header.startswith("sha256=") and len(header) == len("sha256=") + 64
    assert verify(SECRET, body, header)
    assert verify(SECRET, body, header.upper().replace("SHA256=", "sha256="))  # hex case
    assert not verify(b"another-secret", body, header)
    assert not verify(SECRET, body + b" ", header)
    assert not verify(SECRET, body.replace("حفرة".encode(), "حفره".encode()), header)
    assert not verify(b"", body, sign(b"", body))  # no secret configured: nothing verifies


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "sha256=",
        "sha1=" + "0" * 40,
        "0" * 64,
        "sha256=" + "z" * 64,
        "sha256=" + "0" * 63,
        "sha256= " + "0" * 63,
        "SHA256=" + "0" * 64,
        "sha256=" + "٠" * 64,
    ],
)
def test_verify_fails_closed_on_a_missing_or_malformed_header(header: str | None) -> None:
    assert not verify(SECRET, b"{}", header)


# --- webhooks ---------------------------------------------------------------------------------


async def test_lifecycle_events_reach_the_subscriber_signed_in_order_with_recipients(
    ctx: Context, hub: FakeSubscriber, session: aiohttp.ClientSession
) -> None:
    ticket = await _report(ctx)
    number = ticket["number"]
    await tickets.change_status(
        ctx, number, status=Status.IN_PROGRESS, note="الفرقة في الطريق", actor="agent-7"
    )
    await tickets.change_status(
        ctx,
        number,
        status=Status.CLOSED,
        resolution=Resolution.FIXED,
        note="تم الإصلاح",
        actor="agent-7",
    )

    assert await deliver_due(ctx, session) == 4

    assert hub.rejected == 0
    assert hub.types() == LIFECYCLE
    for got in hub.received:
        assert got.headers["Content-Type"] == "application/json"
        assert got.headers["X-Tawasul-Event-Id"] == got.event["event_id"]
        assert got.headers["X-Tawasul-Event-Type"] == got.event["type"]
        assert got.event["ticket"]["service_request_id"] == ticket["number"]
        assert "حفرة".encode() in got.body and b"\\u" not in got.body  # raw UTF-8, not escaped
        assert got.event["recipients"] == [
            {
                "role": "reporter",
                "reporter_id": ticket["reporter_id"],
                "channel": "whatsapp",
                "channel_user_id": "966500000201",
                "language": "ar",
                "name": "سارة",
            }
        ]
    closed = hub.received[2].event
    assert closed["data"]["to_status"] == "closed" and closed["data"]["note"] == "تم الإصلاح"
    assert len(set(hub.event_ids())) == 4


async def test_an_acknowledged_event_is_not_sent_again(
    ctx: Context, clock: FakeClock, hub: FakeSubscriber, session: aiohttp.ClientSession
) -> None:
    await _report(ctx)
    assert await deliver_due(ctx, session) == 1
    for _ in range(3):
        clock.advance(timedelta(hours=1))
        assert await deliver_due(ctx, session) == 0
    assert hub.requests == 1 and hub.types() == ["ticket.created"]
    [row] = await _deliveries(ctx)
    assert row["delivered_at"] is not None and row["attempts"] == 1 and row["last_error"] is None


async def test_failed_twice_is_delivered_on_the_third_attempt_only_after_the_backoff(
    ctx: Context, clock: FakeClock, hub: FakeSubscriber, session: aiohttp.ClientSession
) -> None:
    hub.fail_first = 2
    initial = timedelta(seconds=ctx.settings.retry_initial_s)
    await _report(ctx)

    assert await deliver_due(ctx, session) == 0  # attempt 1: 503
    assert await deliver_due(ctx, session) == 0  # not due again yet
    clock.advance(initial * 0.75)  # the backoff is initial ±20%: still too early
    assert await deliver_due(ctx, session) == 0
    assert hub.requests == 1
    [row] = await _deliveries(ctx)
    assert row["attempts"] == 1 and row["delivered_at"] is None and "503" in row["last_error"]

    clock.advance(initial * 0.5)  # 1.25 × initial: past the first backoff
    assert await deliver_due(ctx, session) == 0  # attempt 2: 503 again
    assert hub.requests == 2
    clock.advance(initial * 1.5)  # the second backoff is 2 × initial ±20%: too early
    assert await deliver_due(ctx, session) == 0
    assert hub.requests == 2

    clock.advance(initial * 1.0)  # 2.5 × initial since attempt 2
    assert await deliver_due(ctx, session) == 1  # attempt 3
    assert hub.requests == 3 and hub.types() == ["ticket.created"]
    [row] = await _deliveries(ctx)
    assert row["attempts"] == 3 and row["delivered_at"] == clock.now()

    clock.advance(timedelta(days=1))
    assert await deliver_due(ctx, session) == 0
    assert hub.requests == 3


async def test_a_subscriber_that_is_down_keeps_its_events_while_another_gets_them(
    db: Database, clock: FakeClock, hub: FakeSubscriber, session: aiohttp.ClientSession
) -> None:
    crm_port = free_port()  # nothing listens here yet
    settings = make_settings(
        TAWASUL_EVENT_SUBSCRIBERS=f"hub={hub.url},crm=http://127.0.0.1:{crm_port}/events"
    )
    ctx = Context(settings, db, clock)
    await _report(ctx)

    assert await deliver_due(ctx, session) == 1
    assert hub.types() == ["ticket.created"]
    rows = {r["target"]: r for r in await _deliveries(ctx)}
    assert rows["hub"]["delivered_at"] is not None
    assert rows["crm"]["delivered_at"] is None and rows["crm"]["attempts"] == 1
    assert "ClientConnectorError" in rows["crm"]["last_error"]

    crm = FakeSubscriber()
    await crm.start(port=crm_port)
    try:
        clock.advance(timedelta(seconds=settings.retry_initial_s * 1.25))
        assert await deliver_due(ctx, session) == 1
        assert crm.event_ids() == hub.event_ids()  # the same event, not lost
        assert hub.requests == 1  # the hub's copy was not sent again
    finally:
        await crm.stop()


async def test_a_failing_subscriber_is_asked_once_per_pass_and_catches_up_in_order(
    db: Database, clock: FakeClock, hub: FakeSubscriber, session: aiohttp.ClientSession
) -> None:
    flaky = FakeSubscriber(down=True)
    await flaky.start()
    try:
        settings = make_settings(TAWASUL_EVENT_SUBSCRIBERS=f"hub={hub.url},flaky={flaky.url}")
        ctx = Context(settings, db, clock)
        numbers = [(await _report(ctx, lat=DAMMAM[0] + i * 0.01))["number"] for i in range(3)]

        # batches of two: the hub gets all three; flaky's first failure pauses its batch
        assert await deliver_due(ctx, session, batch_size=2) == 3
        assert hub.types() == ["ticket.created"] * 3
        assert flaky.requests == 1

        flaky.down = False
        clock.advance(timedelta(seconds=settings.retry_max_s * 1.25))
        assert await deliver_due(ctx, session, batch_size=2) == 3
        got = [r.event["ticket"]["service_request_id"] for r in flaky.received]
        assert got == numbers
        assert hub.requests == 3
    finally:
        await flaky.stop()


@BOTH_BACKENDS
async def test_concurrent_passes_deliver_each_event_exactly_once(
    ctx: Context, hub: FakeSubscriber, session: aiohttp.ClientSession
) -> None:
    for i in range(30):
        await _report(ctx, lat=DAMMAM[0] + i * 0.002)
    hub.delay_s = 0.005  # keep each pass busy sending while the others claim
    instances = [Database(ctx.db.url) for _ in range(4)]  # four service instances at once
    try:
        passes = [Context(ctx.settings, d, ctx.clock) for d in instances]
        counts = await asyncio.gather(*(deliver_due(c, session, batch_size=2) for c in passes))
    finally:
        for d in instances:
            await d.dispose()

    # how the work is shared out depends on scheduling; that no event goes out twice does not
    assert sum(counts) == 30
    ids = hub.event_ids()
    assert len(ids) == 30 and len(set(ids)) == 30 and hub.requests == 30
    assert all(r["delivered_at"] is not None and r["attempts"] == 1 for r in await _deliveries(ctx))


async def test_the_background_loop_delivers_and_outlives_a_failing_pass(
    tmp_path: Path,
    clock: FakeClock,
    settings: Settings,
    hub: FakeSubscriber,
    session: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path}/late.db")  # not migrated yet
    ctx = Context(settings, database, clock)
    stop = asyncio.Event()
    loop = asyncio.create_task(delivery_loop(ctx, session, stop))
    try:
        with caplog.at_level(logging.ERROR, logger="ticket_service.delivery"):
            for _ in range(50):
                if "event delivery pass failed" in caplog.text:
                    break
                await asyncio.sleep(0.05)
        assert "event delivery pass failed" in caplog.text  # no tables: the pass failed
        assert not loop.done()

        await upgrade(database.engine)
        await _report(ctx)
        for _ in range(60):
            if hub.received:
                break
            await asyncio.sleep(0.05)
        assert hub.types() == ["ticket.created"]
        stop.set()
        await asyncio.wait_for(loop, 2)
    finally:
        stop.set()
        if not loop.done():
            loop.cancel()
        await database.dispose()


# --- escalation e-mails -----------------------------------------------------------------------


async def test_escalations_email_that_levels_contacts_in_arabic_and_english(
    db: Database, clock: FakeClock, mailbox: tuple[Mailbox, int], session: aiohttp.ClientSession
) -> None:
    box, port = mailbox
    settings = make_settings(**smtp_env(port))
    ctx = Context(settings, db, clock)
    ticket = await _report(ctx)  # pothole in Dammam: SLA 72 h
    dammam, pothole = settings.municipality("dammam"), settings.service("pothole")
    assert dammam is not None and pothole is not None and ticket["municipality"] == "dammam"

    clock.advance(timedelta(hours=72))
    assert await escalation.run_due(ctx) == 1
    assert await deliver_due(ctx, session) == 1
    [(rcpt, msg)] = box.messages
    assert rcpt == list(dammam.escalation_contacts[1])
    assert ticket["number"] in msg["Subject"]
    assert "المستوى 1" in msg["Subject"] and "level 1" in msg["Subject"]
    text = msg.get_content()
    assert "بلدية الدمام" in text and "Dammam Municipality" in text
    assert pothole.name.ar in text and pothole.name.en in text
    assert "http" not in text

    clock.advance(timedelta(hours=36))  # 150% of the SLA: 36 h overdue
    assert await escalation.run_due(ctx) == 1
    assert await deliver_due(ctx, session) == 1
    rcpt, msg = box.messages[1]
    assert rcpt == list(dammam.escalation_contacts[2])
    assert ticket["number"] in msg["Subject"] and "level 2" in msg["Subject"]
    assert "Overdue by: 36 hours" in msg.get_content()
    assert await deliver_due(ctx, session) == 0 and len(box.messages) == 2


async def test_an_smtp_server_that_is_down_keeps_the_email_pending(
    db: Database, clock: FakeClock, session: aiohttp.ClientSession
) -> None:
    port = free_port()
    ctx = Context(make_settings(**smtp_env(port)), db, clock)
    ticket = await _report(ctx)
    clock.advance(timedelta(hours=72))
    await escalation.run_due(ctx)
    assert await deliver_due(ctx, session) == 0
    [row] = [r for r in await _deliveries(ctx) if r["target"] == "smtp"]
    assert row["delivered_at"] is None and row["attempts"] == 1 and "SMTP" in row["last_error"]

    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        clock.advance(timedelta(seconds=ctx.settings.retry_initial_s * 1.25))
        assert await deliver_due(ctx, session) == 1
        [(_, msg)] = box.messages
        assert ticket["number"] in msg["Subject"]
    finally:
        controller.stop()


async def test_a_level_without_contacts_is_marked_delivered_with_a_note(
    tmp_path: Path,
    db: Database,
    clock: FakeClock,
    mailbox: tuple[Mailbox, int],
    session: aiohttp.ClientSession,
) -> None:
    box, port = mailbox
    settings_dir = tmp_path / "settings"
    shutil.copytree(REPO_ROOT / "settings", settings_dir)
    munis_file = settings_dir / "municipalities.yml"
    munis = yaml.safe_load(munis_file.read_text(encoding="utf-8"))
    for muni in munis["municipalities"]:
        if muni["code"] == "dammam":
            muni["escalation"] = {1: ["duty-supervisor@dammam.example.gov.sa"]}
    munis_file.write_text(yaml.safe_dump(munis, allow_unicode=True), encoding="utf-8")
    settings = make_settings(TAWASUL_SETTINGS_DIR=str(settings_dir), **smtp_env(port))
    ctx = Context(settings, db, clock)
    await _report(ctx)

    clock.advance(timedelta(hours=72 * 1.5))  # levels 1 and 2 at once
    assert await escalation.run_due(ctx) == 2
    assert await deliver_due(ctx, session) == 2
    assert [rcpt for rcpt, _ in box.messages] == [["duty-supervisor@dammam.example.gov.sa"]]
    level2 = [r for r in await _deliveries(ctx) if r["target"] == "smtp"][1]
    assert level2["delivered_at"] is not None
    assert "no escalation contacts for dammam level 2" in level2["last_error"]


async def test_without_smtp_no_email_deliveries_are_created(
    ctx: Context, clock: FakeClock, hub: FakeSubscriber, session: aiohttp.ClientSession
) -> None:
    assert ctx.settings.smtp is None
    await _report(ctx)
    clock.advance(timedelta(hours=72))
    assert await escalation.run_due(ctx) == 1
    assert {r["target"] for r in await _deliveries(ctx)} == {"hub"}
    assert await deliver_due(ctx, session) == 2
    assert hub.types() == ["ticket.created", "ticket.escalated"]
    assert hub.received[1].event["data"]["level"] == 1

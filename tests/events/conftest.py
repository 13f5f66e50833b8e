"""Fixtures of the proactive-update tests: the hub in-process with the REAL channel adapters
(WhatsApp against the fake Graph API, Telegram against the fake Bot API, e-mail against Dovecot
and the fake SMTP server), real Redis, an injected clock, and (for end-to-end tests) the real
ticket service as a process subscribed to the hub's ``/events/tickets``."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from redis.asyncio import Redis

import channels.telegram
import channels.web
import channels.whatsapp
from bot.app import create_app
from bot.config import HubSettings
from bot.events import NotifySettings
from channels.base import Channel
from channels.email import EmailChannel
from tests.channels.email.conftest import (  # noqa: F401 (fixtures)
    dovecot,
    email_env,
    mailbox,
    make_config,
    smtp,
)
from tests.channels.fakes.graph import FakeGraph
from tests.channels.fakes.graph_fixtures import graph, graph_server  # noqa: F401 (fixtures)
from tests.channels.telegram.fake_telegram import FakeTelegram
from tests.channels.whatsapp.conftest import env_for as whatsapp_env
from tests.hub.fake_rasa import FakeRasa, fake_rasa_fixture  # noqa: F401 (fixture)
from tests.services import free_port, redis_database
from tests.stack import SERVICE_STARTUP_TIMEOUT, TicketService, _get_json
from tests.ticket_service.conftest import KEYS
from ticket_client import ClientConfig, RetryPolicy, TawasulClient
from ticket_service.clock import FakeClock
from ticket_service.signing import sign

EVENT_SECRET = "events-secret-for-tests"
TELEGRAM_SECRET = "Tawasul_webhook-secret_0123456789"
EVENTS_DB = 6
#: 12:00 in Riyadh: outside the quiet hours.
NOON_RIYADH = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def signed(body: dict[str, Any], secret: str = EVENT_SECRET) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    return raw, {"Content-Type": "application/json",
                 "X-Tawasul-Signature": sign(secret.encode(), raw)}  # fmt: skip


def event(
    kind: str = "ticket.status_changed",
    recipients: list[dict[str, Any]] | None = None,
    *,
    data: dict[str, Any] | None = None,
    service: str = "pothole",
    number: str = "482913657",
) -> dict[str, Any]:
    """An event in the ticket service's format (ticket_service/outbox.py)."""
    return {
        "event_id": str(uuid.uuid4()),
        "type": kind,
        "occurred_at": "2026-03-02T09:00:00+00:00",
        "ticket": {
            "service_request_id": number,
            "service_code": service,
            "service_name": "حفرة في الطريق",
            "status": "in_progress",
            "language": "ar",
            "channel": "whatsapp",
        },
        "recipients": recipients or [],
        "data": data or {"from_status": "open", "to_status": "in_progress",
                         "note": "الفريق في الموقع", "reopened": False},
    }  # fmt: skip


@pytest.fixture
async def redis_db(redis_url: str) -> AsyncIterator[tuple[str, Redis]]:
    async with redis_database(redis_url, EVENTS_DB) as database:
        yield database


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    fake = await FakeTelegram().start()
    yield fake
    await fake.stop()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOON_RIYADH)


@dataclass
class RunningHub:
    url: str
    runner: web.AppRunner
    channels: dict[str, Channel]

    async def post_event(
        self, http: aiohttp.ClientSession, raw: bytes, headers: dict[str, str]
    ) -> tuple[int, Any]:
        async with http.post(f"{self.url}/events/tickets", data=raw, headers=headers) as resp:
            return resp.status, await resp.json(content_type=None)


HubMaker = Callable[..., Awaitable[RunningHub]]


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def make_hub(
    redis_db: tuple[str, Redis],
    graph: FakeGraph,  # noqa: F811
    telegram: FakeTelegram,
    clock: FakeClock,
    tmp_path: Path,
) -> AsyncIterator[HubMaker]:
    """``await make_hub(email=..., ticket_url=..., port=..., env=..., rasa_url=..., webchat=...)``:
    the hub with WhatsApp and Telegram (and e-mail, the web chat when asked), proactive updates
    on."""
    runners: list[web.AppRunner] = []

    async def make(
        *,
        email: dict[str, str] | None = None,
        ticket_url: str = "http://127.0.0.1:9",
        port: int | None = None,
        env: dict[str, str] | None = None,
        redis_url: str | None = None,
        rasa_url: str = "http://127.0.0.1:9",
        webchat: bool = False,
    ) -> RunningHub:
        built: dict[str, Channel | None] = {
            "whatsapp": channels.whatsapp.from_env(whatsapp_env(graph)),
            "telegram": channels.telegram.from_env(telegram.env(TELEGRAM_SECRET)),
        }
        if email is not None:
            built["email"] = EmailChannel(make_config(email))
        if webchat:
            built["web"] = channels.web.from_env({})
        on = {name: c for name, c in built.items() if c is not None}
        settings = HubSettings(
            redis_url=redis_url or redis_db[0], rasa_url=rasa_url,
            ticket_url=ticket_url, hub_api_key=KEYS["hub"], media_dir=tmp_path / "media",
            concurrency=2, send_backoff_ms=50, send_backoff_max_ms=200, send_max_attempts=3,
        )  # fmt: skip
        notify = NotifySettings.from_env({"TAWASUL_EVENT_SECRET": EVENT_SECRET, **(env or {})})
        app = create_app(settings, on, events=notify, clock=clock)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        chosen = port or free_port()
        await web.TCPSite(runner, "127.0.0.1", chosen).start()
        runners.append(runner)
        return RunningHub(f"http://127.0.0.1:{chosen}", runner, on)

    yield make
    for runner in reversed(runners):
        await runner.cleanup()


class SubscribedTicketService(TicketService):
    """The real ticket service, its events signed and delivered to ``hub_url``."""

    def __init__(self, directory: Path, hub_url: str) -> None:
        super().__init__(directory)
        self.hub_url = hub_url

    def start(self) -> None:
        env = {
            **os.environ,
            "TAWASUL_DB_URL": f"sqlite+aiosqlite:///{self.db_path}",
            "TAWASUL_TICKET_HOST": "127.0.0.1",
            "TAWASUL_TICKET_PORT": str(self.port),
            "TAWASUL_API_KEYS": ",".join(f"{role}={key}" for role, key in KEYS.items()),
            "TAWASUL_EVENT_SUBSCRIBERS": f"hub={self.hub_url}/events/tickets",
            "TAWASUL_EVENT_SECRET": EVENT_SECRET,
        }
        env.pop("TAWASUL_TICKET_WORKERS", None)
        self.process.launch([sys.executable, "-m", "ticket_service"], env)
        self.process.wait(
            lambda: _get_json(f"{self.url}/open311/v2/services.json") is not None,
            SERVICE_STARTUP_TIMEOUT,
        )


@dataclass
class Subscribed:
    service: SubscribedTicketService
    hub_port: int

    @property
    def url(self) -> str:
        return self.service.url


@contextlib.contextmanager
def subscribed_service(directory: Path) -> Iterator[Subscribed]:
    """The real ticket service (its data in ``directory``) posting its events to a fixed free
    hub port, where each test serves its own hub."""
    hub_port = free_port()
    service = SubscribedTicketService(directory, f"http://127.0.0.1:{hub_port}")
    service.start()
    try:
        yield Subscribed(service, hub_port)
    finally:
        service.stop()


@pytest.fixture(scope="session")
def subscribed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Subscribed]:
    """One ticket service process for the session (``subscribed_service``)."""
    with subscribed_service(tmp_path_factory.mktemp("events-tickets")) as running:
        yield running


def client(http: aiohttp.ClientSession, url: str, role: str) -> TawasulClient:
    retry = RetryPolicy(attempts=1, backoff_base=0.1, backoff_max=0.2)
    config = ClientConfig(base_url=url, api_key=KEYS[role], timeout=10.0, retry=retry)
    return TawasulClient(http, config)

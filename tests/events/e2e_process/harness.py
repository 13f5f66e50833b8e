"""The processes and fakes of the package's tests (conftest.py starts them once).

One hub (``python -m bot``) with all six channels against their fake providers — the fake Graph
API for WhatsApp and Messenger, the fake X API, the fake Bot API, Dovecot + the SMTP server for
e-mail; the web chat needs none — with proactive updates on and quiet hours off; the stack's
ticket service started again (same port, same database, so the action server files and stores
surveys there) with its events signed and delivered to the hub's ``/events/tickets``.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

from channels.whatsapp.config import DEFAULT_TEMPLATES
from channels.whatsapp.templates import Template, load_templates
from tests.bot.support import Domain
from tests.channels.email.conftest import Mailbox
from tests.channels.email.dovecot import Dovecot
from tests.channels.email.fake_smtp import FakeSmtp
from tests.channels.fakes.graph import FakeGraph
from tests.channels.messenger.conftest import env_for as messenger_env
from tests.channels.telegram.conftest import SECRET as TELEGRAM_SECRET
from tests.channels.telegram.fake_telegram import FakeTelegram
from tests.channels.whatsapp.conftest import env_for as whatsapp_env
from tests.channels.x.fake_x import FakeX
from tests.channels.x.support import CREDENTIALS, USER_ID, x_env
from tests.events.conftest import EVENT_SECRET, SubscribedTicketService
from tests.hubstack import HubFactory, HubProcess
from tests.services import free_port
from tests.stack import BotStack, TicketService
from tests.ticket_service.conftest import KEYS
from ticket_client import ClientConfig, RetryPolicy, TawasulClient

__all__ = ["E2E", "EventedTicketService", "Providers", "running"]


@dataclass
class Providers:
    """The fake providers the hub talks to, the hub's own mailbox, the approved templates."""

    graph: FakeGraph
    x: FakeX
    telegram: FakeTelegram
    smtp: FakeSmtp
    mailbox: Mailbox
    templates: dict[str, Template]


class EventedTicketService(SubscribedTicketService):
    """The stack's ticket service — its port, its database — with its events signed and
    delivered to ``hub_url`` (``TAWASUL_EVENT_SUBSCRIBERS``)."""

    def __init__(self, stack_service: TicketService, hub_url: str) -> None:
        super().__init__(stack_service.db_path.parent, hub_url)
        self.port = stack_service.port


@dataclass
class E2E:
    """Everything a test talks to."""

    hub: HubProcess
    providers: Providers
    tickets: EventedTicketService
    rasa_url: str
    domain: Domain
    http: aiohttp.ClientSession
    clients: dict[str, TawasulClient] = field(default_factory=dict)

    def client(self, role: str) -> TawasulClient:
        """The ticket service as ``role`` sees it (``hub``, ``agent``, ``admin``...)."""
        if role not in self.clients:
            retry = RetryPolicy(attempts=3, backoff_base=0.2, backoff_max=1.0)
            config = ClientConfig(
                base_url=self.tickets.url, api_key=KEYS[role], timeout=10.0, retry=retry
            )
            self.clients[role] = TawasulClient(self.http, config)
        return self.clients[role]


def approve_templates(graph: FakeGraph, templates: dict[str, Template]) -> None:
    """Every template of settings/whatsapp_templates.yml, approved at the fake as an operator
    approves it in WhatsApp Manager (name, languages, parameters, quick-reply buttons)."""
    for template in templates.values():
        graph.register_template(
            template.name,
            template.languages.values(),
            template.body_params,
            len(template.quick_replies),
        )


@asynccontextmanager
async def fake_x() -> AsyncIterator[FakeX]:
    fake = FakeX(user_id=USER_ID, **CREDENTIALS)
    runner = web.AppRunner(fake.app(), access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    fake.url = f"http://127.0.0.1:{port}"
    try:
        yield fake
    finally:
        await runner.cleanup()


def hub_env(p: Providers) -> dict[str, str]:
    """All six channels on, proactive updates on, quiet hours off."""
    return {
        **whatsapp_env(p.graph),
        **messenger_env(p.graph),
        "TAWASUL_META_TIMEOUT": "10",
        **x_env(p.x.url),
        **p.telegram.env(TELEGRAM_SECRET),
        "TAWASUL_EMAIL_ADDRESS": p.mailbox.user,
        "TAWASUL_EMAIL_FROM_NAME": "Tawasul 940",
        "TAWASUL_EMAIL_AUTHSERV_ID": "mx.tawasul.test",
        "TAWASUL_EMAIL_TIMEOUT": "10",
        **p.mailbox.server.env(p.mailbox.user, "starttls"),
        **p.smtp.env(),
        "TAWASUL_EVENT_SECRET": EVENT_SECRET,
        "TAWASUL_QUIET_HOURS": "off",
    }


@asynccontextmanager
async def running(
    hub_factory: HubFactory, stack: BotStack, domain: Domain, dovecot: Dovecot
) -> AsyncIterator[E2E]:
    """Start the fakes, the hub and the evented ticket service; afterwards the stack's ticket
    service runs again as the rest of the session knows it (no subscribers)."""
    templates = load_templates(DEFAULT_TEMPLATES, required=True)
    graph = FakeGraph()
    await graph.start()
    approve_templates(graph, templates)
    telegram = await FakeTelegram().start()
    mailbox = Mailbox(dovecot, dovecot.new_user())
    smtp = FakeSmtp(dovecot.ca_file, dovecot.base / "key.pem", mailbox.user,
                    secrets.token_urlsafe(9))  # fmt: skip
    smtp.start()
    http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=90))
    try:
        async with fake_x() as x:
            providers = Providers(graph, x, telegram, smtp, mailbox, templates)
            hub = await hub_factory.start(env=hub_env(providers), name="events-e2e")
            stack.ticket.stop()
            tickets = EventedTicketService(stack.ticket, hub.url)
            try:
                tickets.start()
                yield E2E(hub, providers, tickets, stack.rasa.url, domain, http)
            finally:
                tickets.stop()
                stack.ticket.start()
                await hub.stop()
    finally:
        await http.close()
        smtp.stop()
        await telegram.stop()
        await graph.stop()

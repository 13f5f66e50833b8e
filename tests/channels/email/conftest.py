"""Fixtures for the e-mail adapter: a real Dovecot (IMAP), a real SMTP server (aiosmtpd with
STARTTLS and AUTH), a real Redis, and the channel mounted on a small aiohttp app whose
``submit`` writes every event into a Redis stream (no dedup here: the tests count
submissions to prove the channel itself submits each mail once)."""

from __future__ import annotations

import asyncio
import dataclasses
import imaplib
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from redis.asyncio import Redis

from bot.errors import QueueUnavailable
from bot.model import InboundEvent, InboundMessage
from channels.email import EmailChannel, EmailConfig
from tests.channels.email.dovecot import Dovecot, running_dovecot
from tests.channels.email.fake_smtp import FakeSmtp

PAYLOADS = Path(__file__).with_name("payloads")


def payload(name: str) -> bytes:
    """A recorded mail from payloads/, with CRLF line ends as on the wire."""
    return (PAYLOADS / name).read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


async def wait_until(
    predicate: Callable[[], bool | Awaitable[bool]], seconds: float = 15.0, what: str = ""
) -> None:
    """Poll ``predicate`` every 50 ms; fail the test after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = predicate()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        await asyncio.sleep(0.05)
    pytest.fail(f"timed out after {seconds} s waiting for {what or predicate}")


class StandInHub:
    """HubServices for these tests: one client session, Redis, and a durable ``submit`` that
    records every call (``fail_next`` makes the next calls raise QueueUnavailable)."""

    def __init__(self, session: aiohttp.ClientSession, redis: Redis) -> None:
        self._session = session
        self._redis = redis
        self.stream = f"test:email:inbound:{secrets.token_hex(4)}"
        self.fail_next = 0
        self.failures = 0

    @property
    def session(self) -> aiohttp.ClientSession:
        return self._session

    @property
    def redis(self) -> Redis:
        return self._redis

    async def submit(self, events: Sequence[InboundEvent]) -> None:
        if self.fail_next:
            self.fail_next -= 1
            self.failures += 1
            raise QueueUnavailable("stand-in hub: Redis is down")
        for event in events:
            await self._redis.xadd(self.stream, {"event": event.to_json()})

    async def submitted(self) -> list[InboundMessage]:
        entries = await self._redis.xrange(self.stream)
        return [InboundMessage.from_json(fields[b"event"]) for _, fields in entries]

    async def count(self) -> int:
        return int(await self._redis.xlen(self.stream))


@dataclass
class Mailbox:
    """One fresh Dovecot account and helpers to put mail in and look inside (stdlib imaplib
    in a thread: the tests' tool is not the code under test)."""

    server: Dovecot
    user: str

    def _connect(self) -> imaplib.IMAP4:
        imap = imaplib.IMAP4(self.server.host, self.server.imap_port)
        imap.login(self.user, self.server.password)
        return imap

    async def append(self, raw: bytes, mailbox: str = "INBOX") -> None:
        def run() -> None:
            imap = self._connect()
            try:
                imap.create(mailbox)  # NO when it exists: fine
                status, _ = imap.append(mailbox, "", None, raw)
                assert status == "OK"
            finally:
                imap.logout()

        await asyncio.to_thread(run)

    async def contents(self, mailbox: str = "INBOX") -> list[tuple[int, str, str]]:
        """``(uid, flags, Message-ID header)`` of every mail in ``mailbox`` (read-only)."""

        def run() -> list[tuple[int, str, str]]:
            imap = self._connect()
            try:
                status, _ = imap.select(mailbox, readonly=True)
                if status != "OK":
                    return []
                _, data = imap.uid(
                    "FETCH", "1:*", "(UID FLAGS BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])"
                )
                found = []
                for item in data:
                    if isinstance(item, tuple):
                        meta = item[0].decode()
                        uid = int(meta.split("UID ")[1].split()[0])
                        flags = meta.split("FLAGS (")[1].split(")")[0]
                        found.append((uid, flags, item[1].decode().strip()))
                return found
            finally:
                imap.logout()

        return await asyncio.to_thread(run)


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    """A real Dovecot on free loopback ports for the session (tests/channels/email/dovecot.py)."""
    yield from running_dovecot()


@pytest.fixture(scope="session")
def smtp(dovecot: Dovecot) -> Iterator[FakeSmtp]:
    """The SMTP server (shares Dovecot's throw-away certificate, so one CA file serves both)."""
    server = FakeSmtp(
        dovecot.ca_file, dovecot.base / "key.pem", sender="", password=secrets.token_urlsafe(9)
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
async def hub(redis: Redis) -> AsyncIterator[StandInHub]:
    async with aiohttp.ClientSession() as session:
        yield StandInHub(session, redis)


@pytest.fixture
def mailbox(dovecot: Dovecot) -> Mailbox:
    return Mailbox(dovecot, dovecot.new_user())


@pytest.fixture
def email_env(dovecot: Dovecot, smtp: FakeSmtp, mailbox: Mailbox) -> dict[str, str]:
    """A full channel configuration: the fresh mailbox over plain IMAP on loopback, the SMTP
    server with STARTTLS, the catch-up poll slow enough that only IDLE explains quick mail."""
    smtp.reset()
    smtp.sender = smtp.from_address = mailbox.user
    return {
        "TAWASUL_EMAIL_ADDRESS": mailbox.user,
        "TAWASUL_EMAIL_FROM_NAME": "Tawasul 940",
        "TAWASUL_EMAIL_AUTHSERV_ID": "mx.tawasul.test",
        "TAWASUL_EMAIL_POLL_SECONDS": "60",
        "TAWASUL_EMAIL_TIMEOUT": "5",
        **dovecot.env(mailbox.user, "none"),
        **smtp.env(),
    }


def make_config(env: dict[str, str]) -> EmailConfig:
    """The configuration from ``env``, with Redis keys of its own (tests share one Redis)."""
    config = EmailConfig.from_env(env)
    assert config is not None
    return dataclasses.replace(config, redis_prefix=f"test:email:{secrets.token_hex(4)}")


@dataclass
class Running:
    channel: EmailChannel
    runner: web.AppRunner

    async def stop(self) -> None:
        await self.runner.cleanup()


Start = Callable[..., Awaitable[Running]]


@pytest.fixture
async def start_channel(hub: StandInHub) -> AsyncIterator[Start]:
    """``await start_channel(config)``: the channel set up on an aiohttp app whose start-up
    starts the IMAP poller (``cleanup_ctx``); stopped at the end of the test."""
    running: list[Running] = []

    async def start(config: EmailConfig, on: StandInHub | None = None) -> Running:
        channel = EmailChannel(config)
        app = web.Application()
        channel.setup(app, on or hub)
        runner = web.AppRunner(app)
        await runner.setup()
        running.append(Running(channel, runner))
        return running[-1]

    yield start
    for item in running:
        await item.stop()

"""Fixtures of issue 5's end-to-end tests through processes (harness.py): ``e2e`` (the hub with
every channel, the evented ticket service, the fakes; once for the package) and ``citizens``
(fresh citizens on any channel, so tests never share a chat, a conversation or a thread)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from tests.bot.support import Domain
from tests.channels.email.dovecot import Dovecot
from tests.hubstack import HubFactory
from tests.stack import BotStack

from .citizens import CITIZENS, Citizen
from .harness import E2E, running

MakeCitizen = Callable[[str, str], Awaitable[Citizen]]


@pytest.fixture(scope="package")
async def e2e(
    hub_factory: HubFactory, bot_stack: BotStack, domain: Domain, dovecot: Dovecot
) -> AsyncIterator[E2E]:
    async with running(hub_factory, bot_stack, domain, dovecot) as started:
        yield started


@pytest.fixture
async def citizens(e2e: E2E) -> AsyncIterator[MakeCitizen]:
    """``await citizens("telegram", "en")``: a new citizen on that channel."""
    made: list[Citizen] = []

    async def make(channel: str, language: str) -> Citizen:
        citizen = await CITIZENS[channel].create(e2e, language)
        made.append(citizen)
        return citizen

    yield make
    for citizen in made:
        await citizen.close()

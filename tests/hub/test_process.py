"""``python -m bot`` as a real process (tests/hubstack.py) talking to the fake Rasa: killed
with SIGKILL mid-turn, stopped with SIGTERM mid-turn — nothing lost, nothing answered twice."""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests.hub.fake_loop import FakeLoop
from tests.hub.fake_rasa import FakeRasa
from tests.hub.support import loop_env, message, new_user, post_webhook
from tests.hubstack import HubFactory

LOCK_TTL_MS = 2000


@pytest.fixture
async def provider_env(fake_rasa: FakeRasa, provider: FakeLoop) -> AsyncIterator[dict[str, str]]:
    yield {
        **loop_env(provider.url, provider.token),
        "TAWASUL_RASA_URL": fake_rasa.url,
        "TAWASUL_LOCK_TTL_MS": str(LOCK_TTL_MS),
        "TAWASUL_HUB_CONCURRENCY": "4",
    }


def assert_answered_once(provider: FakeLoop, ids: list[str]) -> None:
    keys = [s.body["key"] for s in provider.sent]
    repeated = [k for k, n in collections.Counter(keys).items() if n > 1]
    assert not repeated, f"answered twice: {repeated}"
    answered = {k.rsplit(":", 1)[0] for k in keys}
    assert set(ids) <= answered, f"never answered: {set(ids) - answered}"


async def test_sigkill_mid_turn_then_restart_loses_nothing(
    hub_factory: HubFactory, provider_env: dict[str, str], http: aiohttp.ClientSession,
    fake_rasa: FakeRasa, provider: FakeLoop,
) -> None:  # fmt: skip
    hub = await hub_factory.start(env=provider_env, name="sigkill")
    stuck, calm = new_user(), new_user()
    fake_rasa.hang["stuck 0"] = asyncio.Event()
    sent: list[str] = []
    for user, texts in ((stuck, ["stuck 0", "stuck 1", "stuck 2"]), (calm, ["calm 0"])):
        for text in texts:
            body = message(user, text)
            sent.append(body["id"])
            assert (await post_webhook(http, hub.url, [body]))[0] == 200
    await fake_rasa.wait_calls(2)  # "stuck 0" is in Rasa's hands, "calm 0" answered
    await provider.wait_for(calm, 1)
    # "calm 0" fully done (its reply recorded as sent). Killing the hub between a provider's
    # 200 and that record is the one window where a reply can go out twice (bot/README.md).
    await hub.wait_idle(f"loop:{calm}")
    await hub.kill()
    killed_at = time.monotonic()
    fake_rasa.hang.pop("stuck 0").set()  # Rasa answers, to nobody: the process is gone

    await hub.start()
    await provider.wait_for(stuck, 3, within=30)
    # Taken over only once the dead process's lock expired.
    first = min(s.at for s in provider.sent if s.body["to"] == stuck)
    assert first - killed_at >= LOCK_TTL_MS / 1000 - 0.1
    assert provider.texts(stuck) == ["re: stuck 0", "re: stuck 1", "re: stuck 2"]
    # Rasa saw "stuck 0" twice (the turn was interrupted), everything else once.
    assert fake_rasa.of(f"loop:{stuck}") == ["stuck 0", "stuck 0", "stuck 1", "stuck 2"]
    assert_answered_once(provider, sent)
    await asyncio.sleep(0.5)
    assert_answered_once(provider, sent)
    await hub.stop()


async def test_sigterm_mid_turn_finishes_the_turn_and_exits_cleanly(
    hub_factory: HubFactory, provider_env: dict[str, str], http: aiohttp.ClientSession,
    fake_rasa: FakeRasa, provider: FakeLoop,
) -> None:  # fmt: skip
    hub = await hub_factory.start(env=provider_env, name="sigterm")
    user = new_user()
    fake_rasa.delays["slow"] = 1.5
    first, second = message(user, "slow"), message(user, "after")
    await post_webhook(http, hub.url, [first, second])
    await fake_rasa.wait_calls(1)
    assert await hub.stop() == 0
    assert "stopped" in hub.log_tail(5)
    # The turn in flight was finished and queued; "after" waits for the next process.
    assert fake_rasa.of(f"loop:{user}") == ["slow"]
    await hub.start()
    await provider.wait_for(user, 2, within=20)
    assert provider.texts(user) == ["re: slow", "re: after"]
    assert fake_rasa.of(f"loop:{user}") == ["slow", "after"]  # no turn ran twice
    assert_answered_once(provider, [first["id"], second["id"]])
    await hub.stop()

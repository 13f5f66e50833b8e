"""Each conversation's messages reach Rasa one at a time and in arrival order, and its replies
go out in that order — with many conversations interleaved over two hubs on one Redis."""

from __future__ import annotations

import asyncio
import itertools
import random

import aiohttp
from redis.asyncio import Redis

from bot import keys
from tests.hub.conftest import HubMaker
from tests.hub.fake_loop import FakeLoop
from tests.hub.fake_rasa import FakeRasa
from tests.hub.support import message, new_user, post_webhook

CONVERSATIONS = 12
PER_CONVERSATION = 8


async def test_two_hubs_keep_every_conversations_order(
    make_hub: HubMaker, http: aiohttp.ClientSession, fake_rasa: FakeRasa, provider: FakeLoop,
    redis: Redis,
) -> None:  # fmt: skip
    hubs = [await make_hub(), await make_hub()]
    users = [new_user() for _ in range(CONVERSATIONS)]
    texts = {u: [f"{u} #{i}" for i in range(PER_CONVERSATION)] for u in users}
    rng = random.Random(4)
    for u in users:  # Rasa takes its time, differently for every message
        for text in texts[u]:
            fake_rasa.delays[text] = rng.uniform(0, 0.03)

    async def citizen(user: str) -> None:
        # One conversation's webhooks arrive one after the other, at either hub.
        for text in texts[user]:
            status, _ = await post_webhook(http, rng.choice(hubs).url, [message(user, text)])
            assert status == 200
            await asyncio.sleep(rng.uniform(0, 0.01))

    await asyncio.gather(*(citizen(u) for u in users))
    for user in users:
        await provider.wait_for(user, PER_CONVERSATION)
    for user in users:
        assert fake_rasa.of(f"loop:{user}") == texts[user]
        assert provider.texts(user) == [f"re: {t}" for t in texts[user]]
    # One turn at a time per conversation: no two Rasa calls of a conversation overlapped.
    # (A call is recorded when it starts; the next one of the conversation must start after
    # the previous one's reply was produced, i.e. at least its scripted delay later.)
    for user in users:
        calls = [c for c in fake_rasa.calls if c.sender == f"loop:{user}"]
        for before, after in itertools.pairwise(calls):
            assert after.at - before.at >= fake_rasa.delays[before.message] - 0.002
    # Both hubs worked.
    turns = [h.metric("tawasul_turn_seconds_count") for h in hubs]
    assert all(t > 0 for t in turns) and sum(turns) == CONVERSATIONS * PER_CONVERSATION
    # Nothing is left behind: inbound streams empty, no locks held.
    await asyncio.sleep(0.2)
    for user in users:
        conversation = f"loop:{user}"
        assert await redis.xlen(keys.conv_in(conversation)) == 0
        assert await redis.xlen(keys.conv_out(conversation)) == 0
        assert not await redis.exists(keys.lock(conversation), keys.send_lock(conversation))


async def test_a_burst_in_one_webhook_is_answered_in_order(
    make_hub: HubMaker, http: aiohttp.ClientSession, fake_rasa: FakeRasa, provider: FakeLoop
) -> None:
    hub = await make_hub()
    user = new_user()
    burst = [message(user, f"part {i}") for i in range(6)]
    status, answer = await post_webhook(http, hub.url, burst)
    assert status == 200 and answer["events"] == 6
    await provider.wait_for(user, 6)
    assert provider.texts(user) == [f"re: part {i}" for i in range(6)]

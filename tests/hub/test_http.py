"""/healthz and /metrics."""

from __future__ import annotations

import asyncio

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from tests.hub.conftest import HubMaker
from tests.hub.fake_loop import FakeLoop
from tests.hub.fake_rasa import FakeRasa
from tests.hub.support import message, new_user, post_webhook
from tests.services import free_port


async def test_healthz_checks_redis_rasa_and_the_ticket_service(
    make_hub: HubMaker, http: aiohttp.ClientSession, fake_rasa: FakeRasa
) -> None:
    hub = await make_hub(workers=False)
    async with http.get(f"{hub.url}/healthz") as response:
        assert response.status == 200
        body = await response.json()
    assert body["status"] == "ok" and body["channels"] == ["loop"]
    assert {name: c["ok"] for name, c in body["components"].items()} == {
        "redis": True, "rasa": True, "ticket_service": True,
    }  # fmt: skip

    fake_rasa.down = True
    async with http.get(f"{hub.url}/healthz") as response:
        assert response.status == 503
        body = await response.json()
    assert body["components"]["rasa"] == {"ok": False, "error": "HTTP 503"}
    assert body["components"]["redis"]["ok"] is True

    nowhere = f"http://127.0.0.1:{free_port()}"
    lost = await make_hub(workers=False, ticket_url=nowhere)
    fake_rasa.down = False
    async with http.get(f"{lost.url}/healthz") as response:
        assert response.status == 503
        body = await response.json()
    assert body["components"]["ticket_service"]["ok"] is False
    assert body["components"]["rasa"]["ok"] is True


async def test_metrics_in_prometheus_format(
    make_hub: HubMaker, http: aiohttp.ClientSession, provider: FakeLoop
) -> None:
    hub = await make_hub()
    user = new_user()
    await post_webhook(http, hub.url, [message(user, "hello")])
    await post_webhook(http, hub.url, [message(user, "x")], secret="forged")
    await provider.wait_for(user, 1)
    for _ in range(50):  # the workers ACK their work entries right after the reply went out
        async with http.get(f"{hub.url}/metrics") as response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
            text = await response.text()
        if 'tawasul_queue_depth{queue="work"} 0.0' in text and 'send-work"} 0.0' in text:
            break
        await asyncio.sleep(0.05)
    families = {f.name: f for f in text_string_to_metric_families(text)}
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for f in families.values()
        for s in f.samples
    }
    assert samples[("tawasul_inbound_events_total",
                    (("channel", "loop"), ("result", "accepted")))] == 1  # fmt: skip
    assert samples[("tawasul_inbound_events_total",
                    (("channel", "loop"), ("result", "forged")))] == 1  # fmt: skip
    assert samples[("tawasul_sends_total", (("channel", "loop"), ("outcome", "sent")))] == 1
    assert samples[("tawasul_turn_seconds_count", ())] == 1
    assert samples[("tawasul_reply_seconds_count", (("channel", "loop"),))] == 1
    assert samples[("tawasul_queue_depth", (("queue", "work"),))] == 0
    assert samples[("tawasul_queue_depth", (("queue", "send-work"),))] == 0
    assert samples[("tawasul_dead_letters", ())] == 0
    for name in (
        "tawasul_rasa_errors",
        "tawasul_dead_lettered",
        "tawasul_media",
        "tawasul_contact_sync",
        "tawasul_delivery_status",
        "tawasul_worker_errors",
    ):
        assert name in families, name  # fmt: skip


async def test_queue_depth_counts_work_waiting(
    make_hub: HubMaker, http: aiohttp.ClientSession
) -> None:
    hub = await make_hub(workers=False)  # nobody works: everything waits
    for _ in range(3):
        await post_webhook(http, hub.url, [message(new_user(), "hello")])
    async with http.get(f"{hub.url}/metrics") as response:
        text = await response.text()
    assert 'tawasul_queue_depth{queue="work"} 3.0' in text

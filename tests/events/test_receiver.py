"""POST /events/tickets on a hub with the real WhatsApp and Telegram adapters against their
fakes: signatures, dedup, durability, quiet hours with an injected clock."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import aiohttp
from redis.asyncio import Redis

from bot.events.store import EVENTS, HELD
from tests.channels.fakes.graph import FakeGraph
from tests.channels.telegram.fake_telegram import FakeTelegram, User
from ticket_service.clock import FakeClock

from .conftest import HubMaker, event, signed

WA = "966512345678"
TG_USER = User(5180236917, "سارة", "العتيبي", "sara_otb", "ar")


def wa_reporter(language: str = "ar") -> dict[str, str]:
    return {"role": "reporter", "channel": "whatsapp", "channel_user_id": f"whatsapp:{WA}",
            "language": language, "name": "سارة"}  # fmt: skip


async def wait_for(condition, within: float = 15.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


def template_sends(graph: FakeGraph, to: str) -> list[dict]:  # type: ignore[type-arg]
    return [b for b in graph.sent("whatsapp") if b.get("to") == to]


async def test_forged_unsigned_and_wrong_secret_are_403_and_nothing_is_sent(
    make_hub: HubMaker, http: aiohttp.ClientSession, graph: FakeGraph, redis_db: tuple[str, Redis]
) -> None:
    graph.register_template("tawasul_ticket_update", ["ar", "en"], 2, 2)
    hub = await make_hub()
    raw, headers = signed(event(recipients=[wa_reporter()]))
    forged = {**headers, "X-Tawasul-Signature": "sha256=" + "0" * 64}
    assert (await hub.post_event(http, raw, forged))[0] == 403
    unsigned = {"Content-Type": "application/json"}
    assert (await hub.post_event(http, raw, unsigned))[0] == 403
    _, other = signed(event(recipients=[wa_reporter()]), secret="not-the-secret")
    assert (await hub.post_event(http, raw, other))[0] == 403
    tampered = raw.replace(b"482913657", b"482913658")
    assert (await hub.post_event(http, tampered, headers))[0] == 403
    await asyncio.sleep(1.0)
    assert await redis_db[1].xlen(EVENTS) == 0
    assert graph.sent("whatsapp") == []


async def test_no_secret_means_the_endpoint_refuses_everything(
    make_hub: HubMaker, http: aiohttp.ClientSession, redis_db: tuple[str, Redis]
) -> None:
    from aiohttp import web

    from bot.app import create_app
    from bot.config import HubSettings
    from tests.services import free_port

    app = create_app(HubSettings(redis_url=redis_db[0]), {}, workers=False, events=None)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        raw, headers = signed(event(recipients=[wa_reporter()]))
        async with http.post(f"http://127.0.0.1:{port}/events/tickets", data=raw,
                             headers=headers) as resp:  # fmt: skip
            assert resp.status == 403
    finally:
        await runner.cleanup()
    assert await redis_db[1].xlen(EVENTS) == 0


async def test_same_event_three_times_is_one_message_template_outside_window(
    make_hub: HubMaker, http: aiohttp.ClientSession, graph: FakeGraph
) -> None:
    graph.register_template("tawasul_ticket_update", ["ar", "en"], 2, 2)
    hub = await make_hub()
    body = event(recipients=[wa_reporter("ar")])
    raw, headers = signed(body)
    answers = [await hub.post_event(http, raw, headers) for _ in range(3)]
    assert [a[0] for a in answers] == [200, 200, 200]
    assert [a[1]["duplicate"] for a in answers] == [False, True, True]
    await wait_for(lambda: len(template_sends(graph, WA)) >= 1)
    await asyncio.sleep(1.0)  # nothing else comes
    sends = template_sends(graph, WA)
    assert len(sends) == 1
    template = sends[0]["template"]  # no inbound message: the 24 h window is closed
    assert template["name"] == "tawasul_ticket_update"
    assert template["language"]["code"] == "ar"
    params = [p["text"] for p in template["components"][0]["parameters"]]
    assert params == ["482913657", "قيد التنفيذ"]


async def test_inside_the_window_the_text_goes_in_the_citizens_language(
    make_hub: HubMaker, http: aiohttp.ClientSession, graph: FakeGraph, redis_db: tuple[str, Redis]
) -> None:
    from bot import keys

    graph.register_template("tawasul_ticket_update", ["ar", "en"], 2, 2)
    graph.open_window(WA)
    hub = await make_hub()
    await redis_db[1].set(keys.last_inbound(f"whatsapp:{WA}"), str(time.time()))
    raw, headers = signed(event(recipients=[wa_reporter("en")]))
    assert (await hub.post_event(http, raw, headers))[0] == 200
    await wait_for(lambda: len(template_sends(graph, WA)) >= 1)
    body = template_sends(graph, WA)[0]
    assert body["type"] == "text"
    assert "is now in progress" in body["text"]["body"]
    assert "482913657" in body["text"]["body"]
    assert "الفريق في الموقع" in body["text"]["body"]  # the staff note


async def test_telegram_any_time_and_redis_down_is_503(
    make_hub: HubMaker, http: aiohttp.ClientSession, telegram: FakeTelegram
) -> None:
    telegram.add_user(TG_USER)
    hub = await make_hub()
    person = {"role": "follower", "channel": "telegram",
              "channel_user_id": f"telegram:{TG_USER.id}", "language": "ar"}  # fmt: skip
    body = event("ticket.closed", [person], data={"to_status": "closed", "resolution": "fixed",
                                                  "note": None})  # fmt: skip
    raw, headers = signed(body)
    assert (await hub.post_event(http, raw, headers))[0] == 200
    await wait_for(lambda: any(m.get("chat", {}).get("id") == TG_USER.id for m in telegram.sent))
    text = next(m for m in telegram.sent if m["chat"]["id"] == TG_USER.id)["text"]
    assert "أغلق بلاغك رقم 482913657" in text and "تم الإصلاح" in text

    down = await make_hub(redis_url="redis://127.0.0.1:9/0")
    raw, headers = signed(event(recipients=[wa_reporter()]))
    assert (await down.post_event(http, raw, headers))[0] == 503


async def test_quiet_hours_hold_until_seven_then_release(
    make_hub: HubMaker,
    http: aiohttp.ClientSession,
    graph: FakeGraph,
    clock: FakeClock,
    redis_db: tuple[str, Redis],
) -> None:
    graph.register_template("tawasul_ticket_update", ["ar", "en"], 2, 2)
    clock.set(datetime(2026, 3, 2, 20, 30, tzinfo=UTC))  # 23:30 in Riyadh
    hub = await make_hub()
    normal = event(recipients=[wa_reporter()])
    urgent = event(recipients=[wa_reporter()], service="sewage", number="482913700")
    for body in (normal, urgent):
        raw, headers = signed(body)
        assert (await hub.post_event(http, raw, headers))[0] == 200
    await wait_for(lambda: len(template_sends(graph, WA)) >= 1)  # the urgent one goes now
    await asyncio.sleep(1.0)
    sends = template_sends(graph, WA)
    assert len(sends) == 1 and "482913700" in str(sends[0])
    held = await redis_db[1].zrange(HELD, 0, -1, withscores=True)
    assert [(m.decode(), s) for m, s in held] == [
        (normal["event_id"], datetime(2026, 3, 3, 4, 0, tzinfo=UTC).timestamp())
    ]
    clock.set(datetime(2026, 3, 3, 3, 59, tzinfo=UTC))  # 06:59: still held
    await asyncio.sleep(1.5)
    assert len(template_sends(graph, WA)) == 1
    clock.set(datetime(2026, 3, 3, 4, 0, tzinfo=UTC))  # 07:00 in Riyadh
    await wait_for(lambda: len(template_sends(graph, WA)) == 2)
    assert "482913657" in str(template_sends(graph, WA)[1])
    assert await redis_db[1].zcard(HELD) == 0

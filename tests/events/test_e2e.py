"""End to end: the REAL ticket service process (events signed and delivered to the hub) → the
hub's /events/tickets → the real adapters → the fake providers; outcomes on the ticket history."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from typing import Any

import aiohttp

from tests.channels.email.fake_smtp import FakeSmtp
from tests.channels.fakes.graph import FakeGraph
from tests.channels.telegram.fake_telegram import FakeTelegram, User
from tests.spots import distinct_spot
from ticket_client import Contact

from .conftest import HubMaker, Subscribed, client

DAMMAM = (26.4126, 50.0645)


async def wait_for(condition: Callable[[], bool], within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.1)


def to(graph: FakeGraph, wa: str) -> list[dict[str, Any]]:
    return [b for b in graph.sent("whatsapp") if b.get("to") == wa]


async def history_outcomes(http: aiohttp.ClientSession, url: str, number: str) -> list[str]:
    rows = await client(http, url, "agent").history(number)
    return [f"{r.data.get('outcome')}:{r.note}" for r in rows if r.kind == "notification"]


async def test_status_change_reaches_whatsapp_reporter_and_email_follower(
    make_hub: HubMaker,
    subscribed: Subscribed,
    http: aiohttp.ClientSession,
    graph: FakeGraph,
    smtp: FakeSmtp,
    email_env: dict[str, str],
) -> None:
    graph.register_template("tawasul_ticket_update", ["ar", "en"], 2, 2)
    url = subscribed.service.url
    await make_hub(email=email_env, ticket_url=url, port=subscribed.hub_port)
    wa = "9665" + "".join(secrets.choice("0123456789") for _ in range(8))
    mail = f"omar.{secrets.token_hex(3)}@citizen.test"
    hub = client(http, url, "hub")
    lat, long = distinct_spot()
    first = await hub.create(
        service_code="pothole", description="حفرة كبيرة أمام المدرسة", lat=lat, long=long,
        channel="whatsapp", language="ar",
        reporter=Contact(channel="whatsapp", channel_user_id=f"whatsapp:{wa}", language="ar"),
    )  # fmt: skip
    second = await hub.create(
        service_code="pothole", description="A deep pothole by the school", lat=lat, long=long,
        channel="email", language="en",
        reporter=Contact(channel="email", channel_user_id=f"email:{mail}", language="en"),
    )  # fmt: skip
    number = first.ticket.service_request_id
    assert second.duplicate and second.ticket.service_request_id == number  # now a follower

    await client(http, url, "agent").change_status(number, "in_progress",
                                                   note="The crew is on site")  # fmt: skip

    await wait_for(lambda: len(to(graph, wa)) >= 1)
    template = to(graph, wa)[0]["template"]  # the reporter never wrote: window closed
    assert template["name"] == "tawasul_ticket_update" and template["language"]["code"] == "ar"
    assert [p["text"] for p in template["components"][0]["parameters"]] == [number, "قيد التنفيذ"]

    await wait_for(lambda: any(mail in d.rcpt_tos for d in smtp.delivered))
    sent = next(d.message for d in smtp.delivered if mail in d.rcpt_tos)
    assert sent["Auto-Submitted"] == "auto-generated"
    assert f"[#{number}]" in str(sent["Subject"])
    plain = sent.get_body(("plain",))
    assert plain is not None
    text = plain.get_content()
    assert f"Your report {number}" in text and "The crew is on site" in text

    await wait_for_history(http, url, number, 2)
    outcomes = await history_outcomes(http, url, number)
    assert sorted(o.split(":")[0] + ":" + o.split(":")[1] for o in outcomes) == [
        "sent:email", "sent:whatsapp"]  # fmt: skip


async def wait_for_history(http: aiohttp.ClientSession, url: str, number: str, n: int) -> None:
    deadline = time.monotonic() + 30
    while len(await history_outcomes(http, url, number)) < n:
        assert time.monotonic() < deadline, await history_outcomes(http, url, number)
        await asyncio.sleep(0.2)


async def test_blocked_whatsapp_falls_back_to_verified_telegram(
    make_hub: HubMaker,
    subscribed: Subscribed,
    http: aiohttp.ClientSession,
    graph: FakeGraph,
    telegram: FakeTelegram,
) -> None:
    url = subscribed.service.url
    await make_hub(ticket_url=url, port=subscribed.hub_port)
    user = telegram.add_user(User(6021457731, "John", "Smith", None, "en"))
    wa = "9665" + "".join(secrets.choice("0123456789") for _ in range(8))
    hub = client(http, url, "hub")
    wa_id, tg_id = f"whatsapp:{wa}", f"telegram:{user.id}"
    created = await hub.create(
        service_code="streetlight", description="The street light is out", lat=DAMMAM[0] + 0.2,
        long=DAMMAM[1], channel="whatsapp", language="en",
        reporter=Contact(channel="whatsapp", channel_user_id=wa_id, language="en"),
    )  # fmt: skip
    number = created.ticket.service_request_id
    await hub.upsert_contact(Contact(channel="telegram", channel_user_id=tg_id, language="en"))
    await hub.verify_contact("whatsapp", wa_id, phone=f"+{wa}")
    await hub.verify_contact("telegram", tg_id, phone=f"+{wa}")
    # no template is registered at the fake: WhatsApp refuses (132001, permanent)
    await client(http, url, "agent").change_status(number, "in_progress")

    await wait_for(lambda: any(m.get("chat", {}).get("id") == user.id for m in telegram.sent))
    text = next(m for m in telegram.sent if m["chat"]["id"] == user.id)["text"]
    assert f"Your report {number}" in text and "in progress" in text
    assert to(graph, wa) == []
    await wait_for_history(http, url, number, 3)
    outcomes = [o.split(":")[0] for o in await history_outcomes(http, url, number)]
    assert outcomes == ["failed", "fallback", "sent"]

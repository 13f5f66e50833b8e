"""The Messenger webhook routes with a real durable submit into real Redis: handshake,
signature on raw bytes (its own app secret), echoes ignored, window recorded, numbered
answers resolved."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot.model import Button, OutboundMessage
from channels.messenger import MessengerChannel
from channels.meta.window import MessagingWindow
from tests.channels.fakes.graph import FakeGraph
from tests.channels.fakes.graph_hub import SmallHub, load_payload, serve, signed
from tests.channels.messenger.conftest import APP_SECRET, PAYLOADS, VERIFY_TOKEN
from tests.channels.whatsapp.conftest import APP_SECRET as WHATSAPP_SECRET

AMAL = "24023847293847"


@pytest.fixture
async def server(channel: MessengerChannel, small_hub: SmallHub) -> AsyncIterator[TestServer]:
    async with serve(channel, small_hub) as running:
        yield running


async def post(
    session: aiohttp.ClientSession, server: TestServer, body: bytes, headers: dict[str, str]
) -> tuple[int, dict[str, object]]:
    url = server.make_url("/webhooks/messenger")
    async with session.post(url, data=body, headers=headers) as resp:
        return resp.status, await resp.json()


def payload(name: str, psid: str, *, fresh: bool = True) -> bytes:
    return load_payload(PAYLOADS, name, fresh=fresh, replace={AMAL: psid})


async def test_handshake(session: aiohttp.ClientSession, server: TestServer) -> None:
    url = server.make_url("/webhooks/messenger")
    good = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "99"}
    async with session.get(url, params=good) as resp:
        assert (resp.status, await resp.text()) == (200, "99")
    bad = {**good, "hub.verify_token": "wa-verify-token-for-tests"}
    async with session.get(url, params=bad) as resp:
        assert resp.status == 403


async def test_signed_message_is_stored_and_opens_the_window(
    session: aiohttp.ClientSession, server: TestServer, small_hub: SmallHub, psid: str
) -> None:
    body = payload("text_ar.json", psid)
    assert await post(session, server, body, signed(body, APP_SECRET)) == (
        200,
        {"ok": True, "events": 1},
    )
    (stored,) = await small_hub.stored_messages()
    assert stored.user_id == psid
    assert stored.reply_context["mid"] == stored.provider_message_id
    assert await MessagingWindow(small_hub.redis, "messenger").is_open(psid)


async def test_whatsapp_secret_does_not_sign_messenger(
    session: aiohttp.ClientSession, server: TestServer, small_hub: SmallHub, psid: str
) -> None:
    body = payload("text_ar.json", psid)
    status, _ = await post(session, server, body, signed(body, WHATSAPP_SECRET))
    assert status == 403
    status, _ = await post(session, server, body, {"Content-Type": "application/json"})
    assert status == 403
    assert await small_hub.stored() == []


async def test_echo_is_acknowledged_and_ignored(
    session: aiohttp.ClientSession, server: TestServer, small_hub: SmallHub, psid: str
) -> None:
    body = payload("echo.json", psid)
    assert await post(session, server, body, signed(body, APP_SECRET)) == (
        200,
        {"ok": True, "events": 0},
    )
    assert await small_hub.stored() == []
    assert not await MessagingWindow(small_hub.redis, "messenger").is_open(psid)


async def test_batched_and_receipts(
    session: aiohttp.ClientSession, server: TestServer, small_hub: SmallHub, psid: str
) -> None:
    for name in ("batched.json", "delivery.json", "read.json"):
        body = payload(name, psid)
        status, _ = await post(session, server, body, signed(body, APP_SECRET))
        assert status == 200
    stored = await small_hub.stored()
    assert [e["provider_message_id"] for e in stored][:4] == [
        "m_BATCH-E1-M1",
        "m_BATCH-E1-M2",
        "m_BATCH-E2-M1",
        "m_BATCH-E2-M2",
    ]
    assert [e.get("state") for e in stored[4:]] == ["delivered", "delivered", "read"]


async def test_typed_number_answers_the_numbered_menu(
    session: aiohttp.ClientSession,
    server: TestServer,
    channel: MessengerChannel,
    small_hub: SmallHub,
    graph: FakeGraph,
    psid: str,
) -> None:
    graph.open_window(psid)
    first = payload("text_ar.json", psid)
    assert (await post(session, server, first, signed(first, APP_SECRET)))[0] == 200
    buttons = tuple(Button(f"Option {i}", f'/inform{{"n":{i}}}') for i in range(1, 16))
    await channel.deliver(
        OutboundMessage(channel="messenger", recipient_id=psid, key="k", text="?", buttons=buttons)
    )
    answer = json.loads(first)
    message = answer["entry"][0]["messaging"][0]["message"]
    message["mid"] = f"m_{uuid.uuid4().hex}"
    message["text"] = "#15"
    raw = json.dumps(answer).encode()
    assert (await post(session, server, raw, signed(raw, APP_SECRET)))[0] == 200
    assert (await small_hub.stored_messages())[-1].payload == '/inform{"n":15}'


async def test_queue_down_is_503(
    session: aiohttp.ClientSession, server: TestServer, small_hub: SmallHub, psid: str
) -> None:
    small_hub.down = True
    body = payload("text_en.json", psid)
    status, _ = await post(session, server, body, signed(body, APP_SECRET))
    assert status == 503

"""The WhatsApp webhook routes on an aiohttp app with a real durable submit into real Redis:
the verify handshake, the signature on raw bytes, batching, the 24 h window recorded at
ingest, numbered answers and BSUID-only senders resolved before storing."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot.model import Button, OutboundMessage
from channels.meta.verify import sign
from channels.meta.window import MessagingWindow
from channels.whatsapp import WhatsAppChannel
from tests.channels.fakes.graph import FakeGraph
from tests.channels.fakes.graph_hub import SmallHub, load_payload, serve, signed
from tests.channels.whatsapp.conftest import APP_SECRET, PAYLOADS, VERIFY_TOKEN
from tests.channels.whatsapp.test_render import services

SARA = "966501234567"
SARA_BSUID = "SA.13491208655302741918"


@pytest.fixture
async def server(channel: WhatsAppChannel, small_hub: SmallHub) -> AsyncIterator[TestServer]:
    async with serve(channel, small_hub) as running:
        yield running


async def post(
    session: aiohttp.ClientSession, server: TestServer, body: bytes, headers: dict[str, str]
) -> tuple[int, dict[str, object]]:
    async with session.post(server.make_url("/webhooks/whatsapp"), data=body, headers=headers) as r:
        return r.status, await r.json()


def payload(name: str, user: str, *, fresh: bool = True, bsuid: str | None = None) -> bytes:
    replace = {SARA: user}
    if bsuid is not None:
        replace[SARA_BSUID] = bsuid
    return load_payload(PAYLOADS, name, fresh=fresh, replace=replace)


async def test_handshake_echoes_the_challenge_as_plain_text(
    session: aiohttp.ClientSession, server: TestServer
) -> None:
    params = {
        "hub.mode": "subscribe",
        "hub.verify_token": VERIFY_TOKEN,
        "hub.challenge": "1158201444",
    }
    async with session.get(server.make_url("/webhooks/whatsapp"), params=params) as resp:
        assert resp.status == 200
        assert resp.content_type == "text/plain"
        assert await resp.text() == "1158201444"


@pytest.mark.parametrize(
    "params",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"},
        {"hub.mode": "subscribe", "hub.challenge": "1"},
        {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN},
        {},
    ],
)
async def test_handshake_without_the_right_token_is_403(
    session: aiohttp.ClientSession, server: TestServer, params: dict[str, str]
) -> None:
    async with session.get(server.make_url("/webhooks/whatsapp"), params=params) as resp:
        assert resp.status == 403
        assert "1" not in await resp.text()


async def test_signed_message_is_stored_and_opens_the_window(
    session: aiohttp.ClientSession, server: TestServer, small_hub: SmallHub, wa_user: str
) -> None:
    body = payload("text_ar.json", wa_user)
    status, answer = await post(session, server, body, signed(body, APP_SECRET))
    assert (status, answer) == (200, {"ok": True, "events": 1})
    (stored,) = await small_hub.stored_messages()
    assert stored.user_id == wa_user
    assert stored.text == "السلام عليكم، في حفرة كبيرة في شارع الملك فهد"
    assert stored.contact.phone == f"+{wa_user}"
    assert await MessagingWindow(small_hub.redis, "whatsapp").is_open(wa_user)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Hub-Signature-256": "sha256=" + "0" * 64},
        {"X-Hub-Signature-256": "sha1=abc"},
        {"X-Hub-Signature-256": "sha256=not-hex-at-all-ولا"},
    ],
)
async def test_forged_or_missing_signature_is_403_and_nothing_is_stored(
    session: aiohttp.ClientSession,
    server: TestServer,
    small_hub: SmallHub,
    wa_user: str,
    headers: dict[str, str],
) -> None:
    body = payload("text_ar.json", wa_user)
    status, _ = await post(session, server, body, {"Content-Type": "application/json", **headers})
    assert status == 403
    assert await small_hub.stored() == []
    assert not await MessagingWindow(small_hub.redis, "whatsapp").is_open(wa_user)


async def test_signature_by_another_app_secret_is_403(
    session: aiohttp.ClientSession, server: TestServer, small_hub: SmallHub, wa_user: str
) -> None:
    body = payload("text_ar.json", wa_user)
    status, _ = await post(session, server, body, signed(body, "someone-elses-secret"))
    assert status == 403
    assert await small_hub.stored() == []


async def test_signature_covers_the_raw_bytes_not_the_json(
    session: aiohttp.ClientSession, server: TestServer, small_hub: SmallHub, wa_user: str
) -> None:
    escaped = payload("text_ar.json", wa_user)  # Meta's escaped unicode
    same_json = json.dumps(json.loads(escaped), ensure_ascii=False).encode()
    assert escaped != same_json
    status, _ = await post(
        session,
        server,
        escaped,
        {"X-Hub-Signature-256": sign(same_json, APP_SECRET), "Content-Type": "application/json"},
    )
    assert status == 403
    assert await small_hub.stored() == []


async def test_signed_garbage_is_400(
    session: aiohttp.ClientSession, server: TestServer, small_hub: SmallHub
) -> None:
    body = b'{"object": "page", "entry": []}'
    status, answer = await post(session, server, body, signed(body, APP_SECRET))
    assert status == 400
    assert "whatsapp_business_account" in str(answer["error"])
    assert await small_hub.stored() == []


async def test_one_webhook_delivered_three_times_is_stored_once(
    session: aiohttp.ClientSession, server: TestServer, small_hub: SmallHub, wa_user: str
) -> None:
    body = payload("image.json", wa_user)
    for _ in range(3):
        status, _ = await post(session, server, body, signed(body, APP_SECRET))
        assert status == 200
    assert len(await small_hub.stored()) == 1


async def test_batched_webhook_stores_every_event_in_order(
    session: aiohttp.ClientSession, server: TestServer, small_hub: SmallHub, wa_user: str
) -> None:
    body = payload("batched.json", wa_user)
    status, answer = await post(session, server, body, signed(body, APP_SECRET))
    assert (status, answer["events"]) == (200, 4)
    stored = await small_hub.stored_messages()
    assert [m.provider_message_id for m in stored] == [
        "wamid.BATCH-E1-M1",
        "wamid.BATCH-E1-M2",
        "wamid.BATCH-E2-M1",
        "wamid.BATCH-E2-M2",
    ]
    window = MessagingWindow(small_hub.redis, "whatsapp")
    assert await window.is_open(wa_user)


async def test_statuses_are_stored_but_open_no_window(
    session: aiohttp.ClientSession, server: TestServer, small_hub: SmallHub, wa_user: str
) -> None:
    body = payload("statuses.json", wa_user)
    status, answer = await post(session, server, body, signed(body, APP_SECRET))
    assert (status, answer["events"]) == (200, 4)
    stored = await small_hub.stored()
    assert [(e["kind"], e["state"]) for e in stored] == [
        ("status", "sent"),
        ("status", "delivered"),
        ("status", "read"),
        ("status", "failed"),
    ]
    assert not await MessagingWindow(small_hub.redis, "whatsapp").is_open(wa_user)


async def test_a_retried_day_old_message_opens_no_window(
    session: aiohttp.ClientSession, server: TestServer, small_hub: SmallHub, wa_user: str
) -> None:
    body = payload("text_en.json", wa_user, fresh=False).replace(b"447700900123", wa_user.encode())
    status, _ = await post(session, server, body, signed(body, APP_SECRET))
    assert status == 200
    assert len(await small_hub.stored()) == 1
    assert not await MessagingWindow(small_hub.redis, "whatsapp").is_open(wa_user)


async def test_queue_down_is_503_and_opens_no_window(
    session: aiohttp.ClientSession, server: TestServer, small_hub: SmallHub, wa_user: str
) -> None:
    small_hub.down = True
    body = payload("text_ar.json", wa_user)
    status, _ = await post(session, server, body, signed(body, APP_SECRET))
    assert status == 503
    assert not await MessagingWindow(small_hub.redis, "whatsapp").is_open(wa_user)


async def test_typed_number_answers_the_numbered_menu(
    session: aiohttp.ClientSession,
    server: TestServer,
    channel: WhatsAppChannel,
    small_hub: SmallHub,
    graph: FakeGraph,
    wa_user: str,
) -> None:
    graph.open_window(wa_user)
    first = payload("text_ar.json", wa_user)
    assert (await post(session, server, first, signed(first, APP_SECRET)))[0] == 200
    await channel.deliver(
        OutboundMessage(
            channel="whatsapp", recipient_id=wa_user, key="k1", text="اختر", buttons=services(12)
        )
    )
    answer = json.loads(payload("text_ar.json", wa_user))
    message = answer["entry"][0]["changes"][0]["value"]["messages"][0]
    message["id"] = f"wamid.{uuid.uuid4().hex}"
    message["text"]["body"] = "١٢"
    raw = json.dumps(answer).encode()
    assert (await post(session, server, raw, signed(raw, APP_SECRET)))[0] == 200
    stored = await small_hub.stored_messages()
    assert stored[-1].text == "١٢"
    assert stored[-1].payload == '/choose{"n":12}'


async def test_plain_number_without_a_menu_stays_text(
    session: aiohttp.ClientSession,
    server: TestServer,
    channel: WhatsAppChannel,
    small_hub: SmallHub,
    graph: FakeGraph,
    wa_user: str,
) -> None:
    graph.open_window(wa_user)
    first = payload("text_ar.json", wa_user)
    await post(session, server, first, signed(first, APP_SECRET))
    # A later question with buttons replaces any menu: "2" is then just text.
    await channel.deliver(
        OutboundMessage(
            channel="whatsapp",
            recipient_id=wa_user,
            key="k2",
            text="Rate us",
            buttons=(Button("Good", '/rate{"rating":5}'),),
        )
    )
    answer = json.loads(first)
    message = answer["entry"][0]["changes"][0]["value"]["messages"][0]
    message["id"] = f"wamid.{uuid.uuid4().hex}"
    message["text"]["body"] = "2"
    raw = json.dumps(answer).encode()
    await post(session, server, raw, signed(raw, APP_SECRET))
    assert (await small_hub.stored_messages())[-1].payload is None


async def test_username_user_keeps_the_conversation_of_their_phone(
    session: aiohttp.ClientSession, server: TestServer, small_hub: SmallHub, wa_user: str
) -> None:
    bsuid = f"SA.{uuid.uuid4().int % 10**20:020d}"
    known = payload("text_ar.json", wa_user, bsuid=bsuid)
    assert (await post(session, server, known, signed(known, APP_SECRET)))[0] == 200
    later = load_payload(
        PAYLOADS, "username_only.json", fresh=True, replace={"SA.82014470912213360112": bsuid}
    )
    assert (await post(session, server, later, signed(later, APP_SECRET)))[0] == 200
    first, second = await small_hub.stored_messages()
    assert second.user_id == wa_user == first.user_id
    assert second.contact.phone == f"+{wa_user}"
    assert second.contact.phone_verified is True
    assert dict(second.contact.ids) == {"user_id": bsuid, "wa_id": wa_user}


async def test_unknown_username_user_is_keyed_by_bsuid(
    session: aiohttp.ClientSession, server: TestServer, small_hub: SmallHub
) -> None:
    bsuid = f"SA.{uuid.uuid4().int % 10**20:020d}"
    body = load_payload(
        PAYLOADS, "username_only.json", fresh=True, replace={"SA.82014470912213360112": bsuid}
    )
    assert (await post(session, server, body, signed(body, APP_SECRET)))[0] == 200
    (stored,) = await small_hub.stored_messages()
    assert stored.user_id == bsuid
    assert stored.contact.phone is None
    assert await MessagingWindow(small_hub.redis, "whatsapp").is_open(bsuid)

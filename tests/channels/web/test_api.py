"""The JSON API against a real Redis and the hub's real ingest: conversations, messages,
history (reload), dedup, token secrecy, limits and errors."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import pytest

from bot import keys
from bot.errors import ConfigError
from channels.web import from_env
from channels.web.tokens import new_token
from tests.channels.web.conftest import StartHub
from tests.channels.web.support import WebHub, user_id
from tests.services import RedisServer

PAYLOADS = Path(__file__).with_name("payloads")


def payload(name: str) -> dict[str, object]:
    data: dict[str, object] = json.loads((PAYLOADS / name).read_text(encoding="utf-8"))
    return data


# --- conversations -------------------------------------------------------------------------


async def test_a_conversation_is_created_with_an_unguessable_token(web: WebHub) -> None:
    tokens = set()
    for _ in range(3):
        async with web.http.post("/webchat/api/conversations") as r:
            assert r.status == 201
            assert r.headers["Cache-Control"] == "no-store"
            body = await r.json()
        assert len(body["token"]) == 43  # 256 random bits, URL-safe
        assert body["language"] == "ar"  # Arabic unless the client says otherwise
        assert body["ttl"] == 7 * 24 * 3600
        tokens.add(body["token"])
    assert len(tokens) == 3


async def test_the_language_comes_from_the_body_or_accept_language(web: WebHub) -> None:
    async with web.http.post("/webchat/api/conversations", json={"language": "en"}) as r:
        assert (await r.json())["language"] == "en"
    headers = {"Accept-Language": "en-GB,en;q=0.9,ar;q=0.5"}
    async with web.http.post("/webchat/api/conversations", headers=headers) as r:
        assert (await r.json())["language"] == "en"
    async with web.http.post("/webchat/api/conversations", json={"language": "fr"}) as r:
        assert r.status == 400
        assert (await r.json())["error"] == "invalid_language"


# --- messages reach the hub ---------------------------------------------------------------


async def test_a_text_reaches_the_hub_queue_and_the_history(web: WebHub) -> None:
    token = await web.new_conversation()
    uid = user_id(token)
    body = payload("text_message.json")
    status, answer = await web.post(token, body)
    assert status == 202
    assert answer == {"seq": 1, "client_message_id": body["client_message_id"], "duplicate": False}

    [queued] = await web.inbound(uid)
    assert queued.channel == "web"
    assert queued.user_id == uid
    assert queued.conversation_id == f"web:{uid}"
    assert queued.provider_message_id == f"{uid}:{body['client_message_id']}"
    assert queued.text == body["text"]
    assert queued.payload is None
    assert queued.language_hint == "ar"
    assert dict(queued.contact.ids) == {"web": uid}

    history = await web.history(token)
    [entry] = history["messages"]
    assert entry["seq"] == 1 and history["last_seq"] == 1
    assert entry["role"] == "user"
    assert entry["text"] == body["text"]
    assert entry["client_message_id"] == body["client_message_id"]


async def test_a_button_tap_carries_its_payload_and_shows_its_title(web: WebHub) -> None:
    token = await web.new_conversation()
    body = payload("button_tap.json")
    status, _ = await web.post(token, body)
    assert status == 202
    [queued] = await web.inbound(user_id(token))
    assert queued.payload == '/inform{"service":"pothole"}'
    assert queued.text == "حفر وتلف الطرق"
    [entry] = (await web.history(token))["messages"]
    assert entry["text"] == "حفر وتلف الطرق"
    assert entry["payload"] == '/inform{"service":"pothole"}'


async def test_a_shared_location_is_a_map_pin(web: WebHub) -> None:
    token = await web.new_conversation()
    status, _ = await web.post(token, payload("location.json"))
    assert status == 202
    [queued] = await web.inbound(user_id(token))
    assert queued.location is not None
    assert (queued.location.lat, queued.location.long) == (26.43421, 50.10347)
    assert queued.text is None
    [entry] = (await web.history(token))["messages"]
    assert entry["location"] == {"lat": 26.43421, "long": 50.10347}


async def test_a_message_sent_three_times_is_one_message(web: WebHub) -> None:
    token = await web.new_conversation()
    body = payload("english_text.json")
    answers = [await web.post(token, body) for _ in range(3)]
    assert [status for status, _ in answers] == [202, 202, 202]
    assert [a["seq"] for _, a in answers] == [1, 1, 1]
    assert [a["duplicate"] for _, a in answers] == [False, True, True]
    assert len(await web.inbound(user_id(token))) == 1
    assert len((await web.history(token))["messages"]) == 1
    # A new id is a new message.
    await web.say(token, "another one")
    assert len(await web.inbound(user_id(token))) == 2


async def test_client_ids_of_two_conversations_never_collide(web: WebHub) -> None:
    first, second = await web.new_conversation(), await web.new_conversation()
    body = payload("greeting.json")  # the same client_message_id in both
    assert (await web.post(first, body))[0] == 202
    assert (await web.post(second, body))[0] == 202
    assert len(await web.inbound(user_id(first))) == 1
    assert len(await web.inbound(user_id(second))) == 1


async def test_a_message_without_id_gets_one(web: WebHub) -> None:
    token = await web.new_conversation()
    status, answer = await web.post(token, {"text": "hello"})
    assert status == 202
    assert len(answer["client_message_id"]) == 32
    [queued] = await web.inbound(user_id(token))
    assert queued.provider_message_id.endswith(answer["client_message_id"])


# --- history: a reload replays the conversation --------------------------------------------


async def test_a_reload_replays_both_sides_in_order(web: WebHub) -> None:
    from bot.model import Button, OutboundMessage

    token = await web.new_conversation()
    uid = user_id(token)
    await web.say(token, "أبغى أبلغ عن حفرة")
    await web.channel.deliver(
        OutboundMessage(
            channel="web",
            recipient_id=uid,
            key=f"{uid}:a:0",
            text="وش نوع البلاغ؟",
            buttons=(Button("حفر وتلف الطرق", '/inform{"service":"pothole"}'),),
        )
    )
    await web.post(token, payload("button_tap.json"))
    await web.channel.deliver(
        OutboundMessage(channel="web", recipient_id=uid, key=f"{uid}:b:0", text="صف المشكلة")
    )

    replay = await web.history(token)
    assert [m["seq"] for m in replay["messages"]] == [1, 2, 3, 4]
    assert [m["role"] for m in replay["messages"]] == ["user", "bot", "user", "bot"]
    assert replay["messages"][1]["buttons"] == [
        {"title": "حفر وتلف الطرق", "payload": '/inform{"service":"pothole"}'}
    ]
    assert replay["last_seq"] == 4
    # A client that saw up to 2 asks for the rest; paging with limit.
    rest = await web.history(token, after=2)
    assert [m["seq"] for m in rest["messages"]] == [3, 4]
    page = await web.history(token, after=0, limit=3)
    assert [m["seq"] for m in page["messages"]] == [1, 2, 3]
    assert page["last_seq"] == 3
    nothing = await web.history(token, after=4)
    assert nothing == {"messages": [], "last_seq": 4}


async def test_history_is_capped_and_expires(start_hub: StartHub) -> None:
    web = await start_hub(TAWASUL_WEB_HISTORY_MAX=5, TAWASUL_WEB_HISTORY_TTL=600)
    token = await web.new_conversation()
    for i in range(8):
        await web.say(token, f"message {i}")
    messages = (await web.history(token))["messages"]
    assert [m["seq"] for m in messages] == [4, 5, 6, 7, 8]  # the oldest trimmed
    uid = user_id(token)
    for suffix in ("meta", "history", "seq"):
        ttl = await web.redis.ttl(f"tawasul:web:{{{uid}}}:{suffix}")
        assert 590 <= ttl <= 600, suffix
    # Expired: the token stops working (the TTL made to run out now).
    for suffix in ("meta", "history", "seq"):
        await web.redis.pexpire(f"tawasul:web:{{{uid}}}:{suffix}", 1)
    await asyncio.sleep(0.05)
    status, answer = await web.post(token, {"text": "still there?"})
    assert status == 404 and answer["error"] == "not_found"


# --- tokens: one citizen never reads another's conversation ------------------------------


async def test_unknown_and_malformed_tokens_are_404_everywhere(web: WebHub) -> None:
    real = await web.new_conversation()
    await web.say(real, "my private report")
    uid = user_id(real)
    candidates = [
        new_token(),  # well-formed, never issued
        real[:-1] + ("A" if real[-1] != "A" else "B"),  # one character off
        uid,  # the user id (what logs and tickets show) is no token
        "x" * 43 + "y",
        "..",
    ]
    for token in candidates:
        base = f"/webchat/api/conversations/{token}"
        for method, path in (
            ("GET", "/messages"),
            ("POST", "/messages"),
            ("GET", "/ws"),
            ("GET", f"/media/{uid}-{'0' * 32}"),
        ):
            body = {"text": "hi"} if method == "POST" else None
            async with web.http.request(method, base + path, json=body) as r:
                assert r.status == 404, (token, path, r.status)
                if r.content_type == "application/json":
                    assert (await r.json())["error"] == "not_found"


async def test_the_token_is_never_stored_or_passed_on(web: WebHub) -> None:
    token = await web.new_conversation()
    await web.say(token, "hello")
    [queued] = await web.inbound(user_id(token))
    assert token not in queued.to_json()
    async for key in web.redis.scan_iter(match="*"):
        assert token.encode() not in key
    for key in [k async for k in web.redis.scan_iter(match=f"*{user_id(token)}*")]:
        if await web.redis.type(key) == b"string":
            assert token.encode() not in (await web.redis.get(key) or b"")


# --- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"not json", "invalid_body"),
        (b"[1, 2]", "invalid_body"),
        (b'"text"', "invalid_body"),
        (b"\xff\xfe", "invalid_body"),
        (b"{}", "empty_message"),
        (b'{"text": "   "}', "empty_message"),
        (b'{"text": 5}', "invalid_text"),
        (b'{"payload": "inform"}', "invalid_payload"),
        (b'{"location": {"lat": 91, "long": 50}}', "invalid_location"),
        (b'{"location": {"lat": true, "long": 50}}', "invalid_location"),
        (b'{"location": {"lat": "26.4", "long": 50}}', "invalid_location"),
        (b'{"location": [26.4, 50.1]}', "invalid_location"),
        (b'{"text": "hi", "client_message_id": "has space"}', "invalid_client_message_id"),
        (b'{"text": "hi", "client_message_id": 7}', "invalid_client_message_id"),
        (b'{"text": "hi", "language": "de"}', "invalid_language"),
    ],
)
async def test_bad_messages_are_400_with_a_reason(web: WebHub, body: bytes, error: str) -> None:
    token = await web.new_conversation()
    path = f"/webchat/api/conversations/{token}/messages"
    headers = {"Content-Type": "application/json", "Accept-Language": "en"}
    async with web.http.post(path, data=body, headers=headers) as r:
        assert r.status == 400
        answer = await r.json()
    assert answer["error"] == error
    assert answer["message"]
    assert await web.inbound(user_id(token)) == []
    assert (await web.history(token))["messages"] == []


async def test_error_messages_follow_accept_language(web: WebHub) -> None:
    token = new_token()
    path = f"/webchat/api/conversations/{token}/messages"
    async with web.http.get(path) as r:  # no Accept-Language: Arabic
        assert (await r.json())[
            "message"
        ] == "المحادثة غير موجودة (رمز غير معروف أو منتهي الصلاحية)."
    async with web.http.get(path, headers={"Accept-Language": "en-US"}) as r:
        assert (await r.json())["message"].startswith("Conversation not found")


async def test_too_long_text_wrong_type_and_big_bodies(start_hub: StartHub) -> None:
    web = await start_hub(TAWASUL_WEB_MAX_TEXT=50, TAWASUL_WEB_MAX_BODY=400)
    token = await web.new_conversation()
    path = f"/webchat/api/conversations/{token}/messages"
    status, answer = await web.post(token, {"text": "ب" * 51})
    assert (status, answer["error"]) == (400, "invalid_text")
    assert "50" in answer["message"]
    status, answer = await web.post(token, {"text": "ب" * 50})
    assert status == 202
    async with web.http.post(path, data=b'{"text": "hi"}') as r:  # no JSON content type
        assert r.status == 415
        assert (await r.json())["error"] == "unsupported_media_type"
    big = json.dumps({"text": "hi", "pad": "x" * 500}).encode()
    headers = {"Content-Type": "application/json"}
    async with web.http.post(path, data=big, headers=headers) as r:
        assert r.status == 413
        assert (await r.json())["error"] == "body_too_large"

    async def chunked() -> object:  # no Content-Length: the limit still holds
        for _ in range(10):
            yield b"x" * 100

    async with web.http.post(path, data=chunked(), headers=headers) as r:
        assert r.status == 413


@pytest.mark.parametrize("query", ["after=-1", "after=x", "limit=0", "limit=501", "limit=2.5"])
async def test_bad_history_queries_are_400(web: WebHub, query: str) -> None:
    token = await web.new_conversation()
    async with web.http.get(f"/webchat/api/conversations/{token}/messages?{query}") as r:
        assert r.status == 400
        assert (await r.json())["error"] == "invalid_query"


# --- rate limits ----------------------------------------------------------------------------


async def test_messages_per_conversation_are_limited(start_hub: StartHub) -> None:
    web = await start_hub(TAWASUL_WEB_RATE_MESSAGES=3)
    token, other = await web.new_conversation(), await web.new_conversation()
    for i in range(3):
        await web.say(token, f"m{i}")
    status, answer = await web.post(token, {"text": "one too many"})
    assert status == 429
    assert answer["error"] == "rate_limited"
    path = f"/webchat/api/conversations/{token}/messages"
    async with web.http.post(path, json={"text": "again"}) as r:
        assert r.status == 429
        assert 1 <= int(r.headers["Retry-After"]) <= 60
    assert len(await web.inbound(user_id(token))) == 3
    await web.say(other, "another conversation is not limited")


async def test_new_conversations_per_ip_are_limited(start_hub: StartHub) -> None:
    web = await start_hub(TAWASUL_WEB_RATE_CONVERSATIONS=2)
    await web.new_conversation()
    await web.new_conversation()
    async with web.http.post("/webchat/api/conversations") as r:
        assert r.status == 429
        assert (await r.json())["error"] == "rate_limited"
    other_ip = {"X-Forwarded-For": "192.0.2.77, 10.99.1.1"}  # the last hop is the client
    async with web.http.post("/webchat/api/conversations", headers=other_ip) as r:
        assert r.status == 201


async def test_all_requests_per_ip_are_limited(start_hub: StartHub) -> None:
    web = await start_hub(TAWASUL_WEB_RATE_IP=4)
    token = await web.new_conversation()
    for _ in range(3):
        await web.history(token)
    async with web.http.get(f"/webchat/api/conversations/{token}/messages") as r:
        assert r.status == 429
    # The page itself is not an API call.
    async with web.http.get("/chat") as r:
        assert r.status == 200


async def test_without_a_trusted_proxy_the_peer_address_counts(start_hub: StartHub) -> None:
    web = await start_hub(TAWASUL_WEB_TRUST_PROXY=0, TAWASUL_WEB_RATE_CONVERSATIONS=1)
    async for key in web.redis.scan_iter(match="tawasul:web:rl:new:127.0.0.1:*"):
        await web.redis.delete(key)  # other tests' conversations from this address
    spoof = str(uuid.uuid4())
    await web.new_conversation()
    async with web.http.post("/webchat/api/conversations", headers={"X-Forwarded-For": spoof}) as r:
        assert r.status == 429  # the header is ignored: still 127.0.0.1


# --- Redis down -----------------------------------------------------------------------------


async def test_redis_down_is_503_and_a_retry_afterwards_is_one_message(
    tmp_path: Path,
) -> None:
    server = RedisServer(tmp_path / "redis")
    server.start()
    web = await WebHub(server.url).start()
    try:
        token = await web.new_conversation()
        server.stop()
        body = {"text": "is anyone there?", "client_message_id": "retry-1"}
        status, answer = await web.post(token, body)
        assert status == 503
        assert answer["error"] == "unavailable"
        server.start()  # same port, same data (append-only file)
        await web.redis.ping()
        status, answer = await web.post(token, body)
        assert status == 202
        assert len(await web.inbound(user_id(token))) == 1
        assert len((await web.history(token))["messages"]) == 1
    finally:
        await web.stop()
        server.stop()


# --- configuration --------------------------------------------------------------------------


def test_the_channel_is_on_without_configuration_and_can_be_switched_off() -> None:
    assert from_env({}) is not None
    for off in ("0", "false", "off", "no"):
        assert from_env({"TAWASUL_WEB_ENABLED": off}) is None
    assert from_env({"TAWASUL_WEB_ENABLED": "1"}) is not None


@pytest.mark.parametrize("value", ["abc", "0", "-5", "1.5"])
def test_a_bad_limit_is_a_config_error(value: str) -> None:
    with pytest.raises(ConfigError, match="TAWASUL_WEB_RATE_MESSAGES"):
        from_env({"TAWASUL_WEB_RATE_MESSAGES": value})


async def test_the_inbound_stream_is_the_hubs(web: WebHub) -> None:
    """What the API enqueues is announced on the hub's shared work stream."""
    token = await web.new_conversation()
    before = await web.redis.xlen(keys.WORK)
    await web.say(token, "hi")
    assert await web.redis.xlen(keys.WORK) == before + 1

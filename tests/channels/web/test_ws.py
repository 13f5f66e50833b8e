"""The WebSocket: backlog, then live pushes, from whichever hub process delivers."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp

from bot.model import OutboundMessage
from channels.web import push
from tests.channels.web.conftest import StartHub
from tests.channels.web.support import WebHub, user_id
from tests.services import RedisServer

WAIT = 5.0


async def receive(ws: aiohttp.ClientWebSocketResponse, within: float = WAIT) -> dict[str, Any]:
    frame: dict[str, Any] = await asyncio.wait_for(ws.receive_json(), within)
    return frame


async def receive_messages(ws: aiohttp.ClientWebSocketResponse, count: int) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    while len(messages) < count:
        frame = await receive(ws)
        if frame["type"] == "message":
            messages.append(frame["message"])
    return messages


def text_reply(uid: str, key: str, text: str) -> OutboundMessage:
    return OutboundMessage(channel="web", recipient_id=uid, key=key, text=text)


async def test_backlog_then_ready_then_live_replies(web: WebHub) -> None:
    token = await web.new_conversation()
    uid = user_id(token)
    await web.say(token, "one")
    await web.channel.deliver(text_reply(uid, "k:0", "two"))
    await web.say(token, "three")
    async with web.http.ws_connect(f"/webchat/api/conversations/{token}/ws?after=1") as ws:
        backlog = [await receive(ws), await receive(ws)]
        assert [f["message"]["seq"] for f in backlog] == [2, 3]
        assert [f["message"]["text"] for f in backlog] == ["two", "three"]
        assert await receive(ws) == {"type": "ready", "last_seq": 3}
        await web.channel.deliver(text_reply(uid, "k:1", "four"))
        live = await receive(ws)
        assert live["type"] == "message"
        assert live["message"]["seq"] == 4 and live["message"]["role"] == "bot"
        # The citizen's own messages (from another tab) come too.
        await web.say(token, "five")
        assert (await receive(ws))["message"]["text"] == "five"


async def test_a_reply_delivered_by_another_hub_process_is_pushed(start_hub: StartHub) -> None:
    holder, deliverer = await start_hub(), await start_hub()  # two processes, one Redis
    token = await holder.new_conversation()
    uid = user_id(token)
    async with holder.http.ws_connect(f"/webchat/api/conversations/{token}/ws") as ws:
        assert await receive(ws) == {"type": "ready", "last_seq": 0}
        for i in range(5):
            await deliverer.channel.deliver(text_reply(uid, f"k:{i}", f"reply {i}"))
        messages = await receive_messages(ws, 5)
    assert [m["text"] for m in messages] == [f"reply {i}" for i in range(5)]
    assert [m["seq"] for m in messages] == [1, 2, 3, 4, 5]


async def test_two_sockets_of_one_conversation_both_get_replies(web: WebHub) -> None:
    token = await web.new_conversation()
    path = f"/webchat/api/conversations/{token}/ws"
    async with web.http.ws_connect(path) as a, web.http.ws_connect(path) as b:
        await receive(a), await receive(b)  # ready
        await web.channel.deliver(text_reply(user_id(token), "k:0", "hello both"))
        assert (await receive(a))["message"]["text"] == "hello both"
        assert (await receive(b))["message"]["text"] == "hello both"


async def test_no_reply_of_another_conversation_leaks(web: WebHub) -> None:
    mine, theirs = await web.new_conversation(), await web.new_conversation()
    async with web.http.ws_connect(f"/webchat/api/conversations/{mine}/ws") as ws:
        await receive(ws)
        await web.channel.deliver(text_reply(user_id(theirs), "k:0", "their secret"))
        await web.channel.deliver(text_reply(user_id(mine), "k:1", "mine"))
        assert (await receive(ws))["message"]["text"] == "mine"


async def test_ping_is_answered(web: WebHub) -> None:
    token = await web.new_conversation()
    async with web.http.ws_connect(f"/webchat/api/conversations/{token}/ws") as ws:
        await receive(ws)
        await ws.send_str("not json")
        await ws.send_json({"type": "ping"})
        assert await receive(ws) == {"type": "pong"}


async def test_sockets_per_conversation_are_limited(start_hub: StartHub) -> None:
    web = await start_hub(TAWASUL_WEB_MAX_SOCKETS=2)
    token = await web.new_conversation()
    path = f"/webchat/api/conversations/{token}/ws"
    async with web.http.ws_connect(path) as a, web.http.ws_connect(path) as b:
        await receive(a), await receive(b)
        async with web.http.get(path) as r:  # a third upgrade is refused before the upgrade
            assert r.status == 429
            assert (await r.json())["error"] == "too_many_sockets"
    # Closed sockets free their places.
    await asyncio.sleep(0.1)
    async with web.http.ws_connect(path) as c:
        assert (await receive(c))["type"] == "ready"


async def test_pushes_resume_after_redis_restarts(tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "redis")
    server.start()
    web = await WebHub(server.url).start()
    try:
        token = await web.new_conversation()
        uid = user_id(token)
        async with web.http.ws_connect(f"/webchat/api/conversations/{token}/ws") as ws:
            assert (await receive(ws))["type"] == "ready"
            server.stop()
            await asyncio.sleep(0.5)
            server.start()  # same port, same data
            deadline = asyncio.get_running_loop().time() + 20
            while True:  # the hub's sender would retry a TransientSendError the same way
                try:
                    await web.channel.deliver(text_reply(uid, "k:0", "after the restart"))
                    break
                except Exception:
                    assert asyncio.get_running_loop().time() < deadline
                    await asyncio.sleep(0.2)
            # Well before the socket's own poll: the relay re-subscribed and woke it.
            frame = await receive(ws, within=push.POLL_INTERVAL / 2)
            assert frame["message"]["text"] == "after the restart"
    finally:
        await web.stop()
        server.stop()


async def test_shutdown_closes_sockets_going_away(start_hub: StartHub) -> None:
    web = await start_hub()
    token = await web.new_conversation()
    async with web.http.ws_connect(f"/webchat/api/conversations/{token}/ws") as ws:
        await receive(ws)
        assert web.runner is not None
        await web.runner.shutdown()
        closing = await asyncio.wait_for(ws.receive(), WAIT)
        assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        assert ws.close_code == aiohttp.WSCloseCode.GOING_AWAY

"""Messenger replies through the fake Graph API: bodies pass the fake's checks, the right
``messaging_type`` inside / outside the 24 h window (§2.3-2.4), error mapping, resuming."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from aiohttp import web

from bot.errors import PermanentSendError, RetryAfter, TransientSendError
from bot.model import Button, InboundMessage, OutboundMessage
from channels.messenger import MessengerChannel, from_env
from tests.channels.fakes.graph import FakeGraph
from tests.channels.fakes.graph_hub import SmallHub
from tests.channels.messenger.conftest import env_for


async def citizen_wrote(small_hub: SmallHub, graph: FakeGraph, psid: str, age: float = 0.0) -> None:
    inbound = InboundMessage(
        channel="messenger",
        provider_message_id=f"m_{uuid.uuid4().hex}",
        user_id=psid,
        timestamp=time.time() - age,
    )
    await small_hub.submit([inbound])  # the hub records the time it wrote
    graph.open_window(psid)


def reply(psid: str, *, in_reply: bool = True, **kwargs: Any) -> OutboundMessage:
    context = {"mid": f"m_{uuid.uuid4().hex}"} if in_reply else {}
    return OutboundMessage(
        channel="messenger",
        recipient_id=psid,
        key=f"m_in:{uuid.uuid4().hex}:0",
        reply_context=context,
        **kwargs,
    )


async def test_reply_inside_the_window_is_a_response_with_the_page_token(
    wired: MessengerChannel, small_hub: SmallHub, graph: FakeGraph, psid: str
) -> None:
    await citizen_wrote(small_hub, graph, psid)
    await wired.deliver(reply(psid, text="أهلاً بك", buttons=(Button("بلاغ", "/report_issue"),)))
    (call,) = [c for c in graph.calls if c.method == "POST"]
    assert call.path == f"/{graph.version}/me/messages"
    assert call.headers["Authorization"] == f"Bearer {graph.page_token}"
    assert "access_token" not in call.query  # the token never travels in the URL
    assert call.status == 200
    assert call.body == {
        "recipient": {"id": psid},
        "messaging_type": "RESPONSE",
        "message": {
            "text": "أهلاً بك",
            "quick_replies": [
                {"content_type": "text", "title": "بلاغ", "payload": "/report_issue"}
            ],
        },
    }


async def test_proactive_update_inside_the_window_is_an_update(
    wired: MessengerChannel, small_hub: SmallHub, graph: FakeGraph, psid: str
) -> None:
    await citizen_wrote(small_hub, graph, psid)
    await wired.deliver(reply(psid, in_reply=False, text="Your report was assigned"))
    (body,) = graph.sent("messenger")
    assert body["messaging_type"] == "UPDATE"


async def test_outside_the_window_without_a_tag_is_refused_without_calling_graph(
    wired: MessengerChannel, small_hub: SmallHub, graph: FakeGraph, psid: str
) -> None:
    await citizen_wrote(small_hub, graph, psid, age=30 * 3600)
    with pytest.raises(PermanentSendError, match="outside the 24 h window"):
        await wired.deliver(reply(psid, in_reply=False, text="Closed"))
    assert graph.calls == []


async def test_outside_the_window_the_configured_tag_is_used(
    graph: FakeGraph, small_hub: SmallHub, psid: str
) -> None:
    channel = from_env(env_for(graph, TAWASUL_MESSENGER_OUTSIDE_WINDOW_TAG="account_update"))
    assert channel is not None
    channel.setup(web.Application(), small_hub)
    await channel.deliver(reply(psid, in_reply=False, text="Your report 4819302 was closed"))
    (body,) = graph.sent("messenger")
    assert body["messaging_type"] == "MESSAGE_TAG"
    assert body["tag"] == "ACCOUNT_UPDATE"


async def test_graph_outside_window_error_is_permanent(
    wired: MessengerChannel, small_hub: SmallHub, graph: FakeGraph, psid: str
) -> None:
    await citizen_wrote(small_hub, graph, psid)
    graph.close_window(psid)
    with pytest.raises(PermanentSendError, match="code 10/2018278"):
        await wired.deliver(reply(psid, text="hello"))


@pytest.mark.parametrize("count", [1, 13, 15])
async def test_quick_reply_counts_are_accepted(
    wired: MessengerChannel, small_hub: SmallHub, graph: FakeGraph, psid: str, count: int
) -> None:
    await citizen_wrote(small_hub, graph, psid)
    buttons = tuple(Button(f"Choice number {i} here", f'/c{{"n":{i}}}') for i in range(count))
    await wired.deliver(reply(psid, text="Pick one", buttons=buttons, language="en"))
    (body,) = graph.sent("messenger")
    assert len(body["message"]["quick_replies"]) == min(count, 13)
    stored = await small_hub.redis.get(f"tawasul:messenger:menu:{psid}")
    assert (stored is not None) == (count > 13)


async def test_image_location_request_and_long_text_are_accepted(
    wired: MessengerChannel, small_hub: SmallHub, graph: FakeGraph, psid: str
) -> None:
    await citizen_wrote(small_hub, graph, psid)
    await wired.deliver(reply(psid, text="Map", image_url="https://example.org/map.png"))
    await wired.deliver(reply(psid, text="Where is it?", request_location=True, language="en"))
    await wired.deliver(reply(psid, text=" ".join(f"word{i}" for i in range(900))))
    sent = [b["message"] for b in graph.sent("messenger")]
    assert sent[0]["attachment"]["payload"]["url"] == "https://example.org/map.png"
    assert sent[1] == {"text": "Map"}
    assert sent[2]["text"].startswith("Where is it?\n\n")
    assert len(sent) == 3 + 4
    assert all(len(m["text"]) <= 2000 for m in sent[1:])


async def test_rate_limit_and_server_errors(
    wired: MessengerChannel, small_hub: SmallHub, graph: FakeGraph, psid: str
) -> None:
    await citizen_wrote(small_hub, graph, psid)
    graph.fail_next(
        status=400, code=613, message="(#613) Calls to this api have exceeded the rate limit."
    )
    with pytest.raises(RetryAfter) as caught:
        await wired.deliver(reply(psid, text="a"))
    assert caught.value.seconds == 60.0
    graph.fail_next(
        status=429, code=4, message="(#4) Application request limit reached", retry_after="30"
    )
    with pytest.raises(RetryAfter) as caught:
        await wired.deliver(reply(psid, text="b"))
    assert caught.value.seconds == 30.0
    graph.fail_next(status=500, code=2, message="An unexpected error has occurred.")
    with pytest.raises(TransientSendError):
        await wired.deliver(reply(psid, text="c"))
    graph.fail_next(status=400, code=551, message="(#551) This person isn't available right now.")
    with pytest.raises(PermanentSendError, match="551"):
        await wired.deliver(reply(psid, text="d"))


async def test_retried_reply_resumes_where_it_failed(
    wired: MessengerChannel, small_hub: SmallHub, graph: FakeGraph, psid: str
) -> None:
    await citizen_wrote(small_hub, graph, psid)
    message = reply(psid, text="Photo", image_url="https://example.org/p.png")
    graph.fail_next(status=500, after=1)
    with pytest.raises(TransientSendError):
        await wired.deliver(message)
    await wired.deliver(message)
    await wired.deliver(message)
    sent = [b["message"] for b in graph.sent("messenger")]
    assert [("attachment" in m, m.get("text")) for m in sent] == [(True, None), (False, "Photo")]

"""WhatsApp replies through the fake Graph API: every body passes the fake's checks; the 24 h
window, templates, error mapping (protocols.md §1.11) and resuming a half-sent reply."""

from __future__ import annotations

import json
import logging
import time
import uuid
from typing import Any

import pytest
from aiohttp import web

from bot.errors import PermanentSendError, RetryAfter, TransientSendError
from bot.model import Button, InboundMessage, OutboundMessage
from channels.whatsapp import WhatsAppChannel, from_env
from channels.whatsapp.render import render
from tests.channels.fakes.graph import FakeGraph
from tests.channels.fakes.graph_hub import SmallHub
from tests.channels.whatsapp.conftest import env_for
from tests.channels.whatsapp.test_render import services


async def citizen_wrote(small_hub: SmallHub, graph: FakeGraph, user: str, age: float = 0.0) -> None:
    """``user`` wrote ``age`` seconds ago: our window record and Meta's."""
    inbound = InboundMessage(
        channel="whatsapp",
        provider_message_id=f"wamid.{uuid.uuid4().hex}",
        user_id=user,
        timestamp=time.time() - age,
    )
    await small_hub.submit([inbound])  # the hub records the time it wrote
    graph.open_window(user)


def reply(user: str, **kwargs: Any) -> OutboundMessage:
    return OutboundMessage(
        channel="whatsapp", recipient_id=user, key=f"wamid.in:{uuid.uuid4().hex}:0", **kwargs
    )


def message_calls(graph: FakeGraph) -> list[Any]:
    return [c for c in graph.calls if c.method == "POST"]


async def test_text_reply_goes_to_the_number_with_the_token(
    wired: WhatsAppChannel, small_hub: SmallHub, graph: FakeGraph, wa_user: str
) -> None:
    await citizen_wrote(small_hub, graph, wa_user)
    await wired.deliver(reply(wa_user, text="تم استلام بلاغك"))
    (call,) = message_calls(graph)
    assert call.path == f"/{graph.version}/{graph.phone_number_id}/messages"
    assert call.headers["Authorization"] == f"Bearer {graph.wa_token}"
    assert call.status == 200
    assert call.body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": wa_user,
        "type": "text",
        "text": {"body": "تم استلام بلاغك", "preview_url": False},
    }


@pytest.mark.parametrize("count", [1, 3, 4, 10, 12])
async def test_every_button_count_is_accepted_by_graph(
    wired: WhatsAppChannel, small_hub: SmallHub, graph: FakeGraph, wa_user: str, count: int
) -> None:
    await citizen_wrote(small_hub, graph, wa_user)
    await wired.deliver(reply(wa_user, text="ما نوع البلاغ؟", buttons=services(count)))
    sent = graph.sent("whatsapp")
    assert all(c.status == 200 for c in message_calls(graph))
    kinds = [b["interactive"]["type"] if b["type"] == "interactive" else b["type"] for b in sent]
    expected = {1: ["button"], 3: ["button"], 4: ["list"], 10: ["list"], 12: ["list", "text"]}
    assert kinds == expected[count]


async def test_location_request_image_and_long_text_are_accepted(
    wired: WhatsAppChannel, small_hub: SmallHub, graph: FakeGraph, wa_user: str
) -> None:
    await citizen_wrote(small_hub, graph, wa_user)
    await wired.deliver(reply(wa_user, text="Where is it?", request_location=True, language="en"))
    await wired.deliver(reply(wa_user, text="Map", image_url="https://example.org/map.png"))
    await wired.deliver(reply(wa_user, text=("نص طويل جداً " * 800).strip()))
    sent = graph.sent("whatsapp")
    assert sent[0]["interactive"]["type"] == "location_request_message"
    assert sent[1]["image"] == {"link": "https://example.org/map.png", "caption": "Map"}
    assert [b["type"] for b in sent[2:]] == ["text", "text", "text"]
    assert all(len(b["text"]["body"]) <= 4096 for b in sent[2:])


async def test_username_user_is_answered_by_bsuid(
    wired: WhatsAppChannel, small_hub: SmallHub, graph: FakeGraph
) -> None:
    bsuid = f"SA.{uuid.uuid4().int % 10**20:020d}"
    await citizen_wrote(small_hub, graph, bsuid)
    await wired.deliver(reply(bsuid, text="أهلاً"))
    (body,) = graph.sent("whatsapp")
    assert body["recipient"] == bsuid
    assert "to" not in body


async def test_free_form_outside_the_window_is_refused_without_calling_graph(
    wired: WhatsAppChannel, small_hub: SmallHub, graph: FakeGraph, wa_user: str
) -> None:
    await citizen_wrote(small_hub, graph, wa_user, age=25 * 3600)  # too old: no window recorded
    with pytest.raises(PermanentSendError, match="outside the 24 h window"):
        await wired.deliver(reply(wa_user, text="Your report was closed"))
    assert graph.calls == []


async def test_window_closing_within_a_minute_counts_as_closed(
    wired: WhatsAppChannel, small_hub: SmallHub, graph: FakeGraph, wa_user: str
) -> None:
    await citizen_wrote(small_hub, graph, wa_user, age=24 * 3600 - 30)
    with pytest.raises(PermanentSendError):
        await wired.deliver(reply(wa_user, text="late"))


async def test_outside_the_window_the_configured_template_goes_out(
    wired: WhatsAppChannel, graph: FakeGraph, wa_user: str
) -> None:
    graph.register_template("tawasul_ticket_update", ["ar", "en"], body_params=2, quick_replies=2)
    await wired.deliver(
        reply(
            wa_user,
            text="تم إغلاق بلاغك رقم 4819302",
            template="ticket_update",
            template_params=("4819302", "مغلق"),
        )
    )
    (body,) = graph.sent("whatsapp")
    assert body["type"] == "template"
    assert body["template"]["name"] == "tawasul_ticket_update"
    assert body["template"]["language"] == {"code": "ar"}
    assert body["template"]["components"][2]["parameters"] == [
        {"type": "payload", "payload": '/follow_up{"ticket_id":"4819302"}'}
    ]


async def test_inside_the_window_the_text_wins_over_the_template(
    wired: WhatsAppChannel, small_hub: SmallHub, graph: FakeGraph, wa_user: str
) -> None:
    await citizen_wrote(small_hub, graph, wa_user)
    await wired.deliver(
        reply(wa_user, text="Closed", template="ticket_update", template_params=("1", "closed"))
    )
    (body,) = graph.sent("whatsapp")
    assert body["type"] == "text"


async def test_unknown_template_is_permanent(wired: WhatsAppChannel, wa_user: str) -> None:
    with pytest.raises(PermanentSendError, match="not configured"):
        await wired.deliver(reply(wa_user, template="no_such_template"))


async def test_template_unknown_at_meta_is_permanent(
    wired: WhatsAppChannel, graph: FakeGraph, wa_user: str
) -> None:
    # Configured here but never approved at Meta: Graph answers 132001.
    with pytest.raises(PermanentSendError, match="132001"):
        await wired.deliver(reply(wa_user, template="ticket_update", template_params=("1", "open")))


async def test_graph_window_refusal_131047_is_permanent(
    wired: WhatsAppChannel, small_hub: SmallHub, graph: FakeGraph, wa_user: str
) -> None:
    await citizen_wrote(small_hub, graph, wa_user)
    graph.close_window(wa_user)  # our record says open, Meta disagrees
    with pytest.raises(PermanentSendError, match="131047"):
        await wired.deliver(reply(wa_user, text="hello"))


async def test_429_becomes_retry_after_with_the_providers_delay(
    wired: WhatsAppChannel, small_hub: SmallHub, graph: FakeGraph, wa_user: str
) -> None:
    await citizen_wrote(small_hub, graph, wa_user)
    graph.fail_next(status=429, code=130429, message="(#130429) Rate limit hit", retry_after="12")
    with pytest.raises(RetryAfter) as caught:
        await wired.deliver(reply(wa_user, text="hello"))
    assert caught.value.seconds == 12.0


async def test_pair_rate_limit_131056_backs_off(
    wired: WhatsAppChannel, small_hub: SmallHub, graph: FakeGraph, wa_user: str
) -> None:
    await citizen_wrote(small_hub, graph, wa_user)
    graph.fail_next(status=400, code=131056, message="(#131056) Pair rate limit hit")
    with pytest.raises(RetryAfter) as caught:
        await wired.deliver(reply(wa_user, text="hello"))
    assert caught.value.seconds == 6.0


async def test_5xx_is_transient(
    wired: WhatsAppChannel, small_hub: SmallHub, graph: FakeGraph, wa_user: str
) -> None:
    await citizen_wrote(small_hub, graph, wa_user)
    graph.fail_next(status=500, code=131000)
    with pytest.raises(TransientSendError) as caught:
        await wired.deliver(reply(wa_user, text="hello"))
    assert not isinstance(caught.value, RetryAfter)


async def test_timeout_is_transient(
    wired: WhatsAppChannel, small_hub: SmallHub, graph: FakeGraph, wa_user: str
) -> None:
    await citizen_wrote(small_hub, graph, wa_user)
    graph.fail_next(delay=2.5)  # the channel's timeout is 2 s
    started = time.monotonic()
    with pytest.raises(TransientSendError, match="Timeout"):
        await wired.deliver(reply(wa_user, text="hello"))
    assert time.monotonic() - started < 2.4


async def test_rejected_token_is_permanent_and_logged_loudly(
    graph: FakeGraph, small_hub: SmallHub, wa_user: str, caplog: pytest.LogCaptureFixture
) -> None:
    channel = from_env(env_for(graph, TAWASUL_WHATSAPP_ACCESS_TOKEN="expired-token"))
    assert channel is not None
    channel.setup(web.Application(), small_hub)
    await citizen_wrote(small_hub, graph, wa_user)
    with caplog.at_level(logging.WARNING), pytest.raises(PermanentSendError, match="code 190"):
        await channel.deliver(reply(wa_user, text="hello"))
    assert any(r.levelname == "ERROR" and "rotate" in r.getMessage() for r in caplog.records)
    assert wa_user not in caplog.text  # the number is masked in logs


async def test_retried_reply_resumes_where_it_failed(
    wired: WhatsAppChannel, small_hub: SmallHub, graph: FakeGraph, wa_user: str
) -> None:
    await citizen_wrote(small_hub, graph, wa_user)
    text = "\n\n".join(
        f"الفقرة {i}: " + " ".join(f"كلمة{i}-{j}" for j in range(400)) for i in range(2)
    )
    message = reply(wa_user, text=text, buttons=(Button("نعم", "/affirm"),))
    parts = len(render(message).parts)
    assert parts >= 3
    graph.fail_next(status=503, code=2, message="Service temporarily unavailable", after=1)
    with pytest.raises(TransientSendError):
        await wired.deliver(message)
    assert len(graph.sent("whatsapp")) == 1
    await wired.deliver(message)  # the hub's retry
    sent = graph.sent("whatsapp")
    assert len(sent) == parts
    bodies = [json.dumps(b, ensure_ascii=False) for b in sent]
    assert len(set(bodies)) == parts  # nothing went out twice
    assert sent[-1]["type"] == "interactive"
    await wired.deliver(message)  # a duplicate delivery of a finished reply sends nothing
    assert len(graph.sent("whatsapp")) == parts


async def test_numbered_menu_is_remembered_and_replaced(
    wired: WhatsAppChannel, small_hub: SmallHub, graph: FakeGraph, wa_user: str
) -> None:
    await citizen_wrote(small_hub, graph, wa_user)
    key = f"tawasul:whatsapp:menu:{wa_user}"
    await wired.deliver(reply(wa_user, text="Choose", buttons=services(12)))
    stored = await small_hub.redis.get(key)
    assert stored is not None
    assert json.loads(stored)[11] == '/choose{"n":12}'
    await wired.deliver(reply(wa_user, text="Sure?", buttons=(Button("Yes", "/affirm"),)))
    assert await small_hub.redis.get(key) is None

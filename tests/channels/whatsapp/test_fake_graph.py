"""The fake Graph API refuses what Graph refuses: bodies our renderer never produces are sent
raw through the same client, and each must come back as Graph's error (else the fake would
prove nothing about the renderer)."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from bot.errors import PermanentSendError
from channels.meta.config import GraphConfig
from channels.meta.graph import GraphClient
from tests.channels.fakes.graph import FakeGraph


def wa(interactive_or_type: dict[str, Any]) -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "to": "966501234567", **interactive_or_type}


def buttons(*titles: str, ids: list[str] | None = None) -> dict[str, Any]:
    ids = ids or [f"id{i}" for i in range(len(titles))]
    return {
        "type": "interactive",
        "interactive": {
            "type": "button",
            "body": {"text": "x"},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": i, "title": t}}
                    for i, t in zip(ids, titles, strict=True)
                ]
            },
        },
    }


def list_of(rows: list[dict[str, str]], button: str = "Options") -> dict[str, Any]:
    return {
        "type": "interactive",
        "interactive": {
            "type": "list",
            "body": {"text": "x"},
            "action": {"button": button, "sections": [{"title": "S", "rows": rows}]},
        },
    }


def rows(n: int, title: str = "Row") -> list[dict[str, str]]:
    return [{"id": f"r{i}", "title": title} for i in range(n)]


WHATSAPP_REFUSALS = {
    "four reply buttons": (wa(buttons("a", "b", "c", "d")), "131009"),
    "button title of 21": (wa(buttons("x" * 21)), "131009"),
    "duplicate titles": (wa(buttons("a", "a")), "131009"),
    "id with spaces": (wa(buttons("a", ids=[" /affirm"])), "131009"),
    "id of 257": (wa(buttons("a", ids=["x" * 257])), "131009"),
    "eleven rows": (wa(list_of(rows(11))), "131009"),
    "row title of 25": (wa(list_of(rows(1, "x" * 25))), "131009"),
    "list label of 21": (wa(list_of(rows(2), "x" * 21)), "131009"),
    "text of 4097": (wa({"type": "text", "text": {"body": "x" * 4097}}), "131009"),
    "empty text": (wa({"type": "text", "text": {"body": ""}}), "131008"),
    "no product": ({"to": "966501234567", "type": "text", "text": {"body": "x"}}, "code 100"),
    "no recipient": ({"messaging_product": "whatsapp", "text": {"body": "x"}}, "code 100"),
    "image link and id": (
        wa({"type": "image", "image": {"link": "https://a/b", "id": "1"}}),
        "131009",
    ),
    "location request misnamed": (
        wa(
            {
                "type": "interactive",
                "interactive": {
                    "type": "location_request_message",
                    "body": {"text": "x"},
                    "action": {"name": "location"},
                },
            }
        ),
        "131009",
    ),
}


@pytest.mark.parametrize("case", sorted(WHATSAPP_REFUSALS))
async def test_graph_refuses_invalid_whatsapp_bodies(
    graph: FakeGraph, session: aiohttp.ClientSession, case: str
) -> None:
    graph.enforce_window = False
    body, code = WHATSAPP_REFUSALS[case]
    client = GraphClient(session, GraphConfig(base_url=graph.base_url), graph.wa_token)
    with pytest.raises(PermanentSendError, match=code):
        await client.post_json(f"{graph.phone_number_id}/messages", body)
    assert graph.calls[-1].status == 400


def messenger(message: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "recipient": {"id": "24023847293847"},
        "messaging_type": "RESPONSE",
        "message": message,
        **extra,
    }


def quick(n: int, title: str = "t", payload: str = "p") -> list[dict[str, str]]:
    return [{"content_type": "text", "title": title, "payload": payload} for _ in range(n)]


MESSENGER_REFUSALS = {
    "fourteen quick replies": messenger({"text": "x", "quick_replies": quick(14)}),
    "quick reply title of 21": messenger({"text": "x", "quick_replies": quick(1, "x" * 21)}),
    "payload of 1001": messenger({"text": "x", "quick_replies": quick(1, payload="p" * 1001)}),
    "location quick reply": messenger(
        {"text": "x", "quick_replies": [{"content_type": "location"}]}
    ),
    "text of 2001": messenger({"text": "x" * 2001}),
    "no messaging_type": {"recipient": {"id": "1"}, "message": {"text": "x"}},
    "tag without a valid tag": messenger({"text": "x"}, messaging_type="MESSAGE_TAG"),
    "text and attachment": messenger(
        {"text": "x", "attachment": {"type": "image", "payload": {"url": "https://a/b"}}}
    ),
    "recipient not an id": {**messenger({"text": "x"}), "recipient": {"id": "+96650"}},
}


@pytest.mark.parametrize("case", sorted(MESSENGER_REFUSALS))
async def test_graph_refuses_invalid_messenger_bodies(
    graph: FakeGraph, session: aiohttp.ClientSession, case: str
) -> None:
    graph.enforce_window = False
    client = GraphClient(session, GraphConfig(base_url=graph.base_url), graph.page_token)
    with pytest.raises(PermanentSendError, match="code 100"):
        await client.post_json("me/messages", MESSENGER_REFUSALS[case])


async def test_wrong_version_or_token_is_refused(
    graph: FakeGraph, session: aiohttp.ClientSession
) -> None:
    graph.enforce_window = False
    body = wa({"type": "text", "text": {"body": "x"}})
    old = GraphClient(
        session, GraphConfig(base_url=graph.base_url, version="v17.0"), graph.wa_token
    )
    with pytest.raises(PermanentSendError, match="Unknown path"):
        await old.post_json(f"{graph.phone_number_id}/messages", body)
    page_token = GraphClient(session, GraphConfig(base_url=graph.base_url), graph.page_token)
    with pytest.raises(PermanentSendError, match="code 190"):
        await page_token.post_json(f"{graph.phone_number_id}/messages", body)

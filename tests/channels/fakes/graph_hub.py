"""What the WhatsApp and Messenger tests need around the fake Graph API.

``SmallHub`` lends an adapter what the real hub does (``channels.base.HubServices``): the one
client session, the real Redis, and a real durable ``submit`` (dedup by provider message id
with ``SET NX``, then ``XADD`` to a stream per test), so the webhook routes run end to end
against Redis without the hub's workers. ``serve`` mounts a channel's routes on an aiohttp
app on 127.0.0.1. ``signed`` signs a body as Meta does. ``meta_hub`` runs the real hub
(``python -m bot``) against a fresh fake Graph API for the end-to-end tests.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import ClientSession, web
from aiohttp.test_utils import TestServer

from bot.model import InboundEvent, InboundMessage
from channels.base import Channel
from tests.channels.fakes.graph import FakeGraph
from tests.channels.standin import HubStandIn
from tests.hubstack import HubFactory, HubProcess
from tests.stack import BotStack

__all__ = ["MetaHub", "SmallHub", "load_payload", "meta_hub", "serve", "signed"]


class SmallHub(HubStandIn):
    """The stand-in hub, with what it accepted as JSON dicts (``kind`` message / status)."""

    async def stored(self) -> list[dict[str, Any]]:
        """The events made durable, oldest first, as their JSON dicts."""
        return [json.loads(_to_json(e)) for e in self.accepted]

    async def stored_messages(self) -> list[InboundMessage]:
        return self.messages()


def _to_json(event: InboundEvent) -> str:
    if isinstance(event, InboundMessage):
        data = json.loads(event.to_json())
        data["kind"] = "message"
    else:
        data = {
            "kind": "status",
            "channel": event.channel,
            "provider_message_id": event.provider_message_id,
            "recipient_id": event.recipient_id,
            "state": event.state,
            "timestamp": event.timestamp,
            "error": event.error,
        }
    return json.dumps(data, ensure_ascii=False)


@asynccontextmanager
async def serve(channel: Channel, hub: SmallHub) -> AsyncIterator[TestServer]:
    """``channel``'s routes on a fresh aiohttp app on 127.0.0.1."""
    app = web.Application()
    channel.setup(app, hub)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield server
    finally:
        await server.close()


def signed(body: bytes, app_secret: str) -> dict[str, str]:
    """The headers Meta sends with ``body``."""
    digest = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature-256": f"sha256={digest}", "Content-Type": "application/json"}


def _refresh(node: Any, now: float) -> Any:
    if isinstance(node, dict):
        fresh = {k: _refresh(v, now) for k, v in node.items()}
        stamp = node.get("timestamp")
        if isinstance(stamp, str) and stamp.isdigit():
            fresh["timestamp"] = str(int(now))
        elif isinstance(stamp, int):
            fresh["timestamp"] = int(now * 1000) if stamp > 10**12 else int(now)
        return fresh
    if isinstance(node, list):
        return [_refresh(v, now) for v in node]
    return node


def load_payload(
    directory: Path, name: str, *, fresh: bool = False, replace: Mapping[str, str] | None = None
) -> bytes:
    """A recorded payload's bytes. ``replace`` maps strings to substitutes (a phone number
    by one unique to the test); ``fresh`` sets every ``timestamp`` to now (so the message
    opens a live 24 h window) and re-encodes it as Meta does (escaped unicode)."""
    text = (directory / name).read_text(encoding="utf-8")
    for old, new in (replace or {}).items():
        text = text.replace(old, new)
    if not fresh:
        return text.encode()
    return json.dumps(_refresh(json.loads(text), time.time())).encode()


@dataclass
class MetaHub:
    """A hub process with one Meta channel (``whatsapp`` / ``messenger``) on a fake Graph."""

    fake: FakeGraph
    process: HubProcess
    rasa_url: str
    channel: str
    app_secret: str

    @property
    def webhook(self) -> str:
        return f"{self.process.url}/webhooks/{self.channel}"

    async def post(self, http: ClientSession, body: bytes) -> tuple[int, Any]:
        """POST ``body`` to the hub's webhook, signed as Meta does; (status, JSON answer)."""
        async with http.post(self.webhook, data=body, headers=signed(body, self.app_secret)) as r:
            return r.status, await r.json()

    def failure(self, what: str, transcript: list[str]) -> str:
        """A failure message: ``what``, the chat so far, the latest Graph calls, the hub log."""
        now = time.monotonic()
        calls = [
            f"{c.method} {c.path} {c.status} {now - c.at:.1f} s ago {json.dumps(c.body)[:150]}"
            for c in self.fake.calls[-8:]
        ]
        hub_log = self.process.log_tail(40)
        lines = [what, *transcript, "--- fake Graph calls ---", *calls, "--- hub ---", hub_log]
        return "\n".join(lines)


@asynccontextmanager
async def meta_hub(
    hub_factory: HubFactory,
    bot_stack: BotStack,
    channel: str,
    env_for: Callable[..., dict[str, str]],
    app_secret: str,
    name: str,
) -> AsyncIterator[MetaHub]:
    """The real hub configured by ``env_for(fake)`` against a fresh fake Graph API; both
    stopped on exit."""
    fake = FakeGraph()
    await fake.start()
    process = await hub_factory.start(env=env_for(fake, TAWASUL_META_TIMEOUT="10"), name=name)
    try:
        yield MetaHub(fake, process, bot_stack.rasa.url, channel, app_secret)
    finally:
        await process.stop()
        await fake.stop()

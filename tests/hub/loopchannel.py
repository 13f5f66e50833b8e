"""A test-only channel ("loop") for the hub's own tests, before and besides the real adapters.

It is a real :class:`channels.base.Channel`: an HMAC-signed webhook (``X-Loop-Signature:
sha256=<hex>`` over the raw body) parsed into InboundMessages / DeliveryStatuses and submitted
through ``channels.base.handle_webhook``; replies POSTed to a provider (``fake_loop.py``) whose
answers map to bot.errors like a real provider's; files downloaded from it. The hub loads it
in a child process with ``TAWASUL_EXTRA_CHANNELS=tests.hub.loopchannel``.

Webhook body: ``{"messages": [{"id", "from", "text"?, "payload"?, "location"? {lat, long,
address?}, "media"? [{"id", "type", "size"?}], "inline"? [{"type", "b64"}], "lang"?,
"public"?, "phone"?, "phone_verified"?, "email"?, "email_verified"?, "noreply"?}],
"statuses": [{"id", "to", "state"}]}``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from bot.errors import (
    MalformedPayload,
    MediaError,
    PermanentSendError,
    RetryAfter,
    SignatureError,
    TransientSendError,
)
from bot.model import (
    Attachment,
    Contact,
    DeliveryStatus,
    InboundEvent,
    InboundMessage,
    Location,
    OutboundMessage,
)
from channels.base import HubServices, Media, handle_webhook

NAME = "loop"
MAX_BUTTONS = 10
MAX_TITLE = 20


@dataclass(frozen=True)
class LoopConfig:
    secret: str
    token: str
    base_url: str

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> LoopConfig | None:
        secret = env.get("TAWASUL_LOOP_SECRET")
        base = env.get("TAWASUL_LOOP_BASE_URL")
        if not secret or not base:
            return None
        return cls(secret, env.get("TAWASUL_LOOP_TOKEN", ""), base.rstrip("/"))


def sign(secret: str, raw: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def verify(secret: str, raw: bytes, headers: Mapping[str, str]) -> None:
    given = headers.get("X-Loop-Signature", "")
    if not given or not hmac.compare_digest(given.encode(), sign(secret, raw).encode()):
        raise SignatureError("bad or missing X-Loop-Signature")


def parse(raw: bytes) -> list[InboundEvent]:
    try:
        body = json.loads(raw)
        events: list[InboundEvent] = []
        for s in body.get("statuses") or []:
            events.append(DeliveryStatus(NAME, str(s["id"]), str(s["to"]), s["state"], time.time()))
        for m in body.get("messages") or []:
            location = m.get("location")
            events.append(
                InboundMessage(
                    channel=NAME,
                    provider_message_id=str(m["id"]),
                    user_id=str(m["from"]),
                    timestamp=float(m.get("ts") or time.time()),
                    text=m.get("text"),
                    payload=m.get("payload"),
                    location=Location(
                        float(location["lat"]), float(location["long"]), location.get("address")
                    )
                    if location
                    else None,
                    attachments=tuple(
                        Attachment(type=a["type"], media_id=a["id"], size=a.get("size"))
                        for a in m.get("media") or ()
                    )
                    + tuple(
                        Attachment(type=a["type"], inline_b64=a["b64"])
                        for a in m.get("inline") or ()
                    ),
                    contact=Contact(
                        phone=m.get("phone"),
                        phone_verified=bool(m.get("phone_verified")),
                        email=m.get("email"),
                        email_verified=bool(m.get("email_verified")),
                        ids={"loop_id": str(m["from"])},
                    ),
                    public=bool(m.get("public")),
                    language_hint=m.get("lang"),
                    reply_context={"thread": str(m["id"])},
                    no_reply_reason=m.get("noreply"),
                )
            )
        return events
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise MalformedPayload(f"not a loop webhook: {exc}") from exc


class LoopChannel:
    name = NAME

    def __init__(self, config: LoopConfig) -> None:
        self.config = config
        self._hub: HubServices | None = None

    def setup(self, app: web.Application, hub: HubServices) -> None:
        self._hub = hub

        async def webhook(request: web.Request) -> web.Response:
            return await handle_webhook(
                request, lambda raw, h: verify(self.config.secret, raw, h), parse, hub.submit
            )

        app.router.add_post("/webhooks/loop", webhook)

    @property
    def session(self) -> aiohttp.ClientSession:
        assert self._hub is not None
        return self._hub.session

    async def deliver(self, message: OutboundMessage) -> None:
        body: dict[str, Any] = {
            "to": message.recipient_id,
            "key": message.key,
            "text": message.text,
            # The provider's limits, as a real adapter renders them: 10 buttons, titles ≤ 20.
            "buttons": [
                {"title": b.title[:MAX_TITLE], "payload": b.payload}
                for b in message.buttons[:MAX_BUTTONS]
            ],
            "image": message.image_url,
            "request_location": message.request_location,
            "language": message.language,
            "thread": message.reply_context.get("thread"),
        }
        headers = {"Authorization": f"Bearer {self.config.token}"}
        try:
            async with self.session.post(
                f"{self.config.base_url}/send", json=body, headers=headers
            ) as response:
                if response.status == 200:
                    return
                text = await response.text()
                if response.status == 429:
                    raise RetryAfter(float(response.headers.get("Retry-After", "1")), text)
                if response.status >= 500:
                    raise TransientSendError(f"{response.status}: {text}")
                raise PermanentSendError(f"{response.status}: {text}")
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise TransientSendError(str(exc) or type(exc).__name__) from exc

    async def download(self, attachment: Attachment, max_bytes: int) -> Media:
        url = f"{self.config.base_url}/media/{attachment.media_id}"
        headers = {"Authorization": f"Bearer {self.config.token}"}
        try:
            async with self.session.get(url, headers=headers) as response:
                if response.status != 200:
                    raise MediaError(f"media: HTTP {response.status}")
                data = await response.content.read(max_bytes + 1)
                if len(data) > max_bytes:
                    raise MediaError(f"over the limit of {max_bytes} bytes")
                return Media(data, response.content_type)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise MediaError(str(exc)) from exc


def from_env(env: Mapping[str, str]) -> LoopChannel | None:
    config = LoopConfig.from_env(env)
    return LoopChannel(config) if config else None

"""The web channel mounted on a small aiohttp app, served on a free loopback port.

``WebHub`` is what the hub gives the channel, for real: a Redis client on the test Redis and
the hub's own ingest (``bot.ingest.Ingest``) as ``submit``, so a message the API accepts is
in its conversation's inbound stream exactly as the hub workers will read it. Each harness
talks with its own ``X-Forwarded-For`` address (``TAWASUL_WEB_TRUST_PROXY=1``), so per-IP
limits of one test never touch another's.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
import struct
import time
import uuid
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from redis.asyncio import Redis

from bot import keys
from bot.ingest import Ingest
from bot.metrics import HubMetrics
from bot.model import InboundEvent, InboundMessage
from channels.web import WebChannel, from_env
from tests.services import free_port

_ADDRESSES = itertools.count(1)

JPEG = bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffdb") + b"\x00" * 64 + b"\xff\xd9"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 32


@dataclass
class Services:
    """channels.base.HubServices, backed by the real ingest."""

    session: aiohttp.ClientSession
    redis: Redis
    ingest: Ingest
    submitted: list[InboundEvent] = field(default_factory=list)

    async def submit(self, events: Sequence[InboundEvent]) -> None:
        await self.ingest.submit(events)
        self.submitted.extend(events)


class WebHub:
    """One "hub process" with the web channel; ``http`` talks to it as one client IP."""

    def __init__(self, redis_url: str, env: Mapping[str, str] | None = None) -> None:
        self.redis_url = redis_url
        self.env = {"TAWASUL_WEB_TRUST_PROXY": "1", **(env or {})}
        self.port = free_port()
        self.ip = f"10.{next(_ADDRESSES) % 250}.{secrets.randbelow(250)}.{secrets.randbelow(250)}"
        self.app = web.Application()
        self.runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> WebHub:
        self.redis = Redis.from_url(self.redis_url)
        self.session = aiohttp.ClientSession()
        self.services = Services(self.session, self.redis, Ingest(self.redis, HubMetrics()))
        channel = from_env(self.env)
        assert isinstance(channel, WebChannel)
        self.channel = channel
        channel.setup(self.app, self.services)
        self.runner = web.AppRunner(self.app, shutdown_timeout=2.0)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()
        self.http = aiohttp.ClientSession(base_url=self.url, headers={"X-Forwarded-For": self.ip})
        return self

    async def stop(self) -> None:
        await self.http.close()
        if self.runner is not None:
            await self.runner.cleanup()
        await self.session.close()
        await self.redis.aclose()

    # --- the API as a client uses it ------------------------------------------------------

    async def new_conversation(self, **body: Any) -> str:
        async with self.http.post("/webchat/api/conversations", json=body or None) as r:
            assert r.status == 201, await r.text()
            token: str = (await r.json())["token"]
        return token

    async def post(self, token: str, body: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
        path = f"/webchat/api/conversations/{token}/messages"
        async with self.http.post(path, json=dict(body)) as r:
            return r.status, await r.json()

    async def say(self, token: str, text: str, **extra: Any) -> int:
        """Send a text; its seq."""
        status, body = await self.post(
            token, {"text": text, "client_message_id": uuid.uuid4().hex, **extra}
        )
        assert status == 202, body
        seq: int = body["seq"]
        return seq

    async def history(self, token: str, after: int = 0, **query: Any) -> dict[str, Any]:
        params = {"after": str(after), **{k: str(v) for k, v in query.items()}}
        path = f"/webchat/api/conversations/{token}/messages"
        async with self.http.get(path, params=params) as r:
            assert r.status == 200, await r.text()
            body: dict[str, Any] = await r.json()
        return body

    async def upload(
        self, token: str, data: bytes, *, content_type: str = "image/jpeg", **fields: str
    ) -> tuple[int, dict[str, Any]]:
        form = aiohttp.FormData()
        form.add_field("photo", data, filename="photo.jpg", content_type=content_type)
        for name, value in fields.items():
            form.add_field(name, value)
        async with self.http.post(f"/webchat/api/conversations/{token}/photos", data=form) as r:
            return r.status, await r.json()

    async def inbound(self, user_id: str) -> list[InboundMessage]:
        """What the hub's workers will read for this conversation, in order."""
        rows = await self.redis.xrange(keys.conv_in(f"web:{user_id}")) or []
        return [InboundMessage.from_json((fields or {})[b"m"]) for _, fields in rows]


def png(width: int = 24, height: int = 16, rgb: tuple[int, int, int] = (11, 110, 79)) -> bytes:
    """A real (decodable) PNG picture, so the browser can show it."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(tag + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


async def wait_inbound(
    hub: WebHub, uid: str, count: int, within: float = 15.0
) -> list[InboundMessage]:
    """The conversation's queued messages once there are ``count`` of them."""
    deadline = time.monotonic() + within
    while True:
        found = await hub.inbound(uid)
        if len(found) >= count:
            return found
        assert time.monotonic() < deadline, f"{len(found)} of {count} messages queued: {found}"
        await asyncio.sleep(0.1)


def user_id(token: str) -> str:
    from channels.web.tokens import user_id_for

    uid = user_id_for(token)
    assert uid is not None
    return uid


def frames(raw: Sequence[str]) -> list[dict[str, Any]]:
    return [json.loads(f) for f in raw]

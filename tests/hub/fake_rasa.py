"""Rasa as the hub sees it, for the hub's own tests (Rasa is a provider of the hub; the
end-to-end tests use the real one): ``POST /webhooks/rest/webhook`` recorded and answered with
one echo reply, ``GET /status`` with a model. Scripted behaviour per message text: a delay, a
hang until released, failures (HTTP 500) before answering. The same server answers the ticket
service's ``/open311/v2/services.json`` so ``/healthz`` can be all green in-process."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer


@dataclass
class Call:
    sender: str
    message: str
    metadata: dict[str, Any]
    at: float


@dataclass
class FakeRasa:
    calls: list[Call] = field(default_factory=list)
    delays: dict[str, float] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    hang: dict[str, asyncio.Event] = field(default_factory=dict)
    #: every reply also carries these buttons / custom (to test the mapping)
    extra: dict[str, dict[str, Any]] = field(default_factory=dict)
    down: bool = False
    server: TestServer | None = None
    called: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("")).rstrip("/")

    def of(self, sender: str) -> list[str]:
        return [c.message for c in self.calls if c.sender == sender]

    async def wait_calls(self, count: int, within: float = 20.0) -> None:
        deadline = time.monotonic() + within
        while len(self.calls) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.calls)} of {count} Rasa calls in {within} s")
            self.called.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.called.wait(), 0.5)

    async def webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        assert set(body) == {"sender", "message", "metadata"}, body
        message = body["message"]
        if self.down:
            return web.json_response({"status": "failure"}, status=503)
        if self.failures.get(message, 0) > 0:
            self.failures[message] -= 1
            return web.json_response({"status": "failure", "message": "boom"}, status=500)
        self.calls.append(Call(body["sender"], message, body["metadata"], time.monotonic()))
        self.called.set()
        if message in self.hang:
            await self.hang[message].wait()
        await asyncio.sleep(self.delays.get(message, 0))
        reply: dict[str, Any] = {"recipient_id": body["sender"], "text": f"re: {message}"}
        reply.update(self.extra.get(message, {}))
        return web.json_response([reply])

    async def status(self, request: web.Request) -> web.Response:
        if self.down:
            return web.json_response({}, status=503)
        return web.json_response(
            {"model_file": "models/fake.tar.gz", "num_active_training_jobs": 0}
        )

    async def services(self, request: web.Request) -> web.Response:
        return web.json_response([{"service_code": "pothole", "service_name": "Potholes"}])

    async def start(self) -> FakeRasa:
        app = web.Application()
        app.router.add_post("/webhooks/rest/webhook", self.webhook)
        app.router.add_get("/status", self.status)
        app.router.add_get("/open311/v2/services.json", self.services)
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()
        return self

    async def close(self) -> None:
        for event in self.hang.values():
            event.set()
        if self.server is not None:
            await self.server.close()


@pytest.fixture(name="fake_rasa")
async def fake_rasa_fixture() -> AsyncIterator[FakeRasa]:
    """``fake_rasa``: a started :class:`FakeRasa`, closed after the test (import this into a
    conftest.py to have the fixture there)."""
    rasa = await FakeRasa().start()
    yield rasa
    await rasa.close()

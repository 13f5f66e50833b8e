"""The loop channel's provider: an aiohttp app on 127.0.0.1 that checks every send like a real
API (bearer token, body shape, at most 10 buttons with titles of 1..20 characters) and answers
in a provider's format, including scripted failures (429 with Retry-After, 500, 400)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

MAX_BUTTONS = 10
MAX_TITLE = 20


@dataclass
class Sent:
    body: dict[str, Any]
    at: float


@dataclass
class FakeLoop:
    token: str = "loop-send-token"
    sent: list[Sent] = field(default_factory=list)
    refused: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    #: recipient → answers to give before accepting: (status, headers, body)
    plans: dict[str, deque[tuple[int, dict[str, str], dict[str, Any]]]] = field(
        default_factory=lambda: defaultdict(deque)
    )
    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    server: TestServer | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    #: cleared by hold(): sends wait unanswered until release()
    open: asyncio.Event = field(default_factory=asyncio.Event)
    held: int = 0

    def __post_init__(self) -> None:
        self.open.set()

    def hold(self) -> None:
        """Answer no send until :meth:`release` (a provider that hangs)."""
        self.open.clear()

    def release(self) -> None:
        self.open.set()

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("")).rstrip("/")

    def fail(self, to: str, status: int, times: int = 1, retry_after: float | None = None) -> None:
        headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
        for _ in range(times):
            self.plans[to].append((status, headers, {"error": {"code": status}}))

    def to(self, recipient: str) -> list[dict[str, Any]]:
        return [s.body for s in self.sent if s.body["to"] == recipient]

    def texts(self, recipient: str) -> list[str]:
        return [b["text"] for b in self.to(recipient)]

    async def wait_for(self, recipient: str, count: int, within: float = 30.0) -> list[Any]:
        deadline = time.monotonic() + within
        while len(self.to(recipient)) < count:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(
                    f"{recipient}: {len(self.to(recipient))} of {count} replies after "
                    f"{within:g} s: {self.texts(recipient)}"
                )
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), min(left, 0.5))
        return self.to(recipient)

    def _check(self, request: web.Request, body: Any) -> str | None:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return "bad token"
        if not isinstance(body, dict):
            return "body is not an object"
        if not isinstance(body.get("to"), str) or not body["to"]:
            return "to missing"
        if not isinstance(body.get("key"), str) or not isinstance(body.get("text"), str):
            return "key/text missing"
        buttons = body.get("buttons")
        if not isinstance(buttons, list) or len(buttons) > MAX_BUTTONS:
            return f"at most {MAX_BUTTONS} buttons"
        for button in buttons:
            title = button.get("title") if isinstance(button, dict) else None
            if not isinstance(title, str) or not 1 <= len(title) <= MAX_TITLE:
                return f"button title must be 1..{MAX_TITLE} characters: {title!r}"
        if not body["text"] and not body.get("image") and not buttons:
            return "empty message"
        return None

    async def send(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            return web.json_response({"error": {"message": "invalid JSON"}}, status=400)
        if not self.open.is_set():
            self.held += 1
            await self.open.wait()
            transport = request.transport
            if transport is None or transport.is_closing():
                # The sender died waiting: never answered, so never delivered.
                return web.json_response({"error": {"message": "gone"}}, status=499)
        problem = self._check(request, body)
        if problem:
            self.refused.append((400, body))
            status = 401 if problem == "bad token" else 400
            return web.json_response({"error": {"message": problem}}, status=status)
        plan = self.plans.get(body["to"])
        if plan:
            status, headers, answer = plan.popleft()
            self.refused.append((status, body))
            self.changed.set()
            return web.json_response(answer, status=status, headers=headers)
        self.sent.append(Sent(body, time.monotonic()))
        self.changed.set()
        return web.json_response({"id": f"sent-{len(self.sent)}"})

    async def get_media(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return web.json_response({"error": "bad token"}, status=401)
        item = self.media.get(request.match_info["id"])
        if item is None:
            return web.json_response({"error": "not found"}, status=404)
        return web.Response(body=item[0], content_type=item[1])

    async def start(self) -> FakeLoop:
        app = web.Application()
        app.router.add_post("/send", self.send)
        app.router.add_get("/media/{id}", self.get_media)
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()
        return self

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()

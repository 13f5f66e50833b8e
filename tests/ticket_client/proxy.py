"""A fault-injecting HTTP proxy on 127.0.0.1, between a client and the real ticket service.

Each incoming request takes the next planned fault (then plain forwarding once the plan is
used up), and every request is recorded, so a test sees exactly what the client sent and how
many times.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from dataclasses import dataclass, field
from enum import Enum

import aiohttp
from aiohttp import web
from multidict import CIMultiDict

HOP_BY_HOP = {"host", "content-length", "transfer-encoding", "connection", "keep-alive"}


class Fault(Enum):
    FORWARD = "forward"  # pass the request through and return the service's answer
    LOSE_ANSWER = "lose_answer"  # forward (the service does the work), then answer 502
    CUT_AFTER = "cut_after"  # forward, then close the connection without any answer
    STALL_AFTER = "stall_after"  # forward, then hold the answer past the client's timeout
    STALL = "stall"  # do not forward; hold the connection past the client's timeout
    UNAVAILABLE = "unavailable"  # do not forward; answer 503 in Open311's error format
    BUSY = "busy"  # do not forward; answer 503 with ``Retry-After: 5``
    THROTTLED = "throttled"  # do not forward; answer 429 with ``Retry-After: 5``
    GARBAGE = "garbage"  # do not forward; answer 200 with an HTML page


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    headers: CIMultiDict[str]
    body: bytes
    fault: Fault


@dataclass
class FaultProxy:
    target: str  # base URL of the real service, no trailing slash
    session: aiohttp.ClientSession
    stall_seconds: float = 1.0
    plan: deque[Fault] = field(default_factory=deque)
    seen: list[Seen] = field(default_factory=list)
    service_answers: list[tuple[int, bytes]] = field(default_factory=list)  # what it returned
    url: str = ""  # where the proxy itself listens, once started
    released: asyncio.Event = field(default_factory=asyncio.Event)  # ends every stall at once

    def will(self, *faults: Fault) -> None:
        self.plan.extend(faults)

    def requests_to(self, method: str, path: str) -> list[Seen]:
        return [s for s in self.seen if s.method == method and s.path == path]

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        return app

    async def _forward(self, request: web.Request, body: bytes) -> web.Response:
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        async with self.session.request(
            request.method,
            self.target + request.path_qs,
            data=body,
            headers=headers,
            allow_redirects=False,
        ) as upstream:
            payload = await upstream.read()
            self.service_answers.append((upstream.status, payload))
            answer = web.Response(status=upstream.status, body=payload)
            answer.headers["Content-Type"] = upstream.headers.get("Content-Type", "text/plain")
            return answer

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        fault = self.plan.popleft() if self.plan else Fault.FORWARD
        headers = CIMultiDict(request.headers)
        self.seen.append(Seen(request.method, request.path, headers, body, fault))
        if fault in (Fault.UNAVAILABLE, Fault.BUSY, Fault.THROTTLED):
            status = 429 if fault is Fault.THROTTLED else 503
            errors = f'[{{"code": {status}, "description": "maintenance in progress"}}]'
            answer = web.Response(status=status, text=errors, content_type="application/json")
            if fault is not Fault.UNAVAILABLE:
                answer.headers["Retry-After"] = "5"
            return answer
        if fault is Fault.GARBAGE:
            return web.Response(text="<html>captive portal</html>", content_type="text/html")
        if fault is Fault.STALL:
            await self._stall()
            return web.Response(status=204)
        answer = await self._forward(request, body)
        if fault is Fault.LOSE_ANSWER:
            return web.Response(status=502, text="bad gateway")
        if fault is Fault.CUT_AFTER:
            assert request.transport is not None
            request.transport.close()
            return web.Response(status=204)
        if fault is Fault.STALL_AFTER:
            await self._stall()
        return answer

    async def _stall(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.released.wait(), self.stall_seconds)

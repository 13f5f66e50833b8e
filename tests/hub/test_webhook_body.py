"""``channels.base.handle_webhook`` reads the whole body before checking it, however the
provider sends it (one buffer, chunked), and refuses bodies over the limit."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence

from aiohttp import web
from aiohttp.pytest_plugin import AiohttpClient

from bot.errors import SignatureError
from bot.model import InboundEvent, InboundMessage
from channels.base import MAX_WEBHOOK_BYTES, handle_webhook


def _app(seen: list[bytes], submitted: list[InboundEvent]) -> web.Application:
    def verify(raw: bytes, headers: Mapping[str, str]) -> None:
        seen.append(raw)
        if headers.get("X-Sig") != str(len(raw)):
            raise SignatureError("length signature does not match")

    def parse(raw: bytes) -> list[InboundEvent]:
        return [InboundMessage("loop", str(len(raw)), "u1", 0.0, text="x")]

    async def submit(events: Sequence[InboundEvent]) -> None:
        submitted.extend(events)

    async def post(request: web.Request) -> web.Response:
        return await handle_webhook(request, verify, parse, submit)

    app = web.Application()
    app.router.add_post("/hook", post)
    return app


async def _chunks(body: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


async def test_a_large_chunked_body_is_verified_whole(aiohttp_client: AiohttpClient) -> None:
    seen: list[bytes] = []
    submitted: list[InboundEvent] = []
    client = await aiohttp_client(_app(seen, submitted))
    body = b"x" * 600_000
    response = await client.post(
        "/hook", data=_chunks(body, 7_000), headers={"X-Sig": str(len(body))}
    )
    assert response.status == 200, await response.text()
    assert seen == [body] and len(submitted) == 1


async def test_a_body_over_the_limit_is_413_and_nothing_is_checked_or_stored(
    aiohttp_client: AiohttpClient,
) -> None:
    seen: list[bytes] = []
    submitted: list[InboundEvent] = []
    client = await aiohttp_client(_app(seen, submitted))
    body = b"x" * (MAX_WEBHOOK_BYTES + 1)
    for data in (body, _chunks(body, 64_000)):  # with and without a Content-Length
        response = await client.post("/hook", data=data, headers={"X-Sig": str(len(body))})
        assert response.status == 413
        assert "too large" in (await response.json())["error"]
    assert seen == [] and submitted == []


async def test_a_forged_body_is_403(aiohttp_client: AiohttpClient) -> None:
    submitted: list[InboundEvent] = []
    client = await aiohttp_client(_app([], submitted))
    response = await client.post("/hook", data=b"{}", headers={"X-Sig": "3"})
    assert response.status == 403 and submitted == []
    assert isinstance(await response.json(), dict)

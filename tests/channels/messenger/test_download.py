"""Messenger attachments come from Meta's CDN by their signed URL, without the Page token."""

from __future__ import annotations

import pytest

from bot.errors import MediaError
from bot.model import Attachment
from channels.messenger import MessengerChannel
from tests.channels.fakes.graph import FakeGraph

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 500


async def test_download_without_the_token(wired: MessengerChannel, graph: FakeGraph) -> None:
    url = graph.add_cdn(PNG, "image/png")
    media = await wired.download(Attachment(type="image", source_url=url), max_bytes=10_000)
    assert (media.data, media.mime_type) == (PNG, "image/png")
    (call,) = graph.calls
    assert "Authorization" not in call.headers


async def test_over_the_limit(wired: MessengerChannel, graph: FakeGraph) -> None:
    url = graph.add_cdn(PNG, "image/png")
    with pytest.raises(MediaError, match="over the limit of 100 bytes"):
        await wired.download(Attachment(type="image", source_url=url), max_bytes=100)


async def test_unaccepted_type(wired: MessengerChannel, graph: FakeGraph) -> None:
    url = graph.add_cdn(b"<html></html>", "text/html")
    with pytest.raises(MediaError, match="text/html"):
        await wired.download(Attachment(type="document", source_url=url), max_bytes=10_000)


async def test_expired_or_unknown_url(wired: MessengerChannel, graph: FakeGraph) -> None:
    with pytest.raises(MediaError, match="404"):
        await wired.download(
            Attachment(type="image", source_url=f"{graph.base_url}/cdn/gone"), max_bytes=10_000
        )


@pytest.mark.parametrize(
    "url", [None, "https://evil.example/x.png", "file:///etc/passwd", "http://10.0.0.1/x"]
)
async def test_only_meta_hosts(wired: MessengerChannel, url: str | None) -> None:
    with pytest.raises(MediaError):
        await wired.download(Attachment(type="image", source_url=url), max_bytes=10_000)

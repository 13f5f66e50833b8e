"""WhatsApp media download in two steps (protocols.md §1.7) against the fake Graph API."""

from __future__ import annotations

import pytest

from bot.errors import MediaError
from bot.model import Attachment
from channels.whatsapp import WhatsAppChannel
from tests.channels.fakes.graph import FakeGraph

JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40


async def test_metadata_then_bytes_both_with_the_token(
    wired: WhatsAppChannel, graph: FakeGraph
) -> None:
    media_id = graph.add_media(JPEG, "image/jpeg")
    media = await wired.download(
        Attachment(type="image", media_id=media_id, mime_type="image/jpeg"), max_bytes=1 << 20
    )
    assert media.data == JPEG
    assert media.mime_type == "image/jpeg"
    info, blob = graph.calls
    assert info.path == f"/{graph.version}/{media_id}"
    assert info.query == {"phone_number_id": graph.phone_number_id}
    assert blob.path == "/whatsapp_business/attachments/"
    assert blob.query["mid"] == media_id
    assert info.headers["Authorization"] == blob.headers["Authorization"]
    assert blob.headers["Authorization"] == f"Bearer {graph.wa_token}"


async def test_voice_note_keeps_its_type_without_parameters(
    wired: WhatsAppChannel, graph: FakeGraph
) -> None:
    media_id = graph.add_media(b"OggS" + b"\x00" * 100, "audio/ogg; codecs=opus")
    media = await wired.download(Attachment(type="audio", media_id=media_id), max_bytes=1000)
    assert media.mime_type == "audio/ogg"


async def test_declared_size_over_the_limit_is_refused_before_downloading(
    wired: WhatsAppChannel, graph: FakeGraph
) -> None:
    media_id = graph.add_media(JPEG, "image/jpeg")
    with pytest.raises(MediaError, match="over 1000"):
        await wired.download(Attachment(type="image", media_id=media_id), max_bytes=1000)
    assert len(graph.calls) == 1  # never fetched the bytes


async def test_bytes_over_the_limit_are_refused_even_when_metadata_lies(
    wired: WhatsAppChannel, graph: FakeGraph
) -> None:
    media_id = graph.add_media(JPEG, "image/jpeg", file_size=10)
    with pytest.raises(MediaError, match="over the limit of 1000 bytes"):
        await wired.download(Attachment(type="image", media_id=media_id), max_bytes=1000)


async def test_unaccepted_type_is_refused(wired: WhatsAppChannel, graph: FakeGraph) -> None:
    media_id = graph.add_media(b"PK\x03\x04", "application/zip")
    with pytest.raises(MediaError, match="application/zip"):
        await wired.download(Attachment(type="document", media_id=media_id), max_bytes=1 << 20)


async def test_checksum_mismatch_is_refused(wired: WhatsAppChannel, graph: FakeGraph) -> None:
    media_id = graph.add_media(JPEG, "image/jpeg", sha256="AAAA" * 11)
    with pytest.raises(MediaError, match="SHA-256"):
        await wired.download(Attachment(type="image", media_id=media_id), max_bytes=1 << 20)


async def test_unknown_media_id_is_a_media_error(wired: WhatsAppChannel, graph: FakeGraph) -> None:
    with pytest.raises(MediaError, match="code 100/33"):
        await wired.download(Attachment(type="image", media_id="999"), max_bytes=1 << 20)


async def test_graph_failure_is_a_media_error(wired: WhatsAppChannel, graph: FakeGraph) -> None:
    media_id = graph.add_media(JPEG, "image/jpeg")
    graph.fail_next(status=500, scope="media")
    with pytest.raises(MediaError, match="HTTP 500"):
        await wired.download(Attachment(type="image", media_id=media_id), max_bytes=1 << 20)


async def test_attachment_without_media_id(wired: WhatsAppChannel) -> None:
    with pytest.raises(MediaError):
        await wired.download(Attachment(type="image", source_url="https://x"), max_bytes=10)


async def test_token_is_never_sent_to_a_host_that_is_not_meta(
    wired: WhatsAppChannel, graph: FakeGraph
) -> None:
    graph.media_url_base = "http://127.0.0.2:9"
    media_id = graph.add_media(JPEG, "image/jpeg")
    with pytest.raises(MediaError, match="not on a Meta host"):
        await wired.download(Attachment(type="image", media_id=media_id), max_bytes=1 << 20)

"""download(): getFile then the file, within the hub's limit; never the token in an error."""

from __future__ import annotations

import json

import pytest

from bot.errors import MediaError
from bot.model import Attachment, InboundMessage
from channels.telegram.parse import parse
from tests.channels.telegram.conftest import SARA, Served
from tests.channels.telegram.fake_telegram import FakeTelegram

JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40 + b"\xff\xd9"


async def test_photo_from_an_update(served: Served, fake: FakeTelegram) -> None:
    update = fake.photo_update(SARA, JPEG, caption="الحفرة")
    (message,) = parse(json.dumps(update).encode())
    assert isinstance(message, InboundMessage)
    media = await served.channel.download(message.attachments[0], max_bytes=1024 * 1024)
    assert media.data == JPEG  # the largest size, byte for byte
    assert media.mime_type == "image/jpeg"
    assert media.filename == "file_1280.jpg"
    assert fake.downloads == ["photos/file_1280.jpg"]


async def test_document_keeps_its_name_and_type(served: Served, fake: FakeTelegram) -> None:
    file_id = fake.add_file(b"%PDF-1.7 permit", "documents/file_3.pdf")
    attachment = Attachment("document", media_id=file_id, mime_type="application/pdf",
                            filename="permit.pdf")  # fmt: skip
    media = await served.channel.download(attachment, max_bytes=1000)
    assert (media.data, media.mime_type, media.filename) == (
        b"%PDF-1.7 permit",
        "application/pdf",
        "permit.pdf",
    )


async def test_over_the_limit_by_the_updates_size_asks_nothing(
    served: Served, fake: FakeTelegram
) -> None:
    attachment = Attachment("image", media_id="whatever", size=5000)
    with pytest.raises(MediaError, match="limit"):
        await served.channel.download(attachment, max_bytes=4999)
    assert fake.calls == []


async def test_over_the_limit_by_getfile_downloads_nothing(
    served: Served, fake: FakeTelegram
) -> None:
    file_id = fake.add_file(JPEG, "photos/big.jpg")
    with pytest.raises(MediaError, match="limit"):
        await served.channel.download(Attachment("image", media_id=file_id), max_bytes=100)
    assert fake.downloads == []


async def test_over_the_limit_while_streaming(served: Served, fake: FakeTelegram) -> None:
    file_id = fake.add_file(JPEG, "photos/nosize.jpg", hide_size=True)
    with pytest.raises(MediaError, match="limit"):
        await served.channel.download(Attachment("image", media_id=file_id), max_bytes=100)
    media = await served.channel.download(Attachment("image", media_id=file_id), len(JPEG))
    assert media.data == JPEG
    assert media.mime_type == "application/octet-stream"  # nothing better was known


async def test_unknown_file(served: Served) -> None:
    with pytest.raises(MediaError, match=r"(?i)invalid file_id"):
        await served.channel.download(Attachment("image", media_id="nope"), 1000)
    with pytest.raises(MediaError, match="without a file_id"):
        await served.channel.download(Attachment("image", source_url="x"), 1000)


async def test_file_gone_from_the_file_server(served: Served, fake: FakeTelegram) -> None:
    file_id = fake.add_file(JPEG, "photos/expired.jpg")
    fake.lost_paths.add("photos/expired.jpg")  # the download link expired after getFile
    with pytest.raises(MediaError, match="answered 404"):
        await served.channel.download(Attachment("image", media_id=file_id), 10**6)


async def test_unreachable_api_error_has_no_token(served: Served, fake: FakeTelegram) -> None:
    file_id = fake.add_file(JPEG, "photos/x.jpg")
    await fake.stop()
    with pytest.raises(MediaError) as info:
        await served.channel.download(Attachment("image", media_id=file_id), 10**6)
    assert fake.token not in str(info.value)

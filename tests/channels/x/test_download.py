"""Media downloads: DM media signed with OAuth 1.0a (the fake checks it over the real
ton.twitter.com URL), public photos, limits, and nothing fetched off X's media hosts."""

from __future__ import annotations

import pytest
from aiohttp import web

from bot.errors import MediaError
from bot.model import Attachment
from channels.x import XChannel
from channels.x.parse import parse_webhook
from tests.channels.x.conftest import make_channel
from tests.channels.x.fake_x import FakeX
from tests.channels.x.support import USER_ID, TinyHub, payload

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 40 + b"\xff\xd9"
TON_PATH = "/1.1/ton/data/dm/1853000000000000303/1853000000000000401/kPZ3aG1w.jpg"


def dm_photo() -> Attachment:
    (message,) = parse_webhook(payload("webhook_dm_media.json"), user_id=USER_ID)
    (photo,) = message.attachments  # type: ignore[union-attr]
    return photo


async def test_dm_media_is_fetched_signed(fake_x: FakeX, channel: XChannel) -> None:
    fake_x.files[TON_PATH] = (JPEG, "image/jpeg")
    media = await channel.download(dm_photo(), max_bytes=1_000_000)
    assert (media.data, media.mime_type, media.filename) == (JPEG, "image/jpeg", "kPZ3aG1w.jpg")
    (call,) = fake_x.calls
    assert (call.path, call.auth, call.status) == (TON_PATH, "oauth1", 200)


async def test_dm_media_with_a_wrong_signature_is_refused(fake_x: FakeX, tiny_hub: TinyHub) -> None:
    fake_x.files[TON_PATH] = (JPEG, "image/jpeg")
    wrong = make_channel(fake_x, consumer_secret="not-the-secret")
    wrong.setup(web.Application(), tiny_hub)
    with pytest.raises(MediaError, match="401"):
        await wrong.download(dm_photo(), max_bytes=1_000_000)


async def test_a_public_photo(fake_x: FakeX, channel: XChannel) -> None:
    fake_x.files["/media/GbXk2aBWAAA1xyz.jpg"] = (JPEG, "image/jpeg")
    photo = Attachment(type="image", source_url="https://pbs.twimg.com/media/GbXk2aBWAAA1xyz.jpg")
    assert (await channel.download(photo, max_bytes=len(JPEG))).data == JPEG


async def test_over_the_limit_is_refused(fake_x: FakeX, channel: XChannel) -> None:
    fake_x.files[TON_PATH] = (JPEG, "image/jpeg")
    with pytest.raises(MediaError, match="over the limit"):
        await channel.download(dm_photo(), max_bytes=len(JPEG) - 1)


async def test_missing_media_is_an_error(fake_x: FakeX, channel: XChannel) -> None:
    with pytest.raises(MediaError, match="404"):
        await channel.download(dm_photo(), max_bytes=1_000_000)


@pytest.mark.parametrize(
    "url",
    [
        None,
        "https://attacker.example/1.1/ton/data/dm/1/2/a.jpg",
        "http://ton.twitter.com/1.1/ton/data/dm/1/2/a.jpg",
        "https://api.twitter.com/2/users/me",
        "https://ton.twitter.com.attacker.example/a.jpg",
    ],
)
async def test_nothing_is_fetched_off_x_media_hosts(
    fake_x: FakeX, channel: XChannel, url: str | None
) -> None:
    with pytest.raises(MediaError):
        await channel.download(Attachment(type="image", source_url=url), max_bytes=1_000_000)
    assert fake_x.calls == []

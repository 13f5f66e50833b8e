"""Photo uploads: checked on the bytes, kept in Redis, read back by the hub's downloader."""

from __future__ import annotations

import random

import pytest

from bot.errors import MediaError
from bot.model import Attachment
from tests.channels.web.conftest import StartHub
from tests.channels.web.support import JPEG, PNG, WebHub, user_id


async def test_a_photo_reaches_the_hub_and_can_be_downloaded(web: WebHub) -> None:
    token = await web.new_conversation()
    status, answer = await web.upload(
        token, JPEG, text="هذي صورة الحفرة", client_message_id="photo-1", language="ar"
    )
    assert status == 202, answer
    assert answer["client_message_id"] == "photo-1"
    [queued] = await web.inbound(user_id(token))
    assert queued.text == "هذي صورة الحفرة"
    [attachment] = queued.attachments
    assert attachment.type == "image"
    assert attachment.mime_type == "image/jpeg"
    assert attachment.size == len(JPEG)
    assert attachment.media_id is not None
    assert attachment.media_id.startswith(user_id(token))

    media = await web.channel.download(attachment, max_bytes=1024 * 1024)
    assert media.data == JPEG
    assert media.mime_type == "image/jpeg"

    [entry] = (await web.history(token))["messages"]
    assert entry["photo"] == attachment.media_id
    async with web.http.get(entry["image_url"]) as r:
        assert r.status == 200
        assert r.content_type == "image/jpeg"
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert await r.read() == JPEG


async def test_the_bytes_decide_the_type_not_the_client(web: WebHub) -> None:
    token = await web.new_conversation()
    status, _ = await web.upload(token, PNG, content_type="image/jpeg")
    assert status == 202
    [queued] = await web.inbound(user_id(token))
    assert queued.attachments[0].mime_type == "image/png"
    fake = b"<html><script>alert(1)</script></html>"
    status, answer = await web.upload(token, fake, content_type="image/jpeg")
    assert (status, answer["error"]) == (415, "photo_type")
    pdf = b"%PDF-1.7\n" + b"0" * 100  # a file the hub keeps, but no photo
    status, answer = await web.upload(token, pdf, content_type="image/jpeg")
    assert (status, answer["error"]) == (415, "photo_type")
    assert len(await web.inbound(user_id(token))) == 1


async def test_a_photo_over_the_limit_is_413(start_hub: StartHub) -> None:
    web = await start_hub(TAWASUL_WEB_UPLOAD_MAX_BYTES=1000)
    token = await web.new_conversation()
    status, answer = await web.upload(token, JPEG + b"\x00" * 1000)
    assert (status, answer["error"]) == (413, "photo_too_large")
    assert "1000" in answer["message"]
    big = JPEG + b"\x00" * (200 * 1024)  # over the limit + form allowance: refused up front
    status, answer = await web.upload(token, big)
    assert status == 413
    assert await web.inbound(user_id(token)) == []
    status, _ = await web.upload(token, JPEG)
    assert status == 202


async def test_a_form_without_a_photo_or_not_a_form(web: WebHub) -> None:
    token = await web.new_conversation()
    path = f"/webchat/api/conversations/{token}/photos"
    async with web.http.post(path, data={"text": "no photo here"}) as r:
        assert r.status == 415  # url-encoded, not multipart
    import aiohttp

    form = aiohttp.FormData()
    form.add_field("text", "only a caption")
    form.add_field("other", b"ignored", filename="x.bin")
    async with web.http.post(path, data=form) as r:
        assert r.status == 400
        assert (await r.json())["error"] == "photo_missing"
    status, answer = await web.upload(token, JPEG, language="fr")
    assert (status, answer["error"]) == (400, "invalid_language")


async def test_a_retried_upload_is_one_message_and_one_photo(web: WebHub) -> None:
    token = await web.new_conversation()
    answers = [await web.upload(token, JPEG, client_message_id="same") for _ in range(3)]
    assert [a["duplicate"] for _, a in answers] == [False, True, True]
    queued = await web.inbound(user_id(token))
    assert len(queued) == 1
    uploads = [k async for k in web.redis.scan_iter(match=f"*{user_id(token)}*:up:*")]
    assert len(uploads) == 1
    ttl = await web.redis.ttl(uploads[0])
    assert 0 < ttl <= 24 * 3600


async def test_a_photo_is_only_readable_with_its_conversations_token(web: WebHub) -> None:
    owner, other = await web.new_conversation(), await web.new_conversation()
    await web.upload(owner, JPEG, client_message_id="p")
    [entry] = (await web.history(owner))["messages"]
    media_id = entry["photo"]
    async with web.http.get(f"/webchat/api/conversations/{other}/media/{media_id}") as r:
        assert r.status == 404
        assert (await r.json())["error"] == "media_not_found"
    for bad in ("../../etc/passwd", "x" * 65, f"{user_id(owner)}-zz"):
        async with web.http.get(f"/webchat/api/conversations/{owner}/media/{bad}") as r:
            assert r.status == 404


async def test_download_errors_are_media_errors(web: WebHub) -> None:
    token = await web.new_conversation()
    await web.upload(token, JPEG, client_message_id="p")
    [queued] = await web.inbound(user_id(token))
    with pytest.raises(MediaError, match="over"):
        await web.channel.download(queued.attachments[0], max_bytes=10)
    unknown = Attachment(type="image", media_id=f"{user_id(token)}-{'a' * 32}")
    with pytest.raises(MediaError, match="expired or unknown"):
        await web.channel.download(unknown, max_bytes=10**6)
    with pytest.raises(MediaError):
        await web.channel.download(Attachment(type="image", media_id="../x"), max_bytes=10**6)
    with pytest.raises(MediaError):
        await web.channel.download(Attachment(type="image"), max_bytes=10**6)


@pytest.mark.filterwarnings("ignore::aiohttp.multipart.BadContentDispositionHeader")
@pytest.mark.filterwarnings("ignore::aiohttp.multipart.BadContentDispositionParam")
async def test_mangled_forms_are_refused_never_a_server_error(start_hub: StartHub) -> None:
    """A well-formed photo form with random bytes overwritten (seeded): 4xx or accepted, never
    a 5xx, and only the accepted ones reach the hub."""
    web = await start_hub(TAWASUL_WEB_RATE_MESSAGES=10**6, TAWASUL_WEB_RATE_IP=10**6)
    token = await web.new_conversation()
    path = f"/webchat/api/conversations/{token}/photos"
    headers = {"Content-Type": "multipart/form-data; boundary=xyz"}
    form = (
        b'--xyz\r\nContent-Disposition: form-data; name="text"\r\n\r\ncaption\r\n'
        b'--xyz\r\nContent-Disposition: form-data; name="photo"; filename="p.jpg"\r\n'
        b"Content-Type: image/jpeg\r\n\r\n" + JPEG + b"\r\n--xyz--\r\n"
    )
    rnd = random.Random(4)
    accepted = 0
    for _ in range(150):
        body = bytearray(form)
        for _ in range(rnd.randint(1, 8)):
            body[rnd.randrange(len(body))] = rnd.randrange(256)
        async with web.http.post(path, data=bytes(body), headers=headers) as r:
            assert r.status in (202, 400, 413, 415), (r.status, bytes(body))
            accepted += r.status == 202
    assert len(await web.inbound(user_id(token))) == accepted

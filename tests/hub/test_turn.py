"""The turn: what Rasa gets (docs/bot.md metadata), how its replies map, media handling."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

import aiohttp
from hypothesis import given
from hypothesis import strategies as st
from redis.asyncio import Redis

from bot import keys
from bot.model import InboundMessage
from bot.turn import replies_to_outbound
from tests.hub.conftest import HubMaker
from tests.hub.fake_loop import FakeLoop
from tests.hub.fake_rasa import FakeRasa
from tests.hub.support import message, new_user, post_webhook

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 4
PDF = b"%PDF-1.7\n" + b"0" * 200
HTML = b"<html><script>alert(1)</script></html>"


async def test_rasa_gets_the_metadata_of_the_bot_contract(
    make_hub: HubMaker, http: aiohttp.ClientSession, fake_rasa: FakeRasa, provider: FakeLoop,
    tmp_path: Path,
) -> None:  # fmt: skip
    hub = await make_hub(public_url="https://hub.example.org")
    user = new_user()
    provider.media["ph1"] = (JPEG, "image/jpeg")
    provider.media["doc"] = (PDF, "application/pdf")
    first = message(
        user, "في حفرة هنا",
        phone="+966501112233", phone_verified=True,
        location={"lat": 26.43, "long": 50.1, "address": "حي الشاطئ"},
        media=[{"id": "ph1", "type": "image"}, {"id": "doc", "type": "document"}],
    )  # fmt: skip
    await post_webhook(http, hub.url, [first])
    await provider.wait_for(user, 1)
    (call,) = fake_rasa.calls
    assert call.sender == f"loop:{user}" and call.message == "في حفرة هنا"
    digest = hashlib.sha256(JPEG).hexdigest()
    assert call.metadata == {
        "channel": "loop",
        "public": False,
        "language": "ar",
        "contact": {"phone": "+966501112233", "phone_verified": True},
        "location": {"lat": 26.43, "long": 50.1, "address": "حي الشاطئ"},
        "attachments": [
            {"type": "image", "url": f"https://hub.example.org/media/{digest}.jpg"},
            {"type": "document", "url": f"https://hub.example.org/media/"
             f"{hashlib.sha256(PDF).hexdigest()}.pdf"},
        ],
    }  # fmt: skip
    assert (tmp_path / "media" / f"{digest}.jpg").read_bytes() == JPEG
    assert hub.metric("tawasul_media_total", channel="loop", outcome="stored") == 2


async def test_a_button_payload_wins_and_a_bare_pin_or_photo_is_an_inform(
    make_hub: HubMaker, http: aiohttp.ClientSession, fake_rasa: FakeRasa, provider: FakeLoop
) -> None:
    hub = await make_hub()
    user = new_user()
    provider.media["p"] = (JPEG, "image/jpeg")
    await post_webhook(
        http,
        hub.url,
        [
            message(user, "Potholes", payload='/inform{"service":"pothole"}'),
            message(user, None, location={"lat": 1.5, "long": 2.5}),
            message(user, None, media=[{"id": "p", "type": "image"}]),
        ],
    )
    await provider.wait_for(user, 3)
    assert fake_rasa.of(f"loop:{user}") == ['/inform{"service":"pothole"}', "/inform", "/inform"]
    assert fake_rasa.calls[1].metadata["location"] == {"lat": 1.5, "long": 2.5}
    assert fake_rasa.calls[2].metadata["attachments"][0]["type"] == "image"


async def test_language_hint_detection_and_stickiness(
    make_hub: HubMaker, http: aiohttp.ClientSession, fake_rasa: FakeRasa, provider: FakeLoop
) -> None:
    hub = await make_hub()
    english, hinted = new_user(), new_user()
    for text in ("There is a pothole on my street", "12345", "ok", "بالعربي لو سمحت", "١٢٣"):
        await post_webhook(http, hub.url, [message(english, text)])
    await post_webhook(http, hub.url, [message(hinted, "123", lang="en")])
    await provider.wait_for(english, 5)
    await provider.wait_for(hinted, 1)
    languages = [c.metadata.get("language") for c in fake_rasa.calls if c.sender.endswith(english)]
    assert languages == ["en", "en", "en", "ar", "ar"]
    assert [b["language"] for b in provider.to(english)] == languages
    (hint,) = [c for c in fake_rasa.calls if c.sender.endswith(hinted)]
    assert hint.metadata["language"] == "en"


async def test_replies_map_buttons_images_location_requests_and_reply_context(
    make_hub: HubMaker, http: aiohttp.ClientSession, fake_rasa: FakeRasa, provider: FakeLoop
) -> None:
    hub = await make_hub()
    user = new_user()
    fake_rasa.extra["where?"] = {
        "buttons": [{"title": "Skip", "payload": "/deny"}, {"title": "no payload"}],
        "image": "https://example.org/map.png",
        "custom": {"request_location": True},
    }
    body = message(user, "where?", public=True)
    await post_webhook(http, hub.url, [body])
    (sent,) = await provider.wait_for(user, 1)
    assert sent["key"] == f"{body['id']}:0"
    assert sent["buttons"] == [{"title": "Skip", "payload": "/deny"}]
    assert sent["image"] == "https://example.org/map.png"
    assert sent["request_location"] is True
    assert sent["thread"] == body["id"]  # reply_context carried over
    assert fake_rasa.calls[0].metadata["public"] is True


async def test_files_over_the_limits_are_skipped_and_the_turn_goes_on(
    make_hub: HubMaker, http: aiohttp.ClientSession, fake_rasa: FakeRasa, provider: FakeLoop
) -> None:
    hub = await make_hub(media_max_bytes=len(JPEG))
    user = new_user()
    provider.media["big"] = (JPEG + b"x", "image/jpeg")
    provider.media["html"] = (HTML, "image/jpeg")  # lies about its type
    provider.media["ok"] = (JPEG, "image/jpeg")
    await post_webhook(
        http,
        hub.url,
        [
            message(
                user,
                "photos",
                media=[
                    {"id": "big", "type": "image"},
                    {"id": "html", "type": "image"},
                    {"id": "missing", "type": "image"},
                    {"id": "declared-big", "type": "image", "size": 10**9},
                    {"id": "ok", "type": "image"},
                ],
                inline=[{"type": "image", "b64": base64.b64encode(PDF).decode()}],
            )
        ],
    )
    await provider.wait_for(user, 1)
    attachments = fake_rasa.calls[0].metadata["attachments"]
    assert [a["type"] for a in attachments] == ["image", "document"]
    assert hub.metric("tawasul_media_total", channel="loop", outcome="skipped") == 4
    assert hub.metric("tawasul_media_total", channel="loop", outcome="stored") == 2


async def test_media_is_served_with_its_type_and_nothing_else_is(
    make_hub: HubMaker, http: aiohttp.ClientSession, fake_rasa: FakeRasa, provider: FakeLoop,
    tmp_path: Path,
) -> None:  # fmt: skip
    hub = await make_hub()
    user = new_user()
    provider.media["p"] = (JPEG, "application/octet-stream")
    await post_webhook(http, hub.url, [message(user, "x", media=[{"id": "p", "type": "image"}])])
    await provider.wait_for(user, 1)
    name = fake_rasa.calls[0].metadata["attachments"][0]["url"].rsplit("/", 1)[1]
    async with http.get(f"{hub.url}/media/{name}") as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "image/jpeg"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert await response.read() == JPEG
    (tmp_path / "secret.txt").write_text("secret")
    (tmp_path / "media" / "notes.txt").write_text("x")
    for path in (
        "../secret.txt",
        "..%2Fsecret.txt",
        "%2e%2e%2fsecret.txt",
        "notes.txt",
        name.upper(),
        name[:-4] + ".html",
        "0" * 64 + ".jpg",
        name + "/",
    ):
        async with http.get(f"{hub.url}/media/{path}") as response:
            assert response.status == 404, path
            assert b"secret" not in await response.read()


async def test_the_contact_record_keeps_every_identifier(
    make_hub: HubMaker, http: aiohttp.ClientSession, provider: FakeLoop, redis: Redis
) -> None:
    hub = await make_hub()
    user = new_user()
    await post_webhook(http, hub.url, [message(user, "hi", phone="+966501112233")])
    await post_webhook(http, hub.url, [message(user, "again", email="a@example.org")])
    await provider.wait_for(user, 2)
    record = await redis.hgetall(keys.contact(f"loop:{user}"))
    assert record == {
        b"id:loop_id": user.encode(),
        b"id:user_id": user.encode(),
        b"phone": b"+966501112233",  # kept although the second message had none
        b"email": b"a@example.org",
    }


async def test_a_ticket_service_failure_never_blocks_the_turn(
    make_hub: HubMaker, http: aiohttp.ClientSession, provider: FakeLoop, fake_rasa: FakeRasa
) -> None:
    # The fake Rasa server has no /api/v1/contacts: the ticket service "fails" (404).
    hub = await make_hub(hub_api_key="hub-key", ticket_url=fake_rasa.url)
    user = new_user()
    await post_webhook(
        http, hub.url, [message(user, "hi", phone="+966501112233", phone_verified=True)]
    )
    await provider.wait_for(user, 1)
    assert hub.metric("tawasul_contact_sync_total", outcome="failed") == 1


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["text", "buttons", "image", "custom", "title", "payload", "x"]),
            children,
            max_size=5,
        )
    ),
    max_leaves=20,
)


_keys = st.sampled_from(["recipient_id", "text", "buttons", "image", "custom", "attachment"])


@given(st.lists(st.dictionaries(_keys, _json, max_size=5), max_size=5))
def test_any_rasa_answer_maps_to_replies_without_raising(replies: list[dict[str, Any]]) -> None:
    inbound = InboundMessage("loop", "m1", "u1", 0.0, text="x")
    for n, reply in enumerate(replies_to_outbound(inbound, replies, "en")):
        assert reply.key == f"m1:{n}" and isinstance(reply.text, str)
        assert all(b.payload for b in reply.buttons)
        assert reply.text or reply.buttons or reply.image_url or reply.request_location


def test_a_location_request_rasa_sends_apart_goes_with_the_question_before_it() -> None:
    # Rasa's REST channel sends a response's `custom` as a message of its own after the text
    # (utter_ask_location_text in domain.yml): one reply, the question with the picker.
    inbound = InboundMessage("loop", "m1", "u1", 0.0, text="pothole")
    replies = [
        {"recipient_id": "u1", "text": "Where is the problem?"},
        {"recipient_id": "u1", "custom": {"request_location": True}},
    ]
    (reply,) = replies_to_outbound(inbound, replies, "en")
    assert reply.text == "Where is the problem?" and reply.request_location is True

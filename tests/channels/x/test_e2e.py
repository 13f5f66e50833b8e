"""End to end, in Arabic and English: a citizen mentions us publicly (a geotagged post), gets a
public invitation to DM without personal data, then files a report in DMs — a quick-reply
tap, a photo, name and phone — through the real hub process → Rasa → actions → ticket
service, with every reply arriving at the fake X API. The filed ticket is read back as staff.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest

from channels.x.limits import looks_private, weighted_length
from tests.channels.e2e import filed_number, fill_report
from tests.channels.x.fake_x import Call, FakeX
from tests.channels.x.support import CREDENTIALS, USER_ID, payload_json, signature, x_env
from tests.hubstack import HubFactory, HubProcess
from tests.stack import BotStack
from ticket_client import TawasulClient

QUIET = 1.5  # seconds without a new reply: the bot has finished answering
REPLY_TIMEOUT = 60.0
PHOTO = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + bytes(range(256)) * 16 + b"\xff\xd9"


@dataclass(frozen=True)
class Phrases:
    language: str
    mention: str
    start: str  # a report that names no service
    report: str
    location: str
    photo_caption: str
    name: str
    phone: str
    yes: str


ARABIC = Phrases(
    language="ar",
    mention="حفرة كبيرة في الشارع قدام المدرسة وخطيرة على السيارات",
    start="ابغى اقدم بلاغ",
    report="فيه حفرة كبيرة وعميقة في الشارع قدام بيتنا وخربت كفر سيارتي",
    location="حي الروضة، شارع الأمير سلطان",
    photo_caption="هذي صورة الحفرة",
    name="سارة العتيبي",
    phone="٠٥٥١٢٣٤٥٦٧",
    yes="نعم",
)
ENGLISH = Phrases(
    language="en",
    mention="There is a big pothole in the road in front of the school, dangerous for cars",
    start="I want to file a report",
    report="There is a big deep pothole in the road in front of our house, it damaged my tyre",
    location="Al Rawdah district, Prince Sultan Street",
    photo_caption="here is a photo of the pothole",
    name="John Reed",
    phone="0551234567",
    yes="yes",
)


@dataclass
class XCitizen:
    """A citizen on X: posts mentions and DMs through the hub's webhook (signed like X), and
    reads the bot's answers at the fake X API."""

    fake: FakeX
    hub: HubProcess
    http: aiohttp.ClientSession
    rasa_url: str
    user_id: str
    handle: str
    name: str
    ids: Any = field(default_factory=lambda: iter(range(1, 10_000)))
    transcript: list[str] = field(default_factory=list)

    @property
    def conversation(self) -> str:
        return f"x:{self.user_id}"

    def _id(self) -> str:
        return f"{1860000000000000000 + int(self.user_id) % 10**9 * 1000 + next(self.ids)}"

    def replies(self) -> list[Call]:
        """Everything the bot posted to or for this citizen, in order."""
        mine = []
        for call in self.fake.posted():
            if call.path == f"/2/dm_conversations/with/{self.user_id}/messages":
                mine.append(call)
            elif call.path.startswith("/1.1/direct_messages/"):
                target = call.body["event"]["message_create"]["target"]["recipient_id"]
                if target == self.user_id:
                    mine.append(call)
            elif call.path == "/2/tweets":
                parent = call.body.get("reply", {}).get("in_reply_to_tweet_id")
                if self.fake.tweets.get(parent, {}).get("author_id") == self.user_id:
                    mine.append(call)
        return mine

    async def _deliver(self, body: dict[str, Any], said: str) -> list[Call]:
        before = len(self.replies())
        raw = json.dumps(body, ensure_ascii=False).encode()
        headers = {
            "Content-Type": "application/json",
            "x-twitter-webhooks-signature": signature(raw),
        }
        async with self.http.post(f"{self.hub.url}/webhooks/x", data=raw, headers=headers) as r:
            assert r.status == 200, await r.text()
        deadline = time.monotonic() + REPLY_TIMEOUT
        count, quiet_since = before, time.monotonic()
        while time.monotonic() < deadline:
            await asyncio.sleep(0.1)
            now = len(self.replies())
            if now != count:
                count, quiet_since = now, time.monotonic()
            elif count > before and time.monotonic() - quiet_since > QUIET:
                break
        new = self.replies()[before:]
        self.transcript.append(f"> {said}")
        self.transcript.extend(f"< {_text(c)}" for c in new)
        assert new, f"no answer to {said!r}\n{self.log()}"
        return new

    def log(self) -> str:
        return "\n".join(self.transcript) + "\n--- hub log ---\n" + self.hub.log_tail(30)

    def failure(self, what: str) -> str:
        return f"{what}\n{self.log()}"

    async def mention(
        self, text: str, lang: str, point: tuple[float, float]
    ) -> tuple[str, list[Call]]:
        body = payload_json("webhook_mentions.json")
        tweet = body["tweet_create_events"][0]
        tweet_id = self._id()
        tweet.update(
            id=int(tweet_id),
            id_str=tweet_id,
            text=f"@Amanat940 {text}",
            display_text_range=[0, len(text) + 11],
            lang=lang,
            timestamp_ms=str(int(time.time() * 1000)),
            coordinates={"type": "Point", "coordinates": [point[1], point[0]]},
            entities={**tweet["entities"], "media": []},
            extended_entities={"media": []},
        )
        tweet["user"].update(
            id=int(self.user_id), id_str=self.user_id, name=self.name, screen_name=self.handle
        )
        body["tweet_create_events"] = [tweet]
        self.fake.add_post({"id": tweet_id, "text": tweet["text"], "author_id": self.user_id})
        return tweet_id, await self._deliver(body, f"(public) {text}")

    async def dm(
        self, text: str, *, quick_reply: str | None = None, photo_path: str | None = None
    ) -> list[Call]:
        body = payload_json("webhook_dm_media.json" if photo_path else "webhook_dm.json")
        event = body["direct_message_events"][0]
        event_id = self._id()
        event["id"] = event_id
        event["created_timestamp"] = str(int(time.time() * 1000))
        create = event["message_create"]
        create["sender_id"] = self.user_id
        data = create["message_data"]
        if photo_path:
            media = data["attachment"]["media"]
            media["media_url_https"] = media["media_url"] = f"https://ton.twitter.com{photo_path}"
            data["text"] = f"{text} {media['url']}"
        else:
            data["text"] = text
        if quick_reply:
            data["quick_reply_response"] = {"type": "options", "metadata": quick_reply}
        body["users"] = {
            self.user_id: {"id": self.user_id, "name": self.name, "screen_name": self.handle}
        }
        return await self._deliver(body, text + (f" [{quick_reply}]" if quick_reply else ""))

    async def form(self) -> tuple[str | None, str | None]:
        url = f"{self.rasa_url}/conversations/{self.conversation}/tracker"
        async with self.http.get(url) as response:
            tracker = await response.json()
        loop = (tracker.get("active_loop") or {}).get("name")
        return loop, (tracker.get("slots") or {}).get("requested_slot")


def _text(call: Call) -> str:
    if call.path.startswith("/1.1/"):
        data = call.body["event"]["message_create"]["message_data"]
        labels = [o["label"] for o in data.get("quick_reply", {}).get("options", [])]
        return f"{data['text']} {labels}"
    return str(call.body.get("text"))


def options_of(call: Call) -> dict[str, str]:
    """A quick-reply DM's options, metadata by label."""
    data = call.body["event"]["message_create"]["message_data"]
    return {o["label"]: o["metadata"] for o in data["quick_reply"]["options"]}


@pytest.mark.parametrize("p", [pytest.param(ARABIC, id="ar"), pytest.param(ENGLISH, id="en")])
async def test_a_mention_then_a_report_in_dms(
    p: Phrases,
    fake_x: FakeX,
    hub_factory: HubFactory,
    bot_stack: BotStack,
    staff: TawasulClient,
    x_session: aiohttp.ClientSession,
) -> None:
    hub = await hub_factory.start(env=x_env(fake_x.url), name=f"x-{p.language}")
    user_id = str(random.randrange(10**9, 10**10))
    who = XCitizen(
        fake_x, hub, x_session, bot_stack.rasa.url, user_id, f"citizen{user_id[-4:]}", p.name
    )
    point = (26.4 + random.uniform(0, 0.08), 50.05 + random.uniform(0, 0.08))

    # 1. A public, geotagged mention: one public reply in the thread, no personal data.
    tweet_id, replies = await who.mention(p.mention, p.language, point)
    assert all(c.path == "/2/tweets" for c in replies), who.log()
    for call in replies:
        assert call.body["reply"] == {"in_reply_to_tweet_id": tweet_id}
        assert not looks_private(call.body["text"]) and weighted_length(call.body["text"]) <= 280
        assert call.body["direct_message_deep_link"].endswith(f"recipient_id={USER_ID}")
    assert await who.form() == (None, None), who.log()  # no form in public

    # 2. The same citizen in DMs (the same conversation): the report form.
    await who.dm(p.start)

    async def tap_pothole() -> list[Call]:
        pothole = next(m for m in options_of(who.replies()[-1]).values() if "pothole" in m)
        return await who.dm("tap", quick_reply=pothole)

    async def send_photo() -> list[Call]:
        path = f"/1.1/ton/data/dm/{who._id()}/{who._id()}/photo.jpg"
        fake_x.files[path] = (PHOTO, "image/jpeg")
        return await who.dm(p.photo_caption, photo_path=path)

    async def confirm() -> list[Call]:
        last = who.replies()[-1]
        options = options_of(last) if last.path.startswith("/1.1/") else {}
        affirm = next((m for m in options.values() if m.startswith("/affirm")), None)
        return await who.dm(p.yes, quick_reply=affirm)

    answers = {
        "service": tap_pothole,
        "description": lambda: who.dm(p.report),
        "location_text": lambda: who.dm(p.location),
        "photo_url": send_photo,
        "reporter_name": lambda: who.dm(p.name),
        "reporter_phone": lambda: who.dm(p.phone),
        "confirmed": confirm,
    }
    questions: list[str] = []
    confirmation = await fill_report(who, answers, who.failure, questions=questions)

    # 3. The ticket number came by DM; the ticket holds what the citizen gave on X.
    number = filed_number("\n".join(_text(c) for c in confirmation), p.language, who.failure)
    filed = [c for c in who.replies() if number in _text(c)]
    assert all(c.path != "/2/tweets" for c in filed), "a ticket number was posted publicly"
    ticket = await staff.ticket(number)
    assert ticket.kind == "report" and ticket.service_code == "pothole", who.log()
    assert ticket.channel == "x" and ticket.conversation_id == who.conversation
    assert ticket.language == p.language
    assert ticket.description and " ".join(ticket.description.split()) in (
        " ".join(p.report.split()),
        " ".join(p.mention.split()),
    ), who.log()
    # what the public mention said is kept for the DMs: its service and its geotag (the
    # shared location), so the form asks neither (the summary shows both to confirm)
    assert "service" not in questions and "location_text" not in questions, who.log()
    assert questions[:2] == ["description", "photo_url"], who.log()
    assert (ticket.lat, ticket.long) == pytest.approx(point, abs=1e-5), who.log()
    assert len(ticket.media_urls) == 1, who.log()
    async with x_session.get(ticket.media_urls[0]) as response:
        assert response.status == 200 and await response.read() == PHOTO
    assert ticket.reporter is not None, who.log()
    assert (ticket.reporter.channel, ticket.reporter.name) == ("x", p.name), who.log()
    assert ticket.reporter.phone == "+966551234567", who.log()


async def test_polled_mentions_are_answered_once_in_the_hub(
    fake_x: FakeX, hub_factory: HubFactory, x_session: aiohttp.ClientSession
) -> None:
    """The hub's mention poller: the backlog is not answered, a new mention is, and the same
    mention delivered again by webhook (three times) gets no second reply."""
    fake_x.add_mentions_page(payload_json("mentions_page1.json"))  # the backlog
    fake_x.add_mentions_page(payload_json("mentions_page2.json"))
    env = x_env(fake_x.url, poll_interval="0.3", bearer_token=CREDENTIALS["bearer_token"])
    hub = await hub_factory.start(env=env, name="x-poll")

    def polls() -> list[Call]:
        return fake_x.calls_to("GET", f"/2/users/{USER_ID}/mentions")

    await wait_until(lambda: any("since_id" in c.query for c in polls()), hub)
    assert {c.auth for c in polls()} == {"bearer"}
    user_id = str(random.randrange(10**9, 10**10))
    tweet_id = "1853000000000000700"
    tweet = {
        "id": tweet_id,
        "text": "@Amanat940 السلام عليكم",
        "author_id": user_id,
        "created_at": "2026-11-03T11:00:00.000Z",
        "entities": {"mentions": [{"start": 0, "end": 10, "username": "Amanat940", "id": USER_ID}]},
        "lang": "ar",
    }
    fake_x.add_mentions_page(
        {
            "data": [tweet],
            "includes": {"users": [{"id": user_id, "name": "ريم", "username": "reem"}]},
        }
    )

    def replies() -> list[Call]:
        return [c for c in fake_x.posted() if c.path == "/2/tweets"]

    await wait_until(lambda: bool(replies()), hub)
    (reply,) = replies()
    assert reply.body["reply"] == {"in_reply_to_tweet_id": tweet_id}
    assert not looks_private(reply.body["text"])

    body = payload_json("webhook_mentions.json")  # the same post, now by webhook
    event = body["tweet_create_events"][0]
    event.update(id_str=tweet_id, id=int(tweet_id), text=tweet["text"], extended_entities={})
    event["user"].update(id_str=user_id, id=int(user_id))
    body["tweet_create_events"] = [event]
    raw = json.dumps(body, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json", "x-twitter-webhooks-signature": signature(raw)}
    for _ in range(3):
        async with x_session.post(f"{hub.url}/webhooks/x", data=raw, headers=headers) as response:
            assert response.status == 200
    await asyncio.sleep(3)
    assert len(replies()) == 1, hub.log_tail()  # no reply to the backlog, one to the mention


async def wait_until(condition: Any, hub: HubProcess) -> None:
    deadline = time.monotonic() + REPLY_TIMEOUT
    while not condition():
        assert time.monotonic() < deadline, hub.log_tail()
        await asyncio.sleep(0.1)

"""The closure survey started by the hub (``ticket.survey_requested``), in-process with the real
adapters against their fakes, real Redis, an injected clock and the fake Rasa of tests/hub (what
the bot receives is what is checked): a message of the hub's own in the reporter's conversation,
in order after what the citizen already sent; the WhatsApp template outside the 24 h window;
quiet hours; one start however often the event comes."""

from __future__ import annotations

import asyncio
import secrets
import time
from datetime import UTC, datetime
from typing import Any

import aiohttp
from redis.asyncio import Redis

from bot import keys
from bot.events.store import EVENTS, HELD, REMINDERS
from channels.meta.window import MessagingWindow
from tests.channels.email.fake_smtp import FakeSmtp
from tests.channels.fakes.graph import FakeGraph
from tests.channels.fakes.graph_hub import load_payload, signed
from tests.channels.telegram.fake_telegram import FakeTelegram, User
from tests.channels.web.support import user_id as web_user_id
from tests.channels.whatsapp.conftest import APP_SECRET, PAYLOADS
from tests.hub.fake_rasa import Call, FakeRasa
from ticket_service.clock import FakeClock

from .conftest import TELEGRAM_SECRET, HubMaker, RunningHub, event
from .conftest import signed as signed_event

NUMBER = "482913657"
PAYLOAD = '/start_survey{"ticket_id":"482913657"}'
TEMPLATE = "tawasul_closure_survey"


def survey_event(*people: dict[str, Any], service: str = "pothole") -> dict[str, Any]:
    """``ticket.survey_requested`` as the ticket service sends it (reporter and followers)."""
    return event("ticket.survey_requested", list(people), data={"update_id": "17"},
                 service=service, number=NUMBER)  # fmt: skip


def person(channel: str, user: str, language: str, role: str = "reporter") -> dict[str, Any]:
    return {"role": role, "channel": channel, "channel_user_id": f"{channel}:{user}",
            "language": language, "name": None}  # fmt: skip


def a_phone() -> str:
    return "9665" + "".join(secrets.choice("0123456789") for _ in range(8))


async def wait_for(condition, within: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def drained(redis: Redis, within: float = 20.0) -> None:
    """Until the events worker has taken every stored event (processed, or held)."""
    deadline = time.monotonic() + within
    while await redis.xlen(EVENTS):
        assert time.monotonic() < deadline, "events not processed in time"
        await asyncio.sleep(0.05)


async def post(hub: RunningHub, http: aiohttp.ClientSession, body: dict[str, Any]) -> Any:
    status, answer = await hub.post_event(http, *signed_event(body))
    assert status == 200, answer
    return answer


def calls(rasa: FakeRasa, sender: str) -> list[Call]:
    return [c for c in rasa.calls if c.sender == sender]


def to(graph: FakeGraph, wa: str) -> list[dict[str, Any]]:
    return [b for b in graph.sent("whatsapp") if b.get("to") == wa]


async def test_telegram_survey_reaches_rasa_after_the_pending_citizen_message(
    make_hub: HubMaker,
    http: aiohttp.ClientSession,
    telegram: FakeTelegram,
    fake_rasa: FakeRasa,
    redis_db: tuple[str, Redis],
) -> None:
    hub = await make_hub(rasa_url=fake_rasa.url)
    user = telegram.add_user(User(7301948826, "نورة", "الشمري", None, "ar"))
    sender = f"telegram:{user.id}"
    release = fake_rasa.hang["السلام عليكم"] = asyncio.Event()
    status, _ = await telegram.post_update(
        http, f"{hub.url}/webhooks/telegram", telegram.text_update(user, "السلام عليكم"),
        TELEGRAM_SECRET,
    )  # fmt: skip
    assert status == 200
    await wait_for(lambda: len(calls(fake_rasa, sender)) == 1)  # the citizen's turn is running
    window = await redis_db[1].get(keys.last_inbound(sender))
    assert window is not None
    await asyncio.sleep(1.1)  # a message stamped now would move the window's time

    reporter = person("telegram", str(user.id), "ar")
    follower = person("telegram", "5550001", "ar", "follower")
    answer = await post(hub, http, survey_event(reporter, follower))
    assert answer["duplicate"] is False
    await drained(redis_db[1])
    assert await redis_db[1].xlen(keys.conv_in(sender)) == 2  # the citizen's, then the survey
    await asyncio.sleep(0.5)
    assert len(calls(fake_rasa, sender)) == 1  # waits behind the citizen's message
    release.set()

    await wait_for(lambda: len(calls(fake_rasa, sender)) == 2)
    first, survey = calls(fake_rasa, sender)
    assert first.message == "السلام عليكم" and "proactive" not in first.metadata
    assert survey.message == PAYLOAD
    assert survey.metadata["proactive"] == "survey"
    assert survey.metadata["channel"] == "telegram" and survey.metadata["language"] == "ar"
    assert survey.metadata["public"] is False
    # the bot's answer to it goes to the citizen's chat like any reply
    await wait_for(lambda: any(m.get("text") == f"re: {PAYLOAD}" for m in telegram.sent))
    assert calls(fake_rasa, "telegram:5550001") == []  # followers get no survey
    assert await redis_db[1].get(keys.last_inbound(sender)) == window  # not the citizen's


async def test_web_chat_survey_in_english_is_stored_in_the_conversation(
    make_hub: HubMaker, http: aiohttp.ClientSession, fake_rasa: FakeRasa
) -> None:
    hub = await make_hub(rasa_url=fake_rasa.url, webchat=True)
    async with http.post(f"{hub.url}/webchat/api/conversations", json={"language": "en"}) as r:
        assert r.status == 201
        token = (await r.json())["token"]
    uid = web_user_id(token)
    await post(hub, http, survey_event(person("web", uid, "en")))

    await wait_for(lambda: len(calls(fake_rasa, f"web:{uid}")) == 1)
    call = calls(fake_rasa, f"web:{uid}")[0]
    assert call.message == PAYLOAD
    assert call.metadata["proactive"] == "survey" and call.metadata["language"] == "en"
    api = f"{hub.url}/webchat/api/conversations/{token}/messages"

    async def bot_said() -> list[str]:
        async with http.get(api, params={"after": "0"}) as r:
            assert r.status == 200
            return [m.get("text") for m in (await r.json())["messages"] if m["role"] == "bot"]

    deadline = time.monotonic() + 20
    while f"re: {PAYLOAD}" not in await bot_said():  # shown when the citizen comes back
        assert time.monotonic() < deadline
        await asyncio.sleep(0.1)


async def test_email_survey_in_english_is_an_auto_generated_mail(
    make_hub: HubMaker,
    http: aiohttp.ClientSession,
    fake_rasa: FakeRasa,
    smtp: FakeSmtp,
    email_env: dict[str, str],
) -> None:
    hub = await make_hub(rasa_url=fake_rasa.url, email=email_env)
    mail = f"lina.{secrets.token_hex(3)}@citizen.test"
    await post(hub, http, survey_event(person("email", mail, "en")))

    await wait_for(lambda: len(calls(fake_rasa, f"email:{mail}")) == 1)
    call = calls(fake_rasa, f"email:{mail}")[0]
    assert call.message == PAYLOAD
    assert call.metadata == {"channel": "email", "public": False, "language": "en",
                             "proactive": "survey"}  # fmt: skip
    await wait_for(lambda: any(mail in d.rcpt_tos for d in smtp.delivered))
    sent = next(d.message for d in smtp.delivered if mail in d.rcpt_tos)
    assert sent["Auto-Submitted"] == "auto-generated"  # the hub's own, not an answer


async def test_whatsapp_outside_the_window_gets_the_template_and_its_tap_starts_the_survey(
    make_hub: HubMaker,
    http: aiohttp.ClientSession,
    graph: FakeGraph,
    fake_rasa: FakeRasa,
    redis_db: tuple[str, Redis],
) -> None:
    graph.register_template(TEMPLATE, ["ar", "en"], 1, 2)
    hub = await make_hub(rasa_url=fake_rasa.url)
    wa = a_phone()
    await post(hub, http, survey_event(person("whatsapp", wa, "en")))

    await wait_for(lambda: len(to(graph, wa)) == 1)
    template = to(graph, wa)[0]["template"]
    assert template["name"] == TEMPLATE and template["language"]["code"] == "en"
    body, rate, still = template["components"]
    assert [p["text"] for p in body["parameters"]] == [NUMBER]
    assert [(b["index"], b["parameters"][0]["payload"]) for b in (rate, still)] == [
        ("0", PAYLOAD), ("1", '/follow_up{"ticket_id":"482913657"}')]  # fmt: skip
    assert fake_rasa.calls == []  # nothing reaches the bot until the citizen answers
    assert not await MessagingWindow(redis_db[1], "whatsapp").is_open(wa)

    # "Rate the closure": a real message from the citizen, which opens the window
    graph.open_window(wa)
    tap = load_payload(PAYLOADS, "button_template.json", fresh=True, replace={
        "966501234567": wa,
        '/follow_up{\\"ticket_id\\":\\"4819302\\"}': PAYLOAD.replace('"', '\\"'),
        "wamid.HBgMOTY2NTAxMjM0NTY3FQIAEhgUM0VCMDdCQTRCOTY1QjE1MzE4NkEA": f"wamid.{wa}tap",
    })  # fmt: skip
    async with http.post(f"{hub.url}/webhooks/whatsapp", data=tap,
                         headers=signed(tap, APP_SECRET)) as r:  # fmt: skip
        assert r.status == 200
    await wait_for(lambda: len(calls(fake_rasa, f"whatsapp:{wa}")) == 1)
    call = calls(fake_rasa, f"whatsapp:{wa}")[0]
    assert call.message == PAYLOAD and "proactive" not in call.metadata
    assert await MessagingWindow(redis_db[1], "whatsapp").is_open(wa)
    await wait_for(lambda: len(to(graph, wa)) == 2)
    assert to(graph, wa)[1]["type"] == "text"  # the bot's survey question, free-form now


async def test_whatsapp_inside_the_window_is_a_system_message_that_keeps_the_window(
    make_hub: HubMaker,
    http: aiohttp.ClientSession,
    graph: FakeGraph,
    fake_rasa: FakeRasa,
    redis_db: tuple[str, Redis],
) -> None:
    graph.register_template(TEMPLATE, ["ar", "en"], 1, 2)
    hub = await make_hub(rasa_url=fake_rasa.url)
    wa = a_phone()
    graph.open_window(wa)
    written = str(int(time.time()) - 3600)  # the citizen wrote an hour ago
    await redis_db[1].set(keys.last_inbound(f"whatsapp:{wa}"), written)
    await post(hub, http, survey_event(person("whatsapp", wa, "ar")))

    await wait_for(lambda: len(calls(fake_rasa, f"whatsapp:{wa}")) == 1)
    call = calls(fake_rasa, f"whatsapp:{wa}")[0]
    assert call.message == PAYLOAD and call.metadata["proactive"] == "survey"
    assert call.metadata["language"] == "ar"
    await wait_for(lambda: len(to(graph, wa)) == 1)
    assert to(graph, wa)[0]["type"] == "text"  # no template
    assert (await redis_db[1].get(keys.last_inbound(f"whatsapp:{wa}"))).decode() == written


async def test_same_event_three_times_and_a_replay_start_one_survey_and_one_reminder(
    make_hub: HubMaker,
    http: aiohttp.ClientSession,
    telegram: FakeTelegram,
    fake_rasa: FakeRasa,
    redis_db: tuple[str, Redis],
) -> None:
    hub = await make_hub(rasa_url=fake_rasa.url)
    user = telegram.add_user(User(7301948827, "Sam", "Lee", None, "en"))
    body = survey_event(person("telegram", str(user.id), "en"))
    answers = [await post(hub, http, body) for _ in range(3)]
    assert [a["duplicate"] for a in answers] == [False, True, True]
    await wait_for(lambda: len(fake_rasa.calls) == 1)
    # the event processed again (as after a crash, when another process claims it)
    await redis_db[1].xadd(EVENTS, {"e": body["event_id"]})
    await drained(redis_db[1])
    await asyncio.sleep(1.0)
    assert len(fake_rasa.calls) == 1
    assert await redis_db[1].zcard(REMINDERS) == 1


async def test_quiet_hours_hold_the_survey_until_seven_even_for_an_urgent_service(
    make_hub: HubMaker,
    http: aiohttp.ClientSession,
    telegram: FakeTelegram,
    fake_rasa: FakeRasa,
    clock: FakeClock,
    redis_db: tuple[str, Redis],
) -> None:
    clock.set(datetime(2026, 3, 2, 20, 0, tzinfo=UTC))  # 23:00 in Riyadh
    hub = await make_hub(rasa_url=fake_rasa.url)
    user = telegram.add_user(User(7301948828, "مها", "القحطاني", None, "ar"))
    body = survey_event(person("telegram", str(user.id), "ar"), service="sewage")
    await post(hub, http, body)
    await drained(redis_db[1])
    await asyncio.sleep(1.0)
    assert fake_rasa.calls == []
    held = await redis_db[1].zrange(HELD, 0, -1, withscores=True)
    seven = datetime(2026, 3, 3, 4, 0, tzinfo=UTC)
    assert [(m.decode(), s) for m, s in held] == [(body["event_id"], seven.timestamp())]
    assert await redis_db[1].zcard(REMINDERS) == 0  # scheduled when the survey starts

    clock.set(datetime(2026, 3, 3, 3, 59, tzinfo=UTC))
    await asyncio.sleep(1.0)
    assert fake_rasa.calls == []
    clock.set(seven)
    await wait_for(lambda: len(fake_rasa.calls) == 1)
    assert fake_rasa.calls[0].message == PAYLOAD
    reminders = await redis_db[1].zrange(REMINDERS, 0, -1, withscores=True)
    assert [s for _, s in reminders] == [seven.timestamp() + 24 * 3600]


async def test_voice_reporters_are_left_to_the_callback_survey(
    make_hub: HubMaker,
    http: aiohttp.ClientSession,
    fake_rasa: FakeRasa,
    redis_db: tuple[str, Redis],
) -> None:
    hub = await make_hub(rasa_url=fake_rasa.url)
    await post(hub, http, survey_event(person("voice", "+966501112233", "ar")))
    await drained(redis_db[1])
    await asyncio.sleep(1.0)
    assert fake_rasa.calls == []
    assert await redis_db[1].zcard(REMINDERS) == 0
    assert await redis_db[1].xlen(keys.conv_in("voice:+966501112233")) == 0

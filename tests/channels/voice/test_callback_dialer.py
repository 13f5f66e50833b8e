"""Callbacks against the fake Twilio, which plays each call through the hub's signed webhooks:
real Redis, an injected clock, the callbacks mounted on an app on 127.0.0.1 (their public URL)
and delivered to as the hub's sender does. Outcomes land on the events worker's stream."""

from __future__ import annotations

import asyncio
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from redis.asyncio import Redis

from bot.errors import PermanentSendError, TransientSendError
from bot.events.settings import NotifySettings
from bot.events.store import OUTCOMES
from bot.model import OutboundMessage
from channels.voice.callback import Callbacks
from channels.voice.callback_dialer import callback_path
from channels.voice.callback_settings import CallbackSettings
from channels.voice.callback_store import DUE, CallbackStore, index_key
from channels.voice.config import VoiceConfig
from channels.voice.verify import sign, signed_headers
from tests.channels.standin import HubStandIn, isolated_redis
from tests.channels.voice.fake_calls_api import (  # noqa: F401 (fixture)
    ACCOUNT_SID,
    AUTH_TOKEN,
    NUMBER,
    Answer,
    FakeCallsApi,
    PlacedCall,
    Unanswered,
    calls_api,
)
from tests.channels.voice.twiml_check import check_twiml
from tests.services import free_port
from ticket_service.clock import FakeClock

RIYADH_NOON = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
RETRY = 600.0


def riyadh(hour: int, minute: int = 0, day: int = 2) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC) - timedelta(hours=3)


async def wait_for(condition: Callable[[], bool], within: float = 15.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


def phone() -> str:
    return "+9665" + "".join(secrets.choice("0123456789") for _ in range(8))


def update(
    to: str, text: str, language: str = "ar", event_type: str = "ticket.status_changed"
) -> OutboundMessage:
    return OutboundMessage(
        channel="voice", recipient_id=to, key=f"event:{uuid.uuid4()}:0:voice", text=text,
        language=language, public=False,
        reply_context={"ticket_number": "482913657", "event_type": event_type},
    )  # fmt: skip


@dataclass
class Served:
    callbacks: Callbacks
    runner: web.AppRunner
    store: CallbackStore


@dataclass
class Rig:
    redis: Redis
    fake: FakeCallsApi
    clock: FakeClock
    port: int
    http: aiohttp.ClientSession
    start: Callable[..., Awaitable[Served]]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def checked(self, to: str) -> list[PlacedCall]:
        """The calls to ``to``; the fake saw no error and every TwiML keeps the IVR's rules."""
        assert self.fake.errors == []
        calls = self.fake.to(to)
        for call in calls:
            for raw in call.twiml:
                check_twiml(raw, self.base)
        return calls

    async def outcomes(self) -> list[dict[str, str]]:
        entries: Any = await self.redis.xrange(OUTCOMES)
        return [{_text(k): _text(v) for k, v in fields.items()} for _, fields in entries]

    async def record(self, key: str) -> dict[str, str]:
        callback_id = _text(await self.redis.get(index_key(key)) or b"")
        raw: Any = await self.redis.hgetall(f"tawasul:voice:cb:{callback_id}")
        return {"id": callback_id, **{_text(k): _text(v) for k, v in raw.items()}}


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


@pytest.fixture
async def rig(redis_url: str, calls_api: FakeCallsApi) -> AsyncIterator[Rig]:  # noqa: F811
    redis = await isolated_redis(redis_url)
    clock = FakeClock(RIYADH_NOON)
    port = free_port()
    runners: list[web.AppRunner] = []
    async with aiohttp.ClientSession() as http:

        async def start(**changes: Any) -> Served:
            config = VoiceConfig(
                account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, number=NUMBER,
                public_url=f"http://127.0.0.1:{port}", api_url=calls_api.url,
            )  # fmt: skip
            quiet = NotifySettings.from_env({"TAWASUL_EVENT_SECRET": "x"})
            assert quiet is not None
            values: dict[str, Any] = {"retry_seconds": RETRY, "poll_seconds": 0.05,
                                      "quiet": quiet.quiet, **changes}  # fmt: skip
            callbacks = Callbacks(config, CallbackSettings(**values), clock=clock)
            app = web.Application()
            callbacks.setup(app, HubStandIn(http, redis))
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", port).start()
            runners.append(runner)
            return Served(callbacks, runner, CallbackStore(redis))

        yield Rig(redis, calls_api, clock, port, http, start)
        for runner in reversed(runners):
            await runner.cleanup()
    await redis.aclose()


@pytest.mark.parametrize(
    ("language", "text", "spoken", "voice"),
    [
        ("ar", "بلاغك رقم 482913657 (حفرة) قيد التنفيذ الآن.", "4، 8، 2، 9، 1، 3، 6، 5، 7",
         "Polly.Zeina"),
        ("en", "Your report 482913657 (Potholes) is now in progress.",
         "4, 8, 2, 9, 1, 3, 6, 5, 7", "Polly.Joanna"),
    ],
)  # fmt: skip
async def test_the_update_is_spoken_in_the_recipients_language(
    rig: Rig, language: str, text: str, spoken: str, voice: str
) -> None:
    served = await rig.start()
    to = phone()
    rig.fake.script(to, Answer())
    message = update(to, text, language)
    await served.callbacks.deliver(message)
    await rig.fake.settled()
    (call,) = rig.checked(to)
    callback_id = (await rig.record(message.key))["id"]
    assert call.one("Url") == rig.base + callback_path(callback_id, "answer")
    assert call.one("MachineDetection") == "Enable"
    assert spoken in call.speech and call.gathers == 0
    assert {s.voice for s in call.said} == {voice}
    await wait_for(lambda: call.webhook_statuses[-1] == 200)
    assert (await rig.record(message.key))["state"] == "done"
    assert await rig.outcomes() == []


async def test_keypad_survey_asks_again_once_after_a_wrong_key(rig: Rig) -> None:
    served = await rig.start()
    to = phone()
    rig.fake.script(to, Answer(digits=("7", "5", None, "9")))
    message = update(to, "Your report 482913657 was closed: fixed", "en", "ticket.closed")
    await served.callbacks.deliver(message)
    await rig.fake.settled()
    (call,) = rig.checked(to)
    texts = [s.text for s in call.said]
    quality = next(t for t in texts if t.startswith("How satisfied are you with the quality"))
    speed = next(t for t in texts if t.startswith("And how satisfied"))
    invalid = "Please press a number from 1 to 5."
    assert texts.count(quality) == 2 and texts.count(speed) == 2 and texts.count(invalid) == 2
    assert call.digits_sent == ["7", "5", "9"]  # silence at the first speed question
    assert texts[-2:] == ["We did not get your rating. Thank you for your time.",
                          "Thank you. Goodbye."]  # fmt: skip


async def test_the_same_update_delivered_twice_places_one_call(rig: Rig) -> None:
    first = await rig.start()
    to = phone()
    rig.fake.script(to, Answer())
    message = update(to, "بلاغك رقم 482913657 قيد التنفيذ")
    await asyncio.gather(*(first.callbacks.deliver(message) for _ in range(5)))
    await first.callbacks.deliver(message)
    await rig.fake.settled()
    assert len(rig.fake.to(to)) == 1


async def test_busy_three_times_then_the_failure_goes_to_the_events_worker(rig: Rig) -> None:
    served = await rig.start()
    to = phone()
    rig.fake.script(to, Unanswered("busy"), Unanswered("busy"), Unanswered("busy"), Answer())
    message = update(to, "Your report 482913657 is in progress", "en")
    await served.callbacks.deliver(message)
    for attempt in (2, 3):
        await rig.fake.settled()
        await _until_state(rig, message.key, "waiting")
        await asyncio.sleep(0.2)
        assert len(rig.fake.to(to)) == attempt - 1  # nothing before the delay
        rig.clock.advance(timedelta(seconds=RETRY))
        await wait_for(lambda n=attempt: len(rig.fake.to(to)) == n)  # type: ignore[misc]
    await rig.fake.settled()
    await _until_state(rig, message.key, "failed")
    assert await rig.outcomes() == [
        {"k": message.key, "o": "permanent", "e": "busy ×3", "u": message.recipient_id}
    ]
    rig.clock.advance(timedelta(days=1))
    await asyncio.sleep(0.3)
    assert len(rig.fake.to(to)) == 3
    assert (await rig.record(message.key))["history"] == "busy,busy,busy"
    assert rig.fake.errors == []


async def _until_state(rig: Rig, key: str, state: str) -> None:
    deadline = time.monotonic() + 15
    while (await rig.record(key)).get("state") != state:
        assert time.monotonic() < deadline, await rig.record(key)
        await asyncio.sleep(0.02)


async def test_a_retry_due_at_23_00_waits_for_07_00(rig: Rig) -> None:
    rig.clock.set(riyadh(21, 50))
    served = await rig.start(retry_seconds=70 * 60.0)  # 21:50 + 70 min = 23:00, quiet
    to = phone()
    rig.fake.script(to, Unanswered("no-answer"), Answer())
    message = update(to, "بلاغك رقم 482913657 قيد التنفيذ")
    await served.callbacks.deliver(message)
    await rig.fake.settled()
    await _until_state(rig, message.key, "waiting")
    due = await rig.redis.zscore(DUE, (await rig.record(message.key))["id"])
    assert due == riyadh(7, 0, day=3).timestamp()
    for moment in (riyadh(23, 0), riyadh(3, 0, day=3), riyadh(6, 59, day=3)):
        rig.clock.set(moment)
        await asyncio.sleep(0.3)
        assert len(rig.fake.to(to)) == 1, moment
    rig.clock.set(riyadh(7, 0, day=3))
    await wait_for(lambda: len(rig.fake.to(to)) == 2)
    await rig.fake.settled()
    await _until_state(rig, message.key, "done")


async def test_an_update_delivered_in_the_quiet_hours_is_called_at_07_00(rig: Rig) -> None:
    rig.clock.set(riyadh(23, 0))
    served = await rig.start()
    to = phone()
    rig.fake.script(to, Answer())
    await served.callbacks.deliver(update(to, "Your report 482913657 is in progress", "en"))
    await asyncio.sleep(0.3)
    assert rig.fake.to(to) == []
    rig.clock.set(riyadh(7, 0, day=3))
    await wait_for(lambda: len(rig.fake.to(to)) == 1)


async def test_a_hub_restarted_mid_retry_resumes_from_redis(rig: Rig) -> None:
    first = await rig.start()
    to = phone()
    rig.fake.script(to, Unanswered("busy"), Answer())
    message = update(to, "Your report 482913657 is in progress", "en")
    await first.callbacks.deliver(message)
    await rig.fake.settled()
    await _until_state(rig, message.key, "waiting")
    await first.runner.cleanup()  # the hub stops with the retry pending

    second = await rig.start()
    await second.callbacks.deliver(message)  # the sender's retry of the same key: no new call
    assert len(rig.fake.to(to)) == 1
    rig.clock.advance(timedelta(seconds=RETRY))
    await wait_for(lambda: len(rig.fake.to(to)) == 2)
    await rig.fake.settled()
    await _until_state(rig, message.key, "done")
    assert rig.fake.errors == []


async def test_an_answering_machine_is_hung_up_on_and_retried(rig: Rig) -> None:
    served = await rig.start(attempts=2)
    to = phone()
    rig.fake.script(to, Answer(answered_by="machine_start"), Answer(answered_by="fax"))
    message = update(to, "Your report 482913657 is in progress", "en")
    await served.callbacks.deliver(message)
    await rig.fake.settled()
    await _until_state(rig, message.key, "waiting")
    assert rig.fake.to(to)[0].said == []
    rig.clock.advance(timedelta(seconds=RETRY))
    await wait_for(lambda: len(rig.fake.to(to)) == 2)
    await rig.fake.settled()
    await _until_state(rig, message.key, "failed")
    assert await rig.outcomes() == [
        {"k": message.key, "o": "permanent", "e": "machine ×2", "u": message.recipient_id}
    ]


async def test_unsigned_or_forged_webhooks_are_refused(rig: Rig) -> None:
    served = await rig.start()
    to = phone()
    rig.fake.script(to, Unanswered("busy", lost=True))
    message = update(to, "Your report 482913657 is in progress", "en")
    await served.callbacks.deliver(message)
    await rig.fake.settled()
    record = await rig.record(message.key)
    url = f"{rig.base}{callback_path(record['id'], 'status')}"
    form = {"AccountSid": ACCOUNT_SID, "CallSid": record["sid"], "CallStatus": "completed"}
    forged = {**signed_headers("not-the-token", url, list(form.items()))}
    for headers in ({}, forged, {**signed_headers(AUTH_TOKEN, url + "?x=1", list(form.items()))}):
        async with rig.http.post(url, data=form, headers=headers) as resp:
            assert resp.status == 403
    answer = f"{rig.base}{callback_path(record['id'], 'answer')}"
    async with rig.http.post(answer, data=form) as resp:
        assert resp.status == 403
    assert (await rig.record(message.key))["state"] == "calling"
    headers = {"X-Twilio-Signature": sign(AUTH_TOKEN, url, list(form.items()))}
    async with rig.http.post(url, data=form, headers=headers) as resp:
        assert resp.status == 200 and resp.content_type == "text/xml"
    assert (await rig.record(message.key))["state"] == "done"


async def test_calls_api_errors(rig: Rig) -> None:
    served = await rig.start()
    to = phone()
    rig.fake.fail_next(400, 21215, "Geo permission not enabled")
    refused = update(to, "Your report 482913657 is in progress", "en")
    with pytest.raises(PermanentSendError, match="21215"):
        await served.callbacks.deliver(refused)
    assert (await rig.record(refused.key))["state"] == "failed"
    with pytest.raises(PermanentSendError, match="not a phone number"):
        await served.callbacks.deliver(update("whatsapp-user", "x"))

    rig.fake.fail_next(503, 20500, "Service Unavailable")
    rig.fake.script(to, Answer())
    message = update(to, "Your report 482913657 is in progress", "en")
    with pytest.raises(TransientSendError, match="503"):
        await served.callbacks.deliver(message)
    await served.callbacks.deliver(message)  # the sender's retry: the schedule has it
    assert rig.fake.to(to) == [] and rig.fake.requests == 2
    rig.clock.advance(timedelta(seconds=30))
    await wait_for(lambda: len(rig.fake.to(to)) == 1)
    await rig.fake.settled()
    await _until_state(rig, message.key, "done")
    assert await rig.outcomes() == []  # the sender reports its own deliver's failure


async def test_a_status_that_never_came_is_read_back(rig: Rig) -> None:
    served = await rig.start(check_seconds=900.0)
    to = phone()
    rig.fake.script(to, Unanswered("no-answer", lost=True), Answer())
    message = update(to, "Your report 482913657 is in progress", "en")
    await served.callbacks.deliver(message)
    await rig.fake.settled()
    await asyncio.sleep(0.2)
    assert (await rig.record(message.key))["state"] == "calling"
    rig.clock.advance(timedelta(seconds=900))
    await _until_state(rig, message.key, "waiting")
    assert (await rig.record(message.key))["history"] == "no-answer"
    rig.clock.advance(timedelta(seconds=RETRY))
    await wait_for(lambda: len(rig.fake.to(to)) == 2)


async def test_a_call_twilio_no_longer_knows_counts_as_failed(rig: Rig) -> None:
    served = await rig.start(attempts=1, check_seconds=900.0)
    to = phone()
    rig.fake.script(to, Unanswered("busy", lost=True))
    message = update(to, "Your report 482913657 is in progress", "en")
    await served.callbacks.deliver(message)
    await rig.fake.settled()
    rig.fake.calls.clear()  # GET …/Calls/{sid}.json now answers 404 (20404)
    rig.clock.advance(timedelta(seconds=900))
    await _until_state(rig, message.key, "failed")
    assert await rig.outcomes() == [
        {"k": message.key, "o": "permanent", "e": "failed ×1", "u": message.recipient_id}
    ]

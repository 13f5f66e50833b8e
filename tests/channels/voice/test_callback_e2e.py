"""End to end: the REAL ticket service process (its events signed and delivered to the hub) →
the hub app (``create_app`` with its queue workers and the events worker, real Redis, an
injected clock) → the voice channel's callbacks → the fake Twilio, which rings the citizen and
plays the call through the hub's signed webhooks; the keypad survey lands in the ticket service
and moves its KPIs; a citizen who never answers gets the update on their verified WhatsApp."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from aiohttp import web
from redis.asyncio import Redis

import channels.whatsapp
from bot.app import create_app
from bot.config import HubSettings
from bot.events import NotifySettings
from bot.events.settings import DEFAULT_FILE
from channels.voice import VoiceChannel, VoiceConfig, load_checked_prompts
from channels.voice.callback import Callbacks
from tests.channels.fakes.graph import FakeGraph
from tests.channels.fakes.graph_fixtures import graph, graph_server  # noqa: F401 (fixtures)
from tests.channels.voice.fake_calls_api import (  # noqa: F401 (fixture)
    Answer,
    FakeCallsApi,
    PlacedCall,
    Unanswered,
    calls_api,
)
from tests.channels.voice.twiml_check import check_twiml
from tests.channels.whatsapp.conftest import env_for as whatsapp_env
from tests.events.conftest import EVENT_SECRET, NOON_RIYADH, Subscribed, subscribed_service
from tests.spots import distinct_spot
from tests.ticket_service.conftest import KEYS
from ticket_client import (
    ClientConfig,
    Conflict,
    Contact,
    KpiMetrics,
    RetryPolicy,
    TawasulClient,
)
from ticket_service.clock import FakeClock

CALLBACK_DB = 9
RETRY = 600


async def wait_for(condition: Callable[[], bool], within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


@pytest.fixture(scope="session")
def callback_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Subscribed]:
    """The ticket service for this module's tests, posting its events to a fixed hub port."""
    with subscribed_service(tmp_path_factory.mktemp("callback-tickets")) as running:
        yield running


def notifications(directory: Path) -> Path:
    """settings/notifications.yml, with ``voice`` among the channels not told "received"
    (the IVR reads the new number out on the reporting call itself)."""
    data: dict[str, Any] = yaml.safe_load(DEFAULT_FILE.read_text(encoding="utf-8"))
    data["received_skip_channels"] = sorted({*data["received_skip_channels"], "voice"})
    path = directory / "notifications.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@dataclass
class Hub:
    url: str
    clock: FakeClock
    fake: FakeCallsApi
    graph: FakeGraph
    service: Subscribed
    http: aiohttp.ClientSession

    def client(self, role: str) -> TawasulClient:
        retry = RetryPolicy(attempts=1, backoff_base=0.1, backoff_max=0.2)
        config = ClientConfig(self.service.url, KEYS[role], timeout=10.0, retry=retry)
        return TawasulClient(self.http, config)

    async def voice_ticket(self, phone: str, language: str, text: str) -> str:
        lat, long = distinct_spot()
        created = await self.client("hub").create(
            service_code="pothole", description=text, lat=lat, long=long,
            channel="voice", language=language,
            reporter=Contact(channel="voice", channel_user_id=f"voice:{phone}", language=language),
        )  # fmt: skip
        return created.ticket.service_request_id

    async def history(self, number: str, n: int) -> list[str]:
        """The ticket's notification outcomes once there are ``n``."""
        deadline = time.monotonic() + 30
        while True:
            rows = await self.client("agent").history(number)
            found = [f"{r.data.get('outcome')}:{r.note}" for r in rows if r.kind == "notification"]
            if len(found) >= n:
                return found
            assert time.monotonic() < deadline, found
            await asyncio.sleep(0.2)

    def played(self, phone: str, count: int) -> list[PlacedCall]:
        """The calls to ``phone``, each TwiML the hub answered checked against the IVR's rules."""
        calls = self.fake.to(phone)
        assert len(calls) == count and self.fake.errors == []
        for call in calls:
            for raw in call.twiml:
                check_twiml(raw, self.url)
        return calls


@pytest.fixture
async def hub(
    redis_url: str,
    callback_service: Subscribed,
    calls_api: FakeCallsApi,  # noqa: F811
    graph: FakeGraph,  # noqa: F811
    tmp_path: Path,
) -> AsyncIterator[Hub]:
    redis_db = redis_url.rsplit("/", 1)[0] + f"/{CALLBACK_DB}"
    async with Redis.from_url(redis_db) as redis:
        await redis.flushdb()
    clock = FakeClock(NOON_RIYADH)
    port = callback_service.hub_port
    url = f"http://127.0.0.1:{port}"
    env = {
        **calls_api.env(),
        "TAWASUL_VOICE_PUBLIC_URL": url,
        "TAWASUL_TICKET_URL": callback_service.url,
        "TAWASUL_HUB_API_KEY": KEYS["hub"],
        "TAWASUL_VOICE_CALLBACK_POLL_SECONDS": "0.05",
        "TAWASUL_VOICE_CALLBACK_RETRY_SECONDS": str(RETRY),
    }
    config = VoiceConfig.from_env(env)
    assert config is not None
    callbacks = Callbacks.from_env(config, env, clock=clock)
    voice = VoiceChannel(config, load_checked_prompts(), clock=clock, callbacks=callbacks)
    whatsapp = channels.whatsapp.from_env(whatsapp_env(graph))
    assert whatsapp is not None
    settings = HubSettings(
        redis_url=redis_db, rasa_url="http://127.0.0.1:9", ticket_url=callback_service.url,
        hub_api_key=KEYS["hub"], media_dir=tmp_path / "media", public_url=url, concurrency=2,
        send_backoff_ms=50, send_backoff_max_ms=200, send_max_attempts=3,
    )  # fmt: skip
    path = notifications(tmp_path)
    notify = NotifySettings.from_env(
        {"TAWASUL_EVENT_SECRET": EVENT_SECRET, "TAWASUL_NOTIFICATIONS": str(path)}
    )
    app = create_app(settings, {"voice": voice, "whatsapp": whatsapp}, events=notify, clock=clock)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    async with aiohttp.ClientSession() as http:
        try:
            yield Hub(url, clock, calls_api, graph, callback_service, http)
        finally:
            await runner.cleanup()


def phone() -> str:
    return "+9665" + "".join(secrets.choice("0123456789") for _ in range(8))


def spelled(number: str, separator: str) -> str:
    return separator.join(number)


@pytest.mark.parametrize(
    ("language", "note", "expected", "separator"),
    [
        ("ar", "الفريق في الموقع",
         ["بلاغك رقم {n} (", "قيد التنفيذ الآن", "ملاحظة الفريق: الفريق في الموقع"], "، "),
        ("en", "The crew is on site",
         ["Your report {n} (", "is now in progress", "Note from the team: The crew is on site"],
         ", "),
    ],
)  # fmt: skip
async def test_a_status_change_calls_the_voice_reporter_in_their_language(
    hub: Hub, language: str, note: str, expected: list[str], separator: str
) -> None:
    to = phone()
    number = await hub.voice_ticket(to, language, "حفرة كبيرة أمام المدرسة")
    await hub.client("agent").change_status(number, "in_progress", note=note)

    await wait_for(lambda: len(hub.fake.to(to)) == 1)
    await hub.fake.settled()
    (call,) = hub.played(to, 1)
    heard = call.speech
    for part in expected:
        assert part.format(n=spelled(number, separator)) in heard, heard
    assert number not in heard  # never as one long number
    voice = "Polly.Zeina" if language == "ar" else "Polly.Joanna"
    assert {s.voice for s in call.said} == {voice} and call.gathers == 0
    assert await hub.history(number, 1) == ["sent:voice"]


@pytest.mark.parametrize(
    ("language", "digits", "quality", "speed", "satisfied"),
    [("ar", ("9", "5", "4"), 5, 4, 1), ("en", ("2", "3"), 2, 3, 0)],
)
async def test_closure_takes_the_keypad_survey_and_moves_the_kpis(
    hub: Hub, language: str, digits: tuple[str, ...], quality: int, speed: int, satisfied: int
) -> None:
    before = (await hub.client("supervisor").kpis()).total
    to = phone()
    hub.fake.script(to, Answer(digits=digits))
    number = await hub.voice_ticket(to, language, "A deep pothole by the school")
    await hub.client("agent").change_status(number, "closed", resolution="fixed")

    await wait_for(lambda: len(hub.fake.to(to)) == 1)
    await hub.fake.settled()
    (call,) = hub.played(to, 1)
    thanks = {"ar": "شكراً لك، سجّلنا تقييمك.", "en": "Thank you, your rating has been recorded."}
    assert call.said[-2].text == thanks[language]
    assert call.digits_sent == list(digits)
    rows = await hub.client("agent").history(number)
    (survey,) = [r for r in rows if r.kind == "survey"]
    assert (survey.data["quality"], survey.data["speed"], survey.actor) == (quality, speed, "voice")
    after = (await hub.client("supervisor").kpis()).total
    assert after.survey_responses == before.survey_responses + 1
    assert _satisfied(after) == _satisfied(before) + satisfied

    with pytest.raises(Conflict, match="already answered"):  # stored as the reporter's one survey
        await hub.client("hub").submit_survey(
            number, channel="voice", channel_user_id=f"voice:{to}", quality=1, speed=1
        )


def _satisfied(kpis: KpiMetrics) -> int:
    return round((kpis.satisfaction_rate or 0.0) * kpis.survey_responses)


async def test_busy_three_times_falls_back_to_the_verified_whatsapp(hub: Hub) -> None:
    hub.graph.register_template("tawasul_ticket_update", ["ar", "en"], 2, 2)
    to = phone()
    wa = to.removeprefix("+")
    hub.fake.script(to, Unanswered("busy"), Unanswered("no-answer"), Unanswered("busy"))
    number = await hub.voice_ticket(to, "ar", "إنارة الشارع مطفأة")
    tickets = hub.client("hub")
    await tickets.upsert_contact(Contact(channel="whatsapp", channel_user_id=f"whatsapp:{wa}"))
    await tickets.verify_contact("voice", f"voice:{to}", phone=to)
    await tickets.verify_contact("whatsapp", f"whatsapp:{wa}", phone=to)
    await hub.client("agent").change_status(number, "in_progress")

    for attempt in (1, 2):
        await wait_for(lambda n=attempt: len(hub.fake.to(to)) == n)  # type: ignore[misc]
        await hub.fake.settled()
        await asyncio.sleep(0.3)  # the status callback is in; nothing more until the delay
        assert len(hub.fake.to(to)) == attempt and hub.graph.sent("whatsapp") == []
        hub.clock.advance(timedelta(seconds=RETRY))
    await wait_for(lambda: len(hub.fake.to(to)) == 3)
    await hub.fake.settled()
    hub.played(to, 3)

    await wait_for(lambda: any(b.get("to") == wa for b in hub.graph.sent("whatsapp")))
    sent = next(b for b in hub.graph.sent("whatsapp") if b.get("to") == wa)
    template = sent["template"]  # never wrote on WhatsApp: outside the window
    assert template["name"] == "tawasul_ticket_update" and template["language"]["code"] == "ar"
    assert [p["text"] for p in template["components"][0]["parameters"]] == [number, "قيد التنفيذ"]
    history = await hub.history(number, 6)
    retries = [
        "queued:voice: call 1 of 3: busy; next call at 2026-03-02T12:10+03:00",
        "queued:voice: call 2 of 3: no-answer; next call at 2026-03-02T12:20+03:00",
    ]
    assert sorted(history[:3]) == sorted(["sent:voice", *retries])  # "sent" = placed
    assert [h for h in history[:3] if h.startswith("queued")] == retries
    assert history[3:] == [
        "failed:voice: busy, no-answer, busy", "fallback:whatsapp: from voice to whatsapp",
        "sent:whatsapp"]  # fmt: skip


async def test_a_closure_busy_three_times_takes_the_survey_to_the_whatsapp_fallback(
    hub: Hub,
) -> None:
    hub.graph.register_template("tawasul_ticket_update", ["ar", "en"], 2, 2)
    hub.graph.register_template("tawasul_closure_survey", ["ar", "en"], 1, 2)
    to = phone()
    wa = to.removeprefix("+")
    hub.fake.script(to, Unanswered("busy"), Unanswered("busy"), Unanswered("no-answer"))
    number = await hub.voice_ticket(to, "en", "The street light is out")
    tickets = hub.client("hub")
    await tickets.upsert_contact(Contact(channel="whatsapp", channel_user_id=f"whatsapp:{wa}"))
    await tickets.verify_contact("voice", f"voice:{to}", phone=to)
    await tickets.verify_contact("whatsapp", f"whatsapp:{wa}", phone=to)
    await hub.client("agent").change_status(number, "closed", resolution="fixed")

    for attempt in (1, 2):
        await wait_for(lambda n=attempt: len(hub.fake.to(to)) == n)  # type: ignore[misc]
        await hub.fake.settled()
        await asyncio.sleep(0.3)
        hub.clock.advance(timedelta(seconds=RETRY))
    await wait_for(lambda: len(hub.fake.to(to)) == 3)
    await hub.fake.settled()

    def to_wa() -> list[dict[str, Any]]:
        return [b for b in hub.graph.sent("whatsapp") if b.get("to") == wa]

    await wait_for(lambda: len(to_wa()) == 2)
    update, survey = (body["template"] for body in to_wa())  # the closure, then the survey
    assert update["name"] == "tawasul_ticket_update"
    assert survey["name"] == "tawasul_closure_survey" and survey["language"]["code"] == "en"
    body, rate, _ = survey["components"]
    assert [p["text"] for p in body["parameters"]] == [number]
    assert rate["parameters"][0]["payload"] == f'/start_survey{{"ticket_id":"{number}"}}'
    history = await hub.history(number, 9)
    for row in ("failed:voice: busy, busy, no-answer", "fallback:whatsapp: from voice to whatsapp",
                "sent:whatsapp",
                "fallback:whatsapp: survey: survey follows the closure from voice",
                "queued:whatsapp: survey: template closure_survey"):  # fmt: skip
        assert row in history, history
    await asyncio.sleep(1.0)
    assert len(to_wa()) == 2 and len(hub.fake.to(to)) == 3  # one survey, no fourth call

"""Whole calls through the real hub process (``python -m bot``), the real Rasa, actions and
ticket service, driven by signed form-encoded requests exactly as Twilio sends them, in
Arabic and in English: a report by speech files the right ticket; its status by keypad;
a voicemail follow-up; a forged request; silence asked again, then the keypad."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from redis.asyncio import Redis

from channels.voice import load_checked_prompts
from tests.bot.support import random_phone
from tests.channels.e2e import form
from tests.channels.voice.conftest import voice_env
from tests.channels.voice.phone import PhoneCall
from tests.hubstack import HubFactory, HubProcess
from tests.stack import BotStack
from tests.ticket_service.conftest import KEYS
from ticket_client import TawasulClient

PROMPTS = load_checked_prompts()
REPORT = {
    "ar": {
        "report": "فيه حفرة كبيرة وعميقة في الشارع قدام بيتنا وخربت كفر سيارتي",
        "location_text": "شارع الملك فهد حي العليا قرب برج المملكة",
        "reporter_name": "محمد العتيبي",
        "status": "status_open",
    },
    "en": {
        "report": "There is a big deep pothole in the road in front of our house, "
        "it damaged my tyre",
        "location_text": "King Fahd Road, Al Olaya district, near Kingdom Tower",
        "reporter_name": "Sarah Ahmed",
        "status": "status_open",
    },
}
LANGUAGE_KEY = {"ar": "1", "en": "2"}
VOICEMAIL = (
    "https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Recordings/RE{}"
)


@pytest.fixture
async def voice_process(hub_factory: HubFactory) -> AsyncIterator[HubProcess]:
    """A hub process with the voice channel on; its own address is the public URL. Turns
    get 10 s per request and ten redirects (two busy cores run Rasa and the tests)."""
    env = voice_env("", TAWASUL_VOICE_TURN_WAIT="10", TAWASUL_VOICE_MAX_WAITS="10")
    del env["TAWASUL_VOICE_PUBLIC_URL"]  # TAWASUL_PUBLIC_URL, the hub's own address
    process = await hub_factory.start(env=env, name="voice")
    yield process
    await process.stop()


def spelled_numbers(text: str) -> list[str]:
    """Numbers read digit by digit ("1, 2, 3" or "1، 2، 3"), as digit strings."""
    return [re.sub(r"\D", "", m) for m in re.findall(r"\d(?:[،,] ?\d){5,}", text)]


async def call_state(process: HubProcess, call: PhoneCall) -> dict[str, Any]:
    redis = Redis.from_url(process.redis_url)
    try:
        raw = await redis.get(f"tawasul:voice:{{{call.sid}}}:state")
    finally:
        await redis.aclose()
    assert raw is not None, call.story()
    state: dict[str, Any] = json.loads(raw)
    return state


async def key_for(process: HubProcess, call: PhoneCall, fragment: str) -> str:
    """The key the IVR offered for the button whose payload has ``fragment``."""
    buttons = (await call_state(process, call))["buttons"]
    for key, _, payload in buttons:
        if fragment in payload:
            return str(key)
    raise AssertionError(f"no key for {fragment!r} among {buttons}\n{call.story()}")


async def start(
    process: HubProcess, http: aiohttp.ClientSession, caller: str, lang: str
) -> PhoneCall:
    call = PhoneCall(http, process.url, process.url, caller)
    await call.dial_in()
    await call.press(LANGUAGE_KEY[lang])
    return call


async def report_by_speech(
    process: HubProcess, http: aiohttp.ClientSession, rasa_url: str, caller: str, lang: str
) -> str:
    """A whole report call; the ticket number the caller heard."""
    answers = REPORT[lang]
    call = await start(process, http, caller, lang)
    await call.press("1")
    await call.say(answers["report"])
    conversation = f"voice:{caller}"
    asked: list[str] = []
    for _ in range(14):
        loop, requested = await form(http, rasa_url, conversation)
        if loop is None:
            break
        assert requested != "photo_url", "the photo question reached the caller\n" + call.story()
        asked.append(str(requested))
        assert asked.count(str(requested)) <= 2, f"asked {requested} again\n{call.story()}"
        if requested == "service":
            await call.press(await key_for(process, call, '"pothole"'))
        elif requested in ("reporter_phone", "confirmed"):
            await call.press(await key_for(process, call, "/affirm"))
        else:
            assert requested in answers, f"the form asks {requested}\n{call.story()}"
            await call.say(answers[str(requested)])
    numbers = [n for n in spelled_numbers(call.story()) if n != caller.lstrip("+")]
    assert numbers, "no ticket number read out\n" + call.story()
    await call.hang_up()
    return numbers[-1]


@pytest.mark.parametrize("lang", ["ar", "en"])
async def test_a_report_by_speech_then_its_status_by_keypad_and_a_voicemail_follow_up(
    lang: str,
    voice_process: HubProcess,
    http: aiohttp.ClientSession,
    bot_stack: BotStack,
    staff: TawasulClient,
) -> None:
    caller = random_phone()
    number = await report_by_speech(voice_process, http, bot_stack.rasa.url, caller, lang)

    ticket = await staff.ticket(number)
    assert ticket.service_code == "pothole"
    assert ticket.channel == "voice"
    assert ticket.language == lang
    description = (ticket.description or "").lower()
    assert ("حفرة" in description) if lang == "ar" else ("pothole" in description)
    assert REPORT[lang]["location_text"].split()[1].lower() in (ticket.address or "").lower()
    assert ticket.reporter is not None
    assert ticket.reporter.phone == caller  # pre-filled from the caller id, confirmed by key
    assert ticket.reporter.phone_verified is False  # caller ids are not trusted by default
    assert ticket.reporter.channel_user_id == f"voice:{caller}"

    # The status, by keypad, in the chosen language, the number read digit by digit.
    call = await start(voice_process, http, caller, lang)
    await call.press("2")
    heard = (await call.press(number)).heard()
    assert PROMPTS.text(REPORT[lang]["status"], lang) in heard, call.story()
    assert number in spelled_numbers(heard)

    # Another caller is told it does not exist.
    stranger = await start(voice_process, http, random_phone(), lang)
    await stranger.press("2")
    heard = (await stranger.press(number)).heard()
    assert PROMPTS.text(REPORT[lang]["status"], lang) not in heard
    not_found = PROMPTS.text("ticket_not_found", lang, number="§").split("§")[0]
    assert not_found in heard, stranger.story()

    # A voicemail follow-up: the recording URL reaches Beneficiary Satisfaction's queue.
    await call.press("3")
    await call.press(number)
    recording = VOICEMAIL.format(ticket.service_request_id.rjust(32, "0"))
    heard = (await call.leave_voicemail(recording)).heard()
    references = [n for n in spelled_numbers(heard) if n != number]
    assert references, call.story()
    url = f"{bot_stack.ticket.url}/api/v1/followups"
    async with http.get(url, headers={"X-Api-Key": KEYS["satisfaction"]}) as response:
        assert response.status == 200
        queue = (await response.json())["followups"]
    mine = [f for f in queue if f["reference"] == references[-1]]
    assert mine and mine[0]["voicemail_url"] == recording
    assert mine[0]["service_request_id"] == number
    assert mine[0]["channel"] == "voice"
    await call.hang_up()


async def test_unsigned_forged_and_wrong_url_requests_are_refused(
    voice_process: HubProcess, http: aiohttp.ClientSession
) -> None:
    call = PhoneCall(http, voice_process.url, voice_process.url, random_phone())
    url = voice_process.url + "/webhooks/voice/incoming"
    body = b"CallSid=" + call.sid.encode() + b"&From=%2B966500000000"
    form_type = {"Content-Type": "application/x-www-form-urlencoded"}
    status, _, _ = await call.raw_post(url, body, form_type)
    assert status == 403
    forged = PhoneCall(http, voice_process.url, voice_process.url, random_phone(), token="x" * 32)
    status, _, _ = await forged.raw_post(
        url, body, {**form_type, "X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"}
    )
    assert status == 403
    # Signed for another address than the one the hub is published at.
    elsewhere = PhoneCall(http, voice_process.url, "https://ivr.example.org", random_phone())
    elsewhere.hub_url = voice_process.url
    with pytest.raises(AssertionError, match="403"):
        await elsewhere.dial_in()


async def test_silence_is_asked_again_once_then_the_keypad_is_offered(
    voice_process: HubProcess, http: aiohttp.ClientSession
) -> None:
    call = await start(voice_process, http, random_phone(), "en")
    await call.press("1")
    intro = PROMPTS.text("report_intro", "en")
    first = await call.silence()
    assert PROMPTS.text("not_understood", "en") in first.heard()
    assert intro in first.heard()
    assert first.gather is not None and "speech" in (first.gather.get("input") or "")
    second = await call.say("mumble", confidence="0.05")  # heard, but unsure: no answer
    assert PROMPTS.text("use_keypad", "en") in second.heard()
    assert second.gather is not None and second.gather.get("input") == "dtmf"
    again = await call.press("1")  # speak again
    assert intro in again.heard() and again.gather is not None
    assert "speech" in (again.gather.get("input") or "")

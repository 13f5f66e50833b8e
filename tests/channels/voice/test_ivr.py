"""The menus, status by keypad, voicemail follow-ups and agents, through the hub in-process
and the real ticket service (the bot is the fake Rasa here: these steps never reach it)."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from channels.voice.prompts import Prompts
from tests.channels.voice.conftest import (
    AGENTS,
    CLOSED_HOURS,
    KEYS,
    VoiceHub,
    VoiceHubMaker,
)
from tests.channels.voice.phone import PhoneCall
from tests.hub.fake_rasa import FakeRasa
from ticket_client import ClientConfig, Contact, RetryPolicy, TawasulClient

RECORDING = "https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Recordings/RE{:032d}"


def spelled(number: str, prompts: Prompts, lang: str) -> str:
    return prompts.text("digit_separator", lang).join(number)


async def file_voice_report(tickets: TawasulClient, caller: str, lang: str = "en") -> str:
    """A report as the bot files it for a caller (reporter ``voice:<number>``)."""
    result = await tickets.create(
        kind="report",
        service_code="streetlight",
        description="The street light at the corner is off",
        address="Olaya Street, Riyadh",
        channel="voice",
        conversation_id=f"voice:{caller}",
        language=lang,
        reporter=Contact("voice", f"voice:{caller}", phone=caller, language=lang),
    )
    return result.ticket.service_request_id


async def choose(hub: VoiceHub, caller: str, lang: str, option: str) -> PhoneCall:
    call = hub.call(caller)
    await call.dial_in()
    await call.press({"ar": "1", "en": "2"}[lang])
    await call.press(option)
    return call


async def test_language_by_speech_and_silence_asked_again_then_keys(
    voice_hub: VoiceHub, prompts: Prompts
) -> None:
    call = voice_hub.call("+966500000201")
    first = await call.dial_in()
    assert first.gather is not None and first.gather.get("input") == "dtmf speech"
    again = await call.silence()
    for lang in ("ar", "en"):
        assert prompts.text("not_understood", lang) in again.heard()
    assert again.gather is not None and again.gather.get("input") == "dtmf speech"
    keypad = await call.say("hmm", confidence="0.1")  # low confidence counts as nothing
    assert prompts.text("use_keypad", "en") in keypad.heard()
    assert keypad.gather is not None and keypad.gather.get("input") == "dtmf"
    assert prompts.text("language_menu_keypad", "ar") in keypad.heard()
    wrong = await call.press("7")
    assert prompts.text("invalid_choice", "ar") in wrong.heard()

    call = voice_hub.call("+966500000202")
    await call.dial_in()
    menu = await call.say("English please")
    assert menu.heard() == prompts.text("main_menu", "en")
    assert menu.gather is not None and menu.gather.get("language") == "en-US"
    assert menu.voices() == {("Polly.Joanna", "en-US")}
    call = voice_hub.call("+966500000203")
    await call.dial_in()
    menu = await call.say("عربي")
    assert menu.heard() == prompts.text("main_menu", "ar")
    assert menu.voices() == {("Polly.Zeina", "arb")}


async def test_the_menu_by_speech_and_too_many_misses_end_the_call(
    voice_hub: VoiceHub, prompts: Prompts
) -> None:
    call = voice_hub.call("+966500000204")
    await call.dial_in()
    await call.press("1")
    status = await call.say("أبي أعرف حالة البلاغ")
    assert status.heard() == prompts.text("enter_ticket", "ar")
    assert status.gather is not None and status.gather.get("finishOnKey") == "#"

    call = voice_hub.call("+966500000205")
    await call.dial_in()
    await call.press("2")
    for _ in range(3):
        last = await call.press("9")
        assert prompts.text("invalid_choice", "en") in last.heard()
    end = await call.press("9")
    assert prompts.text("too_many_tries", "en") in end.heard()
    assert end.verbs()[-1] == "Hangup"


@pytest.mark.parametrize("lang", ["ar", "en"])
async def test_status_by_keypad_for_the_reporter_only(
    lang: str, voice_hub: VoiceHub, tickets: TawasulClient, prompts: Prompts, ticket_url: str,
    voice_http: aiohttp.ClientSession,
) -> None:  # fmt: skip
    caller = f"+96650000021{'12'[lang == 'en']}"
    number = await file_voice_report(tickets, caller, lang)
    agent = TawasulClient(
        voice_http,
        ClientConfig(base_url=ticket_url, api_key=KEYS["agent"], retry=RetryPolicy(attempts=1)),
    )
    await agent.change_status(number, "in_progress", note="Crew 12 is on the way")

    call = await choose(voice_hub, caller, lang, "2")
    heard = (await call.press(number)).heard()
    status = prompts.text("status_in_progress", lang)
    assert (
        prompts.text("ticket_status", lang, number=spelled(number, prompts, lang), status=status)
        in heard
    )
    assert "Crew 1, 2 is on the way" not in heard and "Crew 12 is on the way" in heard
    assert prompts.text("main_menu", lang) in heard  # and back to the menu

    stranger = await choose(voice_hub, "+966500000219", lang, "2")
    heard = (await stranger.press(number)).heard()
    assert status not in heard
    not_found = prompts.text("ticket_not_found", lang, number=spelled(number, prompts, lang))
    assert not_found in heard

    again = await choose(voice_hub, caller, lang, "2")
    short = await again.press("12")
    assert prompts.text("invalid_ticket", lang) in short.heard()
    assert short.gather is not None and short.gather.get("input") == "dtmf"


async def test_a_voicemail_becomes_a_follow_up_for_beneficiary_satisfaction(
    voice_hub: VoiceHub, tickets: TawasulClient, prompts: Prompts, ticket_url: str,
    voice_http: aiohttp.ClientSession,
) -> None:  # fmt: skip
    caller = "+966500000221"
    number = await file_voice_report(tickets, caller)
    call = await choose(voice_hub, caller, "en", "3")
    recording_prompt = await call.press(number)
    heard = recording_prompt.heard()
    assert prompts.text("followup_record", "en", number=spelled(number, prompts, "en")) in heard
    record = recording_prompt.find("Record")
    assert record is not None and record.get("maxLength") == "120"
    assert recording_prompt.verbs()[-2:] == ["Say", "Redirect"]  # nothing recorded → menu

    url = RECORDING.format(1)
    filed = await call.leave_voicemail(url)
    queue = await followup_queue(voice_http, ticket_url)
    mine = [f for f in queue if f["service_request_id"] == number]
    assert len(mine) == 1 and mine[0]["voicemail_url"] == url and mine[0]["channel"] == "voice"
    reference = mine[0]["reference"]
    expected = prompts.text(
        "followup_filed", "en",
        reference=spelled(reference, prompts, "en"), number=spelled(number, prompts, "en"),
    )  # fmt: skip
    assert expected in filed.heard()

    # Twilio retries the recording's action: one follow-up still
    action = recording_prompt.find("Record")
    assert action is not None
    retried = await call.post(action.get("action") or "", "record", RecordingUrl=url)
    assert retried.raw == filed.raw
    assert len([f for f in await followup_queue(voice_http, ticket_url)
                if f["service_request_id"] == number]) == 1  # fmt: skip

    # Nothing recorded: Twilio goes on with the verbs after <Record>: the menu again.
    call2 = await choose(voice_hub, caller, "en", "3")
    await call2.press(number)
    resume = call2.last.find("Redirect") if call2.last else None
    assert resume is not None and resume.text
    menu = await call2.post(resume.text, "gather_empty")
    assert menu.heard() == prompts.text("main_menu", "en")

    # Someone else's ticket: no recording is offered.
    stranger = await choose(voice_hub, "+966500000229", "en", "3")
    refused = await stranger.press(number)
    assert refused.find("Record") is None
    assert (
        prompts.text("ticket_not_found", "en", number=spelled(number, prompts, "en"))
        in refused.heard()
    )


async def followup_queue(http: aiohttp.ClientSession, ticket_url: str) -> list[dict[str, Any]]:
    headers = {"X-Api-Key": KEYS["satisfaction"]}
    async with http.get(f"{ticket_url}/api/v1/followups", headers=headers) as response:
        assert response.status == 200
        found: list[dict[str, Any]] = (await response.json())["followups"]
    return found


async def test_an_agent_during_working_hours(voice_hub: VoiceHub, prompts: Prompts) -> None:
    call = await choose(voice_hub, "+966500000231", "en", "0")
    assert call.last is not None
    dial = call.last.find("Dial")
    assert dial is not None and (dial.text or "").strip() == AGENTS
    assert prompts.text("agent_connecting", "en") in call.last.heard()
    done = await call.dial_ended("completed")
    assert done.heard() == prompts.text("goodbye", "en") and done.verbs()[-1] == "Hangup"


async def test_nobody_answers_or_closed_hours_a_voicemail_becomes_a_callback_request(
    voice_hub: VoiceHub, tickets: TawasulClient, prompts: Prompts, fake_rasa: FakeRasa
) -> None:
    caller = "+966500000232"
    call = await choose(voice_hub, caller, "ar", "4")
    busy = await call.dial_ended("no-answer")
    assert prompts.text("agent_busy", "ar") in busy.heard() and busy.find("Record") is not None
    filed = await call.leave_voicemail(RECORDING.format(2))
    mine = await tickets.contact_tickets("voice", f"voice:{caller}")
    assert [t.kind for t in mine] == ["callback"]
    assert mine[0].media_urls == (RECORDING.format(2),)
    assert mine[0].channel == "voice" and mine[0].language == "ar"
    reference = spelled(mine[0].service_request_id, prompts, "ar")
    assert prompts.text("callback_filed", "ar", reference=reference) in filed.heard()
    assert filed.verbs()[-1] == "Hangup"

    voice_hub.clock.set(CLOSED_HOURS)
    closed = await choose(voice_hub, "+966500000233", "en", "0")
    assert closed.last is not None and closed.last.find("Dial") is None
    assert prompts.text("agent_closed", "en") in closed.last.heard()
    assert closed.last.find("Record") is not None
    assert fake_rasa.calls == []  # none of this went to the bot


async def test_without_an_agents_line_it_is_always_voicemail(
    make_voice_hub: VoiceHubMaker, prompts: Prompts
) -> None:
    hub = await make_voice_hub(env={"TAWASUL_VOICE_AGENTS_NUMBER": ""})
    call = await choose(hub, "+966500000234", "en", "0")
    assert call.last is not None and call.last.find("Dial") is None
    assert prompts.text("agent_closed", "en") in call.last.heard()


async def test_without_the_ticket_service_key_the_caller_hears_an_apology(
    make_voice_hub: VoiceHubMaker, prompts: Prompts
) -> None:
    hub = await make_voice_hub(hub_api_key=None)
    call = await choose(hub, "+966500000235", "en", "2")
    heard = (await call.press("123456789")).heard()
    assert prompts.text("service_error", "en") in heard
    assert prompts.text("main_menu", "en") in heard


async def test_a_withheld_number_has_no_tickets(voice_hub: VoiceHub, prompts: Prompts) -> None:
    call = await choose(voice_hub, "anonymous", "en", "2")
    heard = (await call.press("123456789")).heard()
    assert (
        prompts.text("ticket_not_found", "en", number=spelled("123456789", prompts, "en")) in heard
    )

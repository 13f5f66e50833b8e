"""Talking to the bot by voice, through the real hub in-process (queue, workers, senders,
``deliver``) and the fake Rasa (an echo, scripted per message): what the bot gets, how its
replies are spoken, keys for buttons, the photo question, a slow bot, retries."""

from __future__ import annotations

from bot import keys
from channels.voice.prompts import Prompts
from tests.channels.voice.conftest import VoiceHub, VoiceHubMaker
from tests.channels.voice.phone import PhoneCall
from tests.hub.fake_rasa import FakeRasa

SERVICES = [
    {"title": "Potholes and road damage", "payload": '/inform{"service":"pothole"}'},
    {"title": "Street lighting", "payload": '/inform{"service":"streetlight"}'},
]


async def report_call(hub: VoiceHub, caller: str, lang: str = "en") -> PhoneCall:
    call = hub.call(caller)
    await call.dial_in()
    await call.press({"ar": "1", "en": "2"}[lang])
    await call.press("1")
    return call


async def test_speech_goes_to_the_bot_with_the_callers_number_and_language(
    voice_hub: VoiceHub, fake_rasa: FakeRasa, prompts: Prompts
) -> None:
    caller = "+966500000301"
    call = await report_call(voice_hub, caller, "ar")
    answer = await call.say("فيه حفرة كبيرة في الشارع")
    assert answer.heard() == "re: فيه حفرة كبيرة في الشارع."
    assert answer.gather is not None and answer.gather.get("language") == "ar-SA"
    assert "numDigits" not in answer.gather.attrib  # free speech, no menu
    (sent,) = fake_rasa.calls
    assert sent.sender == f"voice:{caller}"
    assert sent.metadata["channel"] == "voice" and sent.metadata["language"] == "ar"
    assert sent.metadata["contact"] == {"phone": caller, "phone_verified": False}


async def test_a_trusted_caller_id_counts_as_verified(
    make_voice_hub: VoiceHubMaker, fake_rasa: FakeRasa
) -> None:
    hub = await make_voice_hub(env={"TAWASUL_VOICE_TRUST_CALLER_ID": "1"})
    call = await report_call(hub, "+966500000302")
    await call.say("a broken street light")
    assert fake_rasa.calls[0].metadata["contact"]["phone_verified"] is True


async def test_buttons_become_keys_and_a_key_sends_the_payload(
    voice_hub: VoiceHub, fake_rasa: FakeRasa, prompts: Prompts
) -> None:
    fake_rasa.extra["I want to report a problem"] = {"buttons": SERVICES}
    call = await report_call(voice_hub, "+966500000303")
    menu = await call.say("I want to report a problem")
    heard = menu.spoken()
    assert heard[-2:] == [
        prompts.text("press_for", "en", digit="1", title="Potholes and road damage"),
        prompts.text("press_for", "en", digit="2", title="Street lighting"),
    ]
    assert menu.gather is not None and menu.gather.get("numDigits") == "1"
    assert "Street lighting" in (menu.gather.get("hints") or "")
    wrong = await call.press("5")  # no such button: asked again, nothing sent
    assert prompts.text("invalid_choice", "en") in wrong.heard()
    assert len(fake_rasa.calls) == 1
    chosen = await call.press("2")
    assert fake_rasa.calls[-1].message == '/inform{"service":"streetlight"}'
    assert chosen.heard() == 're: /inform{"service":"streetlight"}.'


async def test_the_photo_question_is_answered_skip_for_the_caller(
    voice_hub: VoiceHub, fake_rasa: FakeRasa, prompts: Prompts
) -> None:
    fake_rasa.extra["Olaya street near the mall"] = {
        "text": "Do you have a photo? Send it now, or say skip",
        "buttons": [{"title": "Skip", "payload": "/deny"}],
    }
    call = await report_call(voice_hub, "+966500000304")
    answer = await call.say("Olaya street near the mall")
    assert [c.message for c in fake_rasa.calls] == ["Olaya street near the mall", "/deny"]
    assert answer.spoken() == [prompts.text("photo_skipped", "en"), "re: /deny."]
    assert "Send it now" not in answer.heard()


async def test_silence_asked_again_then_keys_then_speech_again(
    voice_hub: VoiceHub, fake_rasa: FakeRasa, prompts: Prompts
) -> None:
    fake_rasa.extra["which one"] = {"text": "Which service?", "buttons": SERVICES}
    call = await report_call(voice_hub, "+966500000305")
    await call.say("which one")
    again = await call.silence()
    assert again.spoken()[0] == prompts.text("not_understood", "en")
    assert "Which service?" in again.heard()
    keypad = await call.say("", confidence="")  # an empty transcript
    assert keypad.gather is not None and keypad.gather.get("input") == "dtmf"
    assert prompts.text("use_keypad", "en") in keypad.heard()
    assert prompts.text("press_for", "en", digit="1", title="Potholes and road damage") in (
        keypad.heard()
    )
    chosen = await call.press("1")
    assert fake_rasa.calls[-1].message == '/inform{"service":"pothole"}'
    assert chosen.gather is not None and chosen.gather.get("input") == "dtmf speech"
    assert len(fake_rasa.calls) == 2


async def test_star_goes_back_to_the_menu(
    voice_hub: VoiceHub, fake_rasa: FakeRasa, prompts: Prompts
) -> None:
    call = await report_call(voice_hub, "+966500000306")
    menu = await call.press("*")
    assert menu.heard() == prompts.text("main_menu", "en")
    assert fake_rasa.calls == []


async def test_a_slow_bot_hears_one_moment_and_is_waited_for(
    make_voice_hub: VoiceHubMaker, fake_rasa: FakeRasa, prompts: Prompts
) -> None:
    hub = await make_voice_hub(env={"TAWASUL_VOICE_TURN_WAIT": "1"})
    fake_rasa.delays["take your time"] = 2.5
    call = await report_call(hub, "+966500000307")
    answer = await call.say("take your time")  # follows the redirects as Twilio does
    assert answer.heard() == "re: take your time."
    assert prompts.text("one_moment", "en") in call.story()
    assert answer.gather is not None


async def test_a_bot_too_slow_gives_up_with_the_menu(
    make_voice_hub: VoiceHubMaker, fake_rasa: FakeRasa, prompts: Prompts
) -> None:
    hub = await make_voice_hub(env={"TAWASUL_VOICE_TURN_WAIT": "1", "TAWASUL_VOICE_MAX_WAITS": "0"})
    fake_rasa.delays["never mind"] = 3
    call = await report_call(hub, "+966500000308")
    answer = await call.say("never mind")
    assert answer.heard() == " ".join(
        [prompts.text("bot_slow", "en"), prompts.text("main_menu", "en")]
    )


async def test_twilio_retrying_a_turn_sends_it_to_the_bot_once(
    voice_hub: VoiceHub, fake_rasa: FakeRasa
) -> None:
    call = await report_call(voice_hub, "+966500000309")
    assert call.last is not None and call.last.gather is not None
    action = call.last.gather.get("action") or ""
    first = await call.say("the light is off")
    again = await call.post(
        action, "gather_speech", SpeechResult="the light is off", Confidence="0.9213",
        Language="en-US",
    )  # fmt: skip
    assert again.raw == first.raw
    assert [c.message for c in fake_rasa.calls] == ["the light is off"]


async def test_the_bot_is_asked_to_switch_when_the_caller_chose_another_language(
    voice_hub: VoiceHub, fake_rasa: FakeRasa, prompts: Prompts
) -> None:
    caller = "+966500000310"
    await voice_hub.redis.set(keys.language(f"voice:{caller}"), "ar")
    call = await report_call(voice_hub, caller, "en")
    answer = await call.say("my street is dark")
    switch = prompts.text("switch_language", "en")
    assert [c.message for c in fake_rasa.calls] == [switch, "my street is dark"]
    assert answer.spoken() == [f"re: {switch}.", "re: my street is dark."]


async def test_typed_digits_are_words_to_the_bot(voice_hub: VoiceHub, fake_rasa: FakeRasa) -> None:
    call = await report_call(voice_hub, "+966500000311")
    await call.press("0551234567")
    assert fake_rasa.calls[-1].message == "0551234567"


async def test_long_replies_are_split_and_a_huge_one_cut_within_64_kb(
    voice_hub: VoiceHub, fake_rasa: FakeRasa
) -> None:
    sentence = "تقع مسؤولية صيانة الأرصفة على البلدية الفرعية في كل حي. "
    fake_rasa.extra["long"] = {"text": sentence * 60}  # ≈ 6 kB: several <Say>
    fake_rasa.extra["huge"] = {"text": sentence * 1200}  # ≈ 120 kB: over any response
    call = await report_call(voice_hub, "+966500000312", "ar")
    long = await call.say("long")  # the checker holds each <Say> to its limits
    assert len(long.spoken()) > 2
    assert " ".join(long.spoken()).count("البلدية") == 60
    huge = await call.say("huge")
    assert len(huge.raw) <= 64 * 1024 and huge.gather is not None
    assert 300 < huge.heard().count("البلدية") < 1200  # as much as fits, then cut


async def test_four_misses_in_a_row_end_the_call(
    voice_hub: VoiceHub, fake_rasa: FakeRasa, prompts: Prompts
) -> None:
    call = await report_call(voice_hub, "+966500000313")
    await call.silence()  # asked again by voice
    await call.silence()  # the keypad
    await call.press("7")  # no such key
    end = await call.press("8")
    assert prompts.text("too_many_tries", "en") in end.heard()
    assert end.verbs()[-2:] == ["Say", "Hangup"]
    assert fake_rasa.calls == []

"""TwiML building within Twilio's limits: long texts split into several <Say> at sentence or
word boundaries, characters XML cannot carry dropped, responses over 64 kB refused."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from channels.voice.config import VoiceConfig
from channels.voice.twiml import (
    Speaker,
    TwimlTooLarge,
    VoiceResponse,
    clean_text,
    render,
    say_byte_limit,
    say_chunks,
    spell_digits,
)
from tests.channels.voice.conftest import voice_env
from tests.channels.voice.twiml_check import check_twiml

SENTENCE_AR = "توجد حفرة كبيرة في الشارع الرئيسي قرب المدرسة. "
SENTENCE_EN = "There is a large pothole on the main street near the school. "


@pytest.mark.parametrize("voice", ["Polly.Zeina", "Google.ar-XA-Standard-A", "man"])
@pytest.mark.parametrize("sentence", [SENTENCE_AR, SENTENCE_EN])
def test_long_texts_are_split_within_the_limits(voice: str, sentence: str) -> None:
    text = sentence * 200
    chunks = say_chunks(text, voice)
    assert len(chunks) > 1
    for chunk in chunks:
        assert len(chunk.encode("utf-8")) <= say_byte_limit(voice)
        assert len(quote(chunk)) <= 4500
        assert chunk.endswith((".", "،", ",")) or chunk == chunks[-1]  # cut after a sentence
    assert " ".join(chunks) == clean_text(text)


def test_a_text_without_spaces_is_still_cut() -> None:
    chunks = say_chunks("ع" * 5000, "Polly.Zeina")
    assert "".join(chunks) == "ع" * 5000
    assert all(len(quote(c)) <= 4500 for c in chunks)


def test_text_is_cleaned_for_xml() -> None:
    assert clean_text("a\x00b\x07c\n\n  d\ufffe") == "abc d"
    assert say_chunks(" \n\t ", "man") == []
    response = VoiceResponse()
    config = VoiceConfig.from_env(voice_env("https://ivr.example.org"))
    assert config is not None
    Speaker(config).say(response, "<b>bold</b> & \x01 fine", "en")
    twiml = check_twiml(render(response), "https://ivr.example.org")
    assert twiml.spoken() == ["<b>bold</b> & fine"]


def test_responses_over_64_kb_are_refused() -> None:
    response = VoiceResponse()
    for _ in range(30):
        response.say("x" * 2500)
    with pytest.raises(TwimlTooLarge):
        render(response)


def test_gather_attributes() -> None:
    config = VoiceConfig.from_env(voice_env("https://ivr.example.org"))
    assert config is not None
    response = VoiceResponse()
    speaker = Speaker(config)
    gather = speaker.gather(
        response, action="https://ivr.example.org/webhooks/voice/menu?n=1", language="ar",
        num_digits=1, hints=["x" * 300, "عربي"],
    )  # fmt: skip
    speaker.say(gather, "اختر", "ar")
    keypad = speaker.gather(
        response, action="https://ivr.example.org/webhooks/voice/status?n=1", language="en",
        speech=False, finish_on_key="#",
    )  # fmt: skip
    speaker.say(keypad, "Enter the number", "en")
    twiml = check_twiml(render(response), "https://ivr.example.org")
    first, second = list(twiml.root)
    assert first.get("language") == "ar-SA" and first.get("input") == "dtmf speech"
    assert first.get("hints") == "x" * 100 + ", عربي"
    assert second.get("input") == "dtmf" and second.get("finishOnKey") == "#"
    assert twiml.voices() == {("Polly.Zeina", "arb"), ("Polly.Joanna", "en-US")}


def test_digits_are_spelled() -> None:
    assert spell_digits("#123 456", ", ") == "1, 2, 3, 4, 5, 6"

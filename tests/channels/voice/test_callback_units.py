"""The callbacks' pure parts: the keypad survey's steps, what a call says (valid TwiML within
Twilio's limits, the report number digit by digit), the failure text, and the settings."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import parse_qs, urlsplit

import pytest

from bot.errors import ConfigError
from bot.model import OutboundMessage
from channels.voice.callback_dialer import failure_text
from channels.voice.callback_prompts import load_callback_prompts
from channels.voice.callback_settings import CallbackSettings
from channels.voice.callback_twiml import CallbackTwiml, spoken_update, takes_survey
from channels.voice.config import VoiceConfig
from channels.voice.survey_keypad import SurveyStep, next_step, score
from channels.voice.twiml import MAX_RESPONSE_BYTES, say_byte_limit
from tests.channels.voice.twiml_check import check_twiml

CONFIG = VoiceConfig(account_sid="AC" + "0" * 32, auth_token="t", public_url="https://ivr.example")
ID = "ab" * 16


def update(
    text: str, language: str = "ar", event_type: str = "ticket.closed", number: str = "482913657"
) -> OutboundMessage:
    return OutboundMessage(
        channel="voice", recipient_id="+966501234567", key="event:e1:0:voice", text=text,
        language=language, reply_context={"ticket_number": number, "event_type": event_type},
    )  # fmt: skip


@pytest.mark.parametrize(
    ("question", "digits", "tries", "quality", "expected"),
    [
        ("quality", "5", 1, None, SurveyStep("ask", "speed", quality=5)),
        ("quality", "9", 1, None, SurveyStep("ask", "quality", again=True)),
        ("quality", None, 1, None, SurveyStep("ask", "quality", again=True)),
        ("quality", "0", 2, None, SurveyStep("give_up")),
        ("speed", "4", 1, 5, SurveyStep("submit", quality=5, speed=4)),
        ("speed", "44", 1, 5, SurveyStep("ask", "speed", again=True, quality=5)),
        ("speed", "*", 2, 5, SurveyStep("give_up", quality=5)),
        ("speed", "3", 1, None, SurveyStep("ask", "quality")),
    ],
)
def test_survey_steps(
    question: str, digits: str | None, tries: int, quality: int | None, expected: SurveyStep
) -> None:
    assert next_step(question, digits, tries, quality) == expected  # type: ignore[arg-type]


def test_scores_are_one_key_from_one_to_five() -> None:
    assert [score(d) for d in ("1", "5", " 3", "0", "6", "12", "", None, "#")] == [
        1, 5, 3, None, None, None, None, None, None]  # fmt: skip


def test_failure_text() -> None:
    assert failure_text(("busy", "busy", "busy")) == "busy ×3"
    assert failure_text(("busy", "no-answer", "machine")) == "busy, no-answer, machine"


def test_the_number_is_spoken_digit_by_digit() -> None:
    spoken = spoken_update(update("Your report 482913657 (Potholes) was closed: fixed"), ", ")
    assert spoken == "Your report 4, 8, 2, 9, 1, 3, 6, 5, 7 (Potholes) was closed: fixed"
    assert takes_survey(update("x")) and not takes_survey(update("x", event_type="x"))
    assert not takes_survey(update("x", number=""))


def parse(body: bytes) -> ET.Element:
    check_twiml(body, CONFIG.public_url)  # the IVR's rules (tests/channels/voice/twiml_check)
    assert len(body) <= MAX_RESPONSE_BYTES
    root = ET.fromstring(body)
    assert root.tag == "Response"
    for say in root.iter("Say"):
        assert say.text and len(say.text.encode()) <= say_byte_limit(say.get("voice") or "")
    return root


def test_closure_call_speaks_then_asks_quality_by_keypad() -> None:
    twiml = CallbackTwiml(CONFIG, load_callback_prompts())
    root = parse(twiml.answer(ID, update("أغلق بلاغك رقم 482913657 (حفرة): تم الإصلاح")))
    says = [s.text or "" for s in root.iter("Say")]
    assert "4، 8، 2، 9، 1، 3، 6، 5، 7" in says[1] and "482913657" not in says[1]
    assert all(s.get("voice") == "Polly.Zeina" for s in root.iter("Say"))
    (gather,) = root.iter("Gather")
    assert gather.get("input") == "dtmf" and gather.get("numDigits") == "1"
    assert gather.get("actionOnEmptyResult") == "true"
    action = urlsplit(gather.get("action") or "")
    assert action.path == f"/webhooks/voice/callback/{ID}/survey/quality"
    assert parse_qs(action.query) == {"try": ["1"]}
    assert action.scheme == "https" and action.netloc == "ivr.example"


def test_other_updates_say_goodbye_and_hang_up() -> None:
    twiml = CallbackTwiml(CONFIG, load_callback_prompts())
    root = parse(twiml.answer(ID, update("Your report is in progress", "en", "x")))
    assert [v.tag for v in root] == ["Say", "Say", "Say", "Hangup"]
    assert root[0].get("language") == "en-US" and root[0].get("voice") == "Polly.Joanna"


def test_a_very_long_note_stays_within_the_limits() -> None:
    twiml = CallbackTwiml(CONFIG, load_callback_prompts())
    note = "ملاحظة طويلة جداً عن أعمال الصيانة في الموقع. " * 2000
    root = parse(twiml.answer(ID, update(note)))
    assert len(list(root.iter("Say"))) > 3
    for outcome in ("thanks", "already", "no_answer", "error"):
        parse(twiml.survey_end("en", outcome))
    speed = parse(twiml.ask(ID, "en", "speed", 2, 5, again=True))
    assert parse_qs(urlsplit(next(speed.iter("Gather")).get("action") or "").query) == {
        "try": ["2"], "q": ["5"]}  # fmt: skip


def test_settings() -> None:
    defaults = CallbackSettings.from_env({})
    assert (defaults.attempts, defaults.retry_seconds, defaults.machine_detection) == (
        3, 600.0, "Enable")  # fmt: skip
    assert defaults.quiet is not None and str(defaults.quiet.zone) == "Asia/Riyadh"
    custom = CallbackSettings.from_env({
        "TAWASUL_VOICE_CALLBACK_ATTEMPTS": "2", "TAWASUL_VOICE_MACHINE_DETECTION": "off",
        "TAWASUL_QUIET_HOURS": "off"})  # fmt: skip
    assert (custom.attempts, custom.machine_detection, custom.quiet) == (2, None, None)
    for bad in ({"TAWASUL_VOICE_CALLBACK_ATTEMPTS": "0"},
                {"TAWASUL_VOICE_MACHINE_DETECTION": "maybe"},
                {"TAWASUL_VOICE_CALLBACK_RETRY_SECONDS": "soon"}):  # fmt: skip
        with pytest.raises(ConfigError):
            CallbackSettings.from_env(bad)

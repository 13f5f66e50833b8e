"""Twilio's form parameters → CallParams, from the recorded payloads; garbage is refused
with MalformedPayload only (the webhook's 400), never another exception."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.errors import MalformedPayload
from channels.voice.parse import caller_number, parse_call
from channels.voice.verify import parse_form
from tests.channels.voice.phone import PAYLOADS, payload


def test_the_recorded_payloads() -> None:
    incoming = parse_call(payload("incoming"))
    assert incoming.call_sid == "CA5a1f0e7f3c5b4d2e8f9a0b1c2d3e4f56"
    assert incoming.caller == "+966512345678" and incoming.direction == "inbound"
    assert incoming.digits is None and incoming.speech is None
    speech = parse_call(payload("gather_speech"))
    assert speech.speech == "فيه حفرة كبيرة في الشارع" and speech.confidence == pytest.approx(
        0.9138, abs=1e-3
    )
    assert parse_call(payload("gather_digits")).digits == "1"
    assert parse_call(payload("gather_empty")).digits is None
    record = parse_call(payload("record"))
    assert (record.recording_url or "").startswith("https://api.twilio.com/2010-04-01/Accounts/")
    assert parse_call(payload("dial")).dial_status == "no-answer"
    for path in PAYLOADS.glob("*.form"):  # each is what a form body looks like on the wire
        assert parse_form(path.read_bytes()) == payload(path.stem)


def test_withheld_numbers() -> None:
    for raw in ("anonymous", "+266696687", "client:alice", "", None, "0501234567"):
        assert caller_number(raw) is None
    assert caller_number("+966512345678") == "+966512345678"


@given(raw=st.binary(max_size=300))
def test_any_bytes_parse_or_are_malformed(raw: bytes) -> None:
    with contextlib.suppress(MalformedPayload):
        parse_call(parse_form(raw))


@given(
    fields=st.lists(
        st.tuples(
            st.sampled_from(["CallSid", "Digits", "SpeechResult", "Confidence", "RecordingUrl",
                             "From", "DialCallStatus", "Direction", "AccountSid"]),
            st.text(max_size=40),
        ),
        max_size=10,
    )
)  # fmt: skip
def test_any_fields_parse_or_are_malformed(fields: list[tuple[str, str]]) -> None:
    try:
        params = parse_call(fields)
    except MalformedPayload:
        return
    assert params.call_sid
    assert params.digits is None or set(params.digits) <= set("0123456789*#")
    assert params.confidence is None or 0 <= params.confidence <= 1

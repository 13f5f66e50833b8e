"""JSON logs with phone numbers and e-mail addresses masked everywhere."""

from __future__ import annotations

import io
import json
import logging

from hypothesis import given
from hypothesis import strategies as st

from bot.logs import configure, mask


def test_mask_phones_and_emails() -> None:
    assert mask("call +966 50 123 4567 now") == "call ***567 now"
    assert mask("wa 966501234567") == "wa ***567"
    assert mask("whatsapp:966501234567") == "whatsapp:***567"
    assert mask("٠٥٥١٢٣٤٥٦٧") == "***٥٦٧"
    assert mask("write to sara.ahmed+x@mail.example.com") == "write to s***@mail.example.com"
    # Not phone numbers: short numbers, stream ids, words with digits.
    kept = "ticket 1234, port 8080, id 1732800000000-0"
    assert mask(kept) == kept
    assert mask("wamid.HBgM123456789") == "wamid.HBgM123456789"


@given(st.text(alphabet="0123456789", min_size=8, max_size=15), st.sampled_from(["", "+", "00"]))
def test_no_phone_number_survives_masking(digits: str, prefix: str) -> None:
    masked = mask(f"my number is {prefix}{digits}.")
    assert digits not in masked
    assert masked.endswith(digits[-3:] + ".")


@given(st.text())
def test_mask_never_raises(text: str) -> None:
    assert isinstance(mask(text), str)


def test_every_record_is_masked_json() -> None:
    stream = io.StringIO()
    handler = configure("DEBUG", stream)
    try:
        log = logging.getLogger("some.adapter")
        log.info(
            "message from %s <%s>", "+966501234567", "ali@example.org",
            extra={"conversation_id": "whatsapp:966501234567", "channel": "whatsapp",
                   "event": "turn"},
        )  # fmt: skip
        try:
            raise ValueError("bad phone 966501234567")
        except ValueError:
            log.exception("failed for %s", "x@y.org")
    finally:
        logging.getLogger().removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines[0]["message"] == "message from ***567 <a***@example.org>"
    assert lines[0]["conversation_id"] == "whatsapp:***567"
    assert lines[0]["channel"] == "whatsapp" and lines[0]["event"] == "turn"
    assert lines[0]["level"] == "INFO" and lines[0]["logger"] == "some.adapter"
    assert "966501234567" not in stream.getvalue()
    assert "ValueError: bad phone ***567" in lines[1]["exc"]
    assert lines[1]["message"] == "failed for x***@y.org"

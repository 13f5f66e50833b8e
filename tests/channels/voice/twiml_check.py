"""Every TwiML answer parsed as XML (``xml.etree``) and held to Twilio's documented rules:
the verbs and nesting TwiML allows, the attributes' value ranges, ``<Say>`` text limits
(error 13521: Polly 3 000 bytes, Google 5 000, basic voices 4 096, 4 500 characters
URL-encoded) and the 64 kB response limit (error 11750). Restated here on purpose, not
imported from the code under test."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

MAX_BYTES = 64 * 1024
DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>'
_NESTING = {
    "Response": {"Say", "Gather", "Record", "Dial", "Redirect", "Pause", "Hangup", "Play"},
    "Gather": {"Say", "Play", "Pause"},
}
_BCP47 = re.compile(r"[a-z]{2,3}(-[A-Z]{2})?")
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
_KEYS = set("0123456789*#")


def _say_limit(voice: str) -> int:
    if voice.startswith("Polly."):
        return 3000
    if voice.startswith("Google."):
        return 5000
    return 4096


def _int(value: str | None, low: int, high: int, what: str) -> int:
    assert value is not None and value.isdigit(), f"{what}={value!r}"
    number = int(value)
    assert low <= number <= high, f"{what}={number} outside {low}..{high}"
    return number


@dataclass
class Twiml:
    raw: bytes
    root: ET.Element

    def verbs(self) -> list[str]:
        return [child.tag for child in self.root]

    def find(self, tag: str) -> ET.Element | None:
        return next((child for child in self.root if child.tag == tag), None)

    @property
    def gather(self) -> ET.Element | None:
        return self.find("Gather")

    def spoken(self) -> list[str]:
        """Every ``<Say>`` text, in the order the caller hears them."""
        return [(say.text or "") for say in self.root.iter("Say")]

    def heard(self) -> str:
        return " ".join(self.spoken())

    def voices(self) -> set[tuple[str | None, str | None]]:
        return {(say.get("voice"), say.get("language")) for say in self.root.iter("Say")}


def _check_url(value: str | None, public_url: str) -> None:
    assert value, "a URL is missing"
    assert value.startswith(public_url + "/webhooks/voice/"), value
    assert urlsplit(value).scheme in ("http", "https"), value


def _check(element: ET.Element, parent: str, public_url: str) -> None:
    tag = element.tag
    assert tag in _NESTING.get(parent, set()), f"<{tag}> inside <{parent}>"
    a = element.attrib
    if tag == "Say":
        text = element.text or ""
        assert text.strip(), "empty <Say>"
        voice = a.get("voice") or ""
        assert voice.startswith(("Polly.", "Google.")) or voice in ("man", "woman"), voice
        assert _BCP47.fullmatch(a.get("language") or ""), a.get("language")
        assert len(text.encode("utf-8")) <= _say_limit(voice), f"<Say> of {len(text)} chars"
        assert len(quote(text)) <= 4500, "<Say> over 4500 URL-encoded characters"
        assert len(element) == 0
    elif tag == "Gather":
        assert a.get("input") in ("dtmf", "speech", "dtmf speech"), a.get("input")
        _check_url(a.get("action"), public_url)
        assert a.get("method") == "POST"
        assert a.get("actionOnEmptyResult") == "true"
        _int(a.get("timeout"), 1, 60, "timeout")
        if "numDigits" in a:
            _int(a.get("numDigits"), 1, 64, "numDigits")
        if "finishOnKey" in a:
            assert set(a["finishOnKey"]) <= _KEYS and len(a["finishOnKey"]) <= 1
        if "speech" in (a.get("input") or ""):
            assert re.fullmatch(r"[a-z]{2}-[A-Z]{2}", a.get("language") or ""), a.get("language")
            assert a.get("speechTimeout") == "auto"
        else:
            assert "language" not in a and "hints" not in a
        for hint in (a.get("hints") or "").split(","):
            assert len(hint.strip()) <= 100
    elif tag == "Record":
        _check_url(a.get("action"), public_url)
        assert a.get("method") == "POST"
        _int(a.get("maxLength"), 1, 3600, "maxLength")
        _int(a.get("timeout"), 0, 600, "timeout")
        assert set(a.get("finishOnKey") or "") <= _KEYS
        assert a.get("playBeep") in ("true", "false")
    elif tag == "Dial":
        _check_url(a.get("action"), public_url)
        _int(a.get("timeout"), 5, 600, "timeout")
        assert _E164.fullmatch((element.text or "").strip()), element.text
    elif tag == "Redirect":
        assert a.get("method") == "POST"
        _check_url(element.text, public_url)
    elif tag == "Pause":
        _int(a.get("length"), 1, 600, "length")
    elif tag == "Hangup":
        assert len(element) == 0 and not a
    for child in element:
        _check(child, tag, public_url)


def check_twiml(raw: bytes, public_url: str) -> Twiml:
    """Parse one answer and assert it keeps every rule above."""
    assert len(raw) <= MAX_BYTES, f"TwiML of {len(raw)} bytes"
    assert raw.startswith(DECLARATION), raw[:60]
    root = ET.fromstring(raw)
    assert root.tag == "Response", root.tag
    assert not root.attrib
    for child in root:
        _check(child, "Response", public_url)
    return Twiml(raw, root)

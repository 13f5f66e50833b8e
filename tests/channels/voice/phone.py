"""Twilio's side of one phone call: the requests it sends, built from the recorded webhook
bodies in ``payloads/`` (form-encoded, in Twilio's field order, the call's own ``CallSid``
and caller), signed with ``X-Twilio-Signature`` over the PUBLIC URL it requests, and each
TwiML answer checked (:mod:`twiml_check`) and followed the way Twilio follows it: a
``<Gather>``'s action with what the caller pressed or said, a ``<Redirect>`` at once, a
``<Record>``'s action with the recording, a ``<Dial>``'s action with how it ended."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import aiohttp
from yarl import URL

from channels.voice.verify import signed_headers
from tests.channels.voice.twiml_check import Twiml, check_twiml

PAYLOADS = Path(__file__).with_name("payloads")
ACCOUNT_SID = "AC0123456789abcdef0123456789abcdef"
AUTH_TOKEN = "test-voice-auth-token-0123456789ab"
OUR_NUMBER = "+966920000940"
#: Redirects followed in a row before the test calls it a loop.
MAX_REDIRECTS = 12


def payload(name: str) -> list[tuple[str, str]]:
    """A recorded request body as (name, value) pairs."""
    text = (PAYLOADS / f"{name}.form").read_text(encoding="utf-8")
    return parse_qsl(text, keep_blank_values=True, strict_parsing=True)


def form(name: str, fields: Mapping[str, str | None]) -> list[tuple[str, str]]:
    """The recorded body with ``fields`` replaced (``None`` drops a field; new ones go at
    the end, where Twilio puts the verb's own parameters)."""
    pairs = [(k, fields.get(k, v)) for k, v in payload(name)]
    known = {k for k, _ in pairs}
    pairs += [(k, v) for k, v in fields.items() if k not in known]
    return [(k, v) for k, v in pairs if v is not None]


class PhoneCall:
    """One call from ``caller`` to the IVR at ``public_url`` (reached at ``hub_url``)."""

    def __init__(
        self,
        http: aiohttp.ClientSession,
        hub_url: str,
        public_url: str,
        caller: str,
        *,
        token: str = AUTH_TOKEN,
        account_sid: str = ACCOUNT_SID,
    ) -> None:
        self.http = http
        self.hub_url = hub_url.rstrip("/")
        self.public_url = public_url.rstrip("/")
        self.caller = caller
        self.token = token
        self.account_sid = account_sid
        self.sid = "CA" + secrets.token_hex(16)
        self.last: Twiml | None = None
        self.transcript: list[str] = []

    def _fields(self, extra: Mapping[str, str | None]) -> dict[str, str | None]:
        return {
            "CallSid": self.sid,
            "AccountSid": self.account_sid,
            "From": self.caller,
            "Caller": self.caller,
            "To": OUR_NUMBER,
            "Called": OUR_NUMBER,
            **extra,
        }

    async def raw_post(
        self,
        url: str,
        body: bytes,
        headers: Mapping[str, str],
    ) -> tuple[int, bytes, str]:
        # encoded=True: the bytes of the URL as written, as Twilio requests it (no
        # normalising of the query the signature covers).
        local = URL(self.hub_url + url.removeprefix(self.public_url), encoded=True)
        async with self.http.post(local, data=body, headers=dict(headers)) as response:
            return response.status, await response.read(), response.content_type

    async def post(self, url: str, template: str, **extra: str | None) -> Twiml:
        """A signed request as Twilio sends it; the answer must be valid TwiML."""
        params = form(template, self._fields(extra))
        headers = signed_headers(self.token, url, params)
        status, raw, content_type = await self.raw_post(url, urlencode(params).encode(), headers)
        assert status == 200, f"{url}: {status} {raw[:300]!r}"
        assert content_type in ("text/xml", "application/xml"), content_type
        twiml = check_twiml(raw, self.public_url)
        self.last = twiml
        self.transcript.append(f"{url.rsplit('/', 1)[-1]} {extra} → {twiml.heard()}")
        return await self._follow(twiml)

    async def _follow(self, twiml: Twiml) -> Twiml:
        for _ in range(MAX_REDIRECTS):
            waits_for_caller = any(
                twiml.find(tag) is not None for tag in ("Gather", "Record", "Dial", "Hangup")
            )
            redirect = twiml.find("Redirect")
            if waits_for_caller or redirect is None:
                return twiml
            assert redirect.text
            params = form("gather_empty", self._fields({"msg": None}))
            headers = signed_headers(self.token, redirect.text, params)
            status, raw, _ = await self.raw_post(redirect.text, urlencode(params).encode(), headers)
            assert status == 200, f"{redirect.text}: {status} {raw[:300]!r}"
            twiml = check_twiml(raw, self.public_url)
            self.last = twiml
            self.transcript.append(f"(redirect) → {twiml.heard()}")
        raise AssertionError("redirected in a loop:\n" + self.story())

    def story(self) -> str:
        return "\n".join(self.transcript)

    def _action(self, tag: str) -> str:
        assert self.last is not None, "no answer yet"
        element = self.last.find(tag)
        assert element is not None, f"no <{tag}> in the answer:\n{self.story()}"
        action = element.get("action")
        assert action
        return action

    async def dial_in(self) -> Twiml:
        return await self.post(self.public_url + "/webhooks/voice/incoming", "incoming")

    async def press(self, digits: str) -> Twiml:
        return await self.post(self._action("Gather"), "gather_digits", Digits=digits)

    async def say(self, text: str, confidence: str = "0.9213") -> Twiml:
        assert self.last is not None and self.last.gather is not None
        language = self.last.gather.get("language")
        assert language, "this <Gather> takes no speech"
        return await self.post(
            self._action("Gather"),
            "gather_speech",
            SpeechResult=text,
            Confidence=confidence,
            Language=language,
        )

    async def silence(self) -> Twiml:
        return await self.post(self._action("Gather"), "gather_empty")

    async def leave_voicemail(self, recording_url: str) -> Twiml:
        return await self.post(self._action("Record"), "record", RecordingUrl=recording_url)

    async def dial_ended(self, status: str) -> Twiml:
        return await self.post(self._action("Dial"), "dial", DialCallStatus=status)

    async def hang_up(self) -> Twiml:
        return await self.post(self.public_url + "/webhooks/voice/ended", "status_callback")

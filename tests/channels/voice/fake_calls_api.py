"""A fake Twilio Calls API on 127.0.0.1 that checks every request like Twilio and then PLAYS
Twilio: it rings the scripted callee, fetches the call's TwiML from the hub with a correct
``X-Twilio-Signature``, follows it (``<Say>``, ``<Gather>`` with the digits the test chose,
``<Redirect>``, ``<Hangup/>``) and posts the status callbacks.

``POST /2010-04-01/Accounts/{AccountSid}/Calls.json`` — Basic auth ``SID:token`` (else 401,
code 20003), the path's account = the authenticated one (else 404, 20404), a form body with
``To`` (E.164, 21211), ``From`` (E.164 and the account's number, 21212 / 21210), ``Url``
(https, or http on 127.0.0.1 for tests; 21205), ``Method``, ``StatusCallback`` (same rule),
``StatusCallbackEvent`` (repeated, each one of initiated/ringing/answered/completed),
``StatusCallbackMethod``, ``Timeout`` (1–600), ``MachineDetection`` (Enable /
DetectMessageEnd) → 201 with the Call resource (``sid`` = ``CA`` + 32 hex). ``GET
…/Calls/{sid}.json`` → the Call resource. Errors are Twilio's JSON ``{code, message,
more_info, status}``; ``fail_next`` scripts 429 / 5xx / 4xx answers.

Every TwiML answer is checked like Twilio: HTTP 200, ``text/xml`` or ``application/xml``, at
most 64 kB, well-formed XML with a ``<Response>`` root, known verbs only, ``<Say>`` text within
the TTS limits (Polly 3000, basic 4096, Google 5000 UTF-8 bytes), ``<Gather>`` attributes in
range, absolute or relative action URLs. Anything wrong is kept in :attr:`FakeCallsApi.errors`
(tests assert it stays empty) and ends the call like Twilio's "application error".
"""

from __future__ import annotations

import asyncio
import base64
import re
import secrets
import time
import xml.etree.ElementTree as ET
from collections import defaultdict, deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any
from urllib.parse import urljoin, urlsplit

import aiohttp
import pytest
from aiohttp import web
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

__all__ = ["ACCOUNT_SID", "AUTH_TOKEN", "NUMBER", "Answer", "FakeCallsApi", "PlacedCall", "Said",
           "Unanswered", "calls_api"]  # fmt: skip

API = "2010-04-01"
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
EVENTS = frozenset({"initiated", "ringing", "answered", "completed"})
VERBS = frozenset({"Say", "Gather", "Redirect", "Hangup", "Pause", "Play", "Record", "Dial",
                   "Reject", "Enqueue", "Leave", "Sms", "Connect", "Refer"})  # fmt: skip
GATHER_CHILDREN = frozenset({"Say", "Play", "Pause"})
MAX_TWIML_BYTES = 64 * 1024
MAX_STEPS = 60


def _say_limit(voice: str | None) -> int:
    if voice and voice.startswith("Polly."):
        return 3000
    if voice and voice.startswith("Google."):
        return 5000
    return 4096


@dataclass(frozen=True)
class Answer:
    """The callee picks up and presses ``digits`` at successive ``<Gather>``s (None: stays
    silent there). ``answered_by`` is what machine detection reports (with MachineDetection)."""

    digits: tuple[str | None, ...] = ()
    answered_by: str = "human"


@dataclass(frozen=True)
class Unanswered:
    """The call ends without being answered: ``busy``, ``no-answer`` or ``failed``;
    ``lost``: the status callback never reaches the hub (it reads the call back)."""

    status: str = "busy"
    lost: bool = False


@dataclass
class Said:
    text: str
    language: str | None
    voice: str | None


@dataclass
class PlacedCall:
    sid: str
    form: dict[str, list[str]]
    status: str = "queued"
    answered_by: str | None = None
    said: list[Said] = field(default_factory=list)
    #: Every TwiML document the hub answered, in order.
    twiml: list[bytes] = field(default_factory=list)
    gathers: int = 0
    digits_sent: list[str] = field(default_factory=list)
    status_posts: list[dict[str, str]] = field(default_factory=list)
    webhook_statuses: list[int] = field(default_factory=list)
    placed_at: float = field(default_factory=time.time)
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def one(self, name: str) -> str:
        return self.form.get(name, [""])[0]

    @property
    def to(self) -> str:
        return self.one("To")

    @property
    def speech(self) -> str:
        return " ".join(s.text for s in self.said)

    def resource(self, account_sid: str) -> dict[str, Any]:
        return {
            "sid": self.sid, "account_sid": account_sid, "to": self.to,
            "from": self.one("From"), "status": self.status, "direction": "outbound-api",
            "answered_by": self.answered_by, "api_version": API,
            "date_created": formatdate(self.placed_at, usegmt=True),
            "uri": f"/{API}/Accounts/{account_sid}/Calls/{self.sid}.json",
        }  # fmt: skip


class TwilioError(Exception):
    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def response(self) -> web.Response:
        body = {"code": self.code, "message": self.message, "status": self.status,
                "more_info": f"https://www.twilio.com/docs/errors/{self.code}"}  # fmt: skip
        headers = {"Retry-After": "1"} if self.status == 429 else None
        return web.json_response(body, status=self.status, headers=headers)


def _url_ok(value: str) -> bool:
    parts = urlsplit(value)
    if parts.scheme == "https" and parts.hostname:
        return True
    return parts.scheme == "http" and parts.hostname == "127.0.0.1"


class FakeCallsApi:
    """The fake; ``script(to, *outcomes)`` decides what each next call to ``to`` does."""

    def __init__(self, account_sid: str, auth_token: str, number: str) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.number = number
        self.calls: list[PlacedCall] = []
        self.errors: list[str] = []
        self._scripts: dict[str, deque[Answer | Unanswered]] = defaultdict(deque)
        self._faults: deque[TwilioError] = deque()
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None
        self.url = ""
        self.requests = 0

    async def start(self) -> FakeCallsApi:
        app = web.Application()
        app.router.add_post(f"/{API}/Accounts/{{account}}/Calls.json", self._create)
        app.router.add_get(f"/{API}/Accounts/{{account}}/Calls/{{sid}}.json", self._fetch)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        self._http = aiohttp.ClientSession()
        return self

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._http is not None:
            await self._http.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def env(self) -> dict[str, str]:
        """The voice channel's settings pointing at this fake."""
        return {
            "TAWASUL_VOICE_ACCOUNT_SID": self.account_sid,
            "TAWASUL_VOICE_AUTH_TOKEN": self.auth_token,
            "TAWASUL_VOICE_NUMBER": self.number,
            "TAWASUL_VOICE_API_URL": self.url,
        }

    def script(self, to: str, *outcomes: Answer | Unanswered) -> None:
        self._scripts[to].extend(outcomes)

    def fail_next(self, status: int, code: int, message: str, times: int = 1) -> None:
        self._faults.extend(TwilioError(status, code, message) for _ in range(times))

    def to(self, number: str) -> list[PlacedCall]:
        return [c for c in self.calls if c.to == number]

    async def settled(self) -> None:
        """Every call placed so far has finished playing."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # --- the REST side ---------------------------------------------------------------------

    def _authenticate(self, request: web.Request) -> None:
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        try:
            user, _, password = base64.b64decode(value).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            user = password = ""
        if scheme != "Basic" or not secrets.compare_digest(
            f"{user}:{password}", f"{self.account_sid}:{self.auth_token}"
        ):
            raise TwilioError(401, 20003, "Authenticate")
        if request.match_info["account"] != self.account_sid:
            raise TwilioError(404, 20404, "The requested resource was not found")

    async def _create(self, request: web.Request) -> web.Response:
        self.requests += 1
        try:
            self._authenticate(request)
            if self._faults:
                raise self._faults.popleft()
            if request.content_type != "application/x-www-form-urlencoded":
                raise TwilioError(400, 21600, "form-encoded body expected")
            body = await request.post()
            form: dict[str, list[str]] = defaultdict(list)
            for name, value in body.items():
                form[name].append(str(value))
            call = self._validate(form)
        except TwilioError as exc:
            return exc.response()
        self.calls.append(call)
        task = asyncio.create_task(self._play(call))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return web.json_response(call.resource(self.account_sid), status=201)

    def _validate(self, form: dict[str, list[str]]) -> PlacedCall:
        def one(name: str) -> str:
            values = form.get(name) or [""]
            if len(values) > 1:
                raise TwilioError(400, 21600, f"{name} given twice")
            return values[0]

        if not one("To"):
            raise TwilioError(400, 21201, "No 'To' number is specified")
        if not E164.match(one("To")):
            raise TwilioError(400, 21211, f"Invalid 'To' Phone Number: {one('To')}")
        if not one("From"):
            raise TwilioError(400, 21213, "Caller phone number is required")
        if not E164.match(one("From")):
            raise TwilioError(400, 21212, "Invalid 'From' Phone Number")
        if one("From") != self.number:
            raise TwilioError(400, 21210, "The source phone number provided is not verified")
        if not _url_ok(one("Url")):
            raise TwilioError(400, 21205, "Url is not a valid URL")
        if one("Method") not in ("", "GET", "POST"):
            raise TwilioError(400, 21206, "Method is not valid")
        if not one("StatusCallback") or not _url_ok(one("StatusCallback")):
            raise TwilioError(400, 21609, "StatusCallback is not a valid URL")
        if one("StatusCallbackMethod") not in ("", "GET", "POST"):
            raise TwilioError(400, 21206, "StatusCallbackMethod is not valid")
        events = form.get("StatusCallbackEvent") or ["completed"]
        if not set(events) <= EVENTS:
            raise TwilioError(400, 21626, f"Invalid StatusCallbackEvent: {events}")
        timeout = one("Timeout") or "60"
        if not timeout.isdigit() or not 1 <= int(timeout) <= 600:
            raise TwilioError(400, 21626, "Timeout must be 1-600")
        if one("MachineDetection") not in ("", "Enable", "DetectMessageEnd"):
            raise TwilioError(400, 21626, "MachineDetection must be Enable or DetectMessageEnd")
        return PlacedCall(sid="CA" + secrets.token_hex(16), form=dict(form))

    async def _fetch(self, request: web.Request) -> web.Response:
        try:
            self._authenticate(request)
        except TwilioError as exc:
            return exc.response()
        for call in self.calls:
            if call.sid == request.match_info["sid"]:
                return web.json_response(call.resource(self.account_sid))
        return TwilioError(404, 20404, "The requested resource was not found").response()

    # --- playing the call ------------------------------------------------------------------

    def _params(self, call: PlacedCall, status: str) -> dict[str, str]:
        params = {
            "AccountSid": self.account_sid, "ApiVersion": API, "CallSid": call.sid,
            "CallStatus": status, "Direction": "outbound-api", "From": call.one("From"),
            "To": call.to, "Caller": call.one("From"), "Called": call.to,
        }  # fmt: skip
        if call.one("MachineDetection") and call.answered_by:
            params["AnsweredBy"] = call.answered_by
        return params

    async def _post(self, url: str, params: dict[str, str]) -> tuple[int, str, bytes]:
        assert self._http is not None
        signature = RequestValidator(self.auth_token).compute_signature(url, params)
        async with self._http.post(
            url, data=params, headers={"X-Twilio-Signature": signature}
        ) as resp:
            return resp.status, resp.headers.get("Content-Type", ""), await resp.read()

    async def _status(self, call: PlacedCall, event: str, status: str, **extra: str) -> None:
        events = call.form.get("StatusCallbackEvent") or ["completed"]
        if event not in events:
            return
        params = {**self._params(call, status), "CallbackSource": "call-progress-events",
                  "SequenceNumber": str(len(call.status_posts)),
                  "Timestamp": formatdate(usegmt=True), **extra}  # fmt: skip
        call.status_posts.append(params)
        code, _, _ = await self._post(call.one("StatusCallback"), params)
        call.webhook_statuses.append(code)
        if code >= 300:
            self.errors.append(f"{call.sid}: status callback answered {code}")

    async def _play(self, call: PlacedCall) -> None:
        try:
            await asyncio.sleep(0)
            queue = self._scripts.get(call.to)
            outcome = queue.popleft() if queue else Answer()
            if isinstance(outcome, Unanswered):
                call.status = outcome.status
                if not outcome.lost:
                    await self._status(call, "completed", outcome.status, CallDuration="0")
                return
            call.status = "in-progress"
            if call.one("MachineDetection"):
                call.answered_by = outcome.answered_by
            await self._status(call, "answered", "in-progress")
            await self._converse(call, deque(outcome.digits))
            call.status = "completed"
            await self._status(call, "completed", "completed", CallDuration="12")
        except Exception as exc:  # kept for the test to see
            self.errors.append(f"{call.sid}: {type(exc).__name__}: {exc}")
        finally:
            call.done.set()

    async def _converse(self, call: PlacedCall, digits: deque[str | None]) -> None:
        url = call.one("Url")
        params = self._params(call, "in-progress")
        for _ in range(MAX_STEPS):
            verbs = await self._twiml(call, url, params)
            if verbs is None:
                return
            jump = self._run(call, url, verbs, digits)
            if jump is None:
                return
            url, extra = jump
            params = {**self._params(call, "in-progress"), **extra}
        self.errors.append(f"{call.sid}: more than {MAX_STEPS} TwiML documents")

    async def _twiml(
        self, call: PlacedCall, url: str, params: dict[str, str]
    ) -> list[ET.Element] | None:
        code, content_type, raw = await self._post(url, params)
        call.webhook_statuses.append(code)
        call.twiml.append(raw)
        problem = None
        if code != 200:
            problem = f"HTTP {code}"
        elif content_type.split(";")[0].strip() not in ("text/xml", "application/xml"):
            problem = f"Content-Type {content_type}"
        elif len(raw) > MAX_TWIML_BYTES:
            problem = f"TwiML of {len(raw)} bytes (11750)"
        if problem is None:
            try:
                root = ET.fromstring(raw)
            except ET.ParseError as exc:
                problem = f"not XML (12100): {exc}"
            else:
                problem = self._check(root)
        if problem is not None:
            self.errors.append(f"{call.sid} {urlsplit(url).path}: {problem}")
            return None
        return list(root)

    def _check(self, root: ET.Element) -> str | None:
        if root.tag != "Response":
            return f"root <{root.tag}> is not <Response>"
        for verb in root:
            if verb.tag not in VERBS:
                return f"unknown verb <{verb.tag}>"
            if verb.tag == "Gather":
                for child in verb:
                    if child.tag not in GATHER_CHILDREN:
                        return f"<{child.tag}> inside <Gather>"
                    if child.tag == "Say" and (problem := self._check_say(child)):
                        return problem
                num = verb.get("numDigits")
                if num is not None and not (num.isdigit() and int(num) >= 1):
                    return f"numDigits={num}"
                timeout = verb.get("timeout")
                if timeout is not None and not (timeout.isdigit() and int(timeout) >= 1):
                    return f"timeout={timeout}"
                if verb.get("input", "dtmf") not in ("dtmf", "speech", "dtmf speech",
                                                     "speech dtmf"):  # fmt: skip
                    return f"input={verb.get('input')}"
            if verb.tag == "Say" and (problem := self._check_say(verb)):
                return problem
            if verb.tag == "Redirect" and not (verb.text or "").strip():
                return "<Redirect> without a URL"
        return None

    @staticmethod
    def _check_say(say: ET.Element) -> str | None:
        text = say.text or ""
        if not text.strip():
            return "empty <Say>"
        limit = _say_limit(say.get("voice"))
        if len(text.encode()) > limit:
            return f"<Say> of {len(text.encode())} bytes over {limit} (13521)"
        return None

    def _run(
        self, call: PlacedCall, url: str, verbs: list[ET.Element], digits: deque[str | None]
    ) -> tuple[str, dict[str, str]] | None:
        """Follow one document; the next (url, extra params) to fetch, or None at the end."""
        for verb in verbs:
            if verb.tag == "Say":
                self._say(call, verb)
            elif verb.tag == "Gather":
                call.gathers += 1
                for child in verb:
                    if child.tag == "Say":
                        self._say(call, child)
                pressed = digits.popleft() if digits else None
                action = urljoin(url, verb.get("action") or url)
                if pressed:
                    call.digits_sent.append(pressed)
                    return action, {"Digits": pressed, "FinishedOnKey": ""}
                if verb.get("actionOnEmptyResult") == "true":
                    return action, {}
            elif verb.tag == "Redirect":
                return urljoin(url, (verb.text or "").strip()), {}
            elif verb.tag in ("Hangup", "Reject"):
                return None
        return None

    @staticmethod
    def _say(call: PlacedCall, say: ET.Element) -> None:
        call.said.append(Said((say.text or "").strip(), say.get("language"), say.get("voice")))


ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "voice-auth-token-for-tests-0123"
NUMBER = "+966920000940"


@pytest.fixture
async def calls_api() -> AsyncIterator[FakeCallsApi]:
    """A fresh fake for one test (account ``ACCOUNT_SID``, token ``AUTH_TOKEN``, our number
    ``NUMBER``)."""
    fake = await FakeCallsApi(ACCOUNT_SID, AUTH_TOKEN, NUMBER).start()
    yield fake
    await fake.stop()

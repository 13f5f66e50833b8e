"""Twilio's Calls API over the hub's one client session (protocols.md §5.4).

``POST {api_url}/2010-04-01/Accounts/{AccountSid}/Calls.json`` places an outbound call (form
fields ``To``, ``From``, ``Url``, ``Method``, ``StatusCallback``, ``StatusCallbackEvent``
repeated, ``StatusCallbackMethod``, ``Timeout``, ``MachineDetection``) and answers 201 with
the Call resource; ``GET …/Calls/{CallSid}.json`` reads one back. Basic auth ``SID:token``.

Failures map to :mod:`bot.errors`: 429 → :class:`RetryAfter` (``Retry-After`` or one second),
5xx, timeouts and connection errors → :class:`TransientSendError`, any other 4xx (Twilio's
JSON error ``{code, message, more_info, status}``, e.g. 21211 invalid ``To``) →
:class:`PermanentSendError`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp

from bot.errors import PermanentSendError, RetryAfter, SendError, TransientSendError

__all__ = ["API_VERSION", "CallRequest", "CallState", "CallsApi", "send_error"]

API_VERSION = "2010-04-01"
DEFAULT_RETRY_AFTER = 1.0


@dataclass(frozen=True, slots=True)
class CallRequest:
    """One outbound call: who, from which number, and where Twilio fetches its TwiML."""

    to: str
    from_: str
    url: str
    status_callback: str
    status_events: Sequence[str] = ("answered", "completed")
    timeout: int = 30
    machine_detection: str | None = None

    def form(self) -> list[tuple[str, str]]:
        fields = [
            ("To", self.to),
            ("From", self.from_),
            ("Url", self.url),
            ("Method", "POST"),
            ("StatusCallback", self.status_callback),
            ("StatusCallbackMethod", "POST"),
            ("Timeout", str(self.timeout)),
        ]
        fields += [("StatusCallbackEvent", event) for event in self.status_events]
        if self.machine_detection:
            fields.append(("MachineDetection", self.machine_detection))
        return fields


@dataclass(frozen=True, slots=True)
class CallState:
    """The Call resource's fields we act on."""

    sid: str
    status: str
    answered_by: str | None = None

    @classmethod
    def from_json(cls, data: Any) -> CallState:
        if not isinstance(data, dict):
            raise TransientSendError("twilio answered without a Call resource")
        sid, status = data.get("sid"), data.get("status")
        if not (isinstance(sid, str) and sid.startswith("CA") and isinstance(status, str)):
            raise TransientSendError("twilio answered a Call resource without sid or status")
        answered = data.get("answered_by")
        return cls(sid, status, answered if isinstance(answered, str) else None)


def send_error(status: int, raw: bytes, retry_after: str | None) -> SendError:
    """A Calls API error answer as the hub's typed error."""
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    code = body.get("code") if isinstance(body, dict) else None
    message = body.get("message") if isinstance(body, dict) else None
    text = f"twilio HTTP {status}" + (f" code {code}" if code is not None else "")
    text += f": {message}" if isinstance(message, str) else ""
    if status == 429:
        try:
            seconds = float(retry_after) if retry_after else DEFAULT_RETRY_AFTER
        except ValueError:
            seconds = DEFAULT_RETRY_AFTER
        return RetryAfter(max(seconds, 0.0), text)
    if status >= 500:
        return TransientSendError(text)
    return PermanentSendError(text)


class CallsApi:
    """One Twilio account's Calls resource (the base URL is configuration: tests use a fake)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        api_url: str,
        account_sid: str,
        auth_token: str,
        timeout: float = 15.0,
    ) -> None:
        self._session = session
        self._calls = f"{api_url.rstrip('/')}/{API_VERSION}/Accounts/{quote(account_sid)}/Calls"
        self._headers = {
            "Accept": "application/json",
            "Authorization": aiohttp.encode_basic_auth(account_sid, auth_token),
        }
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def create(self, call: CallRequest) -> CallState:
        """Place the call; its ``sid`` and first status (``queued``)."""
        return await self._request("POST", f"{self._calls}.json", call.form())

    async def fetch(self, sid: str) -> CallState:
        """The call's current status (a status callback that never came)."""
        return await self._request("GET", f"{self._calls}/{quote(sid)}.json", None)

    async def _request(
        self, method: str, url: str, form: list[tuple[str, str]] | None
    ) -> CallState:
        try:
            async with self._session.request(
                method, url, data=form, headers=self._headers, timeout=self._timeout
            ) as resp:
                raw = await resp.read()
                if resp.status >= 300:
                    raise send_error(resp.status, raw, resp.headers.get("Retry-After"))
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise TransientSendError(f"twilio {method} Calls: {type(exc).__name__}") from exc
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise TransientSendError("twilio answered 2xx without JSON") from exc
        return CallState.from_json(data)

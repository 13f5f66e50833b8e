"""The Calls API client against the fake Twilio: the request Twilio expects, the Call resource
back, and every failure as the hub's typed error."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.errors import PermanentSendError, RetryAfter, TransientSendError
from channels.voice.calls_api import CallRequest, CallsApi
from tests.channels.voice.fake_calls_api import (  # noqa: F401 (fixture)
    ACCOUNT_SID,
    AUTH_TOKEN,
    NUMBER,
    FakeCallsApi,
    Unanswered,
    calls_api,
)
from tests.services import free_port

CITIZEN = "+966501234567"


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def request(to: str = CITIZEN, **changes: object) -> CallRequest:
    values: dict[str, object] = {
        "to": to,
        "from_": NUMBER,
        "url": "http://127.0.0.1:9/webhooks/voice/callback/x/answer",
        "status_callback": "http://127.0.0.1:9/webhooks/voice/callback/x/status",
        "machine_detection": "Enable",
        **changes,
    }
    return CallRequest(**values)  # type: ignore[arg-type]


def client(http: aiohttp.ClientSession, fake: FakeCallsApi, token: str = AUTH_TOKEN) -> CallsApi:
    return CallsApi(http, fake.url, ACCOUNT_SID, token, timeout=5)


async def test_create_sends_the_form_twilio_expects_and_reads_the_call(
    http: aiohttp.ClientSession,
    calls_api: FakeCallsApi,  # noqa: F811
) -> None:
    calls_api.script(CITIZEN, Unanswered("no-answer"))
    state = await client(http, calls_api).create(request())
    assert state.sid.startswith("CA") and len(state.sid) == 34 and state.status == "queued"
    (call,) = calls_api.calls
    assert call.form["StatusCallbackEvent"] == ["answered", "completed"]
    assert (call.one("To"), call.one("From"), call.one("Method")) == (CITIZEN, NUMBER, "POST")
    assert call.one("MachineDetection") == "Enable" and call.one("Timeout") == "30"
    await calls_api.settled()
    fetched = await client(http, calls_api).fetch(state.sid)
    assert (fetched.sid, fetched.status) == (state.sid, "no-answer")


async def test_wrong_token_is_permanent(
    http: aiohttp.ClientSession,
    calls_api: FakeCallsApi,  # noqa: F811
) -> None:
    with pytest.raises(PermanentSendError, match="401 code 20003"):
        await client(http, calls_api, token="not-the-token").create(request())
    assert calls_api.calls == []


async def test_a_number_twilio_refuses_is_permanent(
    http: aiohttp.ClientSession,
    calls_api: FakeCallsApi,  # noqa: F811
) -> None:
    with pytest.raises(PermanentSendError, match="21211"):
        await client(http, calls_api).create(request(to="0501234567"))
    with pytest.raises(PermanentSendError, match="21210"):
        await client(http, calls_api).create(request(from_="+966500000000"))


async def test_rate_limit_and_server_errors_are_retried(
    http: aiohttp.ClientSession,
    calls_api: FakeCallsApi,  # noqa: F811
) -> None:
    calls_api.fail_next(429, 20429, "Too Many Requests")
    with pytest.raises(RetryAfter) as limited:
        await client(http, calls_api).create(request())
    assert limited.value.seconds == 1.0
    calls_api.fail_next(503, 20500, "Service Unavailable")
    with pytest.raises(TransientSendError, match="503"):
        await client(http, calls_api).create(request())
    assert calls_api.calls == []
    unreachable = CallsApi(http, f"http://127.0.0.1:{free_port()}", ACCOUNT_SID, AUTH_TOKEN)
    with pytest.raises(TransientSendError, match="ClientConnectorError"):
        await unreachable.create(request())

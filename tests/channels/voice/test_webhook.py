"""The webhook as Twilio (and anyone else) reaches it: signatures over the public URL, 4xx
for what is not Twilio's, never a 5xx; retries answered alike; stale or unknown steps
answered in words."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redis.asyncio import Redis

from channels.voice.prompts import Prompts
from channels.voice.verify import SIGNATURE_HEADER, sign, signed_headers
from tests.channels.voice.conftest import VoiceHub, VoiceHubMaker
from tests.channels.voice.phone import AUTH_TOKEN, PhoneCall, form

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
FUZZ = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


async def status_of(call: PhoneCall, path: str, body: bytes, headers: dict[str, str]) -> int:
    status, _, _ = await call.raw_post(call.public_url + path, body, headers)
    return status


async def test_unsigned_forged_or_replayed_elsewhere_is_403(voice_hub: VoiceHub) -> None:
    call = voice_hub.call("+966500000101")
    url = call.public_url + "/webhooks/voice/incoming"
    params = form("incoming", {"CallSid": call.sid})
    body = urlencode(params).encode()
    assert await status_of(call, "/webhooks/voice/incoming", body, FORM) == 403
    wrong_key = {**FORM, SIGNATURE_HEADER: sign("another-token", url, params)}
    assert await status_of(call, "/webhooks/voice/incoming", body, wrong_key) == 403
    other_path = {**FORM, SIGNATURE_HEADER: sign(AUTH_TOKEN, url + "?n=1", params)}
    assert await status_of(call, "/webhooks/voice/incoming", body, other_path) == 403
    tampered = urlencode([(k, "+966599999999" if k == "From" else v) for k, v in params])
    good = signed_headers(AUTH_TOKEN, url, params)
    assert await status_of(call, "/webhooks/voice/incoming", tampered.encode(), good) == 403
    assert await status_of(call, "/webhooks/voice/incoming", body, good) == 200
    # Nothing was kept for the refused requests: the first accepted one started the call.
    assert await voice_hub.redis.exists(f"tawasul:voice:{{{call.sid}}}:state")


async def test_another_accounts_call_is_403(voice_hub: VoiceHub) -> None:
    call = voice_hub.call("+966500000102", account_sid="AC" + "f" * 32)
    url = call.public_url + "/webhooks/voice/incoming"
    params = form("incoming", {"CallSid": call.sid, "AccountSid": call.account_sid})
    headers = signed_headers(AUTH_TOKEN, url, params)
    assert (
        await status_of(call, "/webhooks/voice/incoming", urlencode(params).encode(), headers)
        == 403
    )


async def test_behind_a_proxy_the_public_url_is_what_is_signed(
    make_voice_hub: VoiceHubMaker,
) -> None:
    hub = await make_voice_hub(public_url="https://ivr.example.org/tawasul")
    call = hub.call("+966500000103")
    twiml = await call.dial_in()  # signed for https://ivr.example.org/tawasul/webhooks/...
    assert twiml.gather is not None
    assert (twiml.gather.get("action") or "").startswith(
        "https://ivr.example.org/tawasul/webhooks/voice/language?n="
    )
    direct = PhoneCall(hub.http, hub.url, hub.url, "+966500000104")
    direct.hub_url = hub.url
    params = form("incoming", {"CallSid": direct.sid})
    url = hub.url + "/webhooks/voice/incoming"  # the address the hub itself listens on
    headers = signed_headers(AUTH_TOKEN, url, params)
    status, _, _ = await direct.raw_post(url, urlencode(params).encode(), headers)
    assert status == 403


async def test_not_twilios_form_is_400_or_413(voice_hub: VoiceHub) -> None:
    call = voice_hub.call("+966500000105")
    url = call.public_url + "/webhooks/voice/incoming"
    cases = [
        [("From", "+966500000105")],  # no CallSid
        [("CallSid", "x")],  # not a call sid
        [("CallSid", call.sid), ("Digits", "12a")],
        [("CallSid", call.sid), ("Confidence", "high")],
        [("CallSid", call.sid), ("RecordingUrl", "javascript:alert(1)")],
    ]
    for params in cases:
        headers = signed_headers(AUTH_TOKEN, url, params)
        status = await status_of(
            call, "/webhooks/voice/incoming", urlencode(params).encode(), headers
        )
        assert status == 400, params
    not_utf8 = {**FORM, SIGNATURE_HEADER: "x"}
    assert await status_of(call, "/webhooks/voice/incoming", b"CallSid=%FF", not_utf8) == 400
    huge = b"a=" + b"x" * (70 * 1024)
    assert await status_of(call, "/webhooks/voice/incoming", huge, FORM) == 413


@FUZZ
@given(raw=st.binary(max_size=300))
async def test_random_bytes_never_cause_a_5xx(voice_hub: VoiceHub, raw: bytes) -> None:
    call = voice_hub.call("+966500000106")
    status = await status_of(call, "/webhooks/voice/menu?n=1", raw, FORM)
    assert status in (400, 403, 413), raw


@FUZZ
@given(
    step=st.sampled_from(["incoming", "language", "menu", "report", "status", "followup",
                          "followup-recorded", "agent-voicemail", "report-keypad", "nope"]),
    n=st.one_of(st.none(), st.integers(-5, 10).map(str), st.text(max_size=5)),
    fields=st.dictionaries(
        st.sampled_from(["Digits", "SpeechResult", "Confidence", "RecordingUrl", "From",
                         "DialCallStatus", "CallSid"]),
        st.text(max_size=30),
        max_size=5,
    ),
)  # fmt: skip
async def test_signed_garbage_is_answered_or_refused_never_a_5xx(
    voice_hub: VoiceHub, step: str, n: str | None, fields: dict[str, str]
) -> None:
    call = voice_hub.call("+966500000107")
    await call.dial_in()
    query = "" if n is None else "?" + urlencode({"n": n})
    url = f"{call.public_url}/webhooks/voice/{step}{query}"
    params = form("gather_digits", {"CallSid": call.sid, "AccountSid": call.account_sid, **fields})
    headers = signed_headers(AUTH_TOKEN, url, params)
    status, raw, _ = await call.raw_post(url, urlencode(params).encode(), headers)
    assert status in (200, 400), (status, raw[:200])


async def test_a_retried_request_gets_the_same_answer(voice_hub: VoiceHub) -> None:
    call = voice_hub.call("+966500000108")
    await call.dial_in()
    action = call._action("Gather")
    first = await call.press("2")
    again = await call.post(action, "gather_digits", Digits="2")  # Twilio's retry
    assert again.raw == first.raw
    # a different answer to an old question is not taken: "unexpected", then the menu
    stale = await call.post(action, "gather_digits", Digits="1")
    assert stale.raw != first.raw


async def test_stale_unknown_and_expired_steps_are_answered_in_words(
    voice_hub: VoiceHub, prompts: Prompts
) -> None:
    call = voice_hub.call("+966500000109")
    await call.dial_in()
    await call.press("2")  # English
    heard = (
        await call.post(call.public_url + "/webhooks/voice/status?n=77", "gather_digits")
    ).heard()
    assert prompts.text("unexpected", "en") in heard
    assert prompts.text("main_menu", "en") in heard
    unknown = await call.post(call.public_url + "/webhooks/voice/teleport?n=3", "gather_digits")
    assert prompts.text("unexpected", "en") in unknown.heard()
    await call.hang_up()  # the status callback drops the state
    assert not await voice_hub.redis.exists(f"tawasul:voice:{{{call.sid}}}:state")
    expired = await call.post(call.public_url + "/webhooks/voice/menu?n=3", "gather_digits")
    assert prompts.text("unexpected", "ar") in expired.heard()
    assert expired.gather is not None and "language?n=" in (expired.gather.get("action") or "")


async def test_the_call_state_expires(voice_hub: VoiceHub, voice_redis: tuple[str, Redis]) -> None:
    call = voice_hub.call("+966500000110")
    await call.dial_in()
    ttl = await voice_redis[1].ttl(f"tawasul:voice:{{{call.sid}}}:state")
    assert 0 < ttl <= voice_hub.channel.config.state_ttl
    raw = await voice_redis[1].get(f"tawasul:voice:{{{call.sid}}}:state")
    assert json.loads(raw)["steps"] == ["language"]


async def test_a_failure_inside_is_an_apology_not_a_500(
    voice_hub: VoiceHub, prompts: Prompts, voice_redis: tuple[str, Redis]
) -> None:
    call = voice_hub.call("+966500000111")
    await call.dial_in()
    # Something no answer of ours ever writes: the state cannot be read.
    await voice_redis[1].set(f"tawasul:voice:{{{call.sid}}}:state", b"\x00not json")
    twiml = await call.press("1")
    assert prompts.text("service_error", "ar") in twiml.heard()
    assert prompts.text("service_error", "en") in twiml.heard()
    assert twiml.verbs()[-1] == "Hangup"


async def test_only_post_with_a_body_reaches_the_ivr(voice_hub: VoiceHub) -> None:
    async with voice_hub.http.get(voice_hub.url + "/webhooks/voice/incoming") as response:
        assert response.status == 405

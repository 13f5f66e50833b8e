"""X-Twilio-Signature: our signer agrees with twilio's own RequestValidator; verification is
fail-closed (no header, wrong token, a changed parameter or URL, an unknown algorithm)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

from bot.errors import MalformedPayload, SignatureError
from channels.voice.verify import (
    HMAC_SHA256,
    SETTINGS_HEADER,
    SIGNATURE_HEADER,
    parse_form,
    sign,
    verify,
)
from tests.channels.voice.phone import AUTH_TOKEN, payload

URL = "https://ivr.example.org/webhooks/voice/menu?n=2"


def test_our_signature_is_twilios() -> None:
    params = payload("gather_speech")
    expected = RequestValidator(AUTH_TOKEN).compute_signature(URL, dict(params))
    assert sign(AUTH_TOKEN, URL, params) == expected
    assert RequestValidator(AUTH_TOKEN).validate(URL, dict(params), expected)


@given(
    params=st.lists(
        st.tuples(st.text(min_size=1, max_size=12), st.text(max_size=40)), max_size=8
    ).map(lambda pairs: list(dict(pairs).items())),
    secret=st.text(min_size=1, max_size=40),
)
def test_any_form_signs_like_twilio(params: list[tuple[str, str]], secret: str) -> None:
    assert sign(secret, URL, params) == RequestValidator(secret).compute_signature(
        URL, dict(params)
    )


def test_a_signed_request_passes_with_or_without_the_default_port() -> None:
    params = payload("gather_digits")
    verify(URL, params, {SIGNATURE_HEADER: sign(AUTH_TOKEN, URL, params)}, AUTH_TOKEN)
    with_port = "https://ivr.example.org:443/webhooks/voice/menu?n=2"
    verify(URL, params, {SIGNATURE_HEADER: sign(AUTH_TOKEN, with_port, params)}, AUTH_TOKEN)
    verify(with_port, params, {SIGNATURE_HEADER: sign(AUTH_TOKEN, URL, params)}, AUTH_TOKEN)
    # header names are case-insensitive
    verify(URL, params, {"x-twilio-signature": sign(AUTH_TOKEN, URL, params)}, AUTH_TOKEN)


def test_anything_changed_fails() -> None:
    params = payload("gather_digits")
    good = sign(AUTH_TOKEN, URL, params)
    changed = [(k, "9" if k == "Digits" else v) for k, v in params]
    added = [*params, ("Extra", "")]
    cases = [
        (URL, params, {}, AUTH_TOKEN),  # unsigned
        (URL, params, {SIGNATURE_HEADER: ""}, AUTH_TOKEN),
        (URL, params, {SIGNATURE_HEADER: good}, "another-token"),
        (URL, params, {SIGNATURE_HEADER: good}, ""),  # no token: never accepted
        (URL, changed, {SIGNATURE_HEADER: good}, AUTH_TOKEN),
        (URL, added, {SIGNATURE_HEADER: good}, AUTH_TOKEN),
        (URL.replace("n=2", "n=3"), params, {SIGNATURE_HEADER: good}, AUTH_TOKEN),
        ("http://ivr.example.org/webhooks/voice/menu?n=2", params, {SIGNATURE_HEADER: good},
         AUTH_TOKEN),
        (URL, params, {SIGNATURE_HEADER: good + "x"}, AUTH_TOKEN),
        (URL, params, {SIGNATURE_HEADER: "é" * 28}, AUTH_TOKEN),
    ]  # fmt: skip
    for url, form, headers, token in cases:
        with pytest.raises(SignatureError):
            verify(url, form, headers, token)


def test_shared_key_signatures_need_the_shared_key() -> None:
    params = payload("gather_digits")
    shared = "webhooks-shared-key-secret"
    headers = {
        SIGNATURE_HEADER: sign(shared, URL, params, HMAC_SHA256),
        SETTINGS_HEADER: "key=webhooks_sharedkey_123,algorithm=HMAC_SHA256",
    }
    verify(URL, params, headers, AUTH_TOKEN, shared_key=shared)
    with pytest.raises(SignatureError):
        verify(URL, params, headers, AUTH_TOKEN)  # no shared key configured
    with pytest.raises(SignatureError):  # the token's SHA-256 is not the shared key's
        verify(URL, params, headers, AUTH_TOKEN, shared_key="other")
    with pytest.raises(SignatureError):
        verify(URL, params, {**headers, SETTINGS_HEADER: "algorithm=HMAC_MD5"}, AUTH_TOKEN,
               shared_key=shared)  # fmt: skip


def test_form_parsing_keeps_blank_values_and_refuses_what_is_not_a_form() -> None:
    assert parse_form(b"a=1&b=&c=%D8%B9") == [("a", "1"), ("b", ""), ("c", "ع")]
    assert parse_form(b"") == []
    for bad in (b"\xff\xfe", b"a=%FF", b"novalue", b"&".join([b"a=1"] * 300)):
        with pytest.raises(MalformedPayload):
            parse_form(bad)

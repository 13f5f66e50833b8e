"""CRC answers and webhook signatures (HMAC-SHA256 with the consumer secret, base64)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.errors import SignatureError
from channels.x.verify import crc_response_token, verify_signature
from tests.channels.x.support import CREDENTIALS, payload, signature

SECRET = CREDENTIALS["consumer_secret"]


def test_crc_token_matches_an_independent_computation() -> None:
    # printf 'crc-test-1f3a' | openssl dgst -sha256 -hmac "$SECRET" -binary | base64
    assert crc_response_token(SECRET, "crc-test-1f3a") == (
        "sha256=iF8IM05DZh8o8PkIm5IypegSIRixrScJ5aSXpQ66svM="
    )


def test_signature_matches_an_independent_computation() -> None:
    # printf 'x' | openssl dgst -sha256 -hmac "$SECRET" -binary | base64
    header = "sha256=UU510rSC43BPolHGq2NEhYf54q3+LVATJTnW3rqclOA="
    verify_signature(SECRET, b"x", {"x-twitter-webhooks-signature": header})


def test_a_signed_payload_passes_whatever_the_header_case() -> None:
    body = payload("webhook_dm.json")
    verify_signature(SECRET, body, {"X-Twitter-Webhooks-Signature": signature(body)})


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"x-twitter-webhooks-signature": ""},
        {"x-twitter-webhooks-signature": "sha1=" + signature(b"{}")[7:]},
        {"x-twitter-webhooks-signature": "sha256=not base64!"},
        {"x-twitter-webhooks-signature": signature(b"{}")},  # another body's signature
        {"x-twitter-webhooks-signature": signature(b"{ }", "another secret")},
        {"x-hub-signature-256": signature(b"{ }")},  # right value, wrong header
    ],
)
def test_missing_or_wrong_signatures_are_refused(headers: dict[str, str]) -> None:
    with pytest.raises(SignatureError):
        verify_signature(SECRET, b"{ }", headers)


def test_a_changed_byte_breaks_the_signature() -> None:
    body = payload("webhook_mentions.json")
    good = signature(body)
    with pytest.raises(SignatureError):
        verify_signature(
            SECRET,
            body.replace(b"1234567890", b"1234567891"),
            {"x-twitter-webhooks-signature": good},
        )


def test_no_secret_means_nothing_is_accepted() -> None:
    with pytest.raises(SignatureError):
        verify_signature("", b"{}", {"x-twitter-webhooks-signature": signature(b"{}", "")})


@given(body=st.binary(max_size=256), header=st.text(max_size=80))
def test_garbage_headers_only_ever_raise_signature_error(body: bytes, header: str) -> None:
    try:
        verify_signature(SECRET, body, {"x-twitter-webhooks-signature": header})
    except SignatureError:
        pass
    else:
        assert header.strip() == signature(body)  # only the right signature passes

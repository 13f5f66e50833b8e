"""Webhook security (protocols.md §3.4): the CRC answer and the POST signature check.

Both are HMAC-SHA256 keyed with the app's consumer secret, base64-encoded, ``sha256=``-prefixed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping

from bot.errors import SignatureError

SIGNATURE_HEADER = "x-twitter-webhooks-signature"


def _digest(secret: str, message: bytes) -> bytes:
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()


def crc_response_token(consumer_secret: str, crc_token: str) -> str:
    """The ``response_token`` X expects back for a CRC challenge."""
    return "sha256=" + base64.b64encode(_digest(consumer_secret, crc_token.encode())).decode()


def verify_signature(consumer_secret: str, raw: bytes, headers: Mapping[str, str]) -> None:
    """Check ``x-twitter-webhooks-signature`` over the raw body, constant-time; raise
    :class:`bot.errors.SignatureError` when the secret, the header or the match is missing."""
    if not consumer_secret:
        raise SignatureError("the X consumer secret is not configured")
    header = next((v for k, v in headers.items() if k.lower() == SIGNATURE_HEADER), None)
    if not header:
        raise SignatureError(f"missing {SIGNATURE_HEADER} header")
    scheme, _, encoded = header.strip().partition("=")
    if scheme.lower() != "sha256" or not encoded:
        raise SignatureError(f"{SIGNATURE_HEADER} is not sha256=<base64>")
    try:
        received = base64.b64decode(encoded.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError) as exc:
        raise SignatureError(f"{SIGNATURE_HEADER} is not valid base64") from exc
    if not hmac.compare_digest(received, _digest(consumer_secret, raw)):
        raise SignatureError("signature does not match the body")

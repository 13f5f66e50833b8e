"""Signatures of ticket events: ``X-Tawasul-Signature: sha256=<hex HMAC-SHA256 of the raw body>``.

The ticket service signs with :func:`sign`; a receiver (the hub) checks with :func:`verify` over
the exact bytes it received, before parsing them. Standard library only, so any process can
import it.
"""

from __future__ import annotations

import hashlib
import hmac
import string

HEADER = "X-Tawasul-Signature"
PREFIX = "sha256="
_HEX_LENGTH = 2 * hashlib.sha256().digest_size
_HEX = frozenset(string.hexdigits)


def sign(secret: bytes, body: bytes) -> str:
    """The header value for ``body``: ``sha256=`` and the lowercase hex HMAC-SHA256."""
    return PREFIX + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify(secret: bytes, body: bytes, header: str | None) -> bool:
    """True only when ``header`` is a valid signature of ``body`` under ``secret``.

    Fails closed: an empty secret, a missing header, another scheme or malformed hex is False.
    The digests are compared in constant time.
    """
    if not secret or not header or not header.startswith(PREFIX):
        return False
    hex_digest = header[len(PREFIX) :]
    if len(hex_digest) != _HEX_LENGTH or not _HEX.issuperset(hex_digest):
        return False
    given = bytes.fromhex(hex_digest)
    expected = hmac.new(secret, body, hashlib.sha256).digest()
    return hmac.compare_digest(expected, given)

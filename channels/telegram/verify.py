"""Webhook authentication: the secret token Telegram sends in a header (setWebhook
``secret_token``). Telegram does not sign bodies; the shared secret is the whole check."""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from bot.errors import SignatureError
from channels.base import header

HEADER = "X-Telegram-Bot-Api-Secret-Token"


def verify(raw: bytes, headers: Mapping[str, str], secret: str) -> None:
    """Raise :class:`SignatureError` unless the secret-token header equals ``secret``
    (constant-time; a missing header or an empty secret never passes)."""
    del raw  # the token authenticates the request, not the body
    if not secret:
        raise SignatureError("telegram webhook secret is not configured")
    value = header(headers, HEADER)
    if value is None:
        raise SignatureError(f"missing {HEADER}")
    # "replace" can only turn undecodable input into "?", which no valid secret contains.
    if not hmac.compare_digest(value.encode("utf-8", "replace"), secret.encode("utf-8")):
        raise SignatureError(f"wrong {HEADER}")

"""Meta's webhook checks: ``X-Hub-Signature-256`` on POST, the verify-token handshake on GET.

Both fail closed and compare in constant time. The HMAC is computed over the raw request
bytes exactly as received (Meta signs its escaped-unicode JSON; re-serialising would break it).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from aiohttp import web

from bot.errors import SignatureError

__all__ = ["SIGNATURE_HEADER", "handshake", "sign", "verify_signature"]

SIGNATURE_HEADER = "X-Hub-Signature-256"
_PREFIX = "sha256="
#: Meta's challenges are short numbers; anything longer is not a handshake.
_MAX_CHALLENGE = 256


def sign(raw: bytes, app_secret: str) -> str:
    """The header value Meta sends for ``raw``: ``sha256=<lowercase hex>``."""
    return _PREFIX + hmac.new(app_secret.encode(), raw, hashlib.sha256).hexdigest()


def verify_signature(raw: bytes, headers: Mapping[str, str], app_secret: str) -> None:
    """Raise :class:`SignatureError` unless ``headers`` carry a valid signature of ``raw``.

    An empty ``app_secret`` never verifies anything (fail closed)."""
    if not app_secret:
        raise SignatureError("app secret not configured")
    received = headers.get(SIGNATURE_HEADER)
    if not received:
        raise SignatureError(f"missing {SIGNATURE_HEADER}")
    if not received.startswith(_PREFIX):
        raise SignatureError(f"{SIGNATURE_HEADER} is not sha256=<hex>")
    expected = sign(raw, app_secret)
    # Both sides ASCII-encoded: compare_digest on bytes never raises for non-ASCII input.
    if not hmac.compare_digest(expected.encode(), received.strip().lower().encode("utf-8")):
        raise SignatureError("invalid signature")


def handshake(query: Mapping[str, str], verify_token: str) -> web.Response:
    """Answer Meta's ``GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…``: the
    challenge as text/plain when the token matches, else 403."""
    mode = query.get("hub.mode", "")
    token = query.get("hub.verify_token", "")
    challenge = query.get("hub.challenge", "")
    token_ok = bool(verify_token) and hmac.compare_digest(
        token.encode("utf-8"), verify_token.encode("utf-8")
    )
    if mode != "subscribe" or not token_ok or not challenge or len(challenge) > _MAX_CHALLENGE:
        return web.json_response({"error": "verification failed"}, status=403)
    return web.Response(text=challenge, content_type="text/plain")

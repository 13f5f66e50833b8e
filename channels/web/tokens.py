"""Conversation tokens: random bearer secrets, and the user id derived from them.

A token is 256 random bits (``secrets.token_urlsafe(32)``): only the browser or app that
created the conversation has it. The conversation's user id (``web:<user_id>`` is the
conversation id Rasa and the ticket service see) is a hash of the token, so the id that shows
up in logs, tickets and Redis keys never lets anyone read the conversation.
"""

from __future__ import annotations

import hashlib
import re
import secrets

__all__ = ["new_token", "user_id_for"]

_TOKEN_BYTES = 32
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")
_DOMAIN = b"tawasul-web-conversation:"


def new_token() -> str:
    return secrets.token_urlsafe(_TOKEN_BYTES)


def user_id_for(token: str) -> str | None:
    """The user id of a well-formed token (32 hex digits); None when it cannot be a token."""
    if not _TOKEN.fullmatch(token):
        return None
    return hashlib.sha256(_DOMAIN + token.encode("ascii")).hexdigest()[:32]

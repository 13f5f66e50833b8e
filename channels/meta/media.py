"""Which citizen files the Meta channels accept (the hub may narrow this further)."""

from __future__ import annotations

import base64
import hashlib

__all__ = ["allowed_mime", "sha256_matches"]

#: Photos, voice notes and videos of a problem, and PDF documents. Anything else (archives,
#: office files, executables, HTML) is refused before download.
_ALLOWED_PREFIXES = ("image/", "audio/", "video/")
_ALLOWED_TYPES = frozenset({"application/pdf"})


def allowed_mime(mime: str | None) -> bool:
    """True for a MIME type (parameters ignored) the hub keeps."""
    if not mime:
        return False
    base = mime.split(";", 1)[0].strip().lower()
    return base in _ALLOWED_TYPES or (
        base.startswith(_ALLOWED_PREFIXES) and base != "image/svg+xml"
    )


def sha256_matches(data: bytes, expected: str) -> bool:
    """``expected`` is the SHA-256 of ``data``, as hex or as base64 (Meta uses both)."""
    digest = hashlib.sha256(data).digest()
    value = expected.strip()
    return value.lower() == digest.hex() or value == base64.b64encode(digest).decode()

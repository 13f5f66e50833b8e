"""A mail's files → :class:`bot.model.Attachment` with the bytes inline (base64).

Every leaf part that is not body text counts: ``Content-Disposition: attachment``, a part
with a file name, and inline images (``Content-ID``; the citizen's photo is often one).
Forwarded or bounced messages (``message/*``) are not opened. Parts over the size limit and
inline images under 1 KiB (spacers, tracking pixels) are dropped; ``application/octet-stream``
takes the type its file name implies. The hub checks type and size again when it stores them.
"""

from __future__ import annotations

import base64
import mimetypes
import re
from collections.abc import Iterator
from email.message import EmailMessage, Message

from bot.model import Attachment, AttachmentType

__all__ = ["extract_attachments"]

_MIN_INLINE_IMAGE = 1024
_UNSAFE = re.compile(r"[\x00-\x1f\x7f<>:\"|?*\\/]+")


def _leaves(part: Message) -> Iterator[Message]:
    if part.get_content_maintype() == "message":
        return
    if part.is_multipart():
        for sub in part.get_payload():
            if isinstance(sub, Message):
                yield from _leaves(sub)
        return
    yield part


def _kind(mime: str) -> AttachmentType:
    major = mime.partition("/")[0]
    if major == "image" and mime != "image/svg+xml":
        return "image"
    if major in ("audio", "video"):
        return "audio" if major == "audio" else "video"
    return "document"


def _filename(part: Message) -> str | None:
    try:
        raw = part.get_filename()
    except Exception:  # a broken RFC 2231 parameter: no name rather than no file
        return None
    if not raw:
        return None
    name = _UNSAFE.sub("_", str(raw).replace("\\", "/").rsplit("/", 1)[-1]).strip(" ._")
    return name[:120] or None


def _disposition(part: Message) -> str:
    try:
        return (part.get_content_disposition() or "").lower()
    except Exception:
        return ""


def extract_attachments(
    msg: EmailMessage, *, max_bytes: int, max_count: int
) -> tuple[tuple[Attachment, ...], int]:
    """The attachments (module doc) and how many were dropped for size or count."""
    found: list[Attachment] = []
    dropped = 0
    for part in _leaves(msg):
        mime = part.get_content_type().lower()
        filename = _filename(part)
        disposition = _disposition(part)
        if mime.startswith("text/") and disposition != "attachment" and not filename:
            continue  # body text (plain or HTML, any alternative)
        if mime == "application/octet-stream" and filename:
            mime = mimetypes.guess_type(filename)[0] or mime
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes) or not data:
            continue
        if _kind(mime) == "image" and disposition != "attachment" and len(data) < _MIN_INLINE_IMAGE:
            continue
        if len(data) > max_bytes or len(found) >= max_count:
            dropped += 1
            continue
        if filename is None:
            filename = f"attachment-{len(found) + 1}{mimetypes.guess_extension(mime) or '.bin'}"
        found.append(
            Attachment(
                type=_kind(mime),
                mime_type=mime,
                filename=filename,
                size=len(data),
                inline_b64=base64.b64encode(data).decode("ascii"),
            )
        )
    return tuple(found), dropped

"""One raw RFC 5322 mail → one :class:`bot.model.InboundMessage` (pure; no I/O).

- ``user_id``: the From address, lower-cased; ``contact``: that address, the display name,
  ``email_verified`` per :mod:`channels.email.authres`.
- ``provider_message_id``: the Message-ID without angle brackets, else
  ``"<uidvalidity>:<uid>"``.
- ``text``: the new part of the body (``text/plain`` preferred, HTML converted), quotes and
  signature stripped (:mod:`channels.email.quotes`); a new mail's subject when its body has
  nothing; None for a reply that only carries a file.
- ``attachments``: files and inline images with their bytes (:mod:`channels.email.attachments`).
- ``location``: a map link or ``geo:`` URI in the text (:mod:`channels.email.location`).
- ``no_reply_reason``: auto-replies, bounces, list and system mail
  (:mod:`channels.email.autoreply`); such mails carry no attachments and are never answered.
- ``reply_context``: ``message_id`` (``<id>``), ``references``, ``subject`` for threading the
  answer; ``ticket_id`` when the subject carries our ``[#123456]`` token; ``bounced_recipient``
  for delivery-status reports.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage, MIMEPart
from email.parser import BytesParser
from email.utils import parsedate_to_datetime

from bot.errors import MalformedPayload
from bot.model import Attachment, Contact, InboundMessage

from .attachments import extract_attachments
from .authres import from_domain_verified
from .autoreply import no_reply_reason
from .htmltext import html_to_text
from .location import find_location
from .quotes import strip_reply

__all__ = ["CHANNEL", "ParseSettings", "message_key", "parse_mail"]

CHANNEL = "email"
MAX_TEXT = 10_000
MAX_REFERENCES = 20
_MSGID = re.compile(r"<([^<>\s]{1,500})>")
_BARE_MSGID = re.compile(r"^\s*([^<>\s]{1,500}@[^<>\s]{1,500})\s*$")
_TOKEN = re.compile(r"\[#(\d{6,20})\]")
_SUBJECT_PREFIX = re.compile(
    r"^\s*((re|fw|fwd|aw|sv|رد|ر|إعادة توجيه|تحويل)\s*(\[\d+\])?\s*[:：]\s*)+", re.IGNORECASE
)
_FINAL_RECIPIENT = re.compile(
    rb"^Final-Recipient:\s*rfc822\s*;\s*<?([^\s<>]+@[^\s<>]+?)>?\s*$", re.IGNORECASE | re.M
)
_ADDRESS = re.compile(r"[^@\s<>\"()\[\],;:]{1,64}@[^@\s<>\"()\[\],;:]{1,253}")
_LANGUAGES = frozenset({"ar", "en"})
_FUTURE_SLACK = 24 * 3600.0


@dataclass(frozen=True, slots=True)
class ParseSettings:
    """What parsing needs from the configuration."""

    own_addresses: frozenset[str] = frozenset()
    authserv_id: str | None = None
    max_attachment_bytes: int = 10 * 1024 * 1024
    max_attachments: int = 10


def _header(msg: EmailMessage, name: str) -> str:
    """A header's decoded value, single line; "" when absent or beyond the parser."""
    try:
        value = msg.get(name)
    except Exception:
        return ""
    return "" if value is None else " ".join(str(value).split())


def _sender(msg: EmailMessage) -> tuple[str, str | None]:
    try:
        header = msg.get("From")
        addresses: Iterable[Address] = getattr(header, "addresses", ()) if header else ()
        for address in addresses:
            spec = address.addr_spec.strip().lower()
            if _ADDRESS.fullmatch(spec):
                return spec, (" ".join(address.display_name.split()) or None)
    except Exception:
        pass
    raise MalformedPayload("mail without a usable From address")


def _msgids(value: str) -> list[str]:
    return [f"<{found}>" for found in _MSGID.findall(value)]


def message_id(msg: EmailMessage) -> str | None:
    """The Message-ID without angle brackets, None when missing or unusable."""
    value = _header(msg, "Message-ID")
    found = _MSGID.search(value) or _BARE_MSGID.match(value)
    return found.group(1) if found else None


def message_key(raw: bytes) -> str:
    """What identifies a raw mail across UIDVALIDITY changes: its Message-ID, else the
    SHA-256 of its bytes."""
    try:
        found = message_id(BytesParser(policy=policy.default).parsebytes(raw, headersonly=True))
    except Exception:
        found = None
    return found or "sha256:" + hashlib.sha256(raw).hexdigest()


def _text_of(part: MIMEPart) -> str:
    try:
        content = part.get_content()
    except Exception:  # unknown charset, broken transfer encoding
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    return content if isinstance(content, str) else ""


def _body(msg: EmailMessage, *, keep_all_if_empty: bool) -> str:
    try:
        part = msg.get_body(preferencelist=("plain", "html"))
    except Exception:
        part = None
    if part is None:
        return ""
    text = _text_of(part)
    if part.get_content_subtype() == "html":
        text = html_to_text(text)
    return strip_reply(text, keep_all_if_empty=keep_all_if_empty)[:MAX_TEXT].strip()


def _is_reply(msg: EmailMessage, subject: str) -> bool:
    return bool(
        _header(msg, "In-Reply-To") or _header(msg, "References") or _SUBJECT_PREFIX.match(subject)
    )


def _timestamp(msg: EmailMessage, received_at: float) -> float:
    try:
        sent = parsedate_to_datetime(_header(msg, "Date"))
        if sent.tzinfo is None:
            sent = sent.replace(tzinfo=UTC)
        value = sent.timestamp()
    except Exception:
        return received_at
    if not math.isfinite(value) or value > received_at + _FUTURE_SLACK or value <= 0:
        return received_at
    return value


def _reply_context(
    msg: EmailMessage, own_id: str | None, raw: bytes, reason: str | None
) -> dict[str, str]:
    context: dict[str, str] = {}
    subject = _header(msg, "Subject")
    if subject:
        context["subject"] = subject[:300]
    if own_id:
        context["message_id"] = f"<{own_id}>"
        references = _msgids(_header(msg, "References")) or _msgids(_header(msg, "In-Reply-To"))
        if references:
            context["references"] = " ".join(references[-MAX_REFERENCES:])
    token = _TOKEN.search(subject)
    if token:
        context["ticket_id"] = token.group(1)
    if reason == "bounce":
        bounced = _FINAL_RECIPIENT.search(raw)
        if bounced:
            context["bounced_recipient"] = bounced.group(1).decode("ascii", "replace").lower()
    return context


def parse_mail(
    raw: bytes, settings: ParseSettings, *, uidvalidity: int, uid: int, received_at: float
) -> InboundMessage:
    """The citizen's message in ``raw`` (module doc). Raises :class:`MalformedPayload` when
    the bytes are not a mail with a sender address."""
    if not raw.strip():
        raise MalformedPayload("empty mail")
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    if not isinstance(msg, EmailMessage):
        raise MalformedPayload("not an e-mail message")
    sender, name = _sender(msg)
    own_id = message_id(msg)
    reason = no_reply_reason(msg, sender, settings.own_addresses)
    attachments: tuple[Attachment, ...] = ()
    if reason is None:
        attachments, _ = extract_attachments(
            msg, max_bytes=settings.max_attachment_bytes, max_count=settings.max_attachments
        )
    # A reply that only carries a photo has no text; the quote is not its text.
    text = _body(msg, keep_all_if_empty=not attachments)
    subject = _header(msg, "Subject")
    if not text and not attachments and not _is_reply(msg, subject):
        text = subject.strip()[:MAX_TEXT]  # a new mail with everything in the subject
    language = _header(msg, "Content-Language").split(",")[0].strip().lower()[:2]
    return InboundMessage(
        channel=CHANNEL,
        provider_message_id=own_id or f"{uidvalidity}:{uid}",
        user_id=sender,
        timestamp=_timestamp(msg, received_at),
        text=text or None,
        location=find_location(text) if reason is None else None,
        attachments=attachments,
        contact=Contact(
            email=sender,
            name=name,
            email_verified=from_domain_verified(msg, sender, settings.authserv_id),
            ids={"email": sender},
        ),
        language_hint=language if language in _LANGUAGES else None,
        reply_context=_reply_context(msg, own_id, raw, reason),
        no_reply_reason=reason,
    )

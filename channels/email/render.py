"""One :class:`bot.model.OutboundMessage` → one MIME mail (pure; no I/O).

- ``multipart/alternative``: ``text/plain`` and a simple HTML twin, right-to-left
  (``dir="rtl" lang="ar"``) for Arabic;
- buttons → a numbered list and the "reply with the number" line (texts.yml);
  ``request_location`` → how to send a location; ``image_url`` → a link and an ``<img>``;
  our footer below a ``-- `` signature delimiter (so quoting clients and our own parser drop it);
- threading: ``In-Reply-To`` = the citizen's Message-ID, ``References`` = theirs + it;
  ``Subject: Re: <their subject>``, or texts.yml's subject for a mail that starts a thread;
  a ``[#<ticket>]`` token when the reply names a ticket (:mod:`channels.email.tickets`);
- ``Message-ID`` derived from the reply's ``key`` (a retried send is the same mail),
  ``Auto-Submitted: auto-replied`` when answering a mail (``auto-generated`` for updates that
  answer none), ``X-Auto-Response-Suppress: OOF, AutoReply``.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate

from bot.errors import PermanentSendError
from bot.model import OutboundMessage

from .autoreply import is_system_address
from .options import numbered
from .texts import Texts
from .tickets import TOKEN, ticket_number

__all__ = ["Identity", "message_id_for", "render"]

_ADDRESS = re.compile(r"[^@\s<>\"()\[\],;:]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z0-9-]{2,63}")
_MSGID = re.compile(r"<[^<>\s]{1,500}>")
_REPLY_PREFIX = re.compile(r"^\s*((re|fw|fwd|aw|sv|رد|ر)\s*(\[\d+\])?\s*[:：]\s*)+", re.IGNORECASE)
_MAX_REFERENCES = 20
_RTL = {"ar"}


@dataclass(frozen=True, slots=True)
class Identity:
    """Who we are in the headers: the From address and display name."""

    address: str
    name: str = ""

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2]


def _one_line(value: str) -> str:
    return " ".join(value.split())


def _subject(message: OutboundMessage, thread: Mapping[str, str], texts: Texts) -> str:
    original = TOKEN.sub("", _one_line(thread.get("subject", "")))
    original = _REPLY_PREFIX.sub("", original).strip()
    subject = f"Re: {original}" if original else texts.get(message.language, "subject")
    ticket = ticket_number(message) or thread.get("ticket_id")
    if ticket and ticket.isdigit():
        subject = f"{subject} [#{ticket}]"
    return subject[:250]


def _plain(message: OutboundMessage, texts: Texts) -> str:
    language = message.language
    blocks = [message.text.strip()] if message.text.strip() else []
    if message.buttons:
        blocks.append("\n".join(numbered(message.buttons)))
        blocks.append(texts.get(language, "choose_by_number"))
    if message.request_location:
        blocks.append(texts.get(language, "share_location"))
    if message.image_url:
        blocks.append(f"{texts.get(language, 'image')}: {message.image_url}")
    blocks.append("-- \n" + texts.get(language, "footer"))
    return "\n\n".join(blocks) + "\n"


def _paragraph(text: str) -> str:
    return "<p>" + "<br>\n".join(html.escape(line) for line in text.split("\n")) + "</p>"


def _html(message: OutboundMessage, texts: Texts) -> str:
    language = message.language
    rtl = language in _RTL
    direction, align = ("rtl", "right") if rtl else ("ltr", "left")
    blocks = [_paragraph(message.text.strip())] if message.text.strip() else []
    if message.buttons:
        items = "".join(f"<li>{html.escape(b.title)}</li>" for b in message.buttons)
        blocks.append(f"<ol>{items}</ol>")
        blocks.append(_paragraph(texts.get(language, "choose_by_number")))
    if message.request_location:
        blocks.append(_paragraph(texts.get(language, "share_location")))
    if message.image_url and message.image_url.startswith(("https://", "http://")):
        url = html.escape(message.image_url, quote=True)
        label = html.escape(texts.get(language, "image"))
        blocks.append(
            f'<p><a href="{url}"><img src="{url}" alt="{label}" style="max-width:100%"></a></p>'
        )
    footer = html.escape(texts.get(language, "footer"))
    blocks.append(f'<p style="color:#666;font-size:small">-- <br>\n{footer}</p>')
    body = "\n".join(blocks)
    lang = html.escape(language, quote=True)
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}" dir="{direction}">\n'
        '<head><meta charset="utf-8"></head>\n'
        f'<body dir="{direction}" style="font-family:Tahoma,Arial,sans-serif;'
        f'text-align:{align}">\n<div dir="{direction}" lang="{lang}">\n{body}\n</div>\n'
        "</body>\n</html>\n"
    )


def message_id_for(key: str, domain: str) -> str:
    """The Message-ID of the reply with this ``key`` (stable across retries)."""
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}.tawasul@{domain}>"


def render(
    message: OutboundMessage,
    identity: Identity,
    texts: Texts,
    thread: Mapping[str, str],
    *,
    now: float | None = None,
) -> EmailMessage:
    """The mail for ``message`` (module doc). ``thread`` is the citizen's mail being answered
    (``message_id``, ``references``, ``subject``, ``ticket_id``; empty for none). Raises
    :class:`PermanentSendError` for a recipient that is not an address or is a system
    address (MAILER-DAEMON, no-reply ...): we never write to those."""
    recipient = message.recipient_id.strip()
    if not _ADDRESS.fullmatch(recipient):
        raise PermanentSendError("e-mail recipient is not an address")
    if is_system_address(recipient):
        raise PermanentSendError("e-mail recipient is a system or no-reply address")
    mail = EmailMessage()
    mail["From"] = Address(display_name=identity.name, addr_spec=identity.address)
    mail["To"] = recipient
    mail["Subject"] = _subject(message, thread, texts)
    mail["Date"] = formatdate(now, usegmt=True)
    mail["Message-ID"] = message_id_for(message.key, identity.domain)
    parent = _MSGID.fullmatch(thread.get("message_id", "").strip())
    if parent:
        references = _MSGID.findall(thread.get("references", ""))
        chain = [*references, parent.group(0)][-_MAX_REFERENCES:]
        mail["In-Reply-To"] = parent.group(0)
        mail["References"] = " ".join(chain)
    answered = bool(_MSGID.fullmatch(message.reply_context.get("message_id", "").strip()))
    mail["Auto-Submitted"] = "auto-replied" if answered else "auto-generated"
    mail["X-Auto-Response-Suppress"] = "OOF, AutoReply"
    mail.set_content(_plain(message, texts))
    mail.add_alternative(_html(message, texts), subtype="html")
    mail["Content-Language"] = message.language  # after: set_content() clears Content-*
    return mail

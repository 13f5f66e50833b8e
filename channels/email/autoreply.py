"""Mails that must never be answered (protocols.md §6.3): auto-replies, bounces, list mail,
system senders, and our own mail coming back. The first signal found is the reason recorded
in ``InboundMessage.no_reply_reason``."""

from __future__ import annotations

import re
from email.message import EmailMessage

__all__ = ["is_system_address", "no_reply_reason"]

_AUTOREPLY_HEADERS = (
    "X-Autoreply",
    "X-Autorespond",
    "X-Autoreply-From",
    "X-Mail-Autoreply",
    "X-Amazon-Auto-Reply",
)
_LIST_HEADERS = (
    "List-Id",
    "List-Unsubscribe",
    "List-Post",
    "List-Help",
    "Mailing-List",
    "X-Mailing-List",
    "Feedback-ID",
)
_BULK_PRECEDENCE = frozenset({"bulk", "junk", "list", "auto_reply"})
_REPORT_TYPES = {
    "delivery-status": "bounce",
    "disposition-notification": "read-receipt",
    "feedback-report": "abuse-report",
}
_SYSTEM_LOCAL = re.compile(
    r"^(mailer-daemon|postmaster|listserv|majordomo|no-?reply|do-?not-?reply|bounces?"
    r"|owner-.+|.+-request|.+-bounces?|noreply[-+.].*|no-reply[-+.].*)$",
    re.IGNORECASE,
)
_NULL_PATH = re.compile(r"^\s*<\s*>\s*$")


def is_system_address(address: str) -> bool:
    """True for MAILER-DAEMON, postmaster, no-reply, list robots (``*-request``, ``owner-*``)."""
    return bool(_SYSTEM_LOCAL.match(address.rpartition("@")[0]))


def _header(msg: EmailMessage, name: str) -> str:
    try:
        value = msg.get(name)
    except Exception:  # a malformed header the parser cannot model is still a header
        return "?"
    return "" if value is None else str(value).strip()


def no_reply_reason(msg: EmailMessage, sender: str, own_addresses: frozenset[str]) -> str | None:
    """Why this mail must not be answered, or None. ``sender`` is the lower-cased From
    address; ``own_addresses`` the channel's own (a mail from us is a loop)."""
    if sender in own_addresses:
        return "own-address"
    if msg.get_content_type() == "multipart/report":
        report = msg.get_param("report-type", "", header="content-type")
        return _REPORT_TYPES.get(str(report).lower(), "report")
    auto = _header(msg, "Auto-Submitted").split(";")[0].strip().lower()
    if auto and auto != "no":
        return f"auto-submitted:{auto}"
    for name in _AUTOREPLY_HEADERS:
        if name in msg:
            return "autoresponder"
    if _header(msg, "Precedence").lower() in _BULK_PRECEDENCE:
        return f"precedence:{_header(msg, 'Precedence').lower()}"
    for name in _LIST_HEADERS:
        if name in msg:
            return "mailing-list"
    if "Return-Path" in msg and _NULL_PATH.match(_header(msg, "Return-Path")):
        return "null-return-path"
    if is_system_address(sender):
        return "system-sender"
    return None

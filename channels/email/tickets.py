"""The ticket token of a reply's subject (``[#482913657]``, protocols.md §6.2).

The number comes from the reply's own text when it names a report ("Report number: 482913657",
"رقم البلاغ: 482913657", "البلاغ رقم ٤٨٢٩١٣٦٥٧", "#482913657"), else from the token of the
citizen's subject (``reply_context["ticket_id"]``). Ticket numbers are digits only, at least
six (ARCHITECTURE.md); Arabic-Indic and Persian digits are read as ASCII.
"""

from __future__ import annotations

import re

from bot.model import OutboundMessage

__all__ = ["TOKEN", "ticket_number"]

_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
_NUMBER = r"([0-9٠-٩۰-۹]{6,20})(?![0-9٠-٩۰-۹])"
_MENTIONS = (
    re.compile(
        rf"\b(?:report|ticket|request)(?:\s+(?:number|no\.?|id))?\s*[:#]?\s*#?\s*{_NUMBER}",
        re.IGNORECASE,
    ),
    re.compile(rf"(?:البلاغ|بلاغ|بلاغك|الطلب)(?:\s+(?:رقم|برقم))?\s*[:#]?\s*#?\s*{_NUMBER}"),
    re.compile(rf"رقم\s+(?:البلاغ|بلاغك|الطلب)\s*[:#]?\s*#?\s*{_NUMBER}"),
    re.compile(rf"(?<![\w&])#{_NUMBER}"),
)
TOKEN = re.compile(r"\s*\[#\d{6,20}\]")


def ticket_number(message: OutboundMessage) -> str | None:
    """The ticket the reply is about (module doc), ASCII digits; None when there is none."""
    for text in (message.text, *message.template_params):
        first: tuple[int, str] | None = None
        for pattern in _MENTIONS:
            found = pattern.search(text)
            if found and (first is None or found.start() < first[0]):
                first = (found.start(), found.group(1))
        if first:
            return first[1].translate(_DIGITS)
    known = message.reply_context.get("ticket_id", "")
    return known if re.fullmatch(r"\d{6,20}", known) else None

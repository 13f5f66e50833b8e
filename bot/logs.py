"""JSON-lines logging with personal data masked.

:func:`mask` hides phone numbers (all but the last three digits) and e-mail addresses (all but
the first letter and the domain). :class:`MaskFilter`, installed on the handler by
:func:`configure`, applies it to every record's message, arguments and context fields, so an
adapter that logs a payload or a conversation id (a WhatsApp id *is* a phone number) leaks
nothing. Context fields: pass ``extra={"conversation_id": ..., "channel": ..., "event": ...}``.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from typing import Any, TextIO

__all__ = ["CONTEXT_FIELDS", "JsonFormatter", "MaskFilter", "configure", "mask"]

#: A phone number (or a card number): 8 to 19 digits, optionally with "+" and single spaces or
#: dashes between them; not part of a longer word or number (stream ids such as
#: 1732800000000-0 stay readable).
_PHONE = re.compile(r"(?<![\w.+])(?!\d{13}-\d)\+?\d(?:[ \-]?\d){7,18}(?![\w\-])")
_EMAIL = re.compile(r"(?<![\w.+-])([\w+-])[\w.+-]*@([\w-]+(?:\.[\w-]+)+)")
#: ``extra=`` fields copied into the JSON line (masked like the message).
CONTEXT_FIELDS = ("conversation_id", "channel", "event", "key", "attempt", "error")


def _phone(match: re.Match[str]) -> str:
    digits = [c for c in match.group(0) if c.isdigit()]
    return "***" + "".join(digits[-3:])


def mask(text: str) -> str:
    """``text`` with phone numbers as ``***567`` and e-mails as ``s***@example.com``."""
    return _PHONE.sub(_phone, _EMAIL.sub(r"\1***@\2", text))


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, int | float | bool) or value is None:
        return value
    return mask(str(value))


class MaskFilter(logging.Filter):
    """Masks the formatted message (arguments included), the exception text and the context
    fields of every record that passes the handler it is installed on."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the record
            message = f"{record.msg!r} {record.args!r}"
        record.msg = mask(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
            record.exc_info = None
        for name in CONTEXT_FIELDS:
            if name in record.__dict__:
                record.__dict__[name] = _masked(record.__dict__[name])
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the context fields, exc."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in CONTEXT_FIELDS:
            if name in record.__dict__:
                line[name] = record.__dict__[name]
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exc"] = record.exc_text
        return json.dumps(line, ensure_ascii=False, default=str)


def configure(level: str = "INFO", stream: TextIO | None = None) -> logging.Handler:
    """Route every logger (libraries too) through one masked JSON handler on the root."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(MaskFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    return handler

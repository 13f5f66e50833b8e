"""Keeping the bot token out of the logs: PTB's debug lines print the API URL, which holds it."""

from __future__ import annotations

import logging

#: PTB's loggers that can print a URL.
PTB_LOGGERS = ("telegram.Bot", "telegram.request.BaseRequest")


class _Redact(logging.Filter):
    def __init__(self, secret: str) -> None:
        super().__init__()
        self.secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.secret in message:
            record.msg, record.args = message.replace(self.secret, "<token>"), None
        return True


def redact_token_in_logs(token: str) -> None:
    """Replace ``token`` by ``<token>`` in every record of PTB's loggers (idempotent)."""
    for name in PTB_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _Redact) and f.secret == token for f in logger.filters):
            logger.addFilter(_Redact(token))

"""Graph API error answers → :mod:`bot.errors` (protocols.md §1.11 and §2.3).

Graph answers errors as ``{"error": {"message", "type", "code", "error_subcode",
"error_data", "is_transient", "fbtrace_id"}}``, mostly with HTTP 400 whatever the cause, so
the ``code`` decides: rate limits → :class:`RetryAfter`, temporary failures and 5xx →
:class:`TransientSendError`, everything else (re-engagement window closed, recipient not on
WhatsApp, invalid parameter, expired token ...) → :class:`PermanentSendError`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.errors import PermanentSendError, RetryAfter, SendError, TransientSendError

__all__ = ["GraphError", "parse_error", "send_error"]

log = logging.getLogger("channels.meta")

#: Rate limits and the wait each suggests when the answer names none (seconds).
RATE_LIMIT_CODES: dict[int, float] = {
    4: 60.0,  # application request limit
    17: 60.0,  # user request limit
    32: 60.0,  # page request limit
    613: 60.0,  # calls within one hour exceeded
    80007: 60.0,  # WhatsApp Business Account rate limit
    130429: 2.0,  # Cloud API throughput reached (80 msg/s per number)
    131048: 300.0,  # spam rate limit: slow down for a while
    131056: 6.0,  # pair rate limit: about one message per 6 s to one user
    131057: 60.0,  # number being upgraded (≤ 1 min)
}
#: Temporary failures on Meta's side: retry with backoff.
TRANSIENT_CODES = frozenset({1, 2, 131000, 131016, 133004})
#: Access token expired, revoked or wrong: nothing works until someone rotates it.
TOKEN_CODES = frozenset({190})
#: The account is blocked for a policy violation: operations must look.
POLICY_CODES = frozenset({368})


@dataclass(frozen=True, slots=True)
class GraphError:
    """The fields of a Graph error body we act on."""

    status: int
    code: int | None
    subcode: int | None
    message: str
    is_transient: bool
    fbtrace_id: str | None

    def describe(self) -> str:
        code = "-" if self.code is None else str(self.code)
        if self.subcode is not None:
            code += f"/{self.subcode}"
        trace = f" fbtrace_id={self.fbtrace_id}" if self.fbtrace_id else ""
        return f"graph HTTP {self.status} code {code}: {self.message}{trace}"


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def parse_error(status: int, body: bytes) -> GraphError:
    """The error in ``body`` (any bytes: a proxy's HTML page gives code None)."""
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    error = data.get("error") if isinstance(data, dict) else None
    if not isinstance(error, dict):
        text = body[:200].decode("utf-8", "replace").strip()
        return GraphError(status, None, None, text or "no error body", False, None)
    message = error.get("message")
    trace = error.get("fbtrace_id")
    return GraphError(
        status=status,
        code=_int(error.get("code")),
        subcode=_int(error.get("error_subcode")),
        message=message if isinstance(message, str) else "",
        is_transient=error.get("is_transient") is True,
        fbtrace_id=trace if isinstance(trace, str) else None,
    )


def _retry_after(headers: Mapping[str, str], default: float) -> float:
    """``Retry-After`` (seconds), else Meta's ``X-Business-Use-Case-Usage`` estimate
    (``estimated_time_to_regain_access``, minutes), else ``default``."""
    value = headers.get("Retry-After")
    if value:
        try:
            seconds = float(value)
        except ValueError:
            seconds = -1.0
        if 0 <= seconds <= 86400:
            return seconds
    usage = headers.get("X-Business-Use-Case-Usage")
    if usage:
        try:
            data = json.loads(usage)
        except ValueError:
            data = None
        minutes = [
            float(item["estimated_time_to_regain_access"])
            for entries in (data.values() if isinstance(data, dict) else ())
            if isinstance(entries, list)
            for item in entries
            if isinstance(item, dict)
            and isinstance(item.get("estimated_time_to_regain_access"), int | float)
        ]
        if minutes and max(minutes) > 0:
            return max(minutes) * 60.0
    return default


def send_error(status: int, body: bytes, headers: Mapping[str, str]) -> SendError:
    """The :class:`bot.errors.SendError` for a non-2xx Graph answer."""
    error = parse_error(status, body)
    text = error.describe()
    if status == 429 or error.code in RATE_LIMIT_CODES:
        default = RATE_LIMIT_CODES.get(error.code or 0, 60.0)
        return RetryAfter(_retry_after(headers, default), text)
    if error.code in TOKEN_CODES or status == 401:
        # Every send fails until the token is rotated: say so loudly, once per failure.
        log.error("Graph access token rejected; rotate it (%s)", text)
        return PermanentSendError(text)
    if error.code in POLICY_CODES:
        log.error("Graph refused: account temporarily blocked for policy (%s)", text)
        return PermanentSendError(text)
    if status >= 500 or error.code in TRANSIENT_CODES or error.is_transient:
        return TransientSendError(text)
    return PermanentSendError(text)

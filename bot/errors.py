"""The hub's exception tree. Adapters raise these; the hub maps them to HTTP answers
(ingest) or to retry / dead-letter decisions (sending)."""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "HubError",
    "MalformedPayload",
    "MediaError",
    "PermanentSendError",
    "QueueUnavailable",
    "RetryAfter",
    "SendError",
    "SignatureError",
    "TransientSendError",
]


class HubError(Exception):
    """Base of every error the hub raises on purpose."""


class ConfigError(HubError):
    """A channel's configuration is incomplete or invalid (raised at start-up)."""


class SignatureError(HubError):
    """A webhook's signature or secret is missing or wrong: answer 403, enqueue nothing."""


class MalformedPayload(HubError):
    """A verified webhook whose body cannot be parsed: answer 400 with this message."""


class QueueUnavailable(HubError):
    """Redis could not make the message durable: answer 503 so the provider retries."""


class MediaError(HubError):
    """A citizen's file could not be downloaded or is over the size / type limits."""


class SendError(HubError):
    """Sending a reply through a provider failed."""


class TransientSendError(SendError):
    """Worth retrying with backoff (5xx, timeouts, connection errors)."""


class RetryAfter(TransientSendError):
    """The provider rate-limited us; retry no sooner than ``seconds``."""

    def __init__(self, seconds: float, message: str = "") -> None:
        super().__init__(message or f"rate limited; retry after {seconds:g} s")
        self.seconds = seconds


class PermanentSendError(SendError):
    """Retrying cannot help (bad recipient, blocked, window closed without a template):
    the reply goes to the dead-letter stream."""

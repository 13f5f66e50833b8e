"""The client's exceptions: one tree, mapped from HTTP statuses in ``http.request``.

Every error raised for an HTTP answer carries the status and the server's Open311 error list
(``[{"code": 400, "description": "..."}]``); errors raised for a transport failure keep the
original exception as ``__cause__``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ErrorDetail:
    """One entry of an Open311 error list."""

    code: int
    description: str

    @property
    def field(self) -> str | None:
        """The field a description names, for servers that write ``"field: message"``."""
        head, sep, _ = self.description.partition(": ")
        return head if sep and head and " " not in head else None


class TicketClientError(Exception):
    """Base class of every error this package raises."""

    def __init__(
        self, message: str, *, status: int | None = None, errors: tuple[ErrorDetail, ...] = ()
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.errors = errors

    @property
    def descriptions(self) -> tuple[str, ...]:
        return tuple(e.description for e in self.errors)


class BadRequest(TicketClientError):
    """400 (and any other 4xx without a class of its own): the request was refused as invalid.
    ``errors`` lists the server's descriptions, one per problem."""


class Forbidden(TicketClientError):
    """401/403: the API key is missing, invalid, or its role may not do this."""


class NotFound(TicketClientError):
    """404/410: unknown service code, request id, token or reference."""


class Conflict(TicketClientError):
    """409: well-formed but not allowed in the ticket's current state."""


class ServiceUnavailable(TicketClientError):
    """The service could not be reached or kept failing (connection errors, timeouts, 5xx)
    after every retry, or asked us to slow down (429). The request may be tried again later;
    creates are safe to repeat with the same idempotency key."""


class InvalidResponse(TicketClientError):
    """The server answered 2xx with a body this client cannot read."""

"""Ticket states, the allowed moves between them, and how they map onto Open311's vocabulary."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"


class Resolution(StrEnum):
    FIXED = "fixed"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"
    NOT_RESPONSIBILITY = "not_responsibility"


class Kind(StrEnum):
    REPORT = "report"
    COMPLAINT = "complaint"
    INQUIRY = "inquiry"
    CALLBACK = "callback"


ALLOWED_MOVES: dict[Status, frozenset[Status]] = {
    Status.OPEN: frozenset({Status.IN_PROGRESS, Status.CLOSED}),
    Status.IN_PROGRESS: frozenset({Status.OPEN, Status.CLOSED}),
    Status.CLOSED: frozenset(),  # only an explicit reopen leaves "closed"
}

# mySociety extended statuses (lower-case in GET responses).
RESOLUTION_EXTENDED = {
    Resolution.FIXED: "fixed",
    Resolution.REJECTED: "no_further_action",
    Resolution.DUPLICATE: "duplicate",
    Resolution.NOT_RESPONSIBILITY: "not_councils_responsibility",
}

# Incoming mySociety statuses (upper-case in POST servicerequestupdates) → our state.
EXTENDED_INCOMING: dict[str, tuple[Status | None, Resolution | None]] = {
    "OPEN": (Status.OPEN, None),
    "IN_PROGRESS": (Status.IN_PROGRESS, None),
    "INVESTIGATING": (Status.IN_PROGRESS, None),
    "ACTION_SCHEDULED": (Status.IN_PROGRESS, None),
    "PLANNED": (Status.IN_PROGRESS, None),
    "FIXED": (Status.CLOSED, Resolution.FIXED),
    "CLOSED": (Status.CLOSED, Resolution.FIXED),
    "DUPLICATE": (Status.CLOSED, Resolution.DUPLICATE),
    "NOT_COUNCILS_RESPONSIBILITY": (Status.CLOSED, Resolution.NOT_RESPONSIBILITY),
    "NO_FURTHER_ACTION": (Status.CLOSED, Resolution.REJECTED),
    "CANCELLED": (Status.CLOSED, Resolution.REJECTED),
    "REOPEN": (None, None),  # None status = reopen
}


def open311_status(status: str) -> str:
    """GeoReport v2 knows only open and closed."""
    return "closed" if status == Status.CLOSED else "open"


def extended_status(status: str, resolution: str | None) -> str:
    if status == Status.CLOSED and resolution:
        return RESOLUTION_EXTENDED[Resolution(resolution)]
    return status

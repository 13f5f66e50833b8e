"""When an open ticket is due to escalate next (pure arithmetic over its SLA)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any


@dataclass(frozen=True)
class Step:
    """One escalation step: a level, and for repeats at the top level, the reminder number."""

    level: int
    seq: int
    due_at: datetime


def due_at(requested_at: datetime, sla_hours: int, fraction: float) -> datetime:
    return requested_at + timedelta(hours=sla_hours * fraction)


def next_step(
    requested_at: datetime,
    sla_hours: int,
    level: int,
    thresholds: tuple[float, ...],
    reminders: bool,
    now: datetime | None = None,
) -> Step | None:
    """The next step after ``level``: the next threshold, or the next top-level reminder.

    Reminders come every further SLA period after the last threshold; ``now`` picks the first
    reminder still in the future of the last one that is due (missed reminders are not replayed).
    """
    top = len(thresholds)
    if level < top:
        return Step(level + 1, 0, due_at(requested_at, sla_hours, thresholds[level]))
    if not reminders:
        return None
    seq = 1
    if now is not None:
        elapsed = (now - requested_at) / timedelta(hours=sla_hours)
        seq = max(1, math.floor(elapsed - thresholds[-1]) + 1)
    return Step(top, seq, due_at(requested_at, sla_hours, thresholds[-1] + seq))


def next_for_ticket(
    ticket: Mapping[str, Any], thresholds: tuple[float, ...], reminders: bool, now: datetime
) -> Step | None:
    """The next step of an open ticket from where it stands now."""
    return next_step(
        ticket["requested_at"],
        ticket["sla_hours"],
        ticket["escalation_level"],
        thresholds,
        reminders,
        now=now,
    )


def due_steps(
    requested_at: datetime,
    sla_hours: int,
    level: int,
    thresholds: tuple[float, ...],
    reminders: bool,
    now: datetime,
) -> list[Step]:
    """Every step due by ``now`` after ``level``: each missed level once, then at most one
    reminder."""
    steps = [
        Step(lvl, 0, due_at(requested_at, sla_hours, thresholds[lvl - 1]))
        for lvl in range(level + 1, len(thresholds) + 1)
        if due_at(requested_at, sla_hours, thresholds[lvl - 1]) <= now
    ]
    reached = steps[-1].level if steps else level
    if reached == len(thresholds) and reminders:
        elapsed = (now - requested_at) / timedelta(hours=sla_hours)
        seq = math.floor(elapsed - thresholds[-1])
        if seq >= 1:
            steps.append(Step(reached, seq, due_at(requested_at, sla_hours, thresholds[-1] + seq)))
    return steps

"""Quiet hours (pure): is a proactive message allowed now, and if not, when."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.events.settings import QuietHours

__all__ = ["release_time"]


def release_time(quiet: QuietHours | None, now: datetime, service_code: str) -> datetime | None:
    """None when a message may go now (no quiet hours, an urgent service, outside them); else
    the UTC moment the quiet hours end (the next ``end`` local time)."""
    if quiet is None or service_code in quiet.urgent:
        return None
    local = now.astimezone(quiet.zone)
    clock = local.time().replace(tzinfo=None)
    if quiet.start < quiet.end:
        inside = quiet.start <= clock < quiet.end
    else:  # spans midnight, e.g. 22:00-07:00
        inside = clock >= quiet.start or clock < quiet.end
    if not inside:
        return None
    end = local.replace(hour=quiet.end.hour, minute=quiet.end.minute, second=0, microsecond=0)
    if end <= local:
        end += timedelta(days=1)
    # wall-clock arithmetic across a DST change: rebuild the aware time in the zone
    end = datetime(end.year, end.month, end.day, end.hour, end.minute, tzinfo=quiet.zone)
    return end.astimezone(UTC)

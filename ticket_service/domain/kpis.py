"""Management KPIs (ARCHITECTURE.md, "KPIs") over the reports requested in a period.

The cohort is every ticket of kind ``report`` whose ``requested_at`` lies in ``[start, end)``;
escalations, follow-ups and surveys count when they belong to a ticket of that cohort, whenever
they happened. Agent-service ratings are the exception: they are not about a report, so they
count when they were *given* in ``[start, end)``; grouped by channel they go by the rating's
own channel, grouped by municipality or service by the ticket they name (a rating without a
ticket then counts in the total only).

Definitions:

- open = not closed (``open`` and ``in_progress``); overdue = open and ``due_at`` < now.
- completion rate = closed ÷ received; None when nothing was received.
- hours to close = ``closed_at`` − ``requested_at`` of the closed tickets. The median of an
  even count is the mean of the two middle values; p90 uses the nearest-rank method: the
  value at rank ⌈0.90 × n⌉ of the sorted list (always an observed value, never interpolated).
- escalations by level count the escalation steps first reached at each level (by the
  scheduler or by a follow-up); top-level reminders (``seq`` > 0) are counted apart.
- satisfaction rate = share of closure surveys whose mean of (quality, speed) ≥ 4.

Counting happens in SQL (COUNT / SUM … GROUP BY, portable between SQLite and PostgreSQL);
percentiles and rates are computed here, in small pure functions.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from ticket_service.config import Settings, Text
from ticket_service.context import Context
from ticket_service.db.schema import escalations, followups, ratings, surveys, tickets
from ticket_service.domain.feedback import RatingKind
from ticket_service.domain.statuses import Kind, Status
from ticket_service.errors import FieldError, InvalidInput

SATISFIED_MEAN = 4  # a survey counts as satisfied when mean(quality, speed) >= this
P90 = 90


class GroupBy(StrEnum):
    MUNICIPALITY = "municipality"
    SERVICE = "service"
    CHANNEL = "channel"


@dataclass(frozen=True)
class Metrics:
    """The KPIs of one group (or of the whole period)."""

    received: int
    closed: int
    completion_rate: float | None
    open: int
    overdue: int
    median_hours_to_close: float | None
    p90_hours_to_close: float | None
    escalations: Mapping[int, int]  # level -> steps first reached at that level
    reminders: int
    followups: int
    survey_responses: int
    satisfaction_rate: float | None
    mean_agent_rating: float | None


@dataclass(frozen=True)
class Group:
    key: str  # municipality code, service code or channel
    name: Text  # bilingual label from settings; a channel is its own name
    metrics: Metrics


@dataclass(frozen=True)
class KpiReport:
    start: datetime
    end: datetime  # exclusive
    group_by: GroupBy
    generated_at: datetime
    levels: tuple[int, ...]  # escalation levels reported, 1..n
    total: Metrics
    groups: tuple[Group, ...]


# --- pure math -----------------------------------------------------------------------------


def rate(part: int, whole: int) -> float | None:
    """``part / whole``, or None when there is nothing to divide by."""
    return part / whole if whole else None


def mean(total: float, count: int) -> float | None:
    return total / count if count else None


def median(values: Sequence[float]) -> float | None:
    """The middle value; for an even count, the mean of the two middle values."""
    if not values:
        return None
    ordered = sorted(values)
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[mid]
    return (ordered[mid - 1] + ordered[mid]) / 2


def percentile_nearest_rank(values: Sequence[float], percent: int) -> float | None:
    """The nearest-rank percentile: the value at rank ⌈percent/100 × n⌉ (1-based) of the
    sorted values. Integer arithmetic, so 90 % of 10 is exactly rank 9."""
    if not 0 < percent <= 100:
        raise ValueError("percent must be in 1..100")
    if not values:
        return None
    rank = -(-percent * len(values) // 100)  # ceiling without floating point
    return sorted(values)[rank - 1]


def hours_between(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 3600


# --- tallies per group -----------------------------------------------------------------------


@dataclass
class _Tally:
    received: int = 0
    closed: int = 0
    overdue: int = 0
    hours: list[float] = field(default_factory=list)
    escalations: Counter[int] = field(default_factory=Counter)
    reminders: int = 0
    followups: int = 0
    surveys: int = 0
    satisfied: int = 0
    ratings: int = 0
    rating_sum: int = 0

    def absorb(self, other: _Tally) -> None:
        self.received += other.received
        self.closed += other.closed
        self.overdue += other.overdue
        self.hours.extend(other.hours)
        self.escalations.update(other.escalations)
        self.reminders += other.reminders
        self.followups += other.followups
        self.surveys += other.surveys
        self.satisfied += other.satisfied
        self.ratings += other.ratings
        self.rating_sum += other.rating_sum

    def metrics(self, levels: Iterable[int]) -> Metrics:
        return Metrics(
            received=self.received,
            closed=self.closed,
            completion_rate=rate(self.closed, self.received),
            open=self.received - self.closed,
            overdue=self.overdue,
            median_hours_to_close=median(self.hours),
            p90_hours_to_close=percentile_nearest_rank(self.hours, P90),
            escalations={level: self.escalations[level] for level in levels},
            reminders=self.reminders,
            followups=self.followups,
            survey_responses=self.surveys,
            satisfaction_rate=rate(self.satisfied, self.surveys),
            mean_agent_rating=mean(self.rating_sum, self.ratings),
        )


# Rating rows without a ticket have no municipality or service: they count in the total only.
Tallies = dict[str | None, _Tally]


def _group_column(group_by: GroupBy) -> ColumnElement[Any]:
    return {
        GroupBy.MUNICIPALITY: tickets.c.municipality,
        GroupBy.SERVICE: tickets.c.service_code,
        GroupBy.CHANNEL: tickets.c.channel,
    }[group_by]


def _in_cohort(start: datetime, end: datetime) -> ColumnElement[bool]:
    return and_(
        tickets.c.kind == Kind.REPORT.value,
        tickets.c.requested_at >= start,
        tickets.c.requested_at < end,
    )


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    return func.sum(case((condition, 1), else_=0))


async def _tickets(
    conn: AsyncConnection,
    t: Tallies,
    key: ColumnElement[Any],
    cohort: ColumnElement[bool],
    now: datetime,
) -> None:
    not_closed = tickets.c.status != Status.CLOSED.value
    rows = await conn.execute(
        select(
            key,
            func.count(),
            _count_if(tickets.c.status == Status.CLOSED.value),
            _count_if(and_(not_closed, tickets.c.due_at < now)),
        )
        .where(cohort)
        .group_by(key)
    )
    for k, received, closed, overdue in rows:
        tally = t.setdefault(k, _Tally())
        tally.received, tally.closed, tally.overdue = int(received), int(closed), int(overdue)
    closed_rows = await conn.execute(
        select(key, tickets.c.requested_at, tickets.c.closed_at).where(
            cohort, tickets.c.status == Status.CLOSED.value, tickets.c.closed_at.is_not(None)
        )
    )
    for k, requested_at, closed_at in closed_rows:
        t.setdefault(k, _Tally()).hours.append(hours_between(requested_at, closed_at))


async def _escalations(
    conn: AsyncConnection, t: Tallies, key: ColumnElement[Any], cohort: ColumnElement[bool]
) -> None:
    rows = await conn.execute(
        select(
            key,
            escalations.c.level,
            _count_if(escalations.c.seq == 0),
            _count_if(escalations.c.seq > 0),
        )
        .select_from(escalations.join(tickets, tickets.c.id == escalations.c.ticket_id))
        .where(cohort)
        .group_by(key, escalations.c.level)
    )
    for k, level, firsts, reminders in rows:
        tally = t.setdefault(k, _Tally())
        tally.escalations[int(level)] += int(firsts)
        tally.reminders += int(reminders)


async def _followups_and_surveys(
    conn: AsyncConnection, t: Tallies, key: ColumnElement[Any], cohort: ColumnElement[bool]
) -> None:
    rows = await conn.execute(
        select(key, func.count())
        .select_from(followups.join(tickets, tickets.c.id == followups.c.ticket_id))
        .where(cohort)
        .group_by(key)
    )
    for k, count in rows:
        t.setdefault(k, _Tally()).followups = int(count)
    satisfied = surveys.c.quality + surveys.c.speed >= 2 * SATISFIED_MEAN  # exact, in integers
    rows = await conn.execute(
        select(key, func.count(), _count_if(satisfied))
        .select_from(surveys.join(tickets, tickets.c.id == surveys.c.ticket_id))
        .where(cohort)
        .group_by(key)
    )
    for k, count, happy in rows:
        tally = t.setdefault(k, _Tally())
        tally.surveys, tally.satisfied = int(count), int(happy)


async def _ratings(
    conn: AsyncConnection, t: Tallies, group_by: GroupBy, start: datetime, end: datetime
) -> None:
    given = and_(
        ratings.c.kind == RatingKind.AGENT_SERVICE.value,
        ratings.c.created_at >= start,
        ratings.c.created_at < end,
    )
    if group_by == GroupBy.CHANNEL:
        key: ColumnElement[Any] = ratings.c.channel
        source: Any = ratings
    else:
        key = _group_column(group_by)
        source = ratings.outerjoin(tickets, tickets.c.id == ratings.c.ticket_id)
    rows = await conn.execute(
        select(key, func.count(), func.sum(ratings.c.score))
        .select_from(source)
        .where(given)
        .group_by(key)
    )
    for k, count, total in rows:
        tally = t.setdefault(k, _Tally())
        tally.ratings, tally.rating_sum = int(count), int(total)


# --- grouping and labels -----------------------------------------------------------------------


def group_name(settings: Settings, group_by: GroupBy, key: str) -> Text:
    """The bilingual label of a group: configured names; an unknown code or a channel as is."""
    if group_by == GroupBy.MUNICIPALITY:
        muni = settings.municipality(key)
        return muni.name if muni else Text(ar=key, en=key)
    if group_by == GroupBy.SERVICE:
        service = settings.service(key)
        return service.name if service else Text(ar=key, en=key)
    return Text(ar=key, en=key)


def group_keys(settings: Settings, group_by: GroupBy, seen: Iterable[str]) -> list[str]:
    """Every configured municipality or service (in configuration order, so a quiet one shows
    as zeros), then any other key found in the data, sorted. Channels: those found, sorted."""
    if group_by == GroupBy.MUNICIPALITY:
        configured = [m.code for m in settings.municipalities]
    elif group_by == GroupBy.SERVICE:
        configured = list(settings.services)
    else:
        configured = []
    return configured + sorted(set(seen) - set(configured))


def _levels(settings: Settings, tallies: Iterable[_Tally]) -> tuple[int, ...]:
    seen = max((max(t.escalations, default=0) for t in tallies), default=0)
    return tuple(range(1, max(len(settings.escalation_thresholds), seen) + 1))


def parse_group_by(raw: str) -> GroupBy:
    try:
        return GroupBy(raw)
    except ValueError as exc:
        allowed = ", ".join(g.value for g in GroupBy)
        message = f"must be one of {allowed}"
        raise InvalidInput(f"group_by {message}", [FieldError("group_by", message)]) from exc


async def compute(ctx: Context, start: datetime, end: datetime, group_by: str) -> KpiReport:
    """The KPIs of the reports requested in ``[start, end)``, per group and in total."""
    grouping = parse_group_by(group_by)
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be timezone-aware")
    if start >= end:
        raise InvalidInput("from must be before to", [FieldError("from", "must be before to")])
    now = ctx.clock.now()
    key = _group_column(grouping)
    cohort = _in_cohort(start, end)
    tallies: Tallies = {}
    async with ctx.db.read() as conn:
        if conn.dialect.name == "postgresql":
            # one snapshot for every query, so the groups and the total agree
            await conn.execution_options(isolation_level="REPEATABLE READ")
        await _tickets(conn, tallies, key, cohort, now)
        await _escalations(conn, tallies, key, cohort)
        await _followups_and_surveys(conn, tallies, key, cohort)
        await _ratings(conn, tallies, grouping, start, end)
    levels = _levels(ctx.settings, tallies.values())
    total = _Tally()
    for tally in tallies.values():
        total.absorb(tally)
    keys = group_keys(ctx.settings, grouping, (k for k in tallies if k is not None))
    groups = tuple(
        Group(k, group_name(ctx.settings, grouping, k), tallies.get(k, _Tally()).metrics(levels))
        for k in keys
    )
    return KpiReport(
        start=start,
        end=end,
        group_by=grouping,
        generated_at=now,
        levels=levels,
        total=total.metrics(levels),
        groups=groups,
    )

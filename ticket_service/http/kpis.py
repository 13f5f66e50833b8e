"""GET /api/v1/kpis: management KPIs for a period, per municipality, service or channel, as JSON
or CSV (for Excel: UTF-8 with a BOM, so Arabic names show correctly).

Query parameters:

- ``from`` / ``to``: an ISO 8601 date (``2026-03-01``, midnight UTC) or a date-time with a
  timezone. ``to`` is exclusive, except that a plain date covers that whole day: ``from=2026-03-01
  &to=2026-03-31`` is all of March. Default: the 30 days up to now. At most 366 days.
- ``group_by``: ``municipality`` (default), ``service`` or ``channel``.
- ``format``: ``json`` (default) or ``csv``.

Roles: supervisor, satisfaction, admin.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from aiohttp import web

from ticket_service.config import Role
from ticket_service.domain import kpis
from ticket_service.domain.kpis import GroupBy, KpiReport, Metrics
from ticket_service.domain.validation import Collector, parse_datetime
from ticket_service.domain.views import iso
from ticket_service.http.auth import authenticate
from ticket_service.http.keys import CONTEXT
from ticket_service.http.render import respond

routes = web.RouteTableDef()

DEFAULT_DAYS = 30
MAX_DAYS = 366
RATE_PLACES = 4
HOURS_PLACES = 2
FORMATS = ("json", "csv")
BAD_DATE = "must be an ISO 8601 date (YYYY-MM-DD) or a date-time with a timezone"


@dataclass(frozen=True)
class Bound:
    at: datetime
    label: str  # for the CSV file name: the date as given, or the UTC date-time compacted


@dataclass(frozen=True)
class KpiQuery:
    start: Bound
    end: Bound
    group_by: GroupBy
    format: str


def _label(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def parse_bound(raw: str, *, end: bool) -> Bound:
    """A date (midnight UTC; as an end, the following midnight) or an aware date-time."""
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        at = parse_datetime(raw).astimezone(UTC)
        return Bound(at, _label(at))
    at = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1 if end else 0)
    return Bound(at, day.isoformat())


def _bound(c: Collector, query: Mapping[str, str], name: str, *, end: bool) -> Bound | None:
    raw = query.get(name, "").strip()
    if not raw:
        return None
    try:
        return parse_bound(raw, end=end)
    except (ValueError, OverflowError):
        c.add(name, BAD_DATE)
        return None


def _default_range(
    c: Collector, start: Bound | None, end: Bound | None, now: datetime
) -> tuple[Bound, Bound] | None:
    """No ``to``: up to now. No ``from``: the 30 days before ``to``."""
    try:
        end = end or Bound(now, _label(now))
        if start is None:
            begin = end.at - timedelta(days=DEFAULT_DAYS)
            start = Bound(begin, _label(begin))
    except OverflowError:
        c.add("to", BAD_DATE)
        return None
    return start, end


def parse_query(query: Mapping[str, str], now: datetime) -> KpiQuery:
    """Validate the query string; every problem is reported per field, at once (400)."""
    c = Collector()
    start = _bound(c, query, "from", end=False)
    end = _bound(c, query, "to", end=True)
    group_by = c.choice(query, "group_by", GroupBy, ", ".join(g.value for g in GroupBy))
    fmt = c.choice(query, "format", _format, ", ".join(FORMATS))
    span = None if c.errors else _default_range(c, start, end, now)
    if span is not None:
        if span[0].at >= span[1].at:
            c.add("from", "must be before to")
        elif span[1].at - span[0].at > timedelta(days=MAX_DAYS):
            c.add("to", f"the range may cover at most {MAX_DAYS} days")
    c.raise_if_any("invalid KPI query")
    assert span is not None
    return KpiQuery(span[0], span[1], group_by or GroupBy.MUNICIPALITY, fmt or "json")


def _format(raw: str) -> str:
    if raw not in FORMATS:
        raise ValueError(raw)
    return raw


def _round(value: float | None, places: int) -> float | None:
    return None if value is None else round(value, places)


def metrics_json(m: Metrics) -> dict[str, Any]:
    return {
        "received": m.received,
        "closed": m.closed,
        "completion_rate": _round(m.completion_rate, RATE_PLACES),
        "open": m.open,
        "overdue": m.overdue,
        "median_hours_to_close": _round(m.median_hours_to_close, HOURS_PLACES),
        "p90_hours_to_close": _round(m.p90_hours_to_close, HOURS_PLACES),
        "escalations": {str(level): n for level, n in m.escalations.items()},
        "reminders": m.reminders,
        "followups": m.followups,
        "survey_responses": m.survey_responses,
        "satisfaction_rate": _round(m.satisfaction_rate, RATE_PLACES),
        "mean_agent_rating": _round(m.mean_agent_rating, RATE_PLACES),
    }


def report_json(report: KpiReport) -> dict[str, Any]:
    return {
        "from": iso(report.start),
        "to": iso(report.end),
        "group_by": report.group_by.value,
        "generated_at": iso(report.generated_at),
        "total": metrics_json(report.total),
        "groups": [
            {"key": g.key, "name_ar": g.name.ar, "name_en": g.name.en, **metrics_json(g.metrics)}
            for g in report.groups
        ],
    }


def _decimal(value: float | None, places: int) -> str:
    return "" if value is None else f"{value:.{places}f}"


def _text_cell(value: str) -> str:
    """Keep spreadsheet software from reading data (e.g. a channel name) as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def csv_header(levels: tuple[int, ...]) -> list[str]:
    return [
        "key",
        "name_ar",
        "name_en",
        "received",
        "closed",
        "completion_rate",
        "open",
        "overdue",
        "median_hours_to_close",
        "p90_hours_to_close",
        *(f"escalations_l{level}" for level in levels),
        "reminders",
        "followups",
        "survey_responses",
        "satisfaction_rate",
        "mean_agent_rating",
    ]


def _csv_row(key: str, name_ar: str, name_en: str, m: Metrics) -> list[str]:
    return [
        _text_cell(key),
        _text_cell(name_ar),
        _text_cell(name_en),
        str(m.received),
        str(m.closed),
        _decimal(m.completion_rate, RATE_PLACES),
        str(m.open),
        str(m.overdue),
        _decimal(m.median_hours_to_close, HOURS_PLACES),
        _decimal(m.p90_hours_to_close, HOURS_PLACES),
        *(str(n) for n in m.escalations.values()),
        str(m.reminders),
        str(m.followups),
        str(m.survey_responses),
        _decimal(m.satisfaction_rate, RATE_PLACES),
        _decimal(m.mean_agent_rating, RATE_PLACES),
    ]


def report_csv(report: KpiReport) -> bytes:
    """Header, one row per group, then a TOTAL row; UTF-8 with a BOM."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(csv_header(report.levels))
    for g in report.groups:
        writer.writerow(_csv_row(g.key, g.name.ar, g.name.en, g.metrics))
    writer.writerow(_csv_row("TOTAL", "", "", report.total))
    return out.getvalue().encode("utf-8-sig")


@routes.get("/api/v1/kpis")
async def get_kpis(request: web.Request) -> web.Response:
    authenticate(request, Role.SUPERVISOR, Role.SATISFACTION)
    ctx = request.app[CONTEXT]
    q = parse_query(request.query, ctx.clock.now())
    report = await kpis.compute(ctx, q.start.at, q.end.at, q.group_by.value)
    if q.format == "json":
        return respond("json", "kpis", report_json(report))
    filename = f"tawasul-kpis-{q.start.label}-{q.end.label}.csv"
    return web.Response(
        body=report_csv(report),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )

"""KPIs: the math, known numbers from data built through the domain, and the HTTP endpoint
(JSON and CSV, roles, bad parameters)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient

from tests.ticket_service.conftest import BOTH_BACKENDS, START, auth
from ticket_service.clock import FakeClock
from ticket_service.config import Settings
from ticket_service.context import Context
from ticket_service.domain import escalation, feedback, followups, kpis, tickets
from ticket_service.domain.feedback import NewRating, RatingKind, SurveyAnswer
from ticket_service.domain.followups import NewFollowup
from ticket_service.domain.kpis import Metrics, median, percentile_nearest_rank, rate
from ticket_service.domain.reporters import Contact
from ticket_service.domain.statuses import Kind, Resolution, Status
from ticket_service.domain.tickets import NewTicket

Client = TestClient[web.Request, web.Application]

DAY_START = datetime(2026, 3, 1, tzinfo=UTC)  # START is 09:00 on this day
DAY_END = DAY_START + timedelta(days=1)
DAY = {"from": "2026-03-01", "to": "2026-03-01"}  # a plain-date `to` covers the whole day
DAMMAM = "حي الشاطئ، الدمام"
KHOBAR = "حي الثقبة، الخبر"
# (quality, speed) of the surveys of D0..D7: all satisfied but D1 (mean 3.5); D2 is 5/3 → 4.0.
SURVEYS = [(5, 5), (4, 3), (5, 3), (4, 4), (5, 4), (3, 5), (4, 5), (5, 5)]
NO_ESCALATIONS = {1: 0, 2: 0, 3: 0}


# --- the math ------------------------------------------------------------------------------


def test_p90_by_nearest_rank_is_an_observed_value() -> None:
    hours = [9.0, 1.0, 5.0, 3.0, 7.0, 2.0, 8.0, 4.0, 6.0]
    assert percentile_nearest_rank(hours, 90) == 9.0  # rank ⌈8.1⌉ = 9
    assert percentile_nearest_rank([float(h) for h in range(1, 11)], 90) == 9.0  # rank 9 exactly
    assert percentile_nearest_rank([float(h) for h in range(1, 21)], 90) == 18.0
    assert percentile_nearest_rank([6.0, 7.0, 8.0, 9.0], 90) == 9.0  # rank ⌈3.6⌉ = 4
    assert percentile_nearest_rank([2.5], 90) == 2.5
    assert percentile_nearest_rank(hours, 100) == 9.0
    assert percentile_nearest_rank(hours, 50) == 5.0
    assert percentile_nearest_rank([], 90) is None
    with pytest.raises(ValueError):
        percentile_nearest_rank(hours, 0)


def test_median_and_rates() -> None:
    assert median([9.0, 1.0, 5.0]) == 5.0
    assert median([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 30.0]) == 5.5
    assert median([]) is None
    assert rate(9, 10) == 0.9
    assert rate(7, 8) == 0.875
    assert rate(0, 5) == 0.0
    assert rate(0, 0) is None
    assert kpis.mean(14, 4) == 3.5
    assert kpis.mean(0, 0) is None


# --- known data, built through the domain ----------------------------------------------------


def report(
    service: str, channel: str, address: str, user: str, kind: Kind = Kind.REPORT
) -> NewTicket:
    contact = Contact(channel=channel, channel_user_id=user, name="مواطن", language="ar")
    return NewTicket(
        kind=kind,
        service_code=service,
        channel=channel,
        address=address,
        contact=contact,
        description="بلاغ",
    )


async def file(ctx: Context, new: NewTicket) -> str:
    created = await tickets.create(ctx, new)
    assert not created.duplicate
    return str(created.ticket["number"])


async def rating(
    ctx: Context,
    score: int,
    channel: str,
    number: str | None,
    kind: RatingKind = RatingKind.AGENT_SERVICE,
) -> None:
    await feedback.add_rating(
        ctx,
        NewRating(
            kind=kind,
            score=score,
            conversation_id=f"conv-{channel}-{score}",
            channel=channel,
            agent_id="agent-7",
            ticket_number=number,
        ),
    )


async def build_first_day(ctx: Context, clock: FakeClock) -> dict[str, str]:
    """Up to START + 10 h. Returns {label: ticket number}.

    In range (2026-03-01): Dammam D0..D9 potholes (D0-D4 whatsapp, D5-D9 telegram), D_i closed
    after i+1 hours (D8 rejected), D9 open, surveys on D0..D7; Khobar K0 building violation
    (twitter, closed at 30 h later on), K1 pothole (twitter, in progress). A complaint (never
    counted). Out of range: O1 two days before (with a follow-up), O2 two days after.
    """
    numbers: dict[str, str] = {}
    clock.set(START - timedelta(days=2))
    numbers["O1"] = await file(ctx, report("pothole", "whatsapp", DAMMAM, "old-user"))
    clock.set(START)
    for i in range(10):
        channel = "whatsapp" if i < 5 else "telegram"
        new = report("pothole", channel, DAMMAM, f"{channel}-user-{i}")
        numbers[f"D{i}"] = await file(ctx, new)
    numbers["K0"] = await file(ctx, report("building_violation", "twitter", KHOBAR, "tw-0"))
    numbers["K1"] = await file(ctx, report("pothole", "twitter", KHOBAR, "tw-1"))
    numbers["C"] = await file(ctx, report("other", "whatsapp", DAMMAM, "angry", Kind.COMPLAINT))
    await tickets.change_status(ctx, numbers["K1"], status=Status.IN_PROGRESS, actor="agent-7")
    await rating(ctx, 5, "whatsapp", numbers["D0"])
    await rating(ctx, 4, "whatsapp", numbers["D1"])
    await rating(ctx, 2, "twitter", numbers["K0"])
    await rating(ctx, 3, "web", None)  # no ticket: only in the total (or its channel)
    await rating(ctx, 1, "whatsapp", numbers["D2"], RatingKind.ANSWER)  # not an agent rating

    for i in range(9):
        clock.advance(timedelta(hours=1))
        number = numbers[f"D{i}"]
        resolution = Resolution.REJECTED if i == 8 else Resolution.FIXED
        await tickets.change_status(
            ctx, number, status=Status.CLOSED, resolution=resolution, actor="a"
        )
        if i < len(SURVEYS):
            quality, speed = SURVEYS[i]
            channel = "whatsapp" if i < 5 else "telegram"
            await feedback.submit_survey(
                ctx, SurveyAnswer(number, channel, f"{channel}-user-{i}", quality, speed)
            )

    clock.set(START + timedelta(hours=10))
    for label, channel, user in (
        ("D9", "telegram", "telegram-user-9"),
        ("D0", "whatsapp", "whatsapp-user-0"),
        ("O1", "whatsapp", "old-user"),
    ):
        contact = Contact(channel=channel, channel_user_id=user)
        await followups.create(
            ctx, NewFollowup(numbers[label], channel, text="لم يتم الرد", contact=contact)
        )
    return numbers


async def build_rest(ctx: Context, clock: FakeClock, numbers: dict[str, str]) -> None:
    """From START + 10 h to START + 216 h (9 days): K0 closed at 30 h, O2 filed at 48 h, the
    scheduler run at 72, 108, 144 and 216 h, and one more rating after the range."""
    clock.set(START + timedelta(hours=30))
    await tickets.change_status(
        ctx, numbers["K0"], status=Status.CLOSED, resolution=Resolution.FIXED, actor="a"
    )
    clock.set(START + timedelta(days=2))
    numbers["O2"] = await file(ctx, report("pothole", "whatsapp", DAMMAM, "late-user"))
    for hours in (72, 108, 144, 216):
        clock.set(START + timedelta(hours=hours))
        await escalation.run_due(ctx)
    await rating(ctx, 1, "web", None)  # given on 10 March: outside the range


async def build_all(ctx: Context, clock: FakeClock) -> dict[str, str]:
    numbers = await build_first_day(ctx, clock)
    await build_rest(ctx, clock, numbers)
    return numbers


def metrics(**given: Any) -> Metrics:
    base: dict[str, Any] = {
        "received": 0,
        "closed": 0,
        "completion_rate": None,
        "open": 0,
        "overdue": 0,
        "median_hours_to_close": None,
        "p90_hours_to_close": None,
        "escalations": NO_ESCALATIONS,
        "reminders": 0,
        "followups": 0,
        "survey_responses": 0,
        "satisfaction_rate": None,
        "mean_agent_rating": None,
    }
    return Metrics(**{**base, **given})


ALL_LEVELS = {1: 1, 2: 1, 3: 1}
DAMMAM_FINAL = metrics(
    received=10,
    closed=9,
    completion_rate=0.9,
    open=1,
    overdue=1,
    median_hours_to_close=5.0,
    p90_hours_to_close=9.0,
    escalations=ALL_LEVELS,
    reminders=1,
    followups=2,
    survey_responses=8,
    satisfaction_rate=0.875,
    mean_agent_rating=4.5,
)
KHOBAR_FINAL = metrics(
    received=2,
    closed=1,
    completion_rate=0.5,
    open=1,
    overdue=1,
    median_hours_to_close=30.0,
    p90_hours_to_close=30.0,
    escalations=ALL_LEVELS,
    reminders=1,
    mean_agent_rating=2.0,
)
TOTAL_FINAL = metrics(
    received=12,
    closed=10,
    completion_rate=10 / 12,
    open=2,
    overdue=2,
    median_hours_to_close=5.5,
    p90_hours_to_close=9.0,
    escalations={1: 2, 2: 2, 3: 2},
    reminders=2,
    followups=2,
    survey_responses=8,
    satisfaction_rate=0.875,
    mean_agent_rating=3.5,
)


def by_key(report: kpis.KpiReport) -> dict[str, Metrics]:
    return {g.key: g.metrics for g in report.groups}


@BOTH_BACKENDS
async def test_known_numbers_by_municipality_service_and_channel(
    ctx: Context, clock: FakeClock, settings: Settings
) -> None:
    numbers = await build_first_day(ctx, clock)

    # At START + 10 h: nine closed, nothing overdue yet, only the follow-up's escalation.
    early = await kpis.compute(ctx, DAY_START, DAY_END, "municipality")
    assert early.total == metrics(
        received=12,
        closed=9,
        completion_rate=0.75,
        open=3,
        overdue=0,
        median_hours_to_close=5.0,
        p90_hours_to_close=9.0,
        escalations={1: 1, 2: 0, 3: 0},
        followups=2,
        survey_responses=8,
        satisfaction_rate=0.875,
        mean_agent_rating=3.5,
    )

    await build_rest(ctx, clock, numbers)
    report = await kpis.compute(ctx, DAY_START, DAY_END, "municipality")
    assert report.generated_at == START + timedelta(hours=216)
    assert report.levels == (1, 2, 3)
    assert [g.key for g in report.groups] == [m.code for m in settings.municipalities]
    groups = by_key(report)
    assert groups["dammam"] == DAMMAM_FINAL
    assert groups["khobar"] == KHOBAR_FINAL
    assert groups["jubail"] == metrics()
    assert report.total == TOTAL_FINAL
    dammam = next(g for g in report.groups if g.key == "dammam")
    assert (dammam.name.ar, dammam.name.en) == ("بلدية الدمام", "Dammam Municipality")

    by_service = await kpis.compute(ctx, DAY_START, DAY_END, "service")
    assert [g.key for g in by_service.groups] == list(settings.services)
    services = by_key(by_service)
    assert services["pothole"] == metrics(
        received=11,
        closed=9,
        completion_rate=9 / 11,
        open=2,
        overdue=2,
        median_hours_to_close=5.0,
        p90_hours_to_close=9.0,
        escalations={1: 2, 2: 2, 3: 2},
        reminders=2,
        followups=2,
        survey_responses=8,
        satisfaction_rate=0.875,
        mean_agent_rating=4.5,
    )
    assert services["building_violation"] == metrics(
        received=1,
        closed=1,
        completion_rate=1.0,
        median_hours_to_close=30.0,
        p90_hours_to_close=30.0,
        mean_agent_rating=2.0,
    )
    assert services["sewage"] == metrics()
    assert by_service.total == TOTAL_FINAL

    by_channel = await kpis.compute(ctx, DAY_START, DAY_END, "channel")
    assert [g.key for g in by_channel.groups] == ["telegram", "twitter", "web", "whatsapp"]
    channels = by_key(by_channel)
    assert channels["whatsapp"] == metrics(
        received=5,
        closed=5,
        completion_rate=1.0,
        median_hours_to_close=3.0,
        p90_hours_to_close=5.0,
        followups=1,
        survey_responses=5,
        satisfaction_rate=0.8,
        mean_agent_rating=4.5,
    )
    assert channels["telegram"] == metrics(
        received=5,
        closed=4,
        completion_rate=0.8,
        open=1,
        overdue=1,
        median_hours_to_close=7.5,
        p90_hours_to_close=9.0,
        escalations=ALL_LEVELS,
        reminders=1,
        followups=1,
        survey_responses=3,
        satisfaction_rate=1.0,
    )
    assert channels["twitter"] == KHOBAR_FINAL
    assert channels["web"] == metrics(mean_agent_rating=3.0)  # the 10 March rating is outside
    assert by_channel.total == TOTAL_FINAL


async def test_the_range_is_half_open_on_requested_time(ctx: Context, clock: FakeClock) -> None:
    await file(ctx, report("pothole", "whatsapp", DAMMAM, "u1"))  # at START exactly
    clock.advance(timedelta(hours=1))
    await file(ctx, report("pothole", "whatsapp", DAMMAM, "u2"))
    one_hour = await kpis.compute(ctx, START, START + timedelta(hours=1), "municipality")
    assert one_hour.total.received == 1
    after = await kpis.compute(ctx, START + timedelta(seconds=1), DAY_END, "municipality")
    assert after.total.received == 1
    day = await kpis.compute(ctx, DAY_START, DAY_END, "municipality")
    assert day.total.received == 2


# --- HTTP ----------------------------------------------------------------------------------


def expected_json(m: dict[str, Any]) -> dict[str, Any]:
    base: dict[str, Any] = {
        "received": 0,
        "closed": 0,
        "completion_rate": None,
        "open": 0,
        "overdue": 0,
        "median_hours_to_close": None,
        "p90_hours_to_close": None,
        "escalations": {"1": 0, "2": 0, "3": 0},
        "reminders": 0,
        "followups": 0,
        "survey_responses": 0,
        "satisfaction_rate": None,
        "mean_agent_rating": None,
    }
    return {**base, **m}


DAMMAM_JSON = expected_json(
    {
        "received": 10,
        "closed": 9,
        "completion_rate": 0.9,
        "open": 1,
        "overdue": 1,
        "median_hours_to_close": 5.0,
        "p90_hours_to_close": 9.0,
        "escalations": {"1": 1, "2": 1, "3": 1},
        "reminders": 1,
        "followups": 2,
        "survey_responses": 8,
        "satisfaction_rate": 0.875,
        "mean_agent_rating": 4.5,
    }
)
TOTAL_JSON = expected_json(
    {
        "received": 12,
        "closed": 10,
        "completion_rate": 0.8333,
        "open": 2,
        "overdue": 2,
        "median_hours_to_close": 5.5,
        "p90_hours_to_close": 9.0,
        "escalations": {"1": 2, "2": 2, "3": 2},
        "reminders": 2,
        "followups": 2,
        "survey_responses": 8,
        "satisfaction_rate": 0.875,
        "mean_agent_rating": 3.5,
    }
)


async def get_csv(
    client: Client, params: dict[str, str]
) -> tuple[ClientResponse, list[dict[str, str]]]:
    resp = await client.get(
        "/api/v1/kpis", params={**params, "format": "csv"}, headers=auth("supervisor")
    )
    assert resp.status == 200, await resp.text()
    raw = await resp.read()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    return resp, rows


@BOTH_BACKENDS
async def test_endpoint_returns_the_same_numbers_in_json_and_csv(
    client: Client, ctx: Context, clock: FakeClock, settings: Settings
) -> None:
    await build_all(ctx, clock)

    resp = await client.get("/api/v1/kpis", params=DAY, headers=auth("supervisor"))
    assert resp.status == 200
    body = await resp.json()
    assert body["from"] == "2026-03-01T00:00:00Z"
    assert body["to"] == "2026-03-02T00:00:00Z"
    assert body["group_by"] == "municipality"
    assert body["generated_at"] == "2026-03-10T09:00:00Z"
    assert body["total"] == TOTAL_JSON
    assert [g["key"] for g in body["groups"]] == [m.code for m in settings.municipalities]
    dammam = body["groups"][0]
    assert dammam == {
        "key": "dammam",
        "name_ar": "بلدية الدمام",
        "name_en": "Dammam Municipality",
        **DAMMAM_JSON,
    }

    resp, rows = await get_csv(client, DAY)
    assert resp.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert resp.headers["Content-Disposition"] == (
        'attachment; filename="tawasul-kpis-2026-03-01-2026-03-01.csv"'
    )
    assert list(rows[0]) == [
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
        "escalations_l1",
        "escalations_l2",
        "escalations_l3",
        "reminders",
        "followups",
        "survey_responses",
        "satisfaction_rate",
        "mean_agent_rating",
    ]
    assert [r["key"] for r in rows] == [g["key"] for g in body["groups"]] + ["TOTAL"]
    assert rows[0] == {
        "key": "dammam",
        "name_ar": "بلدية الدمام",
        "name_en": "Dammam Municipality",
        "received": "10",
        "closed": "9",
        "completion_rate": "0.9000",
        "open": "1",
        "overdue": "1",
        "median_hours_to_close": "5.00",
        "p90_hours_to_close": "9.00",
        "escalations_l1": "1",
        "escalations_l2": "1",
        "escalations_l3": "1",
        "reminders": "1",
        "followups": "2",
        "survey_responses": "8",
        "satisfaction_rate": "0.8750",
        "mean_agent_rating": "4.5000",
    }
    total = rows[-1]
    assert (total["received"], total["closed"], total["completion_rate"]) == ("12", "10", "0.8333")
    assert (total["median_hours_to_close"], total["mean_agent_rating"]) == ("5.50", "3.5000")
    for json_group, row in zip(body["groups"], rows, strict=False):
        assert row["name_ar"] == json_group["name_ar"]  # Arabic intact through the BOM'd CSV
        assert int(row["received"]) == json_group["received"]
        assert int(row["overdue"]) == json_group["overdue"]
        quiet = json_group["satisfaction_rate"] is None
        assert (row["satisfaction_rate"] == "") == quiet

    resp = await client.get(
        "/api/v1/kpis", params={**DAY, "group_by": "channel"}, headers=auth("satisfaction")
    )
    channels = {g["key"]: g for g in (await resp.json())["groups"]}
    assert channels["whatsapp"]["satisfaction_rate"] == 0.8
    assert channels["whatsapp"]["name_ar"] == channels["whatsapp"]["name_en"] == "whatsapp"
    assert channels["telegram"]["median_hours_to_close"] == 7.5
    assert channels["web"]["mean_agent_rating"] == 3.0

    _, rows = await get_csv(client, {**DAY, "group_by": "service"})
    pothole = next(r for r in rows if r["key"] == "pothole")
    assert pothole["name_ar"] == "حفر وتلف الطرق"
    assert pothole["name_en"] == "Potholes and road damage"
    assert (pothole["received"], pothole["completion_rate"]) == ("11", f"{9 / 11:.4f}")


async def test_datetime_bounds_with_an_offset_are_exact(
    client: Client, ctx: Context, clock: FakeClock
) -> None:
    await file(ctx, report("pothole", "whatsapp", DAMMAM, "u1"))  # 09:00Z = 12:00 in Riyadh
    clock.advance(timedelta(hours=1))
    at_start = {"from": "2026-03-01T12:00:00+03:00", "to": "2026-03-01T12:00:01+03:00"}
    resp = await client.get("/api/v1/kpis", params=at_start, headers=auth("supervisor"))
    body = await resp.json()
    assert body["from"] == "2026-03-01T09:00:00Z"
    assert body["total"]["received"] == 1
    just_after = {"from": "2026-03-01T12:00:01+03:00", "to": "2026-03-01T13:00:00+03:00"}
    resp = await client.get("/api/v1/kpis", params=just_after, headers=auth("supervisor"))
    assert (await resp.json())["total"]["received"] == 0
    resp, _ = await get_csv(client, at_start)
    assert resp.headers["Content-Disposition"] == (
        'attachment; filename="tawasul-kpis-20260301T090000Z-20260301T090001Z.csv"'
    )


async def test_default_range_is_the_last_30_days(
    client: Client, ctx: Context, clock: FakeClock
) -> None:
    clock.set(START - timedelta(days=31))
    await file(ctx, report("pothole", "whatsapp", DAMMAM, "u1"))
    clock.set(START)
    await file(ctx, report("pothole", "whatsapp", KHOBAR, "u2"))
    clock.advance(timedelta(hours=1))
    resp = await client.get("/api/v1/kpis", headers=auth("admin"))
    body = await resp.json()
    assert body["to"] == "2026-03-01T10:00:00Z"
    assert body["from"] == "2026-01-30T10:00:00Z"
    assert body["group_by"] == "municipality"
    assert body["total"]["received"] == 1
    khobar = next(g for g in body["groups"] if g["key"] == "khobar")
    assert khobar["received"] == 1


async def test_csv_cells_cannot_become_spreadsheet_formulas(client: Client, ctx: Context) -> None:
    await file(ctx, report("pothole", "=HYPERLINK(1)", DAMMAM, "u1"))
    _, rows = await get_csv(client, {**DAY, "group_by": "channel"})
    assert rows[0]["key"] == "'=HYPERLINK(1)"


@pytest.mark.parametrize("role", ["supervisor", "satisfaction", "admin"])
async def test_staff_roles_may_read_kpis(client: Client, role: str) -> None:
    resp = await client.get("/api/v1/kpis", params=DAY, headers=auth(role))
    assert resp.status == 200
    assert (await resp.json())["total"]["received"] == 0


@pytest.mark.parametrize("headers", [auth("agent"), auth("hub"), {}, {"X-Api-Key": "wrong"}])
async def test_other_callers_are_refused(client: Client, headers: dict[str, str]) -> None:
    resp = await client.get("/api/v1/kpis", params={**DAY, "format": "csv"}, headers=headers)
    assert resp.status == 403
    body = await resp.json()
    assert body[0]["code"] == 403 and body[0]["description"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "yesterday"}, "from"),
        ({"from": "2026-03-01", "to": "2026-02-30"}, "to"),
        ({"from": "2026-03-01T10:00:00"}, "from"),  # no timezone
        ({"from": "2026-03-02", "to": "2026-03-01"}, "from"),
        ({"from": "2026-03-01T10:00:00Z", "to": "2026-03-01T10:00:00Z"}, "from"),
        ({"from": "2025-01-01", "to": "2026-01-02"}, "to"),  # 367 days
        ({"from": "0001-01-01"}, "to"),  # up to now: far more than 366 days
        ({"to": "0001-01-01"}, "to"),  # 30 days before it does not exist
        ({"from": "9999-12-01", "to": "9999-12-31"}, "to"),  # the day after does not exist
        ({**DAY, "group_by": "department"}, "group_by"),
        ({**DAY, "format": "xml"}, "format"),
    ],
)
async def test_bad_parameters_are_400_in_open311_format(
    client: Client, params: dict[str, str], field: str
) -> None:
    resp = await client.get("/api/v1/kpis", params=params, headers=auth("supervisor"))
    assert resp.status == 400
    body = await resp.json()
    assert [e["code"] for e in body] == [400]
    assert body[0]["description"].startswith(f"{field}: ")


async def test_a_leap_year_of_366_days_is_allowed(client: Client) -> None:
    params = {"from": "2024-01-01", "to": "2024-12-31"}
    resp = await client.get("/api/v1/kpis", params=params, headers=auth("supervisor"))
    assert resp.status == 200
    assert (await resp.json())["to"] == "2025-01-01T00:00:00Z"

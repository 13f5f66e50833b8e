"""mySociety's servicerequestupdates: staff post status changes over Open311 and the public
feed shows them, each once, in the extended lower-case vocabulary."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from ticket_service.clock import FakeClock
from ticket_service.context import Context
from ticket_service.domain import history, tickets
from ticket_service.domain.statuses import Status
from ticket_service.domain.views import iso

from .conftest import BOTH_BACKENDS, KEYS, START
from .open311_schemas import ERRORS, ONE_REQUEST, POST_UPDATE, UPDATES, call, post_report, url

Client = TestClient[web.Request, web.Application]


def update_form(number: str, update_id: str, status: str, **fields: str) -> dict[str, str]:
    return {
        "api_key": KEYS["agent"],
        "service_request_id": number,
        "update_id": update_id,
        "status": status,
        "updated_datetime": "2026-03-01T12:00:00+03:00",
        "description": f"{status} by the field team",
        **fields,
    }


async def post_update(
    client: Client, number: str, update_id: str, status: str, **fields: str
) -> str:
    body = await call(
        client,
        "POST",
        "servicerequestupdates",
        "json",
        POST_UPDATE,
        200,
        data=update_form(number, update_id, status, **fields),
    )
    update: str = body[0]["update_id"]
    return update


async def feed(client: Client, fmt: str = "json", **params: str) -> list[dict[str, Any]]:
    body: list[dict[str, Any]] = await call(
        client, "GET", "servicerequestupdates", fmt, UPDATES, 200, params=params
    )
    return body


async def public_status(client: Client, number: str) -> tuple[str, str | None]:
    body = await call(client, "GET", f"requests/{number}", "json", ONE_REQUEST, 200)
    return body[0]["status"], body[0]["status_notes"]


async def test_a_status_change_shows_in_the_feed_and_on_the_request(
    client: Client, clock: FakeClock
) -> None:
    number = await post_report(client, 0)
    clock.advance(timedelta(hours=2))
    first = await post_update(
        client, number, "fms-1", "INVESTIGATING", media_url="https://example.org/site.jpg"
    )
    assert await public_status(client, number) == ("open", "INVESTIGATING by the field team")
    clock.advance(timedelta(hours=3))
    second = await post_update(client, number, "fms-2", "FIXED")
    assert await public_status(client, number) == ("closed", "FIXED by the field team")

    for fmt in ("json", "xml"):
        updates = await feed(client, fmt)
        assert [(u["status"], u["updated_datetime"]) for u in updates] == [
            ("open", iso(START)),
            ("in_progress", iso(START + timedelta(hours=2))),
            ("fixed", iso(START + timedelta(hours=5))),
        ]
        assert [u["update_id"] for u in updates[1:]] == [first, second]
        assert {u["service_request_id"] for u in updates} == {number}
        assert updates[1]["media_url"] == "https://example.org/site.jpg"
        assert updates[2]["description"] == "FIXED by the field team"


@pytest.mark.parametrize(
    ("status", "shown"),
    [
        ("CLOSED", "fixed"),
        ("DUPLICATE", "duplicate"),
        ("NOT_COUNCILS_RESPONSIBILITY", "not_councils_responsibility"),
        ("NO_FURTHER_ACTION", "no_further_action"),
        ("CANCELLED", "no_further_action"),
        ("action_scheduled", "in_progress"),
    ],
)
async def test_extended_statuses_map_onto_the_lifecycle(
    client: Client, status: str, shown: str
) -> None:
    number = await post_report(client, 0)
    await post_update(client, number, "u", status)
    assert (await feed(client))[-1]["status"] == shown


async def test_replaying_an_update_id_applies_it_once(client: Client, ctx: Context) -> None:
    number = await post_report(client, 0)
    first = await post_update(client, number, "fms-77", "IN_PROGRESS")
    again = await post_update(client, number, "fms-77", "IN_PROGRESS", description="resent")
    assert again == first
    async with ctx.db.read() as conn:
        ticket = await tickets.get(conn, number)
        kinds = [h["kind"] for h in await history.history(conn, ticket["id"])]
    assert kinds == ["created", "status"]
    assert [u["status"] for u in await feed(client)] == ["open", "in_progress"]
    # the same client id on another ticket is another update
    other = await post_report(client, 1)
    assert await post_update(client, other, "fms-77", "IN_PROGRESS") != first


@BOTH_BACKENDS
async def test_concurrent_replays_of_one_update_apply_it_once(client: Client, ctx: Context) -> None:
    number = await post_report(client, 0)

    async def send() -> tuple[int, Any]:
        response = await client.post(
            url("servicerequestupdates", "json"), data=update_form(number, "twin", "FIXED")
        )
        return response.status, await response.json()

    results = await asyncio.gather(*(send() for _ in range(4)))
    assert {status for status, _ in results} == {200}
    assert len({body[0]["update_id"] for _, body in results}) == 1
    assert [u["status"] for u in await feed(client)] == ["open", "fixed"]


async def test_a_move_the_state_forbids_is_a_400_not_a_409(client: Client) -> None:
    number = await post_report(client, 0)
    await post_update(client, number, "a", "FIXED")
    for fmt in ("json", "xml"):
        errors = await call(
            client,
            "POST",
            "servicerequestupdates",
            fmt,
            ERRORS,
            400,
            data=update_form(number, "b", "NO_FURTHER_ACTION"),
        )
        assert errors == [
            {"code": 400, "description": f"status: ticket {number} cannot go from closed to closed"}
        ]


async def test_open_or_reopen_on_a_closed_request_reopens_it(client: Client) -> None:
    number = await post_report(client, 0)
    await post_update(client, number, "a", "FIXED")
    await post_update(client, number, "b", "OPEN")
    assert (await public_status(client, number))[0] == "open"
    await post_update(client, number, "c", "FIXED")
    await post_update(client, number, "d", "REOPEN")
    assert [u["status"] for u in await feed(client)] == [
        "open",
        "fixed",
        "reopen",
        "fixed",
        "reopen",
    ]
    errors = await call(
        client,
        "POST",
        "servicerequestupdates",
        "json",
        ERRORS,
        400,
        data=update_form(number, "e", "REOPEN"),
    )
    assert (
        errors[0]["description"]
        == f"status: ticket {number} is not closed, so it cannot be reopened"
    )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"status": "TELEPORTED"}, "status: must be one of "),
        ({"status": ""}, "status: required"),
        ({"updated_datetime": ""}, "updated_datetime: required"),
        (
            {"updated_datetime": "2026-03-01 12:00"},
            "updated_datetime: must be a W3C date-time with a timezone, e.g. 2026-03-01T00:00:00Z",
        ),
        ({"description": " "}, "description: required"),
        ({"description": "x" * 4001}, "description: at most 4000 characters"),
        ({"update_id": ""}, "update_id: required"),
        (
            {"media_url": "ftp://example.org/a.jpg"},
            "media_url: must be an http(s) URL of at most 2048 characters",
        ),
    ],
)
async def test_bad_update_fields_are_400(
    client: Client, fields: dict[str, str], message: str
) -> None:
    number = await post_report(client, 0)
    errors = await call(
        client,
        "POST",
        "servicerequestupdates",
        "json",
        ERRORS,
        400,
        data={**update_form(number, "u", "FIXED"), **fields},
    )
    assert len(errors) == 1 and errors[0]["description"].startswith(message)


@pytest.mark.parametrize(
    ("role", "status"),
    [("agent", 200), ("supervisor", 200), ("admin", 200), ("hub", 403), ("satisfaction", 403)],
)
async def test_who_may_post_updates(client: Client, role: str, status: int) -> None:
    number = await post_report(client, 0)
    data = {**update_form(number, "u", "IN_PROGRESS"), "api_key": KEYS[role]}
    await call(
        client,
        "POST",
        "servicerequestupdates",
        "json",
        POST_UPDATE if status == 200 else ERRORS,
        status,
        data=data,
    )


async def test_the_feed_filters_on_update_time_and_hides_internal_notes(
    client: Client, ctx: Context, clock: FakeClock
) -> None:
    number = await post_report(client, 0)  # created at START
    clock.advance(timedelta(days=10))
    await tickets.change_status(
        ctx, number, status=Status.IN_PROGRESS, note="staff only", actor="agent", internal=True
    )
    clock.advance(timedelta(days=1))
    await post_update(client, number, "late", "FIXED")

    assert [u["status"] for u in await feed(client)] == ["open", "fixed"]
    since = {"start_date": iso(START + timedelta(days=5)) or ""}
    assert [u["status"] for u in await feed(client, **since)] == ["fixed"]
    until = {"end_date": iso(START + timedelta(days=5)) or ""}
    assert [u["status"] for u in await feed(client, "xml", **until)] == ["open"]
    body = await (await client.get(url("servicerequestupdates", "xml"))).text()
    assert "staff only" not in body

    clock.set(START + timedelta(days=90, hours=1))  # the default window is the last 90 days
    assert [u["status"] for u in await feed(client)] == ["fixed"]

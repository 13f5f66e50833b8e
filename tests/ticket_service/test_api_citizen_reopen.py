"""The citizen's own reopen ("still not fixed", from the closure survey) over /api/v1: the hub
names the citizen, and only the one who filed the closed report (or a linked identity) may."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ticket_service.context import Context
from ticket_service.db.schema import outbox_events

from .api_support import OMAR, SARA, Client, call, contact_of, descriptions, move, number_of, report
from .conftest import BOTH_BACKENDS


def reopen_path(number: str) -> str:
    return f"/api/v1/requests/{number}/reopen"


def as_citizen(person: dict[str, str], note: str | None = None) -> dict[str, Any]:
    return {**contact_of(person), "note": note}


async def status_events(ctx: Context, number: str) -> list[dict[str, Any]]:
    async with ctx.db.read() as conn:
        rows = await conn.execute(
            select(outbox_events.c.payload)
            .where(outbox_events.c.type == "ticket.status_changed")
            .order_by(outbox_events.c.id)
        )
        return [r.payload for r in rows if r.payload["ticket"]["service_request_id"] == number]


async def closed_report(client: Client, body: dict[str, Any] | None = None) -> str:
    number = await number_of(client, body)
    await move(client, number, "closed", resolution="fixed", note="تم ردم الحفرة")
    return number


@BOTH_BACKENDS
async def test_the_reporter_reopens_their_closed_report(client: Client, ctx: Context) -> None:
    number = await closed_report(client)
    note = "المشكلة ما انحلت، الحفرة على حالها"

    code, data = await call(client, "POST", reopen_path(number), "hub", as_citizen(SARA, note))

    assert code == 200, data
    assert data["ticket"]["status"] == "open" and data["ticket"]["resolution"] is None
    assert "conversation_id" not in data["ticket"]  # the hub's view: no personal data
    _, staff = await call(client, "GET", f"/api/v1/requests/{number}", "agent")
    row = staff["history"][-1]
    assert (row["kind"], row["status"], row["actor"]) == ("reopen", "reopen", "whatsapp")
    assert row["update_id"] == data["update_id"]
    assert row["note"] is None and row["data"] == {"citizen_note": note}  # not in public feeds
    events = await status_events(ctx, number)
    assert len(events) == 1
    event = events[0]
    assert event["data"]["reopened"] is True
    assert (event["data"]["from_status"], event["data"]["to_status"]) == ("closed", "open")
    assert [r["channel_user_id"] for r in event["recipients"]] == [SARA["channel_user_id"]]


async def test_a_linked_identity_of_the_reporter_may_reopen(client: Client) -> None:
    number = await closed_report(client)
    sara_on_telegram = {"channel": "telegram", "channel_user_id": "70100"}
    for identity in (SARA, sara_on_telegram):  # the same verified phone links them
        body = {**contact_of(identity), "phone": SARA["phone"]}
        code, data = await call(client, "POST", "/api/v1/contacts/verify", "hub", body)
        assert code == 200, data

    code, data = await call(client, "POST", reopen_path(number), "hub", sara_on_telegram)

    assert code == 200, data
    assert data["ticket"]["status"] == "open"


async def test_anyone_else_is_refused_and_nothing_changes(client: Client, ctx: Context) -> None:
    number = await closed_report(client)
    await call(client, "POST", "/api/v1/contacts", "hub", OMAR)  # a known, different citizen
    strangers = [OMAR, {"channel": "whatsapp", "channel_user_id": "966599999999"}]  # and unknown

    for stranger in strangers:
        code, errors = await call(client, "POST", reopen_path(number), "hub", as_citizen(stranger))
        assert code == 403, stranger
        assert "only the citizen who filed the report can reopen it" in descriptions(errors)

    _, data = await call(client, "GET", f"/api/v1/requests/{number}", "agent")
    assert data["ticket"]["status"] == "closed"
    assert data["history"][-1]["kind"] == "status"
    assert await status_events(ctx, number) == []


async def test_a_follower_of_the_report_is_no_reporter(client: Client) -> None:
    number = await number_of(client)  # open: a second report nearby joins it
    joined = await call(client, "POST", "/api/v1/requests", "hub", report(reporter=OMAR))
    assert joined[0] == 200 and joined[1]["duplicate"] is True
    await move(client, number, "closed", resolution="fixed")

    code, errors = await call(client, "POST", reopen_path(number), "hub", as_citizen(OMAR))

    assert code == 403 and "only the citizen who filed" in descriptions(errors)


async def test_an_open_ticket_or_another_kind_cannot_be_reopened_by_the_citizen(
    client: Client,
) -> None:
    number = await number_of(client)
    code, errors = await call(client, "POST", reopen_path(number), "hub", as_citizen(SARA))
    assert code == 409 and "not closed" in descriptions(errors)

    complaint = await number_of(
        client, {"kind": "complaint", "description": "موظف غير متعاون", "channel": "whatsapp",
                 "reporter": SARA},
    )  # fmt: skip
    await move(client, complaint, "closed", role="satisfaction", resolution="fixed")
    code, errors = await call(client, "POST", reopen_path(complaint), "hub", as_citizen(SARA))
    assert code == 409 and "no report" in descriptions(errors)


async def test_the_hub_must_name_the_citizen(client: Client) -> None:
    number = await closed_report(client)
    for body in ({}, {"note": "still broken"}, {"channel": "whatsapp"}, {"channel": "x" * 40}):
        code, errors = await call(client, "POST", reopen_path(number), "hub", body)
        assert code == 400, body
        assert "channel" in descriptions(errors)
    code, errors = await call(
        client, "POST", reopen_path(number), "hub", as_citizen(SARA, "ب" * 1001)
    )
    assert code == 400 and "note: at most 1000" in descriptions(errors)


async def test_unknown_numbers_are_404_for_the_hub_too(client: Client) -> None:
    code, _ = await call(client, "POST", reopen_path("123456789"), "hub", as_citizen(SARA))
    assert code == 404


async def test_staff_reopen_is_unchanged_and_needs_no_citizen(client: Client) -> None:
    number = await closed_report(client)
    note = "المواطن أفاد هاتفياً أن المشكلة مستمرة"

    code, data = await call(client, "POST", reopen_path(number), "supervisor", {"note": note})

    assert code == 200, data
    assert data["ticket"]["status"] == "open" and data["ticket"]["status_notes"] == note
    _, staff = await call(client, "GET", f"/api/v1/requests/{number}", "agent")
    assert staff["history"][-1]["actor"].startswith("supervisor:")
    assert staff["history"][-1]["note"] == note

"""Follow-ups over /api/v1: filed for a ticket, escalate it at once, worked by Beneficiary
Satisfaction to an outcome."""

from __future__ import annotations

from datetime import timedelta

from ticket_service.clock import FakeClock

from .api_support import OMAR, SARA, Client, call, descriptions, number_of
from .conftest import BOTH_BACKENDS

VOICEMAIL = "https://media.example.sa/voicemail/8812.wav"


def followup_body(person: dict[str, str] = SARA, **extra: object) -> dict[str, object]:
    return {
        "channel": person["channel"],
        "text": "لم يتواصل معي أحد منذ أسبوع",
        "reporter": {"channel": person["channel"], "channel_user_id": person["channel_user_id"]},
        **extra,
    }


async def _queue(client: Client, status: str) -> list[str]:
    code, data = await call(client, "GET", f"/api/v1/followups?status={status}", "satisfaction")
    assert code == 200, data
    return [f["reference"] for f in data["followups"]]


async def _level(client: Client, number: str) -> int:
    code, data = await call(client, "GET", f"/api/v1/requests/{number}", "agent")
    assert code == 200
    return int(data["ticket"]["escalation_level"])


@BOTH_BACKENDS
async def test_a_followup_is_queued_for_satisfaction_and_escalates_the_ticket(
    client: Client, clock: FakeClock
) -> None:
    number = await number_of(client)
    clock.advance(timedelta(hours=5))
    assert await _level(client, number) == 0

    code, fu = await call(
        client,
        "POST",
        f"/api/v1/requests/{number}/followups",
        "hub",
        followup_body(voicemail_url=VOICEMAIL),
    )
    assert code == 201, fu
    assert len(fu["reference"]) == 10 and fu["reference"].isdigit()
    assert fu["service_request_id"] == number
    assert fu["status"] == "open"
    assert fu["created_datetime"] == "2026-03-01T14:00:00Z"
    assert fu["due_datetime"] == "2026-03-02T14:00:00Z"  # 24 h
    assert fu["voicemail_url"] == VOICEMAIL
    assert await _level(client, number) == 1
    assert fu["reference"] in await _queue(client, "open")

    code, data = await call(
        client,
        "POST",
        f"/api/v1/followups/{fu['reference']}/contact",
        "satisfaction",
        {"note": "اتصلنا بالمواطنة ووعدناها بالإصلاح"},
    )
    assert code == 200 and data["status"] == "contacted"
    assert fu["reference"] in await _queue(client, "contacted")

    code, data = await call(
        client,
        "POST",
        f"/api/v1/followups/{fu['reference']}/close",
        "satisfaction",
        {"outcome": "resolved", "note": "تم الإصلاح"},
    )
    assert code == 200
    assert data["status"] == "closed" and data["outcome"] == "resolved"
    assert fu["reference"] not in await _queue(client, "open")
    assert fu["reference"] in await _queue(client, "closed")

    code, data = await call(
        client,
        "POST",
        f"/api/v1/followups/{fu['reference']}/close",
        "satisfaction",
        {"outcome": "resolved"},
    )
    assert code == 409 and "already closed" in descriptions(data)

    code, data = await call(client, "GET", f"/api/v1/requests/{number}/history", "supervisor")
    kinds = [r["kind"] for r in data["history"]]
    assert kinds == ["created", "followup", "escalation", "followup_contact", "followup_closed"]


@BOTH_BACKENDS
async def test_a_retried_followup_with_the_same_key_is_one_followup(client: Client) -> None:
    number = await number_of(client)
    headers = {"Idempotency-Key": "fu-retry-1"}
    path = f"/api/v1/requests/{number}/followups"
    _, first = await call(client, "POST", path, "hub", followup_body(), headers)
    code, again = await call(client, "POST", path, "hub", followup_body(), headers)
    assert code == 201 and again["reference"] == first["reference"]
    assert await _queue(client, "open") == [first["reference"]]
    assert await _level(client, number) == 1


@BOTH_BACKENDS
async def test_the_hub_files_only_for_the_reporter_or_a_follower(client: Client) -> None:
    number = await number_of(client)
    path = f"/api/v1/requests/{number}/followups"
    code, errors = await call(client, "POST", path, "hub", followup_body(OMAR))
    assert code == 404 and "not found" in descriptions(errors)
    code, errors = await call(client, "POST", path, "hub", {"channel": "whatsapp", "text": "hi"})
    assert code == 400 and "reporter" in descriptions(errors)
    # an agent on the phone may file for anyone
    code, _ = await call(client, "POST", path, "agent", {"channel": "voice", "text": "اتصل"})
    assert code == 201
    assert await _queue(client, "open") != []


async def test_bad_followup_inputs(client: Client) -> None:
    number = await number_of(client)
    path = f"/api/v1/requests/{number}/followups"
    code, errors = await call(
        client, "POST", path, "hub", followup_body(voicemail_url="javascript:alert(1)")
    )
    assert code == 400 and "voicemail_url" in descriptions(errors)
    code, _ = await call(
        client, "POST", "/api/v1/requests/123456789/followups", "agent", {"channel": "voice"}
    )
    assert code == 404
    code, errors = await call(client, "GET", "/api/v1/followups?status=lost", "satisfaction")
    assert code == 400 and "status: must be one of" in descriptions(errors)
    code, errors = await call(client, "GET", "/api/v1/followups?page_size=0", "satisfaction")
    assert code == 400 and "page_size" in descriptions(errors)
    code, _ = await call(
        client, "POST", "/api/v1/followups/1234567890/contact", "satisfaction", {"note": "x"}
    )
    assert code == 404

    _, fu = await call(client, "POST", path, "hub", followup_body())
    code, errors = await call(
        client,
        "POST",
        f"/api/v1/followups/{fu['reference']}/close",
        "satisfaction",
        {"outcome": "forgotten"},
    )
    assert code == 400 and "outcome: must be one of" in descriptions(errors)
    code, errors = await call(
        client, "POST", f"/api/v1/followups/{fu['reference']}/contact", "satisfaction", {}
    )
    assert code == 400 and "note: required" in descriptions(errors)


async def test_the_queue_pages_oldest_due_first(client: Client, clock: FakeClock) -> None:
    number = await number_of(client)
    refs = []
    for _ in range(3):
        _, fu = await call(
            client, "POST", f"/api/v1/requests/{number}/followups", "hub", followup_body()
        )
        refs.append(fu["reference"])
        clock.advance(timedelta(minutes=10))
    code, data = await call(client, "GET", "/api/v1/followups?page=1&page_size=2", "supervisor")
    assert code == 200 and [f["reference"] for f in data["followups"]] == refs[:2]
    code, data = await call(client, "GET", "/api/v1/followups?page=2&page_size=2", "supervisor")
    assert [f["reference"] for f in data["followups"]] == refs[2:]

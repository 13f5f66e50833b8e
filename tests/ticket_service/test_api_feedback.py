"""Closure surveys and ratings over /api/v1."""

from __future__ import annotations

from typing import Any

import pytest

from .api_support import OMAR, SARA, Client, call, contact_of, descriptions, move, number_of
from .conftest import BOTH_BACKENDS


def survey(person: dict[str, str] = SARA, **extra: Any) -> dict[str, Any]:
    return {
        **contact_of(person),
        "quality": 5,
        "speed": 4,
        "comment": "شكراً، تم الإصلاح بسرعة",
        **extra,
    }


@BOTH_BACKENDS
async def test_the_reporter_answers_the_survey_once_after_closure(client: Client) -> None:
    number = await number_of(client)
    await call(client, "POST", "/api/v1/contacts", "hub", OMAR)  # a known, different citizen
    path = f"/api/v1/requests/{number}/survey"

    code, errors = await call(client, "POST", path, "hub", survey())
    assert code == 409 and "not closed yet" in descriptions(errors)

    await move(client, number, "closed", resolution="fixed", note="تم الإصلاح")
    code, errors = await call(client, "POST", path, "hub", survey(OMAR))
    assert code == 403 and "only the citizen who filed" in descriptions(errors)

    code, data = await call(client, "POST", path, "hub", survey())
    assert code == 201, data
    assert data == {
        "service_request_id": number,
        "quality": 5,
        "speed": 4,
        "comment": "شكراً، تم الإصلاح بسرعة",
        "satisfied": True,
        "created_datetime": "2026-03-01T09:00:00Z",
    }
    code, errors = await call(client, "POST", path, "hub", survey(quality=1, speed=1))
    assert code == 409 and "already answered" in descriptions(errors)

    _, data = await call(client, "GET", f"/api/v1/requests/{number}/history", "agent")
    assert data["history"][-1]["kind"] == "survey"


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"quality": 0}, "quality: must be between 1 and 5"),
        ({"speed": 6}, "speed: must be between 1 and 5"),
        ({"quality": 4.5}, "quality: must be a whole number"),
        ({"quality": None}, "quality: required"),
        ({"comment": "ب" * 1001}, "comment: at most 1000"),
        ({"channel_user_id": None}, "channel_user_id: required"),
    ],
)
async def test_survey_answers_out_of_range_are_400(
    client: Client, changes: dict[str, Any], fragment: str
) -> None:
    number = await number_of(client)
    await move(client, number, "closed", resolution="fixed")
    code, errors = await call(
        client, "POST", f"/api/v1/requests/{number}/survey", "hub", survey(**changes)
    )
    assert code == 400 and fragment in descriptions(errors)


async def test_only_reports_have_a_survey(client: Client) -> None:
    body = {
        "kind": "inquiry",
        "description": "متى تفتح البلدية؟",
        "channel": "whatsapp",
        "reporter": SARA,
    }
    _, data = await call(client, "POST", "/api/v1/requests", "hub", body)
    number = data["ticket"]["service_request_id"]
    await move(client, number, "closed", resolution="fixed")
    code, errors = await call(client, "POST", f"/api/v1/requests/{number}/survey", "hub", survey())
    assert code == 409 and "only reports" in descriptions(errors)


@pytest.mark.parametrize("score", [1, 2, 3, 4, 5])
async def test_ratings_one_to_five_are_stored(client: Client, score: int) -> None:
    body = {
        "kind": "agent_service",
        "score": score,
        "conversation_id": "whatsapp:966500000001",
        "agent_id": "agent-17",
        "channel": "whatsapp",
    }
    code, data = await call(client, "POST", "/api/v1/ratings", "agent", body)
    assert code == 201, data
    assert data["score"] == score and data["kind"] == "agent_service"
    assert data["agent_id"] == "agent-17" and data["rating_id"]


async def test_a_retried_rating_is_stored_once(client: Client, ctx: Any) -> None:
    from sqlalchemy import func, select

    from ticket_service.db.schema import ratings

    body = {"kind": "answer", "score": 4, "conversation_id": "telegram:77", "channel": "telegram"}
    key = {"Idempotency-Key": "rating-telegram-77-turn-12"}
    first = await call(client, "POST", "/api/v1/ratings", "hub", body, key)
    again = await call(client, "POST", "/api/v1/ratings", "hub", body, key)
    assert first[0] == again[0] == 201
    assert first[1]["rating_id"] == again[1]["rating_id"]
    async with ctx.db.read() as conn:
        assert (await conn.execute(select(func.count()).select_from(ratings))).scalar_one() == 1


@BOTH_BACKENDS
async def test_a_rating_can_name_its_ticket(client: Client) -> None:
    number = await number_of(client)
    body = {
        "kind": "answer",
        "score": 4,
        "conversation_id": "c1",
        "channel": "webchat",
        "service_request_id": number,
    }
    code, data = await call(client, "POST", "/api/v1/ratings", "hub", body)
    assert code == 201 and data["service_request_id"] == number
    code, _ = await call(
        client, "POST", "/api/v1/ratings", "hub", {**body, "service_request_id": "123456789"}
    )
    assert code == 404


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"score": 0}, "score: must be between 1 and 5"),
        ({"score": 6}, "score: must be between 1 and 5"),
        ({"score": True}, "score: must be a whole number"),
        ({"kind": "vibes"}, "kind: must be one of agent_service, answer"),
        ({"conversation_id": None}, "conversation_id: required"),
        ({"channel": "c" * 33}, "channel: at most 32"),
    ],
)
async def test_bad_ratings_are_400(client: Client, changes: dict[str, Any], fragment: str) -> None:
    body = {"kind": "answer", "score": 3, "conversation_id": "c1", "channel": "whatsapp", **changes}
    code, errors = await call(client, "POST", "/api/v1/ratings", "hub", body)
    assert code == 400 and fragment in descriptions(errors)

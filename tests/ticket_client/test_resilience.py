"""Retries, idempotency, timeouts and error mapping, against the real service behind a
fault-injecting proxy: a retried create files one ticket, a 4xx is never repeated, 5xx and
unreachable services end in ServiceUnavailable after the configured attempts."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import select

from tests.services import free_port
from tests.ticket_client.conftest import FAST_RETRY, config_for, ticket_count, url_of
from tests.ticket_client.proxy import Fault, FaultProxy
from tests.ticket_service.conftest import BOTH_BACKENDS
from ticket_client import (
    BadRequest,
    Contact,
    Forbidden,
    InvalidResponse,
    NotFound,
    Open311Client,
    RetryPolicy,
    ServiceUnavailable,
    TawasulClient,
    TicketClientError,
)
from ticket_service.context import Context
from ticket_service.db.schema import tickets

CITIZEN = Contact("whatsapp", "966500000001", name="Fatimah", phone="+966500000001", language="ar")
DAMMAM = {"lat": 26.4126, "long": 50.0645}
CREATE = "/api/v1/requests"


def report(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "kind": "report",
        "service_code": "pothole",
        "description": "حفرة كبيرة أمام المدرسة",
        "channel": "whatsapp",
        "reporter": CITIZEN,
        **DAMMAM,
    }
    fields.update(overrides)
    return fields


def via(
    proxy: FaultProxy, http: aiohttp.ClientSession, role: str = "hub", **kw: Any
) -> TawasulClient:
    return TawasulClient(http, config_for(proxy.url, role, **kw))


async def numbers_in_db(ctx: Context) -> list[str]:
    async with ctx.db.read() as conn:
        return [str(n) for n in (await conn.execute(select(tickets.c.number))).scalars()]


@BOTH_BACKENDS
@pytest.mark.parametrize(
    ("fault", "attempt_timeout"),
    [(Fault.LOSE_ANSWER, 5.0), (Fault.CUT_AFTER, 5.0), (Fault.STALL_AFTER, 0.3)],
)
async def test_a_create_whose_answer_is_lost_is_retried_and_files_one_ticket(
    proxy: FaultProxy,
    http: aiohttp.ClientSession,
    ctx: Context,
    fault: Fault,
    attempt_timeout: float,
) -> None:
    proxy.stall_seconds = 10.0
    proxy.will(fault)  # the service files the ticket, the client never hears about it
    client = via(proxy, http, timeout=attempt_timeout)

    result = await client.create(**report())

    posts = proxy.requests_to("POST", CREATE)
    assert len(posts) == 2
    keys = {p.headers["Idempotency-Key"] for p in posts}
    assert len(keys) == 1 and keys != {""}
    # The service answered both: one filed the ticket (201), the other replayed it (200).
    # (Which one is which can race when the first attempt timed out while still running.)
    answers = sorted(
        ((status, json.loads(body)) for status, body in proxy.service_answers), key=lambda a: a[0]
    )
    assert [status for status, _ in answers] == [200, 201]
    assert [body["replayed"] for _, body in answers] == [True, False]
    numbers = {body["ticket"]["service_request_id"] for _, body in answers}
    assert numbers == {result.ticket.service_request_id}
    assert result.duplicate is False
    assert await numbers_in_db(ctx) == [result.ticket.service_request_id]


async def test_open311_create_retried_after_a_lost_answer_files_one_ticket(
    proxy: FaultProxy, http: aiohttp.ClientSession, ctx: Context
) -> None:
    proxy.will(Fault.LOSE_ANSWER)
    client = Open311Client(http, config_for(proxy.url, "hub"))

    receipt = await client.create_request("streetlight", lat=26.43, long=50.1, description="dark")

    posts = proxy.requests_to("POST", "/open311/v2/requests.json")
    assert len(posts) == 2
    assert posts[0].headers["Idempotency-Key"] == posts[1].headers["Idempotency-Key"]
    assert posts[0].body == posts[1].body  # the same form, api_key included, both times
    lost = json.loads(proxy.service_answers[0][1])[0]["service_request_id"]
    assert receipt.service_request_id == lost
    assert await numbers_in_db(ctx) == [lost]


async def test_a_callers_stable_key_survives_a_crash_and_a_fresh_call(
    proxy: FaultProxy, http: aiohttp.ClientSession, ctx: Context
) -> None:
    key = "whatsapp:wamid.HBgMOTY2NTAwMDAwMDAxFQIAERgS"
    first = await via(proxy, http).create(**report(), idempotency_key=key)
    # the hub crashed before acknowledging the message; a new process handles it again
    again = await via(proxy, http).create(**report(), idempotency_key=key)

    assert [p.headers["Idempotency-Key"] for p in proxy.requests_to("POST", CREATE)] == [key, key]
    assert again.ticket.service_request_id == first.ticket.service_request_id
    assert (first.replayed, again.replayed) == (False, True)
    assert await ticket_count(ctx) == 1


async def test_two_logical_creates_get_different_keys(
    proxy: FaultProxy, http: aiohttp.ClientSession
) -> None:
    client = via(proxy, http)
    await client.create(**report())
    await client.create(**report(kind="complaint", service_code=None, lat=None, long=None))
    keys = [p.headers["Idempotency-Key"] for p in proxy.requests_to("POST", CREATE)]
    assert len(set(keys)) == 2


@pytest.mark.parametrize(
    ("overrides", "role", "error", "status"),
    [
        ({"service_code": "no_such_service"}, "hub", NotFound, 404),
        ({"lat": 123.0, "description": "x" * 4001}, "hub", BadRequest, 400),
        ({}, "supervisor", Forbidden, 403),  # supervisors may not file requests
    ],
)
async def test_a_4xx_is_never_retried(
    proxy: FaultProxy,
    http: aiohttp.ClientSession,
    ctx: Context,
    overrides: dict[str, Any],
    role: str,
    error: type[Exception],
    status: int,
) -> None:
    with pytest.raises(error) as caught:
        await via(proxy, http, role).create(**report(**overrides))
    assert len(proxy.seen) == 1
    assert getattr(caught.value, "status", None) == status
    assert await ticket_count(ctx) == 0


async def test_bad_request_lists_every_open311_error(
    proxy: FaultProxy, http: aiohttp.ClientSession
) -> None:
    with pytest.raises(BadRequest) as caught:
        await via(proxy, http).create(**report(lat=123.0, description="x" * 4001))
    by_field = {e.field: e.description for e in caught.value.errors}
    assert set(by_field) == {"lat", "description"}
    assert "4000" in by_field["description"]
    assert all(e.code == 400 for e in caught.value.errors)
    assert len(caught.value.descriptions) == 2


async def test_5xx_is_retried_up_to_the_limit_then_service_unavailable(
    proxy: FaultProxy, http: aiohttp.ClientSession, ctx: Context
) -> None:
    proxy.will(Fault.UNAVAILABLE, Fault.UNAVAILABLE, Fault.UNAVAILABLE, Fault.UNAVAILABLE)
    with pytest.raises(ServiceUnavailable) as caught:
        await via(proxy, http).create(**report())
    assert len(proxy.seen) == FAST_RETRY.attempts == 3
    assert caught.value.status == 503
    assert caught.value.descriptions == ("maintenance in progress",)
    assert await ticket_count(ctx) == 0


@pytest.mark.parametrize("failures", [1, 2])
async def test_5xx_then_success_returns_the_answer(
    proxy: FaultProxy, http: aiohttp.ClientSession, ctx: Context, failures: int
) -> None:
    proxy.will(*[Fault.UNAVAILABLE] * failures)
    result = await via(proxy, http).create(**report())
    assert len(proxy.seen) == failures + 1
    assert result.replayed is False  # the 503s never reached the service
    assert await numbers_in_db(ctx) == [result.ticket.service_request_id]
    proxy.will(Fault.UNAVAILABLE)
    listed = await via(proxy, http).contact_tickets(CITIZEN.channel, CITIZEN.channel_user_id)
    assert [t.service_request_id for t in listed] == [result.ticket.service_request_id]


async def test_retry_after_is_honoured_up_to_the_backoff_cap(
    proxy: FaultProxy, http: aiohttp.ClientSession
) -> None:
    proxy.will(Fault.BUSY)  # asks for 5 s; the policy caps every wait at 0.3 s
    retry = RetryPolicy(attempts=2, backoff_base=0.001, backoff_max=0.3)
    started = time.monotonic()
    await via(proxy, http, retry=retry).contact_tickets("whatsapp", "966500000001")
    assert len(proxy.seen) == 2
    assert 0.3 <= time.monotonic() - started < 2.5


async def test_429_is_not_retried_and_reads_as_unavailable(
    proxy: FaultProxy, http: aiohttp.ClientSession
) -> None:
    proxy.will(Fault.THROTTLED)
    with pytest.raises(ServiceUnavailable) as caught:
        await via(proxy, http).create(**report())
    assert caught.value.status == 429 and len(proxy.seen) == 1


async def test_an_unreadable_2xx_answer_is_an_invalid_response(
    proxy: FaultProxy, http: aiohttp.ClientSession
) -> None:
    proxy.will(Fault.GARBAGE)
    with pytest.raises(InvalidResponse):
        await via(proxy, http).contact_tickets("whatsapp", "966500000001")
    assert len(proxy.seen) == 1


async def test_connection_refused_ends_in_service_unavailable_after_every_attempt(
    http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    retry = RetryPolicy(attempts=3, backoff_base=0.1, backoff_max=1.0)
    client = TawasulClient(http, config_for(closed, "hub", retry=retry))
    started = time.monotonic()
    with (
        caplog.at_level(logging.WARNING, logger="ticket_client"),
        pytest.raises(ServiceUnavailable) as caught,
    ):
        await client.create(**report())
    assert isinstance(caught.value.__cause__, aiohttp.ClientConnectionError)
    assert "3 attempts" in caught.value.message
    retries = [r for r in caplog.records if r.name == "ticket_client"]
    assert [r.getMessage().split("attempt ")[1] for r in retries] == ["1 of 3", "2 of 3"]
    # backoff waited at least half of 0.1 s and half of 0.2 s between the attempts
    assert time.monotonic() - started >= 0.15


async def test_each_attempt_is_bounded_by_the_timeout(
    proxy: FaultProxy, http: aiohttp.ClientSession
) -> None:
    proxy.stall_seconds = 10.0
    proxy.will(Fault.STALL, Fault.STALL, Fault.STALL)
    client = via(proxy, http, timeout=0.2)
    started = time.monotonic()
    with pytest.raises(ServiceUnavailable) as caught:
        await client.contact_tickets("whatsapp", "966500000001")
    elapsed = time.monotonic() - started
    assert isinstance(caught.value.__cause__, TimeoutError)
    assert len(proxy.seen) == 3
    assert 0.6 <= elapsed < 2.0


async def test_a_slow_answer_within_the_timeout_is_not_retried(
    proxy: FaultProxy, http: aiohttp.ClientSession
) -> None:
    proxy.stall_seconds = 0.2
    proxy.will(Fault.STALL_AFTER)
    result = await via(proxy, http, timeout=2.0).create(**report())
    assert len(proxy.seen) == 1 and result.replayed is False


async def test_the_client_uses_only_the_injected_session(service: TestServer) -> None:
    session = aiohttp.ClientSession()
    client = TawasulClient(session, config_for(url_of(service), "hub"))
    await session.close()
    with pytest.raises(RuntimeError, match="Session is closed"):
        await client.contact_tickets("whatsapp", "966500000001")


async def test_a_malformed_base_url_is_a_client_error_not_a_crash(
    http: aiohttp.ClientSession,
) -> None:
    client = TawasulClient(http, config_for("http://[not-a-host", "hub"))
    with pytest.raises(TicketClientError) as caught:
        await client.contact_tickets("whatsapp", "966500000001")
    assert isinstance(caught.value.__cause__, aiohttp.ClientError)
    assert not isinstance(caught.value, ServiceUnavailable)

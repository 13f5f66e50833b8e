"""Helpers for the /api/v1 tests: file tickets and act as the hub, staff and citizens over HTTP."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from .conftest import auth

Client = TestClient[web.Request, web.Application]

# Citizens, as the hub knows them.
SARA = {
    "channel": "whatsapp",
    "channel_user_id": "966500000001",
    "name": "سارة القحطاني",
    "phone": "+966500000001",
    "language": "ar",
}
OMAR = {
    "channel": "telegram",
    "channel_user_id": "70001",
    "name": "Omar Haddad",
    "phone": "+966500000002",
    "language": "en",
}
DAMMAM = (26.4126, 50.0645)


def contact_of(person: dict[str, str]) -> dict[str, str]:
    return {"channel": person["channel"], "channel_user_id": person["channel_user_id"]}


def report(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "service_code": "pothole",
        "description": "حفرة كبيرة أمام المدرسة",
        "lat": DAMMAM[0],
        "long": DAMMAM[1],
        "channel": "whatsapp",
        "reporter": SARA,
    }
    body.update(overrides)
    return body


async def call(
    client: Client,
    method: str,
    path: str,
    role: str | None = "hub",
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    """(status, decoded JSON body)."""
    all_headers = {**(auth(role) if role else {}), **(headers or {})}
    kwargs: dict[str, Any] = {"headers": all_headers}
    if body is not None:
        kwargs["json"] = body
    resp = await client.request(method, path, **kwargs)
    return resp.status, await resp.json()


async def file(
    client: Client,
    body: dict[str, Any] | None = None,
    *,
    role: str = "hub",
    expect: int = 201,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """POST /api/v1/requests → the response body (``ticket``, ``duplicate``, ``replayed``)."""
    status, data = await call(client, "POST", "/api/v1/requests", role, body or report(), headers)
    assert status == expect, data
    assert isinstance(data, dict)
    return data


async def number_of(client: Client, body: dict[str, Any] | None = None) -> str:
    return str((await file(client, body))["ticket"]["service_request_id"])


async def move(
    client: Client,
    number: str,
    status: str,
    *,
    role: str = "agent",
    expect: int = 200,
    **extra: Any,
) -> Any:
    code, data = await call(
        client, "POST", f"/api/v1/requests/{number}/status", role, {"status": status, **extra}
    )
    assert code == expect, data
    return data


async def seed_tickets(client: Client) -> dict[str, str]:
    """An open and a closed ticket filed by SARA, and a follow-up on the open one."""
    open_no = await number_of(client)
    closed_no = await number_of(
        client,
        {
            "service_code": "waste",
            "lat": 26.43,
            "long": 50.07,
            "channel": "whatsapp",
            "reporter": SARA,
        },
    )
    await move(client, closed_no, "closed", resolution="fixed")
    _, fu = await call(
        client,
        "POST",
        f"/api/v1/requests/{open_no}/followups",
        "hub",
        {"channel": "whatsapp", "reporter": contact_of(SARA)},
    )
    return {"open": open_no, "closed": closed_no, "ref": fu["reference"]}


async def hub_view(client: Client, number: str, person: dict[str, str]) -> tuple[int, Any]:
    query = "channel={channel}&channel_user_id={channel_user_id}".format(**contact_of(person))
    return await call(client, "GET", f"/api/v1/requests/{number}?{query}", "hub")


async def my_tickets(client: Client, person: dict[str, str], role: str = "hub") -> list[str]:
    query = "channel={channel}&channel_user_id={channel_user_id}".format(**contact_of(person))
    status, data = await call(client, "GET", f"/api/v1/contacts/tickets?{query}", role)
    assert status == 200, data
    return [t["service_request_id"] for t in data["tickets"]]


def descriptions(errors: Any) -> str:
    """The Open311 error list as one string, for asserting on messages."""
    assert isinstance(errors, list) and errors, errors
    assert all(set(e) == {"code", "description"} for e in errors), errors
    return " | ".join(str(e["description"]) for e in errors)

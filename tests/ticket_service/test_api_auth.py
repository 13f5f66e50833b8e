"""Every /api/v1 endpoint needs an API key whose role may do the thing (admin may do anything)."""

from __future__ import annotations

from typing import Any

import pytest

from .api_support import SARA, Client, call, contact_of, seed_tickets
from .conftest import KEYS

ROLES = tuple(KEYS)
SARA_QUERY = "channel=whatsapp&channel_user_id=966500000001"
SURVEY = {**contact_of(SARA), "quality": 4, "speed": 4}

# (method, path, body, roles allowed besides admin). Paths name {open} and {closed} tickets of
# SARA's and {ref}, a follow-up on {open}. The satisfaction role's status changes (complaints
# only) are covered in test_api_requests.
ENDPOINTS: list[tuple[str, str, Any, tuple[str, ...]]] = [
    ("POST", "/api/v1/requests", {"kind": "inquiry", "channel": "webchat"}, ("hub", "agent")),
    (
        "GET",
        f"/api/v1/requests/{{open}}?{SARA_QUERY}",
        None,
        ("hub", "agent", "supervisor", "satisfaction"),
    ),
    ("GET", "/api/v1/requests/{open}/history", None, ("agent", "supervisor", "satisfaction")),
    ("POST", "/api/v1/requests/{open}/status", {"status": "in_progress"}, ("agent", "supervisor")),
    (
        "POST",
        "/api/v1/requests/{closed}/reopen",
        {"note": "still broken", **contact_of(SARA)},  # staff ignore the citizen
        ("agent", "supervisor", "hub"),
    ),
    (
        "POST",
        "/api/v1/requests/{open}/followups",
        {"channel": "whatsapp", "reporter": contact_of(SARA)},
        ("hub", "agent"),
    ),
    ("GET", "/api/v1/followups?status=open", None, ("satisfaction", "supervisor")),
    ("POST", "/api/v1/followups/{ref}/contact", {"note": "called"}, ("satisfaction",)),
    ("POST", "/api/v1/followups/{ref}/close", {"outcome": "resolved"}, ("satisfaction",)),
    ("POST", "/api/v1/requests/{closed}/survey", SURVEY, ("hub",)),
    (
        "POST",
        "/api/v1/ratings",
        {"kind": "answer", "score": 5, "conversation_id": "c1", "channel": "webchat"},
        ("hub", "agent"),
    ),
    ("POST", "/api/v1/escalations/run", {}, ()),
    ("GET", f"/api/v1/contacts/tickets?{SARA_QUERY}", None, ("hub", "agent")),
    ("POST", "/api/v1/contacts", {"channel": "telegram", "channel_user_id": "1"}, ("hub", "agent")),
    (
        "POST",
        "/api/v1/contacts/verify",
        {"channel": "telegram", "channel_user_id": "1", "phone": "+966500000009"},
        ("hub", "agent"),
    ),
]


@pytest.fixture
async def seeded(client: Client) -> dict[str, str]:
    return await seed_tickets(client)


@pytest.mark.parametrize(
    ("method", "path", "body", "allowed"),
    ENDPOINTS,
    ids=[f"{m} {p.split('?')[0]}" for m, p, _, _ in ENDPOINTS],
)
async def test_role_checks(
    client: Client,
    seeded: dict[str, str],
    method: str,
    path: str,
    body: Any,
    allowed: tuple[str, ...],
) -> None:
    url = path.format(**seeded)
    status, _ = await call(client, method, url, None, body)
    assert status == 403, "missing key"
    status, _ = await call(client, method, url, None, body, {"X-Api-Key": "not-a-key"})
    assert status == 403, "unknown key"
    status_change = path.endswith(("/status", "/reopen"))
    for role in ROLES:
        if role == "satisfaction" and status_change:
            continue  # allowed for complaints only (test_api_requests)
        if role not in allowed and role != "admin":
            status, errors = await call(client, method, url, role, body)
            assert status == 403, role
            assert f"the {role} role may not do this" in errors[0]["description"]
    first, *others = (*allowed, "admin")
    status, data = await call(client, method, url, first, body)
    assert 200 <= status < 300, (first, data)
    for role in others:  # the first call may have changed state (409 is fine, 403 is not)
        status, _ = await call(client, method, url, role, body)
        assert status != 403 and status < 500, role

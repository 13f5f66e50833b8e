"""No body, however wrong, makes a /api/v1 POST endpoint fail with a 5xx: it is the client's
mistake, answered with a 4xx in Open311's error format (or accepted when it happens to be valid)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .api_support import Client, seed_tickets
from .conftest import BOTH_BACKENDS, KEYS

FIELDS = (
    "kind",
    "service_code",
    "description",
    "lat",
    "long",
    "address",
    "address_string",
    "media_urls",
    "attributes",
    "channel",
    "conversation_id",
    "language",
    "agent_id",
    "reporter",
    "status",
    "resolution",
    "note",
    "internal",
    "text",
    "voicemail_url",
    "attachment_url",
    "channel_user_id",
    "quality",
    "speed",
    "comment",
    "score",
    "service_request_id",
    "outcome",
    "phone",
    "email",
    "name",
    "phone_verified",
    "email_verified",
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
    | st.sampled_from(["", "closed", "fixed", "report", "pothole", "resolved", "https://x.sa/a"])
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
# Bodies that use our field names (so validation runs deep) with any JSON value in them.
keyed = st.fixed_dictionaries({}, optional={field: json_values for field in FIELDS}).map(
    lambda d: {**d, "reporter": d["reporter"]} if "reporter" in d else d
)
reporter_like = st.fixed_dictionaries(
    {},
    optional={
        field: json_values
        for field in (
            "channel",
            "channel_user_id",
            "name",
            "phone",
            "email",
            "language",
            "phone_verified",
        )
    },
)
bodies = (
    json_values | keyed | keyed.flatmap(lambda d: reporter_like.map(lambda r: {**d, "reporter": r}))
)

ENDPOINTS = [
    ("/api/v1/requests", "hub"),
    ("/api/v1/requests/{open}/status", "agent"),
    ("/api/v1/requests/{closed}/reopen", "agent"),
    ("/api/v1/requests/{open}/followups", "hub"),
    ("/api/v1/requests/{closed}/survey", "hub"),
    ("/api/v1/followups/{ref}/contact", "satisfaction"),
    ("/api/v1/followups/{ref}/close", "satisfaction"),
    ("/api/v1/ratings", "hub"),
    ("/api/v1/contacts", "hub"),
    ("/api/v1/contacts/verify", "agent"),
]
FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture
async def seeded(client: Client) -> dict[str, str]:
    return await seed_tickets(client)


@BOTH_BACKENDS
@pytest.mark.parametrize(("path", "role"), ENDPOINTS, ids=[p for p, _ in ENDPOINTS])
@FUZZ
@given(body=bodies)
async def test_random_json_bodies_never_cause_a_5xx(
    client: Client, seeded: dict[str, str], path: str, role: str, body: Any
) -> None:
    resp = await client.post(path.format(**seeded), json=body, headers={"X-Api-Key": KEYS[role]})
    assert resp.status < 500, (body, await resp.text())
    if resp.status >= 400:
        errors = await resp.json()
        assert errors and all(set(e) == {"code", "description"} for e in errors)


@FUZZ
@given(raw=st.binary(max_size=200))
async def test_random_bytes_never_cause_a_5xx(client: Client, raw: bytes) -> None:
    resp = await client.post(
        "/api/v1/requests",
        data=raw,
        headers={"X-Api-Key": KEYS["hub"], "Content-Type": "application/json"},
    )
    assert resp.status < 500, raw

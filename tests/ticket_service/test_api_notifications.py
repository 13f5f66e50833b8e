"""POST /api/v1/requests/{n}/notifications: the hub records proactive messages on the history."""

from __future__ import annotations

from .api_support import OMAR, SARA, Client, call, number_of

ATTEMPT = {
    "event_id": "8c0d4f5e-1111-4222-8333-944455556666",
    "event_type": "ticket.status_changed",
    "channel": SARA["channel"],
    "channel_user_id": SARA["channel_user_id"],
    "outcome": "sent",
    "detail": "whatsapp template tawasul_ticket_update",
}


async def test_hub_records_an_internal_notification_row(client: Client) -> None:
    number = await number_of(client)
    code, data = await call(client, "POST", f"/api/v1/requests/{number}/notifications", "hub",
                            ATTEMPT)  # fmt: skip
    assert code == 201, data
    code, data = await call(client, "GET", f"/api/v1/requests/{number}/history", "agent")
    assert code == 200
    row = data["history"][-1]
    assert row["update_id"] == data["history"][-1]["update_id"]
    assert row["kind"] == "notification"
    assert row["public"] is False
    assert row["note"] == ATTEMPT["detail"]
    assert row["data"]["outcome"] == "sent"
    assert row["data"]["event_id"] == ATTEMPT["event_id"]
    # never in the citizen's view of the ticket
    path = (f"/api/v1/requests/{number}?channel={SARA['channel']}"
            f"&channel_user_id={SARA['channel_user_id']}")  # fmt: skip
    code, data = await call(client, "GET", path, "hub")
    assert code == 200
    assert all(r["kind"] != "notification" for r in data["history"])


async def test_only_the_hub_and_only_for_a_reporter_or_follower(client: Client) -> None:
    number = await number_of(client)
    path = f"/api/v1/requests/{number}/notifications"
    code, _ = await call(client, "POST", path, "agent", ATTEMPT)
    assert code == 403
    stranger = {**ATTEMPT, "channel": OMAR["channel"], "channel_user_id": OMAR["channel_user_id"]}
    code, _ = await call(client, "POST", path, "hub", stranger)
    assert code == 404
    code, data = await call(client, "POST", path, "hub", {**ATTEMPT, "outcome": "maybe"})
    assert code == 400
    assert "outcome" in str(data)
    code, _ = await call(client, "POST", path, "hub", {"outcome": "sent"})
    assert code == 400

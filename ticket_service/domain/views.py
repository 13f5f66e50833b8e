"""How a ticket row is shown: the public Open311 record (no personal data) and the staff record."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ticket_service.config import Settings
from ticket_service.domain.statuses import extended_status, open311_status


def iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def service_name(settings: Settings, code: str, language: str) -> str:
    service = settings.service(code)
    return service.name.get(language) if service else code


def agency_name(settings: Settings, municipality: str, language: str) -> str:
    muni = settings.municipality(municipality)
    return muni.name.get(language) if muni else municipality


def public_request(ticket: dict[str, Any], settings: Settings, language: str) -> dict[str, Any]:
    """GeoReport v2 request fields. Never carries the reporter's name, phone, e-mail or account."""
    media = ticket["media_urls"] or []
    return {
        "service_request_id": ticket["number"],
        "status": open311_status(ticket["status"]),
        "status_notes": ticket["status_note"],
        "service_name": service_name(settings, ticket["service_code"], language),
        "service_code": ticket["service_code"],
        "description": ticket["description"],
        "agency_responsible": agency_name(settings, ticket["municipality"], language),
        "service_notice": None,
        "requested_datetime": iso(ticket["requested_at"]),
        "updated_datetime": iso(ticket["closed_at"] or ticket["updated_at"]),
        "expected_datetime": iso(ticket["due_at"]),
        "address": ticket["address"],
        "address_id": ticket["address_id"],
        "zipcode": ticket["zipcode"],
        "lat": ticket["lat"],
        "long": ticket["long"],
        "media_url": media[0] if media else None,
    }


def staff_ticket(ticket: dict[str, Any], settings: Settings, language: str) -> dict[str, Any]:
    """Everything staff and the hub need about a ticket (personal data of the reporter excluded:
    it is fetched separately and only where the caller's role allows)."""
    return {
        "service_request_id": ticket["number"],
        "token": ticket["token"],
        "kind": ticket["kind"],
        "service_code": ticket["service_code"],
        "service_name": service_name(settings, ticket["service_code"], language),
        "description": ticket["description"],
        "status": ticket["status"],
        "extended_status": extended_status(ticket["status"], ticket["resolution"]),
        "resolution": ticket["resolution"],
        "status_notes": ticket["status_note"],
        "municipality": ticket["municipality"],
        "agency_responsible": agency_name(settings, ticket["municipality"], language),
        "department": ticket["department"],
        "lat": ticket["lat"],
        "long": ticket["long"],
        "address": ticket["address"],
        "media_urls": list(ticket["media_urls"] or []),
        "attributes": dict(ticket["attributes"] or {}),
        "channel": ticket["channel"],
        "conversation_id": ticket["conversation_id"],
        "language": ticket["language"],
        "sla_hours": ticket["sla_hours"],
        "requested_datetime": iso(ticket["requested_at"]),
        "updated_datetime": iso(ticket["updated_at"]),
        "expected_datetime": iso(ticket["due_at"]),
        "closed_datetime": iso(ticket["closed_at"]),
        "escalation_level": ticket["escalation_level"],
    }

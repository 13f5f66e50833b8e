"""A client of the ticket service's own ``/api/v1`` extensions (kinds, contacts, status changes,
follow-ups, surveys, ratings, KPIs). Authenticated with ``config.api_key`` (``X-Api-Key``)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, TypeVar

import aiohttp

from ticket_client.errors import InvalidResponse, NotFound
from ticket_client.http import ClientConfig, Params, Reply, request, segment
from ticket_client.models import (
    Contact,
    CreateResult,
    Followup,
    HistoryEntry,
    Identity,
    KpiReport,
    Rating,
    SurveyResult,
    Ticket,
)

T = TypeVar("T")


def _one(reply: Reply, parse: Callable[[Mapping[str, Any]], T], what: str) -> T:
    if not isinstance(reply.body, Mapping):
        raise InvalidResponse(f"{what}: expected a JSON object", status=reply.status)
    try:
        return parse(reply.body)
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidResponse(f"{what}: malformed answer ({exc})", status=reply.status) from exc


def _many(reply: Reply, parse: Callable[[Mapping[str, Any]], T], what: str, key: str) -> list[T]:
    """A list answer: a top-level array, or an object holding it under ``key``."""
    body = reply.body
    if isinstance(body, Mapping):
        body = body.get(key)
    if not isinstance(body, list) or not all(isinstance(item, Mapping) for item in body):
        raise InvalidResponse(f"{what}: expected a list", status=reply.status)
    try:
        return [parse(item) for item in body]
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidResponse(f"{what}: malformed answer ({exc})", status=reply.status) from exc


def _when(value: date | datetime) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("KPI date-times need a timezone")
        return value.isoformat().replace("+00:00", "Z")
    return value.isoformat()


class TawasulClient:
    """Every method raises the typed errors of ``ticket_client.errors``; creates send an
    ``Idempotency-Key`` (the caller's, or a fresh one reused on this call's retries)."""

    def __init__(self, session: aiohttp.ClientSession, config: ClientConfig) -> None:
        self._session = session
        self._config = config

    def _url(self, path: str) -> str:
        return self._config.api_path.rstrip("/") + path

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: Params = (),
        body: Any = None,
        idempotency_key: str | None = None,
        language: str | None = None,
    ) -> Reply:
        return await request(
            self._session,
            self._config,
            method,
            self._url(path),
            params=params,
            json_body=body,
            idempotency_key=idempotency_key,
            language=language,
        )

    async def create(
        self,
        *,
        kind: str = "report",
        service_code: str | None = None,
        description: str | None = None,
        lat: float | None = None,
        long: float | None = None,
        address: str | None = None,
        media_urls: Sequence[str] = (),
        attributes: Mapping[str, Any] | None = None,
        channel: str,
        conversation_id: str | None = None,
        language: str | None = None,
        reporter: Contact | None = None,
        agent_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> CreateResult:
        """File a report, complaint, inquiry or callback. Pass a stable ``idempotency_key``
        (e.g. derived from the inbound message id) so a crash-and-retry never files twice."""
        body = {
            "kind": kind,
            "service_code": service_code,
            "description": description,
            "lat": lat,
            "long": long,
            "address": address,
            "media_urls": list(media_urls),
            "attributes": dict(attributes or {}),
            "channel": channel,
            "conversation_id": conversation_id,
            "language": language,
            "agent_id": agent_id,
            "reporter": reporter.to_json() if reporter else None,
        }
        reply = await self._call(
            "POST",
            "/requests",
            body=body,
            idempotency_key=idempotency_key or str(uuid.uuid4()),
        )
        return _one(reply, CreateResult.from_json, "create")

    async def ticket_for_contact(
        self, number: str, channel: str, channel_user_id: str, *, language: str | None = None
    ) -> Ticket | None:
        """The ticket if this contact filed or follows it; None when it does not exist or is
        someone else's (the service answers both with 404, on purpose)."""
        params = [("channel", channel), ("channel_user_id", channel_user_id)]
        try:
            reply = await self._call(
                "GET", f"/requests/{segment(number)}", params=params, language=language
            )
        except NotFound:
            return None
        return _one(reply, Ticket.from_answer, "ticket")

    async def ticket(self, number: str, *, language: str | None = None) -> Ticket:
        """Staff roles: the ticket with its full history, reporter and follower count."""
        reply = await self._call("GET", f"/requests/{segment(number)}", language=language)
        return _one(reply, Ticket.from_answer, "ticket")

    async def contact_tickets(
        self,
        channel: str,
        channel_user_id: str,
        *,
        limit: int | None = None,
        language: str | None = None,
    ) -> list[Ticket]:
        """This contact's tickets (filed or followed, on any verified-linked identity), newest
        first; the service's default page unless ``limit`` is given."""
        params = [("channel", channel), ("channel_user_id", channel_user_id)]
        if limit is not None:
            params.append(("limit", str(limit)))
        reply = await self._call("GET", "/contacts/tickets", params=params, language=language)
        return _many(reply, Ticket.from_json, "contact tickets", "tickets")

    async def upsert_contact(self, contact: Contact) -> Identity:
        """Record or update an identity; a known field is never blanked by a missing one."""
        reply = await self._call("POST", "/contacts", body=contact.to_json())
        return _one(reply, Identity.from_json, "contact")

    async def verify_contact(
        self,
        channel: str,
        channel_user_id: str,
        *,
        phone: str | None = None,
        email: str | None = None,
    ) -> Identity:
        """Mark a phone number or e-mail as verified for this identity; identities sharing it
        become one citizen (their tickets show in each other's ``contact_tickets``)."""
        body = {
            "channel": channel,
            "channel_user_id": channel_user_id,
            "phone": phone,
            "email": email,
        }
        reply = await self._call("POST", "/contacts/verify", body=body)
        return _one(reply, Identity.from_json, "verify contact")

    async def change_status(
        self,
        number: str,
        status: str,
        *,
        resolution: str | None = None,
        note: str | None = None,
        internal: bool = False,
    ) -> Ticket:
        """open → in_progress → closed (closing needs a resolution); ``internal`` notes stay
        out of the citizen's view."""
        body = {"status": status, "resolution": resolution, "note": note, "internal": internal}
        reply = await self._call("POST", f"/requests/{segment(number)}/status", body=body)
        return _one(reply, Ticket.from_answer, "change status")

    async def reopen(
        self, number: str, *, note: str | None = None, contact: Contact | None = None
    ) -> Ticket:
        """Staff: reopen a closed ticket. Hub role with ``contact``: the citizen who filed the
        closed report reopens it ("still not fixed"; ``note``, their words, stays with staff);
        anyone else → Forbidden, a ticket that is not closed → Conflict."""
        body: dict[str, Any] = {"note": note}
        if contact is not None:
            body |= {"channel": contact.channel, "channel_user_id": contact.channel_user_id}
        reply = await self._call("POST", f"/requests/{segment(number)}/reopen", body=body)
        return _one(reply, Ticket.from_answer, "reopen")

    async def history(self, number: str) -> list[HistoryEntry]:
        """Staff roles: every status change, note, escalation, follow-up and survey, in order."""
        reply = await self._call("GET", f"/requests/{segment(number)}/history")
        return _many(reply, HistoryEntry.from_json, "history", "history")

    async def record_notification(
        self,
        number: str,
        *,
        event_id: str,
        event_type: str,
        channel: str,
        channel_user_id: str,
        outcome: str,
        detail: str | None = None,
    ) -> str:
        """Hub role: record one proactive message's attempt or outcome (``queued``, ``sent``,
        ``held``, ``failed``, ``fallback``, ``undeliverable``) on the ticket's internal history;
        the recipient must be its reporter or a follower. Returns the history row's id."""
        body = {
            "event_id": event_id,
            "event_type": event_type,
            "channel": channel,
            "channel_user_id": channel_user_id,
            "outcome": outcome,
            "detail": detail,
        }
        reply = await self._call("POST", f"/requests/{segment(number)}/notifications", body=body)
        return _one(reply, lambda data: str(data["update_id"]), "record notification")

    async def create_followup(
        self,
        number: str,
        *,
        channel: str,
        text: str | None = None,
        voicemail_url: str | None = None,
        attachment_url: str | None = None,
        reporter: Contact | None = None,
        idempotency_key: str | None = None,
    ) -> Followup:
        """ "My report is being ignored": queue a follow-up for Beneficiary Satisfaction."""
        body = {
            "channel": channel,
            "text": text,
            "voicemail_url": voicemail_url,
            "attachment_url": attachment_url,
            "reporter": reporter.to_json() if reporter else None,
        }
        reply = await self._call(
            "POST",
            f"/requests/{segment(number)}/followups",
            body=body,
            idempotency_key=idempotency_key or str(uuid.uuid4()),
        )
        return _one(reply, Followup.from_json, "follow-up")

    async def submit_survey(
        self,
        number: str,
        *,
        channel: str,
        channel_user_id: str,
        quality: int,
        speed: int,
        comment: str | None = None,
    ) -> SurveyResult:
        """The reporter's one closure survey (1–5 each); before closure or twice → Conflict."""
        body = {
            "channel": channel,
            "channel_user_id": channel_user_id,
            "quality": quality,
            "speed": speed,
            "comment": comment,
        }
        reply = await self._call("POST", f"/requests/{segment(number)}/survey", body=body)
        return _one(reply, SurveyResult.from_json, "survey")

    async def add_rating(
        self,
        *,
        kind: str,
        score: int,
        conversation_id: str,
        channel: str,
        agent_id: str | None = None,
        service_request_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> Rating:
        """An ``agent_service`` or ``answer`` rating, 1–5."""
        body = {
            "kind": kind,
            "score": score,
            "conversation_id": conversation_id,
            "agent_id": agent_id,
            "channel": channel,
            "service_request_id": service_request_id,
        }
        reply = await self._call(
            "POST",
            "/ratings",
            body=body,
            idempotency_key=idempotency_key or str(uuid.uuid4()),
        )
        return _one(reply, Rating.from_json, "rating")

    def _kpi_params(
        self, start: date | datetime | None, end: date | datetime | None, group_by: str, fmt: str
    ) -> list[tuple[str, str]]:
        params = [("group_by", group_by), ("format", fmt)]
        if start is not None:
            params.append(("from", _when(start)))
        if end is not None:
            params.append(("to", _when(end)))
        return params

    async def kpis(
        self,
        start: date | datetime | None = None,
        end: date | datetime | None = None,
        *,
        group_by: str = "municipality",
    ) -> KpiReport:
        """KPIs for ``[start, end)``; a plain ``end`` date covers that whole day."""
        params = self._kpi_params(start, end, group_by, "json")
        reply = await self._call("GET", "/kpis", params=params)
        return _one(reply, KpiReport.from_json, "kpis")

    async def kpis_csv(
        self,
        start: date | datetime | None = None,
        end: date | datetime | None = None,
        *,
        group_by: str = "municipality",
    ) -> bytes:
        """The same report as a CSV file (UTF-8 with a BOM, for spreadsheets)."""
        params = self._kpi_params(start, end, group_by, "csv")
        reply = await self._call("GET", "/kpis", params=params)
        return reply.raw

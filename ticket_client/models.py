"""Typed, immutable views of what the ticket service answers.

Parsers are lenient in the way Open311 servers differ (ids as numbers, coordinates and booleans
as strings in XML, absent optional fields) and strict where a value is needed: a record without
its identifier raises ``ValueError``, which the clients turn into ``InvalidResponse``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any


def _str(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text if text != "" else None


def _required(data: Mapping[str, Any], key: str) -> str:
    value = _str(data.get(key))
    if value is None:
        raise ValueError(f"{key} missing from the answer")
    return value


def _float(value: Any) -> float | None:
    return None if value is None or value == "" else float(value)


def _int(value: Any) -> int | None:
    return None if value is None or value == "" else int(value)


def _bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


def parse_datetime(value: Any) -> datetime | None:
    """W3C / ISO 8601, ``Z`` or an offset; None when absent."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    return datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)


def _strings(value: Any) -> tuple[str, ...]:
    """A list, or a comma-separated string (``keywords``), as a tuple of strings."""
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    if isinstance(value, Mapping):  # XML of a one-item list without a known container name
        value = list(value.values())
    return tuple(str(v) for v in value if v is not None and v != "")


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


@dataclass(frozen=True)
class Contact:
    """A citizen as one channel knows them. ``channel_user_id`` identifies them there."""

    channel: str
    channel_user_id: str
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    language: str | None = None
    phone_verified: bool = False
    email_verified: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "channel_user_id": self.channel_user_id,
            "name": self.name,
            "phone": self.phone,
            "email": self.email,
            "language": self.language,
            "phone_verified": self.phone_verified,
            "email_verified": self.email_verified,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Contact:
        return cls(
            channel=_required(data, "channel"),
            channel_user_id=_required(data, "channel_user_id"),
            name=_str(data.get("name")),
            phone=_str(data.get("phone")),
            email=_str(data.get("email")),
            language=_str(data.get("language")),
            phone_verified=_bool(data.get("phone_verified")),
            email_verified=_bool(data.get("email_verified")),
        )


@dataclass(frozen=True)
class IdentityRef:
    channel: str
    channel_user_id: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> IdentityRef:
        return cls(_required(data, "channel"), _required(data, "channel_user_id"))


@dataclass(frozen=True)
class Identity:
    """A contact as the service now knows it, with the identities linked to it by a shared
    verified phone or e-mail (the same citizen on other channels)."""

    channel: str
    channel_user_id: str
    linked_identities: tuple[IdentityRef, ...]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Identity:
        linked = data.get("linked_identities") or []
        return cls(
            channel=_required(data, "channel"),
            channel_user_id=_required(data, "channel_user_id"),
            linked_identities=tuple(
                IdentityRef.from_json(i) for i in linked if isinstance(i, Mapping)
            ),
        )


@dataclass(frozen=True)
class Service:
    service_code: str
    service_name: str
    description: str | None
    metadata: bool
    type: str
    keywords: tuple[str, ...]
    group: str | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Service:
        groups = _strings(data.get("groups"))
        return cls(
            service_code=_required(data, "service_code"),
            service_name=_str(data.get("service_name")) or _required(data, "service_code"),
            description=_str(data.get("description")),
            metadata=_bool(data.get("metadata")),
            type=_str(data.get("type")) or "realtime",
            keywords=_strings(data.get("keywords")),
            group=_str(data.get("group")) or (groups[0] if groups else None),
        )


@dataclass(frozen=True)
class AttributeValue:
    key: str
    name: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AttributeValue:
        key = _required(data, "key")
        return cls(key=key, name=_str(data.get("name")) or key)


@dataclass(frozen=True)
class Attribute:
    """One question of a service definition (GeoReport v2 ``attribute``)."""

    code: str
    variable: bool
    datatype: str
    required: bool
    order: int
    description: str
    datatype_description: str | None
    values: tuple[AttributeValue, ...]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Attribute:
        values = data.get("values") or []
        return cls(
            code=_required(data, "code"),
            variable=_bool(data.get("variable", True)),
            datatype=_str(data.get("datatype")) or "string",
            required=_bool(data.get("required")),
            order=_int(data.get("order")) or 0,
            description=_str(data.get("description")) or "",
            datatype_description=_str(data.get("datatype_description")),
            values=tuple(AttributeValue.from_json(v) for v in values if isinstance(v, Mapping)),
        )


@dataclass(frozen=True)
class ServiceDefinition:
    service_code: str
    attributes: tuple[Attribute, ...]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ServiceDefinition:
        raw = data.get("attributes") or []
        attrs = [Attribute.from_json(a) for a in raw if isinstance(a, Mapping)]
        return cls(
            service_code=_required(data, "service_code"),
            attributes=tuple(sorted(attrs, key=lambda a: a.order)),
        )


@dataclass(frozen=True)
class PublicRequest:
    """A service request as GeoReport v2 publishes it (no personal data)."""

    service_request_id: str
    status: str
    status_notes: str | None
    service_name: str | None
    service_code: str | None
    description: str | None
    agency_responsible: str | None
    service_notice: str | None
    requested_datetime: datetime | None
    updated_datetime: datetime | None
    expected_datetime: datetime | None
    address: str | None
    address_id: str | None
    zipcode: str | None
    lat: float | None
    long: float | None
    media_url: str | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PublicRequest:
        return cls(
            service_request_id=_required(data, "service_request_id"),
            status=_str(data.get("status")) or "open",
            status_notes=_str(data.get("status_notes")),
            service_name=_str(data.get("service_name")),
            service_code=_str(data.get("service_code")),
            description=_str(data.get("description")),
            agency_responsible=_str(data.get("agency_responsible")),
            service_notice=_str(data.get("service_notice")),
            requested_datetime=parse_datetime(data.get("requested_datetime")),
            updated_datetime=parse_datetime(data.get("updated_datetime")),
            expected_datetime=parse_datetime(data.get("expected_datetime")),
            address=_str(data.get("address")),
            address_id=_str(data.get("address_id")),
            zipcode=_str(data.get("zipcode")),
            lat=_float(data.get("lat")),
            long=_float(data.get("long")),
            media_url=_str(data.get("media_url")),
        )


@dataclass(frozen=True)
class RequestReceipt:
    """The answer to an Open311 POST: an id (``realtime`` services) or a token (``batch``)."""

    service_request_id: str | None
    token: str | None
    service_notice: str | None
    account_id: str | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RequestReceipt:
        return cls(
            service_request_id=_str(data.get("service_request_id")),
            token=_str(data.get("token")),
            service_notice=_str(data.get("service_notice")),
            account_id=_str(data.get("account_id")),
        )


@dataclass(frozen=True)
class TokenLookup:
    """GET tokens/{token}: the request id once the server has assigned one."""

    token: str
    service_request_id: str | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TokenLookup:
        return cls(
            token=_required(data, "token"),
            service_request_id=_str(data.get("service_request_id")),
        )


@dataclass(frozen=True)
class RequestUpdate:
    """One entry of the mySociety ``servicerequestupdates`` feed."""

    update_id: str
    service_request_id: str
    status: str
    updated_datetime: datetime | None
    description: str | None
    media_urls: tuple[str, ...]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RequestUpdate:
        return cls(
            update_id=_required(data, "update_id"),
            service_request_id=_required(data, "service_request_id"),
            status=_str(data.get("status")) or "",
            updated_datetime=parse_datetime(data.get("updated_datetime")),
            description=_str(data.get("description")),
            media_urls=_strings(data.get("media_url")),
        )


@dataclass(frozen=True)
class HistoryEntry:
    update_id: str
    at: datetime | None
    kind: str
    status: str | None
    note: str | None
    actor: str | None
    public: bool
    data: Mapping[str, Any]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> HistoryEntry:
        return cls(
            update_id=_required(data, "update_id"),
            at=parse_datetime(data.get("at")),
            kind=_str(data.get("kind")) or "",
            status=_str(data.get("status")),
            note=_str(data.get("note")),
            actor=_str(data.get("actor")),
            public=_bool(data.get("public")),
            data=dict(_mapping(data.get("data"))),
        )


@dataclass(frozen=True)
class Ticket:
    """A ticket as staff and the hub see it (our /api/v1 extension)."""

    service_request_id: str
    token: str | None
    kind: str
    service_code: str
    service_name: str | None
    description: str | None
    status: str  # open | in_progress | closed
    extended_status: str  # mySociety vocabulary: fixed, duplicate, ...
    resolution: str | None
    status_notes: str | None
    municipality: str | None
    agency_responsible: str | None
    department: str | None
    lat: float | None
    long: float | None
    address: str | None
    media_urls: tuple[str, ...]
    attributes: Mapping[str, Any]
    channel: str | None
    conversation_id: str | None
    language: str | None
    sla_hours: int | None
    requested_datetime: datetime | None
    updated_datetime: datetime | None
    expected_datetime: datetime | None
    closed_datetime: datetime | None
    escalation_level: int
    # Filled from the single-ticket answers only: the history the caller may see, and for staff
    # the reporter's contact data and how many other citizens follow the ticket.
    history: tuple[HistoryEntry, ...] = field(default=())
    reporter: Contact | None = None
    followers: int | None = None
    #: The hub's view only: whether the closure survey was answered (None: not told).
    survey_answered: bool | None = None
    #: The hub's view only: whether the contact filed it (or is linked to who did); False for a
    #: follower (None: not told).
    filed_by_contact: bool | None = None

    @property
    def closed(self) -> bool:
        return self.status == "closed"

    @classmethod
    def from_answer(cls, data: Mapping[str, Any]) -> Ticket:
        """``{"ticket": {...}, "history": [...], "reporter": {...}, "followers": n}``."""
        ticket = cls.from_json(_mapping(data.get("ticket")))
        reporter = data.get("reporter")
        return replace(
            ticket,
            history=tuple(
                HistoryEntry.from_json(h)
                for h in data.get("history") or []
                if isinstance(h, Mapping)
            ),
            reporter=Contact.from_json(reporter) if isinstance(reporter, Mapping) else None,
            followers=_int(data.get("followers")),
        )

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Ticket:
        status = _str(data.get("status")) or "open"
        return cls(
            service_request_id=_required(data, "service_request_id"),
            token=_str(data.get("token")),
            kind=_str(data.get("kind")) or "report",
            service_code=_required(data, "service_code"),
            service_name=_str(data.get("service_name")),
            description=_str(data.get("description")),
            status=status,
            extended_status=_str(data.get("extended_status")) or status,
            resolution=_str(data.get("resolution")),
            status_notes=_str(data.get("status_notes")),
            municipality=_str(data.get("municipality")),
            agency_responsible=_str(data.get("agency_responsible")),
            department=_str(data.get("department")),
            lat=_float(data.get("lat")),
            long=_float(data.get("long")),
            address=_str(data.get("address")),
            media_urls=_strings(data.get("media_urls")),
            attributes=dict(_mapping(data.get("attributes"))),
            channel=_str(data.get("channel")),
            conversation_id=_str(data.get("conversation_id")),
            language=_str(data.get("language")),
            sla_hours=_int(data.get("sla_hours")),
            requested_datetime=parse_datetime(data.get("requested_datetime")),
            updated_datetime=parse_datetime(data.get("updated_datetime")),
            expected_datetime=parse_datetime(data.get("expected_datetime")),
            closed_datetime=parse_datetime(data.get("closed_datetime")),
            escalation_level=_int(data.get("escalation_level")) or 0,
            survey_answered=(
                data["survey_answered"] if isinstance(data.get("survey_answered"), bool) else None
            ),
            filed_by_contact=(
                data["filed_by_contact"] if isinstance(data.get("filed_by_contact"), bool) else None
            ),
        )


@dataclass(frozen=True)
class CreateResult:
    """``duplicate``: linked to an open ticket nearby (the citizen now follows it);
    ``replayed``: the idempotency key was seen before and nothing new was filed."""

    ticket: Ticket
    duplicate: bool
    replayed: bool

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CreateResult:
        return cls(
            ticket=Ticket.from_json(_mapping(data.get("ticket"))),
            duplicate=_bool(data.get("duplicate")),
            replayed=_bool(data.get("replayed")),
        )


@dataclass(frozen=True)
class Followup:
    """A "my report is being ignored" follow-up, queued for Beneficiary Satisfaction."""

    reference: str
    service_request_id: str
    channel: str | None
    text: str | None
    voicemail_url: str | None
    attachment_url: str | None
    status: str
    created_datetime: datetime | None
    due_datetime: datetime | None
    contacted_datetime: datetime | None
    contact_note: str | None
    closed_datetime: datetime | None
    outcome: str | None
    outcome_note: str | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Followup:
        return cls(
            reference=_required(data, "reference"),
            service_request_id=_required(data, "service_request_id"),
            channel=_str(data.get("channel")),
            text=_str(data.get("text")),
            voicemail_url=_str(data.get("voicemail_url")),
            attachment_url=_str(data.get("attachment_url")),
            status=_str(data.get("status")) or "open",
            created_datetime=parse_datetime(data.get("created_datetime")),
            due_datetime=parse_datetime(data.get("due_datetime")),
            contacted_datetime=parse_datetime(data.get("contacted_datetime")),
            contact_note=_str(data.get("contact_note")),
            closed_datetime=parse_datetime(data.get("closed_datetime")),
            outcome=_str(data.get("outcome")),
            outcome_note=_str(data.get("outcome_note")),
        )


@dataclass(frozen=True)
class SurveyResult:
    service_request_id: str
    quality: int
    speed: int
    comment: str | None
    satisfied: bool
    created_datetime: datetime | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SurveyResult:
        return cls(
            service_request_id=_required(data, "service_request_id"),
            quality=int(_required(data, "quality")),
            speed=int(_required(data, "speed")),
            comment=_str(data.get("comment")),
            satisfied=_bool(data.get("satisfied")),
            created_datetime=parse_datetime(data.get("created_datetime")),
        )


@dataclass(frozen=True)
class Rating:
    rating_id: str
    kind: str
    score: int
    conversation_id: str | None
    agent_id: str | None
    channel: str | None
    service_request_id: str | None
    created_datetime: datetime | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Rating:
        return cls(
            rating_id=_required(data, "rating_id"),
            kind=_required(data, "kind"),
            score=int(_required(data, "score")),
            conversation_id=_str(data.get("conversation_id")),
            agent_id=_str(data.get("agent_id")),
            channel=_str(data.get("channel")),
            service_request_id=_str(data.get("service_request_id")),
            created_datetime=parse_datetime(data.get("created_datetime")),
        )


@dataclass(frozen=True)
class KpiMetrics:
    """The KPIs of ARCHITECTURE.md for one group (or the total). Rates are 0–1."""

    received: int
    closed: int
    completion_rate: float | None
    open: int
    overdue: int
    median_hours_to_close: float | None
    p90_hours_to_close: float | None
    escalations: Mapping[int, int]  # level → count
    reminders: int
    followups: int
    survey_responses: int
    satisfaction_rate: float | None
    mean_agent_rating: float | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> KpiMetrics:
        return cls(
            received=_int(data.get("received")) or 0,
            closed=_int(data.get("closed")) or 0,
            completion_rate=_float(data.get("completion_rate")),
            open=_int(data.get("open")) or 0,
            overdue=_int(data.get("overdue")) or 0,
            median_hours_to_close=_float(data.get("median_hours_to_close")),
            p90_hours_to_close=_float(data.get("p90_hours_to_close")),
            escalations={
                int(level): int(n) for level, n in _mapping(data.get("escalations")).items()
            },
            reminders=_int(data.get("reminders")) or 0,
            followups=_int(data.get("followups")) or 0,
            survey_responses=_int(data.get("survey_responses")) or 0,
            satisfaction_rate=_float(data.get("satisfaction_rate")),
            mean_agent_rating=_float(data.get("mean_agent_rating")),
        )


@dataclass(frozen=True)
class KpiGroup:
    key: str
    name_ar: str | None
    name_en: str | None
    metrics: KpiMetrics

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> KpiGroup:
        return cls(
            key=_required(data, "key"),
            name_ar=_str(data.get("name_ar")),
            name_en=_str(data.get("name_en")),
            metrics=KpiMetrics.from_json(data),
        )


@dataclass(frozen=True)
class KpiReport:
    start: datetime | None
    end: datetime | None
    group_by: str
    generated_at: datetime | None
    total: KpiMetrics
    groups: tuple[KpiGroup, ...]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> KpiReport:
        return cls(
            start=parse_datetime(data.get("from")),
            end=parse_datetime(data.get("to")),
            group_by=_required(data, "group_by"),
            generated_at=parse_datetime(data.get("generated_at")),
            total=KpiMetrics.from_json(_mapping(data.get("total"))),
            groups=tuple(
                KpiGroup.from_json(g) for g in data.get("groups") or [] if isinstance(g, Mapping)
            ),
        )

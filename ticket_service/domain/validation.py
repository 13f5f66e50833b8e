"""Turning untrusted input (Open311 forms, JSON bodies) into validated domain requests.

Every problem is reported per field, all at once, so a client can fix its request in one go.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

from ticket_service.config import Service, Settings
from ticket_service.domain.feedback import NewRating, RatingKind, SurveyAnswer
from ticket_service.domain.followups import NewFollowup, Outcome
from ticket_service.domain.reporters import Contact
from ticket_service.domain.statuses import Kind, Resolution, Status
from ticket_service.domain.tickets import NewTicket
from ticket_service.errors import FieldError, InvalidInput, NotFound

MAX_DESCRIPTION = 4000
MAX_SHORT = 255
T = TypeVar("T")


class Collector:
    """Gathers field errors; ``raise_if_any`` ends validation with all of them."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def add(self, field: str, message: str) -> None:
        self.errors.append(FieldError(field, message))

    def raise_if_any(self, summary: str = "invalid request") -> None:
        if self.errors:
            raise InvalidInput(summary, list(dict.fromkeys(self.errors)))

    def text(
        self,
        data: Mapping[str, Any],
        field: str,
        *,
        max_len: int = MAX_SHORT,
        required: bool = False,
    ) -> str | None:
        raw = data.get(field)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if required:
                self.add(field, "required")
            return None
        if not isinstance(raw, str):
            self.add(field, "must be a string")
            return None
        value = raw.strip()
        if len(value) > max_len:
            self.add(field, f"at most {max_len} characters")
            return None
        if "\x00" in value:
            self.add(field, "must not contain NUL characters")
            return None
        return value

    def number(self, data: Mapping[str, Any], field: str, low: float, high: float) -> float | None:
        raw = data.get(field)
        if raw is None or raw == "":
            return None
        try:
            value = float(raw)
        except (TypeError, ValueError, OverflowError):
            self.add(field, "must be a number")
            return None
        if not math.isfinite(value) or not low <= value <= high:
            self.add(field, f"must be between {low:g} and {high:g}")
            return None
        return value

    def integer(
        self, data: Mapping[str, Any], field: str, low: int, high: int, *, required: bool = False
    ) -> int | None:
        raw = data.get(field)
        if raw is None or raw == "":
            if required:
                self.add(field, "required")
            return None
        digits = str(raw).strip().removeprefix("-") if isinstance(raw, int | str) else ""
        if isinstance(raw, bool) or not digits.isdecimal() or len(digits) > 18:
            self.add(field, "must be a whole number")
            return None
        value = int(raw)
        if not low <= value <= high:
            self.add(field, f"must be between {low} and {high}")
            return None
        return value

    def choice(
        self,
        data: Mapping[str, Any],
        field: str,
        parse: Callable[[str], T],
        allowed: str,
        *,
        required: bool = False,
    ) -> T | None:
        raw = data.get(field)
        if raw is None or raw == "":
            if required:
                self.add(field, "required")
            return None
        try:
            return parse(str(raw))
        except ValueError:
            self.add(field, f"must be one of {allowed}")
            return None

    def url(self, field: str, raw: Any) -> str | None:
        if not isinstance(raw, str) or not raw:
            self.add(field, "must be a URL")
            return None
        parts = urlsplit(raw)
        if parts.scheme not in ("http", "https") or not parts.netloc or len(raw) > 2048:
            self.add(field, "must be an http(s) URL of at most 2048 characters")
            return None
        return raw

    def mapping(self, data: Mapping[str, Any], field: str) -> Mapping[str, Any]:
        raw = data.get(field)
        if raw is None:
            return {}
        if not isinstance(raw, Mapping):
            self.add(field, "must be an object")
            return {}
        return raw

    def array(self, data: Mapping[str, Any], field: str) -> list[Any]:
        raw = data.get(field)
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.add(field, "must be a list")
            return []
        return raw

    def flag(self, data: Mapping[str, Any], field: str) -> bool:
        raw = data.get(field)
        if raw is None:
            return False
        if not isinstance(raw, bool):
            self.add(field, "must be true or false")
            return False
        return raw


def parse_datetime(raw: str) -> datetime:
    """W3C / ISO 8601 with a timezone (``Z`` or ``±HH:MM``); a naive time is refused."""
    value = datetime.fromisoformat(
        raw.strip().replace("Z", "+00:00").replace(" ", "+", 1) if "T" in raw else raw.strip()
    )
    if value.tzinfo is None:
        raise ValueError("timezone required")
    return value


def _attributes(c: Collector, service: Service, given: Mapping[str, Any]) -> dict[str, Any]:
    known = {a.code: a for a in service.attributes}
    out: dict[str, Any] = {}
    for code in given:
        if code not in known:
            c.add(f"attribute[{code}]", "not an attribute of this service")
    for attr in service.attributes:
        raw = given.get(attr.code)
        field = f"attribute[{attr.code}]"
        if raw is None or raw == "" or raw == []:
            if attr.required and attr.variable:
                c.add(field, "required")
            continue
        keys = {v.key for v in attr.values}
        if attr.datatype == "multivaluelist":
            values = raw if isinstance(raw, list) else [raw]
            if not all(isinstance(v, str) and v in keys for v in values):
                c.add(field, f"values must be among {', '.join(sorted(keys))}")
            else:
                out[attr.code] = values
        elif attr.datatype == "singlevaluelist":
            if not isinstance(raw, str) or raw not in keys:
                c.add(field, f"must be one of {', '.join(sorted(keys))}")
            else:
                out[attr.code] = raw
        elif attr.datatype == "number":
            number = c.number({field: raw}, field, -1e12, 1e12)
            if number is not None:
                out[attr.code] = number
        elif attr.datatype == "datetime":
            try:
                out[attr.code] = parse_datetime(str(raw)).isoformat()
            except ValueError:
                c.add(field, "must be an ISO 8601 date-time with timezone")
        else:
            limit = MAX_DESCRIPTION if attr.datatype == "text" else MAX_SHORT
            text = c.text({field: raw}, field, max_len=limit)
            if text is not None:
                out[attr.code] = text
    return out


def contact_from(
    c: Collector, data: Any, channel: str, prefix: str = "reporter."
) -> Contact | None:
    """A reporter identity; ``channel_user_id`` defaults to the phone or e-mail when absent."""
    if not data:
        return None
    if not isinstance(data, Mapping):
        c.add(prefix.rstrip(".") or "body", "must be an object")
        return None
    given_channel = c.text(data, "channel", max_len=32)
    name = c.text(data, "name", max_len=200)
    phone = c.text(data, "phone", max_len=32)
    email = c.text(data, "email", max_len=320)
    if phone is not None and not phone.lstrip("+").replace(" ", "").isdigit():
        c.add(prefix + "phone", "digits only, optionally with a leading +")
    if email is not None and ("@" not in email or email.startswith("@") or email.endswith("@")):
        c.add(prefix + "email", "not an e-mail address")
    user_id = c.text(data, "channel_user_id") or phone or email
    if user_id is None:
        return None
    language = data.get("language")
    return Contact(
        channel=given_channel or channel,
        channel_user_id=user_id,
        name=name,
        phone=phone,
        email=email,
        language=language if language in ("ar", "en") else None,
        phone_verified=data.get("phone_verified") is True,
        email_verified=data.get("email_verified") is True,
    )


def new_ticket_from(
    settings: Settings,
    data: Mapping[str, Any],
    *,
    kind: Kind,
    channel: str,
    attributes: Mapping[str, Any],
    media_urls: list[Any],
    contact: Mapping[str, Any] | None,
    require_location: bool,
) -> NewTicket:
    """Validate a new request. Unknown service → NotFound (404); else problems → InvalidInput."""
    c = Collector()
    service_code = c.text(data, "service_code", max_len=32, required=kind == Kind.REPORT)
    if service_code is None:
        service_code = "other" if kind != Kind.REPORT else ""
    service = settings.service(service_code) if service_code else None
    if service_code and service is None:
        raise NotFound(
            f"service_code {service_code} not found",
            [FieldError("service_code", "unknown service")],
        )
    description = c.text(data, "description", max_len=MAX_DESCRIPTION)
    lat = c.number(data, "lat", -90, 90)
    lon = c.number(data, "long", -180, 180)
    if (lat is None) != (lon is None) and not any(e.field in ("lat", "long") for e in c.errors):
        c.add("lat" if lat is None else "long", "lat and long go together")
    address = c.text(data, "address_string", max_len=1000) or c.text(data, "address", max_len=1000)
    address_id = c.text(data, "address_id", max_len=64)
    if require_location and lat is None and address is None and address_id is None and not c.errors:
        c.add("location", "give lat and long, address_string or address_id")
    urls = [u for u in (c.url("media_url", raw) for raw in media_urls) if u]
    attrs = _attributes(c, service, attributes) if service else {}
    reporter = contact_from(c, contact, channel)
    language = data.get("language")
    c.raise_if_any()
    return NewTicket(
        kind=kind,
        service_code=service_code,
        channel=channel,
        description=description,
        lat=lat,
        long=lon,
        address=address,
        address_id=address_id,
        zipcode=c.text(data, "zipcode", max_len=16),
        media_urls=tuple(urls),
        attributes=attrs,
        contact=reporter,
        conversation_id=c.text(data, "conversation_id"),
        language=language if language in ("ar", "en") else None,
        agent_id=c.text(data, "agent_id", max_len=64),
    )


# --- /api/v1 JSON bodies ------------------------------------------------------------------

MAX_CHANNEL = 32
MAX_NOTE = 4000
MAX_COMMENT = 1000


@dataclass(frozen=True)
class StatusChange:
    status: Status | None  # None: reopen
    resolution: Resolution | None
    note: str | None
    internal: bool


@dataclass(frozen=True)
class CitizenReopen:
    """The hub reopening a report for the citizen who filed it; ``note``: their words."""

    channel: str
    channel_user_id: str
    note: str | None


def _present(value: T | None) -> T:
    if value is None:  # a required field that the collector already reported
        raise InvalidInput("invalid request")
    return value


def _choices(enum: type[Any]) -> str:
    return ", ".join(str(member.value) for member in enum)


def api_ticket_from(settings: Settings, data: Mapping[str, Any]) -> NewTicket:
    """POST /api/v1/requests: report, complaint, inquiry or callback (location: reports only)."""
    c = Collector()
    kind = c.choice(data, "kind", Kind, _choices(Kind)) or Kind.REPORT
    channel = c.text(data, "channel", max_len=MAX_CHANNEL, required=True)
    attributes, media = c.mapping(data, "attributes"), c.array(data, "media_urls")
    reporter = c.mapping(data, "reporter")
    try:
        new = new_ticket_from(
            settings,
            data,
            kind=kind,
            channel=channel or "",
            attributes=attributes,
            media_urls=media,
            contact=reporter or None,
            require_location=kind == Kind.REPORT,
        )
    except InvalidInput as exc:
        c.errors.extend(exc.errors)
        c.raise_if_any()
        raise
    c.raise_if_any()
    return new


def status_change_from(data: Mapping[str, Any], *, reopen: bool) -> StatusChange:
    c = Collector()
    status = resolution = None
    if not reopen:
        status = c.choice(data, "status", Status, _choices(Status), required=True)
        resolution = c.choice(data, "resolution", Resolution, _choices(Resolution))
        bad_resolution = any(e.field == "resolution" for e in c.errors)
        if status == Status.CLOSED and resolution is None and not bad_resolution:
            c.add("resolution", "required when closing")
        if status not in (None, Status.CLOSED) and resolution is not None:
            c.add("resolution", "only when closing")
    note = c.text(data, "note", max_len=MAX_NOTE)
    internal = c.flag(data, "internal")
    c.raise_if_any()
    return StatusChange(status, resolution, note, internal)


def citizen_reopen_from(data: Mapping[str, Any]) -> CitizenReopen:
    c = Collector()
    channel = c.text(data, "channel", max_len=MAX_CHANNEL, required=True)
    user_id = c.text(data, "channel_user_id", required=True)
    note = c.text(data, "note", max_len=MAX_COMMENT)
    c.raise_if_any("channel and channel_user_id name the citizen")
    return CitizenReopen(_present(channel), _present(user_id), note)


def survey_from(data: Mapping[str, Any], ticket_number: str) -> SurveyAnswer:
    c = Collector()
    channel = c.text(data, "channel", max_len=MAX_CHANNEL, required=True)
    user_id = c.text(data, "channel_user_id", required=True)
    quality = c.integer(data, "quality", 1, 5, required=True)
    speed = c.integer(data, "speed", 1, 5, required=True)
    comment = c.text(data, "comment", max_len=MAX_COMMENT)
    c.raise_if_any()
    return SurveyAnswer(
        ticket_number,
        _present(channel),
        _present(user_id),
        _present(quality),
        _present(speed),
        comment,
    )


def rating_from(data: Mapping[str, Any]) -> NewRating:
    c = Collector()
    kind = c.choice(data, "kind", RatingKind, _choices(RatingKind), required=True)
    score = c.integer(data, "score", 1, 5, required=True)
    conversation_id = c.text(data, "conversation_id", required=True)
    channel = c.text(data, "channel", max_len=MAX_CHANNEL, required=True)
    agent_id = c.text(data, "agent_id", max_len=64)
    number = c.text(data, "service_request_id", max_len=16)
    c.raise_if_any()
    return NewRating(
        _present(kind),
        _present(score),
        _present(conversation_id),
        _present(channel),
        agent_id,
        number,
    )


def followup_from(data: Mapping[str, Any], ticket_number: str) -> NewFollowup:
    c = Collector()
    channel = c.text(data, "channel", max_len=MAX_CHANNEL, required=True)
    text = c.text(data, "text", max_len=MAX_DESCRIPTION)
    urls = {
        field: c.url(field, data[field]) if data.get(field) is not None else None
        for field in ("voicemail_url", "attachment_url")
    }
    contact = contact_from(c, c.mapping(data, "reporter"), channel or "")
    c.raise_if_any()
    return NewFollowup(
        ticket_number,
        _present(channel),
        text,
        urls["voicemail_url"],
        urls["attachment_url"],
        contact,
    )


def contact_note_from(data: Mapping[str, Any]) -> str:
    c = Collector()
    note = c.text(data, "note", max_len=MAX_NOTE, required=True)
    c.raise_if_any()
    return _present(note)


def followup_close_from(data: Mapping[str, Any]) -> tuple[Outcome, str | None]:
    c = Collector()
    outcome = c.choice(data, "outcome", Outcome, _choices(Outcome), required=True)
    note = c.text(data, "note", max_len=MAX_NOTE)
    c.raise_if_any()
    return _present(outcome), note


def identity_from(data: Mapping[str, Any], *, verification: bool = False) -> Contact:
    """A reporter identity given at the top level of the body (POST /api/v1/contacts).

    ``verification``: the body names the phone and/or e-mail the channel has verified.
    """
    c = Collector()
    channel = c.text(data, "channel", max_len=MAX_CHANNEL, required=True)
    c.text(data, "channel_user_id", required=True)
    keep = ("channel", "channel_user_id", "phone", "email")
    source = {f: data.get(f) for f in keep} if verification else data
    contact = contact_from(c, source, channel or "", prefix="")
    if verification and contact is not None and not (contact.phone or contact.email):
        c.add("phone", "give the verified phone or email")
    c.raise_if_any()
    contact = _present(contact)
    if verification:
        contact = replace(
            contact,
            phone_verified=contact.phone is not None,
            email_verified=contact.email is not None,
        )
    return contact

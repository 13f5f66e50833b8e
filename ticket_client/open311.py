"""A client of the standard Open311 GeoReport v2 endpoints (plus the widely implemented
``page``/``page_size`` and the mySociety ``servicerequestupdates`` feed), usable against any
Open311 server, in JSON or XML."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Literal, TypeVar

import aiohttp

from ticket_client.errors import InvalidResponse, NotFound
from ticket_client.http import ClientConfig, Reply, request, segment
from ticket_client.models import (
    PublicRequest,
    RequestReceipt,
    RequestUpdate,
    Service,
    ServiceDefinition,
    TokenLookup,
)

T = TypeVar("T")
Format = Literal["json", "xml"]
AttributeAnswer = str | Sequence[str]


def _records(reply: Reply, parse: Callable[[Mapping[str, Any]], T], what: str) -> list[T]:
    """Every record of a list answer (Open311 lists are top-level arrays in JSON)."""
    body = reply.body
    if body is None:
        return []
    if not isinstance(body, list) or not all(isinstance(item, Mapping) for item in body):
        raise InvalidResponse(f"{what}: expected a list of records", status=reply.status)
    try:
        return [parse(item) for item in body]
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidResponse(f"{what}: malformed record ({exc})", status=reply.status) from exc


def _iso(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("Open311 date-times need a timezone")
    return value.isoformat().replace("+00:00", "Z")


def _attribute_fields(attributes: Mapping[str, AttributeAnswer]) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for code, answer in attributes.items():
        if isinstance(answer, str):
            pairs.append((f"attribute[{code}]", answer))
        else:  # multivaluelist
            pairs.extend((f"attribute[{code}][]", value) for value in answer)
    return pairs


def _optional(pairs: Iterable[tuple[str, str | float | None]]) -> list[tuple[str, str]]:
    return [(k, str(v)) for k, v in pairs if v is not None and v != ""]


class Open311Client:
    """GeoReport v2. ``config.api_key`` goes in the ``api_key`` form field of POSTs only;
    ``config.jurisdiction_id`` (when set) goes with every call."""

    def __init__(
        self, session: aiohttp.ClientSession, config: ClientConfig, *, fmt: Format = "json"
    ) -> None:
        self._session = session
        self._config = config
        self._fmt = fmt

    def _path(self, name: str) -> str:
        return f"{self._config.open311_path.rstrip('/')}/{name}.{self._fmt}"

    def _jurisdiction(self) -> list[tuple[str, str]]:
        jid = self._config.jurisdiction_id
        return [("jurisdiction_id", jid)] if jid else []

    async def _get(
        self, name: str, params: Sequence[tuple[str, str]] = (), language: str | None = None
    ) -> Reply:
        return await request(
            self._session,
            self._config,
            "GET",
            self._path(name),
            params=[*self._jurisdiction(), *params],
            auth=False,
            language=language,
        )

    async def services(self, lang: str | None = None) -> list[Service]:
        """The service list; names in ``lang`` when the server honours ``Accept-Language``."""
        reply = await self._get("services", language=lang)
        return _records(reply, Service.from_json, "services")

    async def service_definition(self, code: str, lang: str | None = None) -> ServiceDefinition:
        reply = await self._get(f"services/{segment(code)}", language=lang)
        if not isinstance(reply.body, Mapping):
            raise InvalidResponse(
                f"service definition {code}: expected one record", status=reply.status
            )
        try:
            return ServiceDefinition.from_json(reply.body)
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidResponse(f"service definition {code}: malformed ({exc})") from exc

    async def create_request(
        self,
        service_code: str,
        *,
        lat: float | None = None,
        long: float | None = None,
        address_string: str | None = None,
        address_id: str | None = None,
        description: str | None = None,
        media_url: str | None = None,
        attributes: Mapping[str, AttributeAnswer] | None = None,
        email: str | None = None,
        phone: str | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
        device_id: str | None = None,
        account_id: str | None = None,
        idempotency_key: str | None = None,
        lang: str | None = None,
    ) -> RequestReceipt:
        """POST a service request as a form. The answer holds ``service_request_id`` or, for
        ``batch`` services, a ``token`` to resolve with ``token()``. An ``Idempotency-Key`` is
        sent (a new one unless given) and reused on retries; servers that ignore it may file a
        retried request twice."""
        form = [
            *_optional([("api_key", self._config.api_key)]),
            *self._jurisdiction(),
            ("service_code", service_code),
            *_optional(
                [
                    ("lat", lat),
                    ("long", long),
                    ("address_string", address_string),
                    ("address_id", address_id),
                    ("description", description),
                    ("media_url", media_url),
                    ("email", email),
                    ("phone", phone),
                    ("first_name", first_name),
                    ("last_name", last_name),
                    ("device_id", device_id),
                    ("account_id", account_id),
                ]
            ),
            *_attribute_fields(attributes or {}),
        ]
        reply = await request(
            self._session,
            self._config,
            "POST",
            self._path("requests"),
            form=form,
            auth=False,
            language=lang,
            idempotency_key=idempotency_key or str(uuid.uuid4()),
        )
        receipts = _records(reply, RequestReceipt.from_json, "create request")
        if not receipts:
            raise InvalidResponse("create request: empty answer", status=reply.status)
        return receipts[0]

    async def requests(
        self,
        *,
        ids: Sequence[str] = (),
        service_codes: Sequence[str] = (),
        statuses: Sequence[str] = (),
        start: datetime | None = None,
        end: datetime | None = None,
        page: int | None = None,
        page_size: int | None = None,
        lang: str | None = None,
    ) -> list[PublicRequest]:
        """GET requests with the spec's filters; ``ids`` overrides the others (per the spec)."""
        params = _optional(
            [
                ("service_request_id", ",".join(ids) or None),
                ("service_code", ",".join(service_codes) or None),
                ("status", ",".join(statuses) or None),
                ("start_date", _iso(start) if start else None),
                ("end_date", _iso(end) if end else None),
                ("page", page),
                ("page_size", page_size),
            ]
        )
        reply = await self._get("requests", params, lang)
        return _records(reply, PublicRequest.from_json, "requests")

    async def request(self, service_request_id: str, lang: str | None = None) -> PublicRequest:
        """One request; ``NotFound`` when the server knows no such id."""
        reply = await self._get(f"requests/{segment(service_request_id)}", language=lang)
        found = _records(reply, PublicRequest.from_json, "request")
        if not found:
            raise NotFound(f"service_request_id {service_request_id} not found", status=404)
        return found[0]

    async def token(self, token: str) -> TokenLookup:
        """The request id behind a token (``service_request_id`` None while still queued)."""
        reply = await self._get(f"tokens/{segment(token)}")
        found = _records(reply, TokenLookup.from_json, "token")
        if not found:
            raise NotFound(f"token {token} not found", status=404)
        return found[0]

    async def updates(
        self, start: datetime | None = None, end: datetime | None = None
    ) -> list[RequestUpdate]:
        """The mySociety ``servicerequestupdates`` feed between two update times."""
        params = _optional(
            [
                ("start_date", _iso(start) if start else None),
                ("end_date", _iso(end) if end else None),
            ]
        )
        reply = await self._get("servicerequestupdates", params)
        return _records(reply, RequestUpdate.from_json, "servicerequestupdates")

"""The one HTTP path every call takes: auth, encoding, timeout, retries, errors.

Retries happen on connection errors, timeouts and 5xx answers only, with exponential backoff and
jitter; a 4xx is the caller's mistake and is never repeated. Creates carry an ``Idempotency-Key``
that stays the same on every retry, so a retried create never files twice.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode
from xml.etree.ElementTree import Element, ParseError, fromstring

import aiohttp

from ticket_client.errors import (
    BadRequest,
    Conflict,
    ErrorDetail,
    Forbidden,
    InvalidResponse,
    NotFound,
    ServiceUnavailable,
    TicketClientError,
)

log = logging.getLogger("ticket_client")

Params = Sequence[tuple[str, str]]
RETRYABLE_EXCEPTIONS = (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, TimeoutError)
# XML containers whose children form a list (GeoReport v2 and the mySociety extensions).
XML_LISTS = frozenset(
    {
        "services",
        "service_requests",
        "service_request_updates",
        "errors",
        "attributes",
        "values",
        "groups",
        "keywords",
        "media_urls",
        "notes",
        "photos",
    }
)


@dataclass(frozen=True)
class RetryPolicy:
    """``attempts`` tries in all; before retry n the wait is about ``backoff_base * 2**(n-1)``
    seconds (capped at ``backoff_max``), half fixed and half random."""

    attempts: int = 4
    backoff_base: float = 0.25
    backoff_max: float = 8.0

    def delay(self, retry: int) -> float:
        cap = min(self.backoff_max, self.backoff_base * 2.0 ** (retry - 1))
        return cap / 2 + random.uniform(0, cap / 2)


@dataclass(frozen=True)
class ClientConfig:
    """Where the ticket service is and how to talk to it; built from the caller's settings.

    ``timeout`` bounds each attempt (connect, send and read the whole answer), in seconds.
    """

    base_url: str
    api_key: str | None = None
    timeout: float = 10.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    open311_path: str = "/open311/v2"
    api_path: str = "/api/v1"
    jurisdiction_id: str | None = None
    user_agent: str = "tawasul-ticket-client/1"


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any  # parsed JSON or XML (as dicts and lists); None when empty or another type
    raw: bytes
    content_type: str


def segment(value: str) -> str:
    """A value made safe to use as one path segment."""
    return quote(value, safe="")


def _xml_to_python(node: Element) -> Any:
    """GeoReport v2's XML as the JSON it mirrors: known containers become lists (or stay text,
    as ``<keywords>a, b</keywords>`` does), other elements with children become objects."""
    children = list(node)
    text = node.text.strip() if node.text and node.text.strip() else None
    if node.tag in XML_LISTS:
        return [_xml_to_python(child) for child in children] if children or not text else text
    if not children:
        return text
    return {child.tag: _xml_to_python(child) for child in children}


def _parse_body(raw: bytes, content_type: str) -> Any:
    if not raw.strip() or "text/csv" in content_type:
        return None
    text = raw.decode("utf-8")
    if "xml" in content_type or text.lstrip().startswith("<?xml"):
        try:
            return _xml_to_python(fromstring(raw))
        except ParseError as exc:
            raise ValueError(f"unreadable XML: {exc}") from exc
    return json.loads(text)


def _error_details(status: int, raw: bytes, content_type: str) -> tuple[ErrorDetail, ...]:
    """Open311 error list (``[{code, description}]`` or ``<errors>``), else the text itself."""
    try:
        body = _parse_body(raw, content_type)
    except ValueError:
        body = None
    if isinstance(body, Mapping) and isinstance(body.get("errors"), list):
        body = body["errors"]
    if isinstance(body, Mapping) and "description" in body:
        body = [body]
    if isinstance(body, list):
        details = []
        for item in body:
            if isinstance(item, Mapping) and item.get("description") is not None:
                code = str(item.get("code")).strip()
                number = int(code) if code.isdigit() else status
                details.append(ErrorDetail(number, str(item["description"])))
        if details:
            return tuple(details)
    text = raw.decode("utf-8", errors="replace").strip()
    return (ErrorDetail(status, text[:500] or f"HTTP {status}"),)


def _error_for(status: int, details: tuple[ErrorDetail, ...], what: str) -> TicketClientError:
    message = f"{what}: {status} " + "; ".join(d.description for d in details)
    cls: type[TicketClientError]
    if status in (401, 403):
        cls = Forbidden
    elif status in (404, 410):
        cls = NotFound
    elif status == 409:
        cls = Conflict
    elif status == 429 or status >= 500:
        cls = ServiceUnavailable
    elif 400 <= status < 500:
        cls = BadRequest
    else:
        cls = TicketClientError
    return cls(message, status=status, errors=details)


def _encode(json_body: Any, form: Params | None) -> tuple[bytes | None, dict[str, str]]:
    if form is not None:
        content = "application/x-www-form-urlencoded; charset=utf-8"
        return urlencode(list(form)).encode("utf-8"), {"Content-Type": content}
    if json_body is not None:
        data = json.dumps(json_body, ensure_ascii=False).encode("utf-8")
        return data, {"Content-Type": "application/json; charset=utf-8"}
    return None, {}


def _headers(
    config: ClientConfig,
    *,
    auth: bool,
    language: str | None,
    idempotency_key: str | None,
    content: Mapping[str, str],
) -> dict[str, str]:
    headers = {"User-Agent": config.user_agent, "Accept": "application/json, text/xml;q=0.9"}
    headers.update(content)
    if auth and config.api_key:
        headers["X-Api-Key"] = config.api_key
    if language:
        headers["Accept-Language"] = language
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    return headers


async def _attempt(
    session: aiohttp.ClientSession,
    config: ClientConfig,
    method: str,
    url: str,
    params: Params,
    data: bytes | None,
    headers: Mapping[str, str],
) -> tuple[int, bytes, str, str | None]:
    async with session.request(
        method,
        url,
        params=list(params),
        data=data,
        headers=dict(headers),
        timeout=aiohttp.ClientTimeout(total=config.timeout),
        allow_redirects=method == "GET",
    ) as resp:
        raw = await resp.read()
        headers = resp.headers
        return resp.status, raw, headers.get("Content-Type", ""), headers.get("Retry-After")


def _retry_after(value: str | None, policy: RetryPolicy) -> float | None:
    if value and value.strip().isdigit():
        return min(float(value.strip()), policy.backoff_max)
    return None


async def request(
    session: aiohttp.ClientSession,
    config: ClientConfig,
    method: str,
    path: str,
    *,
    params: Params = (),
    json_body: Any = None,
    form: Params | None = None,
    auth: bool = True,
    language: str | None = None,
    idempotency_key: str | None = None,
) -> Reply:
    """Send one logical call, retrying per ``config.retry``; the parsed 2xx answer or a typed
    error (``ServiceUnavailable`` once retries are spent on transport failures or 5xx)."""
    url = config.base_url.rstrip("/") + path
    what = f"{method} {path}"
    data, content = _encode(json_body, form)
    headers = _headers(
        config, auth=auth, language=language, idempotency_key=idempotency_key, content=content
    )
    policy = config.retry
    attempts = max(1, policy.attempts)
    for attempt in range(1, attempts + 1):
        wait: float | None = None
        try:
            status, raw, content_type, retry_after = await _attempt(
                session, config, method, url, params, data, headers
            )
        except RETRYABLE_EXCEPTIONS as exc:
            if attempt == attempts:
                reason = "timed out" if isinstance(exc, TimeoutError) else "unreachable"
                raise ServiceUnavailable(
                    f"{what}: ticket service {reason} after {attempts} attempts ({exc!r})"
                ) from exc
            log.warning("%s failed (%r), attempt %d of %d", what, exc, attempt, attempts)
        except aiohttp.ClientError as exc:  # a bad URL, too many redirects: not transient
            raise TicketClientError(f"{what}: {exc!r}") from exc
        else:
            if status < 300:
                try:
                    return Reply(status, _parse_body(raw, content_type), raw, content_type)
                except ValueError as exc:
                    raise InvalidResponse(f"{what}: unreadable answer", status=status) from exc
            error = _error_for(status, _error_details(status, raw, content_type), what)
            if status < 500 or attempt == attempts:
                raise error
            log.warning("%s answered %d, attempt %d of %d", what, status, attempt, attempts)
            wait = _retry_after(retry_after, policy)
        await asyncio.sleep(wait if wait is not None else policy.delay(attempt))
    raise AssertionError("unreachable")  # the loop always returns or raises

"""Garbage in, never a 500 out: random forms, query strings, bodies and paths on every Open311
endpoint get a success that meets the schema or a 4xx in Open311's error format."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from .conftest import KEYS
from .open311_schemas import (
    CONTENT_TYPES,
    ERRORS,
    ONE_REQUEST,
    POST_REQUEST,
    POST_UPDATE,
    REQUESTS,
    SERVICE_DEFINITION,
    TOKENS,
    UPDATES,
    parse_body,
    url,
)

Client = TestClient[web.Request, web.Application]
FUZZ = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

TEXT = st.text(max_size=40)
NUMBERS = st.sampled_from(
    [
        "26.4",
        "50.1",
        "-90",
        "90.0001",
        "1e308",
        "-1e309",
        "nan",
        "inf",
        "0x1A",
        "٢٦٫٤",
        " 26.4 ",
        "",
    ]
)
DATES = st.sampled_from(
    [
        "2026-03-01T00:00:00Z",
        "2026-02-01T00:00:00+03:00",
        "2026-03-01",
        "2026-13-45T99:00:00Z",
        "2026-03-01T00:00:00 03:00",
        "T",
        "Z",
        "0001-01-01T00:00:00+05:00",
        "9999-12-31T23:59:59-23:59",
    ]
)
CODES = st.sampled_from(["pothole", "waste", "sewage", "other", "", "POTHOLE", "../etc", "x" * 40])
VALUES = st.one_of(
    TEXT,
    NUMBERS,
    DATES,
    CODES,
    st.sampled_from(
        [
            KEYS["hub"],
            KEYS["agent"],
            "minor",
            "household",
            "https://example.org/a.jpg",
            "a@b.c",
            "+966500000000",
            "OPEN",
            "FIXED",
            "REOPEN",
            "open,closed",
            "0",
            "-1",
            "99999999999999999999",
            "1000",
            "\x00",
            "\ud800",
            "<x>&amp;",
        ]
    ),
)
REQUEST_FIELDS = st.one_of(
    st.sampled_from(
        [
            "api_key",
            "service_code",
            "lat",
            "long",
            "address_string",
            "address_id",
            "description",
            "media_url",
            "email",
            "phone",
            "first_name",
            "last_name",
            "account_id",
            "device_id",
            "jurisdiction_id",
            "attribute[severity]",
            "attribute[waste_type][]",
            "attribute[waste_type]",
            "attribute[]",
            "attribute[[x]]",
            "attribute[noticed_at]",
        ]
    ),
    TEXT,
)
UPDATE_FIELDS = st.one_of(
    st.sampled_from(
        [
            "api_key",
            "service_request_id",
            "update_id",
            "status",
            "updated_datetime",
            "description",
            "media_url",
            "jurisdiction_id",
        ]
    ),
    TEXT,
)
QUERY_FIELDS = st.one_of(
    st.sampled_from(
        [
            "service_request_id",
            "service_code",
            "start_date",
            "end_date",
            "status",
            "page",
            "page_size",
            "jurisdiction_id",
        ]
    ),
    TEXT,
)
FORMATS = st.sampled_from(["json", "xml"])
KEY = (("api_key", KEYS["hub"]),)
VALID = (("service_code", "pothole"), ("lat", "26.4"), ("long", "50.1"))


def encode(fields: list[tuple[str, str]]) -> dict[str, Any]:
    """Request arguments for a url-encoded form, lone surrogates passed through as bytes."""
    body = urlencode(fields, encoding="utf-8", errors="surrogatepass")
    return {"data": body, "headers": {"Content-Type": "application/x-www-form-urlencoded"}}


def pairs(fields: st.SearchStrategy[str]) -> st.SearchStrategy[list[tuple[str, str]]]:
    return st.lists(st.tuples(fields, VALUES), max_size=12)


async def check(response: aiohttp.ClientResponse, fmt: str, schema: dict[str, Any]) -> None:
    body = await response.read()
    assert response.status < 500, body[:500]
    assert response.content_type == CONTENT_TYPES[fmt]
    parse_body(body, fmt, ERRORS if response.status >= 400 else schema)


@FUZZ
@given(form=pairs(REQUEST_FIELDS), fmt=FORMATS, base=st.sampled_from([(), KEY, KEY + VALID]))
async def test_random_request_forms_never_cause_a_500(
    client: Client, form: list[tuple[str, str]], fmt: str, base: tuple[tuple[str, str], ...]
) -> None:
    # the random fields come first, so they win over a valid base (the first value counts)
    response = await client.post(url("requests", fmt), **encode([*form, *base]))
    event(f"HTTP {response.status}")
    await check(response, fmt, POST_REQUEST)


@FUZZ
@given(form=pairs(UPDATE_FIELDS), fmt=FORMATS)
async def test_random_update_forms_never_cause_a_500(
    client: Client, form: list[tuple[str, str]], fmt: str
) -> None:
    fields = [("api_key", KEYS["agent"]), *form]
    response = await client.post(url("servicerequestupdates", fmt), **encode(fields))
    await check(response, fmt, POST_UPDATE)


@FUZZ
@given(
    body=st.binary(max_size=300),
    fmt=FORMATS,
    content_type=st.sampled_from(
        [
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=xyz",
            "multipart/form-data",
            "application/json",
            "text/plain; charset=utf-16",
        ]
    ),
)
async def test_random_bodies_never_cause_a_500(
    client: Client, body: bytes, fmt: str, content_type: str
) -> None:
    for resource in ("requests", "servicerequestupdates"):
        response = await client.post(
            url(resource, fmt), data=body, headers={"Content-Type": content_type}
        )
        assert response.status < 500
        parse_body(await response.read(), fmt, ERRORS)


@FUZZ
@given(query=pairs(QUERY_FIELDS), fmt=FORMATS)
@example(query=[("end_date", "0001-01-01T00:00:00Z")], fmt="json")  # 90 days before: overflow
@example(query=[("start_date", "9999-12-31T23:59:59Z")], fmt="xml")  # 90 days after: overflow
@example(query=[("start_date", "0001-01-01T00:00:00+05:00")], fmt="json")  # before year 1 UTC
@example(query=[("page", "99999999999999999999"), ("page_size", "1000")], fmt="json")
@example(query=[("service_request_id", "\x00")], fmt="xml")
async def test_random_query_strings_never_cause_a_500(
    client: Client, query: list[tuple[str, str]], fmt: str
) -> None:
    for resource, schema in (("requests", REQUESTS), ("servicerequestupdates", UPDATES)):
        await check(await client.get(url(resource, fmt), params=query), fmt, schema)


@FUZZ
@given(
    segment=st.text(min_size=1, max_size=60),
    fmt=FORMATS,
    language=st.text(max_size=30).filter(lambda t: t.isascii() and t.isprintable()),
)
async def test_random_paths_and_languages_never_cause_a_500(
    client: Client, segment: str, fmt: str, language: str
) -> None:
    name = quote(segment, safe="")
    headers = {"Accept-Language": language}
    for resource, schema in (
        ("services", SERVICE_DEFINITION),
        ("requests", ONE_REQUEST),
        ("tokens", TOKENS),
    ):
        response = await client.get(url(f"{resource}/{name}", fmt), headers=headers)
        body = await response.read()
        assert response.status < 500
        shown = "xml" if response.content_type == CONTENT_TYPES["xml"] else "json"
        if shown != fmt:  # a segment with "/" in it matches no route: a JSON 404
            assert response.status == 404
        parse_body(body, shown, ERRORS if response.status >= 400 else schema)

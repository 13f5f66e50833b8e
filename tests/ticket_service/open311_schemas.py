"""JSON Schemas of GeoReport v2 responses (plus mySociety's servicerequestupdates), and a
converter from the XML rendering to the same JSON shape, so both formats meet one contract.

Each schema carries two extra keywords the converter reads (JSON Schema ignores them):
``xmlRoot`` — the XML document element; ``xmlItem`` — the element name of a list's items.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from .conftest import KEYS

DIGITS = "^[0-9]{6,}$"
W3C_DATETIME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
STR: dict[str, Any] = {"type": "string"}
OPT_STR: dict[str, Any] = {"type": ["string", "null"]}
DATETIME: dict[str, Any] = {"type": "string", "pattern": W3C_DATETIME}
OPT_DATETIME: dict[str, Any] = {"type": ["string", "null"], "pattern": W3C_DATETIME}
EXTENDED_STATUSES = [
    "open",
    "closed",
    "fixed",
    "in_progress",
    "planned",
    "action_scheduled",
    "investigating",
    "duplicate",
    "not_councils_responsibility",
    "no_further_action",
    "internal_referral",
    "cancelled",
    "reopen",
    "for_triage",
    "unchanged",
]


def _object(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": required if required is not None else list(properties),
        "additionalProperties": False,
    }


def _list(root: str, item: str, schema: dict[str, Any], **limits: int) -> dict[str, Any]:
    return {"type": "array", "xmlRoot": root, "xmlItem": item, "items": schema, **limits}


ERRORS = _list(
    "errors",
    "error",
    _object({"code": {"type": "integer", "minimum": 400, "maximum": 599}, "description": STR}),
    minItems=1,
)

SERVICES = _list(
    "services",
    "service",
    _object(
        {
            "service_code": STR,
            "service_name": STR,
            "description": OPT_STR,
            "metadata": {"type": "boolean"},
            "type": {"enum": ["realtime", "batch", "blackbox"]},
            "keywords": OPT_STR,
            "group": OPT_STR,
        },
        ["service_code", "service_name", "metadata", "type"],
    ),
)

ATTRIBUTE = _object(
    {
        "variable": {"type": "boolean"},
        "code": STR,
        "datatype": {
            "enum": ["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"]
        },
        "required": {"type": "boolean"},
        "datatype_description": OPT_STR,
        "order": {"type": "integer", "minimum": 1},
        "description": STR,
        "values": {
            "type": "array",
            "xmlItem": "value",
            "items": _object({"key": STR, "name": STR}),
        },
    }
)

SERVICE_DEFINITION = {
    **_object(
        {
            "service_code": STR,
            "attributes": {"type": "array", "xmlItem": "attribute", "items": ATTRIBUTE},
        }
    ),
    "xmlRoot": "service_definition",
}

POST_REQUEST = _list(
    "service_requests",
    "request",
    _object(
        {
            "service_request_id": {"type": "string", "pattern": DIGITS},
            "service_notice": OPT_STR,
            "account_id": OPT_STR,
        },
        ["service_request_id"],
    ),
    minItems=1,
    maxItems=1,
)

REQUEST = _object(
    {
        "service_request_id": {"type": "string", "pattern": DIGITS},
        "status": {"enum": ["open", "closed"]},
        "status_notes": OPT_STR,
        "service_name": STR,
        "service_code": STR,
        "description": OPT_STR,
        "agency_responsible": OPT_STR,
        "service_notice": OPT_STR,
        "requested_datetime": DATETIME,
        "updated_datetime": OPT_DATETIME,
        "expected_datetime": OPT_DATETIME,
        "address": OPT_STR,
        "address_id": OPT_STR,
        "zipcode": OPT_STR,
        "lat": {"type": ["number", "null"], "minimum": -90, "maximum": 90},
        "long": {"type": ["number", "null"], "minimum": -180, "maximum": 180},
        "media_url": OPT_STR,
    },
    ["service_request_id", "status", "service_code", "requested_datetime"],
)

REQUESTS = _list("service_requests", "request", REQUEST)
ONE_REQUEST = _list("service_requests", "request", REQUEST, minItems=1, maxItems=1)

TOKENS = _list(
    "service_requests",
    "request",
    _object({"service_request_id": {"type": "string", "pattern": DIGITS}, "token": STR}),
    minItems=1,
    maxItems=1,
)

UPDATES = _list(
    "service_request_updates",
    "request_update",
    _object(
        {
            "update_id": STR,
            "service_request_id": {"type": "string", "pattern": DIGITS},
            "status": {"enum": EXTENDED_STATUSES},
            "updated_datetime": DATETIME,
            "description": STR,
            "media_url": OPT_STR,
        },
        ["update_id", "service_request_id", "status", "updated_datetime", "description"],
    ),
)

POST_UPDATE = _list(
    "service_request_updates",
    "request_update",
    _object({"update_id": STR, "account_id": OPT_STR}, ["update_id"]),
    minItems=1,
    maxItems=1,
)


# --- XML → JSON shape -----------------------------------------------------------------------


class XmlShapeError(AssertionError):
    """The XML does not have the structure the schema describes."""


def _types(schema: dict[str, Any]) -> list[str]:
    if "enum" in schema:
        return ["string"]
    kind = schema.get("type", "string")
    return kind if isinstance(kind, list) else [kind]


def _leaf(node: ET.Element, schema: dict[str, Any]) -> Any:
    if len(node):
        raise XmlShapeError(f"<{node.tag}> should hold text, not elements")
    text, kinds = node.text or "", _types(schema)
    if not text:
        return None if "null" in kinds else ""
    for kind, parse in (("integer", int), ("number", float)):
        if kind in kinds:
            try:
                return parse(text)
            except ValueError:
                pass
    if "boolean" in kinds and text in ("true", "false"):
        return text == "true"
    return text  # a string, or a value the schema will reject with a clear message


def xml_to_json(node: ET.Element, schema: dict[str, Any]) -> Any:
    """Convert an element mechanically: arrays from repeated ``xmlItem`` children, objects
    from distinct child elements, leaves typed as the schema says (text → number/bool)."""
    kinds = _types(schema)
    if "array" in kinds:
        item = schema["xmlItem"]
        wrong = {child.tag for child in node} - {item}
        if wrong:
            raise XmlShapeError(f"<{node.tag}> may hold only <{item}> items, found {sorted(wrong)}")
        return [xml_to_json(child, schema["items"]) for child in node]
    if "object" in kinds:
        tags = [child.tag for child in node]
        if len(tags) != len(set(tags)):
            raise XmlShapeError(f"<{node.tag}> repeats a field: {tags}")
        properties = schema.get("properties", {})
        return {child.tag: xml_to_json(child, properties.get(child.tag, {})) for child in node}
    return _leaf(node, schema)


def parse_body(body: bytes, fmt: str, schema: dict[str, Any]) -> Any:
    """The response body in the JSON shape, validated against ``schema`` (raises when not)."""
    if fmt == "xml":
        root = ET.fromstring(body)
        if root.tag != schema["xmlRoot"]:
            raise XmlShapeError(f"document element <{root.tag}>, expected <{schema['xmlRoot']}>")
        data = xml_to_json(root, schema)
    else:
        data = json.loads(body)
    Draft202012Validator(schema).validate(data)
    return data


# --- HTTP helpers ----------------------------------------------------------------------------

BASE = "/open311/v2"
FORMATS = ("json", "xml")
CONTENT_TYPES = {"json": "application/json", "xml": "text/xml"}
Client = TestClient[web.Request, web.Application]


def url(resource: str, fmt: str) -> str:
    """``/open311/v2/<resource>.<fmt>``."""
    return f"{BASE}/{resource}.{fmt}"


async def call(
    client: Client,
    method: str,
    resource: str,
    fmt: str,
    schema: dict[str, Any],
    status: int,
    **kwargs: Any,
) -> Any:
    """Make the request, check status and content type, validate and return the body (JSON
    shape). Error bodies must also carry the HTTP status as their ``code``."""
    response = await client.request(method, url(resource, fmt), **kwargs)
    body = await response.read()
    assert response.status == status, body.decode("utf-8", "replace")[:2000]
    assert response.content_type == CONTENT_TYPES[fmt]
    data = parse_body(body, fmt, schema)
    if schema is ERRORS:
        assert {e["code"] for e in data} == {status}
    return data


def spot(i: int) -> dict[str, str]:
    """``lat``/``long`` of place ``i``; places ~1 km apart are never duplicates of each other."""
    return {"lat": f"{26.3000 + 0.01 * i:.4f}", "long": "50.1000"}


async def post_report(
    client: Client,
    i: int,
    service: str = "pothole",
    fields: dict[str, str] | None = None,
    *,
    status: int = 201,
    headers: dict[str, str] | None = None,
) -> str:
    """File a report over Open311 at place ``i`` (hub key); ``fields`` add to or override it."""
    data = {"api_key": KEYS["hub"], "service_code": service, **spot(i), **(fields or {})}
    body = await call(
        client, "POST", "requests", "json", POST_REQUEST, status, data=data, headers=headers or {}
    )
    number: str = body[0]["service_request_id"]
    return number

"""Responses in JSON or XML (GeoReport v2's "Spark" mapping), and errors in Open311's format."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

from aiohttp import web

from ticket_service.errors import DomainError

# Singular element name for each list container, as GeoReport v2's XML spells it.
ITEM_NAMES = {
    "services": "service",
    "service_requests": "request",
    "service_request_updates": "request_update",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
    "keywords": "keyword",
    "groups": "group",
    "media_urls": "media_url",
}


# XML 1.0 forbids most control characters: drop them rather than emit a document no parser reads.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def request_format(request: web.Request) -> str:
    return request.match_info.get("fmt", "json")


def _xml_value(parent: Element, name: str, value: Any) -> None:
    if value is None:
        SubElement(parent, name)
    elif isinstance(value, Mapping):
        node = SubElement(parent, name)
        for key, item in value.items():
            _xml_value(node, str(key), item)
    elif isinstance(value, list | tuple):
        node = SubElement(parent, name)
        for item in value:
            _xml_value(node, ITEM_NAMES.get(name, "item"), item)
    elif isinstance(value, bool):
        SubElement(parent, name).text = "true" if value else "false"
    else:
        SubElement(parent, name).text = _XML_ILLEGAL.sub("", str(value))


def to_xml(root: str, items: Sequence[Any] | Mapping[str, Any]) -> bytes:
    node = Element(root)
    if isinstance(items, Mapping):
        for key, value in items.items():
            _xml_value(node, str(key), value)
    else:
        for item in items:
            _xml_value(node, ITEM_NAMES[root], item)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + tostring(node, encoding="unicode").encode()


def respond(
    fmt: str, root: str, body: Sequence[Any] | Mapping[str, Any], *, status: int = 200
) -> web.Response:
    """JSON: the body as is (lists stay top-level arrays). XML: wrapped in ``root``."""
    if fmt == "xml":
        return web.Response(
            body=to_xml(root, body), status=status, content_type="text/xml", charset="utf-8"
        )
    return web.json_response(body, status=status, dumps=lambda o: json.dumps(o, ensure_ascii=False))


def error_items(status: int, message: str, exc: DomainError | None = None) -> list[dict[str, Any]]:
    if exc is not None and exc.errors:
        return [{"code": status, "description": f"{e.field}: {e.message}"} for e in exc.errors]
    return [{"code": status, "description": message}]


def error_response(
    fmt: str, status: int, message: str, exc: DomainError | None = None
) -> web.Response:
    return respond(fmt, "errors", error_items(status, message, exc), status=status)

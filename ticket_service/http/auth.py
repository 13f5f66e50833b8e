"""API keys with roles. Keys come from the environment (TAWASUL_API_KEYS)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from aiohttp import web

from ticket_service.config import Role
from ticket_service.errors import Forbidden
from ticket_service.http.keys import CONTEXT


@dataclass(frozen=True)
class Principal:
    role: Role
    key_id: str  # a short, non-secret fingerprint for audit trails


def presented_key(request: web.Request, form_key: str | None = None) -> str | None:
    if form_key:
        return form_key
    header = request.headers.get("X-Api-Key")
    if header:
        return header
    auth = request.headers.get("Authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return request.query.get("api_key")


def authenticate(request: web.Request, *roles: Role, form_key: str | None = None) -> Principal:
    """The caller's role when its key is valid and allowed here; else Forbidden (403)."""
    key = presented_key(request, form_key)
    if not key:
        raise Forbidden("api_key required")
    found: Role | None = None
    for candidate, role in request.app[CONTEXT].settings.api_keys.items():
        # compare against every key so timing does not reveal which prefix matched
        if hmac.compare_digest(candidate.encode(), key.encode()):
            found = role
    if found is None:
        raise Forbidden("invalid api_key")
    if roles and found not in roles and found != Role.ADMIN:
        raise Forbidden(f"the {found} role may not do this")
    return Principal(found, hashlib.sha256(key.encode()).hexdigest()[:8])

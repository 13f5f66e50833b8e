"""Admin endpoints (``Authorization: Bearer <TAWASUL_ADMIN_TOKEN>``): the dead letters.

No token configured → 403 for everyone; a missing or wrong token → 401. Listed replies are
masked (no clear phone number or e-mail address).
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.deadletters import DeadLetters, valid_id

__all__ = ["add_admin_routes"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
MAX_PAGE = 200


def _authorised(token: str | None, request: web.Request) -> None:
    if not token:
        raise web.HTTPForbidden(
            text='{"error": "admin API disabled (no TAWASUL_ADMIN_TOKEN)"}',
            content_type="application/json",
        )
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.strip().encode(), token.encode()
    ):
        raise web.HTTPUnauthorized(
            text='{"error": "admin token required"}',
            content_type="application/json",
            headers={"WWW-Authenticate": 'Bearer realm="tawasul-hub"'},
        )


def add_admin_routes(app: web.Application, token: str | None, dead: DeadLetters) -> None:
    def guarded(handler: Handler) -> Handler:
        async def wrapper(request: web.Request) -> web.StreamResponse:
            _authorised(token, request)
            return await handler(request)

        return wrapper

    def entry_id(request: web.Request) -> str:
        value = request.match_info["id"]
        if not valid_id(value):
            raise web.HTTPNotFound(
                text='{"error": "no such dead letter"}', content_type="application/json"
            )
        return value

    async def list_dead(request: web.Request) -> web.StreamResponse:
        try:
            limit = int(request.query.get("limit", "50"))
        except ValueError:
            limit = 0
        if not 1 <= limit <= MAX_PAGE:
            return web.json_response({"error": f"limit must be 1..{MAX_PAGE}"}, status=400)
        before = request.query.get("before") or None
        if before is not None and not valid_id(before):
            return web.json_response({"error": "before must be a dead-letter id"}, status=400)
        page = await dead.page(limit, before)
        return web.json_response(
            {"items": page.items, "next": page.next, "total": await dead.count()},
            dumps=_dumps,
        )

    async def replay(request: web.Request) -> web.StreamResponse:
        value = entry_id(request)
        if not await dead.replay(value):
            return web.json_response({"error": "no such dead letter"}, status=404)
        return web.json_response({"replayed": value})

    async def delete(request: web.Request) -> web.StreamResponse:
        value = entry_id(request)
        if not await dead.delete(value):
            return web.json_response({"error": "no such dead letter"}, status=404)
        return web.json_response({"deleted": value})

    app.router.add_get("/admin/dead-letters", guarded(list_dead))
    app.router.add_post("/admin/dead-letters/{id}/replay", guarded(replay))
    app.router.add_delete("/admin/dead-letters/{id}", guarded(delete))


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)

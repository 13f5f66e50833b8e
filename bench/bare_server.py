"""The ceiling: a bare aiohttp app that parses a JSON body and answers, nothing else."""

from __future__ import annotations

import sys

from aiohttp import web


async def post(request: web.Request) -> web.Response:
    body = await request.json()
    return web.json_response({"ok": True, "n": len(body)}, status=201)


async def get(request: web.Request) -> web.Response:
    return web.json_response([{"service_request_id": request.match_info["id"]}])


def main() -> None:
    app = web.Application()
    app.router.add_post("/create", post)
    app.router.add_get("/get/{id}", get)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)


if __name__ == "__main__":
    main()

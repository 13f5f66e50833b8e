"""(being written)"""

import asyncio

import aiohttp

from ticket_service.context import Context


async def delivery_loop(ctx: Context, session: aiohttp.ClientSession, stop: asyncio.Event) -> None:
    await stop.wait()
